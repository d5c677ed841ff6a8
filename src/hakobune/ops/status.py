"""`hakobune status`: each service's state and health."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from hakobune.engine import Engine
from hakobune.ops.sitedir import SiteDir

SERVICES = ("web", "php", "db")


@dataclass(frozen=True)
class ServiceStatus:
    service: str
    state: str
    health: str
    ports: str


@dataclass(frozen=True)
class SiteStatus:
    site: str
    url: str
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
    engine.ping()
    entries = {str(e.get("Service")): e for e in engine.compose_ps(sitedir.path)}
    services = []
    for name in SERVICES:
        entry = entries.get(name)
        if entry is None:
            services.append(ServiceStatus(name, "missing", "-", ""))
            continue
        services.append(ServiceStatus(
            service=name,
            state=str(entry.get("State") or "unknown"),
            health=str(entry.get("Health") or "-"),
            ports=_ports(entry),
        ))
    return SiteStatus(site=site.name, url=site.url, services=services)
