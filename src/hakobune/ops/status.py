"""`hakobune status` (each service's state, health and image) and `hakobune info` (the site's settings)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from hakobune.engine import Engine
from hakobune.ops.sitedir import SiteDir


@dataclass(frozen=True)
class ServiceStatus:
    service: str
    state: str
    health: str
    ports: str
    image: str


@dataclass(frozen=True)
class SiteStatus:
    site: str
    url: str
    admin_url: str
    services: list[ServiceStatus]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _ports(entry: dict[str, object]) -> str:
    published = entry.get("Publishers") or []
    seen = sorted({
        f"{p['PublishedPort']}->{p['TargetPort']}" for p in published  # type: ignore[union-attr, index]
        if isinstance(p, dict) and p.get("PublishedPort")
    })
    return ", ".join(seen)


def status(engine: Engine, sitedir: SiteDir) -> SiteStatus:
    site = sitedir.load()
    image_of = {"web": site.web, "php": "php", "db": "mariadb", "valkey": "valkey", "backup": "ops"}
    engine.ping()
    entries = {str(e.get("Service")): e for e in engine.compose_ps(sitedir.path)}
    services = []
    for name in site.services:
        entry = entries.get(name)
        if entry is None:
            services.append(ServiceStatus(name, "missing", "-", "", site.images.get(image_of[name], "")))
            continue
        services.append(ServiceStatus(
            service=name,
            state=str(entry.get("State") or "unknown"),
            health=str(entry.get("Health") or "-"),
            ports=_ports(entry),
            image=str(entry.get("Image") or ""),
        ))
    return SiteStatus(site=site.name, url=site.url, admin_url=f"{site.url}/wp-admin/", services=services)


def info(sitedir: SiteDir, show_secrets: bool) -> dict[str, object]:
    """The site's settings as recorded in its folder; its secrets only when asked for."""
    site = sitedir.load()
    found: dict[str, object] = {"folder": str(sitedir.path), "url": site.url, **site.to_dict()}
    if show_secrets:
        found["secrets"] = sitedir.secrets().to_env()
    return found
