"""Site model -> the JSON requests the ops container's helpers take on standard input."""

from __future__ import annotations

from hakobune.render.compose import DB_HOST
from hakobune.site import Site, SiteSecrets

# Owners of the secret files: www-data (33) reads the app's, mysql (999) the database's; the ops container
# (www-data) needs the root password too, so that file is group www-data.
APP_OWNER, DB_OWNER = "33:33", "999:33"


def secrets_request(secrets: SiteSecrets) -> dict[str, object]:
    return {"files": [
        {"path": "/srv/secrets-app/db_password", "owner": APP_OWNER, "mode": "0400",
         "content": secrets.db_password},
        {"path": "/srv/secrets-db/db_root_password", "owner": DB_OWNER, "mode": "0440",
         "content": secrets.db_root_password},
    ]}


def db_setup_request(site: Site) -> dict[str, object]:
    return {"db_host": DB_HOST, "db_name": site.db_name, "db_user": site.db_user}


def seed_request(site: Site, secrets: SiteSecrets) -> dict[str, object]:
    return {
        "url": site.url,
        "lang": site.wplang,
        "db_host": DB_HOST,
        "db_name": site.db_name,
        "db_user": site.db_user,
        "salts": list(secrets.salts),
    }


def install_request(site: Site, secrets: SiteSecrets) -> dict[str, object]:
    return {
        "url": site.url,
        "title": site.title,
        "admin_user": site.admin_user,
        "admin_email": site.admin_email,
        "admin_password": secrets.admin_password,
        "lang": site.wplang,
    }
