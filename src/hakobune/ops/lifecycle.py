"""Everyday commands on a running site: start, stop, restart, shell, exec, info, and `list` of every site
on the engine."""

from __future__ import annotations

import difflib
import time
from dataclasses import asdict, dataclass
from typing import Any

from hakobune.engine import Engine
from hakobune.errors import InvalidInput
from hakobune.ops.certs import CertState, certificates, container_certificate, summary
from hakobune.ops.outdated import Builds, service_images, site_line
from hakobune.ops.stack import Stack
from hakobune.site import COMPOSE_SERVICE_LABEL, ONE_SHOT_SERVICES, SERVICES, SITE_LABEL, URL_LABEL

WORKING_DIR_LABEL = "com.docker.compose.project.working_dir"


def check_service(name: str, allowed: tuple[str, ...] = SERVICES) -> str:
    if name in allowed:
        return name
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f"did you mean {close[0]}?" if close else f"services: {', '.join(allowed)}"
    raise InvalidInput(f"unknown service '{name}'", hint)


def start(stack: Stack) -> None:
    """The containers there are, as they are; returns when the site is healthy."""
    stack.up(stack.site.services, keep=True)


def stop(stack: Stack) -> None:
    stack.stop()


def restart(stack: Stack, service: str | None) -> tuple[str, ...]:
    """Restart one service (only that one) or all, as new containers from the current compose files (so a
    change to compose.override.yaml, or one an older Hakobune did not write, applies); returns when they are
    healthy again."""
    services = (check_service(service, stack.site.services),) if service else stack.site.services
    stack.sitedir.refresh()
    stack.up(services, recreate=True)
    return services


def interact(stack: Stack, service: str, command: list[str], tty: bool) -> int:
    """COMMAND in SERVICE (a long-running one, or a new one-shot container) with the user's terminal."""
    check_service(service, (*stack.site.services, *ONE_SHOT_SERVICES))
    return stack.interact(service, command, tty)


@dataclass(frozen=True)
class ListedSite:
    site: str
    url: str
    folder: str
    running: int
    healthy: int
    services: int
    certificate: str = ""  # where it comes from, issuer, days left ("" when the edge or web server does not say)
    warnings: tuple[str, ...] = ()  # its problems
    images: str = ""  # current, or which services run older builds (ops/outdated.py)

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "state": self.state, "warnings": list(self.warnings)}

    @property
    def state(self) -> str:
        if self.running == 0:
            return "stopped"
        if self.healthy == self.services:
            return f"warning: {'; '.join(self.warnings)}" if self.warnings else "healthy"
        return f"{self.running}/{self.services} running, {self.healthy} healthy"


def list_sites(engine: Engine) -> list[ListedSite]:
    """Every site on the engine, from its containers' labels (any client sees the same), and sites that have
    only volumes left (stopped and removed containers) too."""
    engine.ping()
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in engine.sites()}
    for container in engine.site_containers():
        labels = container["Config"]["Labels"] or {}
        if labels.get(COMPOSE_SERVICE_LABEL) in (*SERVICES, "cron", "metrics", "acme"):  # what serves, runs, watches it
            found.setdefault(labels[SITE_LABEL], []).append(container)
    certs = certificates(engine)  # sites behind the edge are those it routes
    builds = Builds(engine)
    moment = time.time()
    listed = []
    for name, containers in sorted(found.items()):
        labels = [c["Config"]["Labels"] for c in containers]
        states = [c["State"] for c in containers]
        listed.append(ListedSite(
            site=name,
            url=next((lab[URL_LABEL] for lab in labels if URL_LABEL in lab), ""),
            folder=next((lab[WORKING_DIR_LABEL] for lab in labels if WORKING_DIR_LABEL in lab), ""),
            running=sum(1 for st in states if st.get("Running")),
            healthy=sum(1 for st in states if (st.get("Health") or {}).get("Status") == "healthy"),
            services=len(containers),
            images=site_line(service_images(engine, containers, builds)),
            **_certificate(certs.get(name) or _own_ports_certificate(engine, name, containers), moment),
        ))
    return listed


def _own_ports_certificate(engine: Engine, site: str, containers: list[dict[str, Any]]) -> CertState | None:
    """A site with ports of its own (its web container publishes them; behind the edge it publishes none): the
    certificate its web server serves, while it runs, with its renewals when its own acme service runs."""
    running = {(c["Config"]["Labels"] or {}).get(COMPOSE_SERVICE_LABEL): c for c in containers
               if c["State"].get("Running")}
    web, acme = running.get("web"), running.get("acme")
    if web is None or not (web.get("HostConfig") or {}).get("PortBindings"):
        return None
    return (acme is not None and container_certificate(engine, site, str(acme["Name"]).lstrip("/"), acme=True)) \
        or container_certificate(engine, site, str(web["Name"]).lstrip("/"))


def _certificate(cert: CertState | None, moment: float) -> dict[str, Any]:
    if cert is None:
        return {}
    line, warnings = summary(cert, True, moment)
    return {"certificate": line, "warnings": tuple(warnings)}
