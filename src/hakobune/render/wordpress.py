"""Site model -> the JSON requests the ops container's helpers take on standard input."""

from __future__ import annotations

from hakobune.render.compose import DB_HOST
from hakobune.site import Site, SiteSecrets


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
