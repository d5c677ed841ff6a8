"""`hakobune limits`: the memory and process-count limit of each of a site's services; `limits set|unset`
changes them, recreating only the running services concerned, and puts the old ones back when those do not
come up healthy. PHP's, MariaDB's and valkey's own sizes follow the limit of their container."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from hakobune.errors import InvalidInput
from hakobune.ops.config import apply
from hakobune.ops.sitedir import SiteDir
from hakobune.ops.stack import Report, Stack
from hakobune.site import LIMITED_SERVICES, ONE_SHOT_SERVICES, Site, validate_memory, validate_pids

KINDS = ("memory", "pids")


@dataclass(frozen=True)
class Limit:
    service: str
    memory: str
    pids: int
    changed: tuple[str, ...]  # which of the two `limits set` changed

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "changed": list(self.changed)}


def limits(sitedir: SiteDir) -> list[Limit]:
    site = sitedir.load()
    return [Limit(service, site.memory(service), site.pids(service), tuple(k for k in KINDS
                                                                          if k in site.limits.get(service, {})))
            for service in (*site.services, *ONE_SHOT_SERVICES)]


def parse(pairs: list[str], values: bool) -> dict[tuple[str, str], str | None]:
    """SERVICE.memory=SIZE or SERVICE.pids=N (or, to unset, SERVICE.memory or SERVICE.pids)."""
    parsed: dict[tuple[str, str], str | None] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        service, _, kind = key.partition(".")
        example = "php.memory=2G or db.pids=1024" if values else "php.memory"
        if service not in LIMITED_SERVICES:
            raise InvalidInput(f"'{pair}': '{service}' is not a service with limits",
                               f"services: {', '.join(LIMITED_SERVICES)}; e.g. {example}")
        if kind not in KINDS or bool(sep) != values:
            form = "SERVICE.memory=SIZE or SERVICE.pids=N" if values else "SERVICE.memory or SERVICE.pids"
            raise InvalidInput(f"'{pair}' is not {form}", f"e.g. {example}")
        if values:
            value = validate_memory(service, value) if kind == "memory" else str(validate_pids(service, value))
        parsed[(service, kind)] = value if values else None
    return parsed


def change(stack: Stack, updates: dict[tuple[str, str], str | None], report: Report) -> list[str]:
    """Apply UPDATES (None: back to the default); returns the running services that were recreated."""
    site = stack.site
    limits = {service: dict(entry) for service, entry in site.limits.items()}
    for (service, kind), value in updates.items():
        entry = limits.setdefault(service, {})
        if value is None:
            entry.pop(kind, None)
        else:
            entry[kind] = int(value) if kind == "pids" else value
    new = replace(site, limits={service: entry for service, entry in limits.items() if entry})
    if new == site:
        report("Nothing to change")
        return []
    running = sorted({service for service, _ in updates} & set(site.services))
    if not running:
        stack.save(new)  # one-shot containers (and a stopped backup service) take them when next started
        return []
    apply(stack, new, running, report)
    return running


def with_host_memory(site: Site, total: int) -> Site:
    """SITE made on an engine with TOTAL bytes of memory: php and db get a quarter each (Site.memory)."""
    return site if site.host_memory else replace(site, host_memory=total)
