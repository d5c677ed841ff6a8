"""Site model -> the JSON requests the ops container's helpers take on standard input."""

from __future__ import annotations

from hakobune.render.backup import db_request
from hakobune.render.compose import secret_setting_file
from hakobune.site import Site, SiteSecrets

# Owners of the secret files: www-data (33) reads the app's, mysql (999) the database's; the ops container
# (www-data) needs the root password too, so that file is group www-data.
APP_OWNER, DB_OWNER = "33:33", "999:33"
OWNERS = {"secrets-app": (APP_OWNER, "0400"), "secrets-db": (DB_OWNER, "0440")}


def _file(volume: str, name: str, content: str | None) -> dict[str, object]:
    owner, mode = OWNERS[volume]
    entry: dict[str, object] = {"path": f"/srv/{volume}/{name}", "owner": owner, "mode": mode}
    return {**entry, "content": content} if content is not None else {**entry, "remove": True}


def secrets_request(secrets: SiteSecrets, removed: tuple[str, ...] = ()) -> dict[str, object]:
    """Every secret file, written whole; REMOVED names secret settings whose files go."""
    files = [_file("secrets-app", "db_password", secrets.db_password),
             _file("secrets-db", "db_root_password", secrets.db_root_password)]
    for name, value in sorted(secrets.settings.items()):
        files.append(_file(*secret_setting_file(name), value))
    for name in removed:
        files.append(_file(*secret_setting_file(name), None))
    return {"files": files}


def db_setup_request(site: Site) -> dict[str, object]:
    return {"db_host": site.db_address, "db_name": site.db_name, "db_user": site.db_user}


def db_check_request(site: Site, secrets: SiteSecrets) -> dict[str, object]:
    """For the external server: connect as the site will, and try what WordPress needs."""
    return {"db_host": site.db_host, "db_port": site.db_port, "db_name": site.db_name, "db_user": site.db_user,
            "db_password": secrets.db_password, "db_tls": site.db_tls, "wordpress": site.wordpress}


def _wp_config(site: Site) -> dict[str, object]:
    """What wp-config.php says about the site: its URL and how PHP reaches its database."""
    return {"url": site.url, "db_host": site.db_address, "db_tls": site.db_tls, "db_name": site.db_name,
            "db_user": site.db_user}


def seed_request(site: Site, secrets: SiteSecrets) -> dict[str, object]:
    return {**_wp_config(site), "lang": site.wplang, "salts": list(secrets.salts)}


def restore_request(site: Site, secrets: SiteSecrets, action: str, archive: str = "") -> dict[str, object]:
    """A restore step into SITE, which keeps its own secrets and salts."""
    return {"action": action, "archive": archive, "profile": site.profile, "db": db_request(site),
            "own_db": not site.external_db, "config": _wp_config(site), "salts": list(secrets.salts)}


def seed_lamp_request(site: Site) -> dict[str, object]:
    return {"title": site.title, "db_host": site.db_address, "db_name": site.db_name, "db_user": site.db_user}


def install_request(site: Site, secrets: SiteSecrets) -> dict[str, object]:
    return {
        "url": site.url,
        "title": site.title,
        "admin_user": site.admin_user,
        "admin_email": site.admin_email,
        "admin_password": secrets.admin_password,
        "lang": site.wplang,
    }
