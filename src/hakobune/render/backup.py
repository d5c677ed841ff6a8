"""Site model -> what the ops container's backup tools are told: where the database is, and what to record."""

from __future__ import annotations

from hakobune import __version__
from hakobune.site import DEFAULT_DB_PORT, Site
from hakobune.site_format import settings_yaml


def db_request(site: Site) -> dict[str, object]:
    """How the ops container's MariaDB tools reach the site's database."""
    host, port = (site.db_host, site.db_port) if site.external_db else ("db", DEFAULT_DB_PORT)
    return {"host": host, "port": port, "name": site.db_name, "user": site.db_user, "tls": site.db_tls}


def backup_request(site: Site, name: str = "") -> dict[str, object]:
    """NAME: the archive's name (empty: SITE_YYYYMMDDTHHMMSSZ, from the time it starts)."""
    return {"name": name, "settings": settings_yaml(site), "db": db_request(site), "images": dict(site.images),
            "hakobune": __version__,
            "site": {"name": site.name, "fqdn": site.fqdn, "url": site.url, "profile": site.profile,
                     "web": site.web}}
