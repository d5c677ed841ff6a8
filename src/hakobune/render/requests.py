"""Site model -> the JSON requests the PHP helpers take on standard input (images/ops/helpers; how they answer:
ops/contract.py). Every request that concerns the database describes it the one way db_request() does."""

from __future__ import annotations

from hakobune import __version__
from hakobune.layout import DEFAULT_DB_PORT, SECRET_VOLUMES_MOUNT
from hakobune.site import Site, SiteSecrets, secret_setting_file
from hakobune.site_format import settings_yaml

# Owners of the secret files: www-data (33) reads the app's, mysql (999) the database's; the ops container
# (www-data) needs the root password too, so that file is group www-data.
APP_OWNER, DB_OWNER = "33:33", "999:33"
OWNERS = {"secrets-app": (APP_OWNER, "0400"), "secrets-db": (DB_OWNER, "0440")}


def _file(volume: str, name: str, content: str | None) -> dict[str, object]:
    owner, mode = OWNERS[volume]
    entry: dict[str, object] = {"path": f"{SECRET_VOLUMES_MOUNT}/{volume}/{name}", "owner": owner, "mode": mode}
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


def db_request(site: Site) -> dict[str, object]:
    """The site's database: where its server is, its name and user, whether the connection is encrypted, and
    whether the server is the stack's own (where Hakobune has the root account)."""
    host, port = (site.db_host, site.db_port) if site.external_db else ("db", DEFAULT_DB_PORT)
    return {"host": host, "port": port, "name": site.db_name, "user": site.db_user, "tls": site.db_tls,
            "own": not site.external_db}


def db_setup_request(site: Site) -> dict[str, object]:
    return {"db": db_request(site)}


def db_check_request(site: Site, secrets: SiteSecrets) -> dict[str, object]:
    """For the external server: connect as the site will, and try what WordPress needs."""
    return {"db": db_request(site), "password": secrets.db_password, "wordpress": site.wordpress}


def seed_request(site: Site, secrets: SiteSecrets) -> dict[str, object]:
    return {"url": site.url, "db": db_request(site), "lang": site.wplang, "salts": list(secrets.salts)}


def site_url_request(site: Site) -> dict[str, object]:
    """SITE's public URL into its wp-config.php (a move behind the edge or back)."""
    return {"url": site.url, "db": db_request(site)}


def restore_request(site: Site, secrets: SiteSecrets, action: str, archive: str = "") -> dict[str, object]:
    """A restore step into SITE, which keeps its own secrets and salts."""
    return {"action": action, "archive": archive, "profile": site.profile, "url": site.url, "db": db_request(site),
            "salts": list(secrets.salts)}


def seed_lamp_request(site: Site) -> dict[str, object]:
    return {"title": site.title, "db": db_request(site)}


def backup_request(site: Site, name: str = "") -> dict[str, object]:
    """NAME: the archive's name (empty: SITE_YYYYMMDDTHHMMSSZ, from the time it starts)."""
    return {"name": name, "settings": settings_yaml(site), "db": db_request(site), "images": dict(site.images),
            "hakobune": __version__,
            "site": {"name": site.name, "fqdn": site.fqdn, "url": site.url, "profile": site.profile,
                     "web": site.web}}


def install_request(site: Site, secrets: SiteSecrets) -> dict[str, object]:
    return {
        "url": site.url,
        "title": site.title,
        "admin_user": site.admin_user,
        "admin_email": site.admin_email,
        "admin_password": secrets.admin_password,
        "lang": site.wplang,
    }
