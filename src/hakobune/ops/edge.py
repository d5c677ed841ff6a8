"""`hakobune edge`: the shared edge of an engine (images/edge), brought up, shown, taken down.

The edge is one Compose project per engine (ops/engine_project.py): its settings live on the engine, as a label of
its acme container (render/edge.py), so every client of the engine sees the same edge."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from typing import Any

from hakobune.engine import Engine, EngineError
from hakobune.errors import HakobuneError
from hakobune.ops import contract
from hakobune.ops.engine_project import EngineProject
from hakobune.ops.ports import check_ports_free
from hakobune.ops.stack import START_TIMEOUT, STOP_TIMEOUT, Container
from hakobune.render.edge import EDGE_LABEL, PROJECT, SETTINGS_LABEL, EdgeSettings, edge_yaml
from hakobune.site import SITE_ID_LABEL, SITE_LABEL, Site
from hakobune.versions import image_refs

PROXY = f"{PROJECT}-proxy-1"  # the edge's container
EDGE_SITE_LABEL = "io.hakobune.edge-site"  # on a site's edge network: the site it leads to


@dataclass(frozen=True)
class Route:
    site: str
    hosts: tuple[str, ...]
    upstream: str
    issuer: str
    not_after: str


@dataclass(frozen=True)
class EdgeStatus:
    settings: EdgeSettings | None  # None: no edge on this engine
    containers: list[Container] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "running": any(c.running and c.service == "proxy" for c in self.containers),  # it serves
            "settings": json.loads(self.settings.to_json()) if self.settings else None,
            "services": [{"service": c.service, "state": c.state, "health": c.health, "image": c.image,
                          "ports": list(c.ports)} for c in self.containers],
            "routes": [{"site": r.site, "hosts": list(r.hosts), "upstream": r.upstream,
                        "certificate": {"issuer": r.issuer, "not_after": r.not_after}} for r in self.routes],
        }


def route_request(site: Site, pending: tuple[str, ...] = ()) -> str:
    """SITE's route as hakobune-edge set reads it (images/edge/edge.sh)."""
    return (f"HOSTS={' '.join(site.hosts)}\nREDIRECT301={' '.join(site.redirected('301'))}\n"
            f"REDIRECT308={' '.join(site.redirected('308'))}\nPENDING={' '.join(pending)}\n"
            f"UPSTREAM={site.edge_upstream}\n")


class Edge:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.project = EngineProject(engine, EDGE_LABEL, SETTINGS_LABEL, EdgeSettings.from_json, edge_yaml,
                                     "hakobune-edge-")

    def settings(self) -> EdgeSettings | None:
        """The settings of the edge on the engine; None when it has none."""
        return self.project.settings()

    def _compose(self, settings: EdgeSettings, *args: str, **io: Any) -> subprocess.CompletedProcess[str]:
        return self.project.compose(settings, *args, **io)

    def up(self, settings: EdgeSettings) -> None:
        """Start the edge with SETTINGS (or bring it to them) and wait until it is healthy."""
        if not self.engine.image_exists(settings.image):
            raise HakobuneError(f"image not built: {settings.image}", "run 'hakobune images build edge'")
        if self.engine.is_local():
            status = self.status()
            running = status.settings if any(c.running for c in status.containers) else None
            own = {running.http_port, running.tls_port} if running else set()
            check_ports_free(*(p for p in (settings.http_port, settings.tls_port) if p not in own),
                             hint="free it, or give the edge other ports: hakobune edge up --http-port N "
                                  "--tls-port N")
        self.engine.monitor_network(settings.image)  # its acme service's renewals are read there
        self._compose(settings, "up", "--detach", "--wait", "--wait-timeout", str(START_TIMEOUT),
                      "--remove-orphans", timeout=START_TIMEOUT + 120)
        # A new edge container (a first start, a newer image) joins every site's edge network again.
        for network in self.engine.labelled("network", "1", f"{EDGE_SITE_LABEL}.network"):
            self.engine.network_connect(network, PROXY)

    def ensure(self) -> tuple[EdgeSettings, bool]:
        """The running edge's settings; an edge with the defaults is started when the engine has none (True)."""
        settings = self.settings()
        if settings is not None and self._running(settings):
            return settings, False
        settings = settings or EdgeSettings(image_refs()["edge"])
        self.up(settings)
        return settings, True

    def make_network(self, site: Site) -> str:
        """The network between the edge and SITE's web container (labelled as the site's, so that removing the
        site removes it); its address range."""
        labels = {SITE_LABEL: site.name, **({SITE_ID_LABEL: site.site_id} if site.site_id else {}),
                  EDGE_SITE_LABEL: site.name, f"{EDGE_SITE_LABEL}.network": "1"}
        return self.engine.network_create(site.edge_network, labels, internal=True)

    def attach(self, site: Site, pending: tuple[str, ...] = ()) -> None:
        """Route SITE's names to its web container, over its edge network (PENDING: names not served yet whose
        ACME challenges the edge passes on)."""
        settings = self.settings()
        if settings is None:
            raise HakobuneError("there is no edge on this engine", "start it with: hakobune edge up")
        self.engine.network_connect(site.edge_network, PROXY)
        self._tool(settings, "set", site.name, input=route_request(site, pending))

    def install_certificate(self, site: Site, bundle: str) -> None:
        """Serve BUNDLE (PEM: certificate, chain, key) for SITE."""
        settings = self.settings()
        if settings is None:
            raise HakobuneError("there is no edge on this engine", "start it with: hakobune edge up")
        self._tool(settings, "install", site.name, input=bundle)

    def detach(self, site: Site) -> None:
        """Drop SITE's route and leave its edge network (what is already gone is skipped)."""
        settings = self.settings()
        if settings is not None and self._running(settings):
            self._tool(settings, "remove", site.name)
        self.engine.network_disconnect(site.edge_network, PROXY)

    def status(self) -> EdgeStatus:
        settings = self.settings()
        if settings is None:
            return EdgeStatus(None)
        containers = self._containers(settings)
        # Both services see the routes: they are read from whichever runs, so that an edge whose proxy keeps
        # restarting still shows its sites (and is not taken down under them).
        running = [c.service for c in containers if c.running]
        return EdgeStatus(settings, containers, self._routes(settings, running[0]) if running else [])

    def running(self) -> bool:
        """Some service of the engine's edge runs (and can be asked for its routes and certificates)."""
        settings = self.settings()
        return settings is not None and self._running(settings)

    def _running(self, settings: EdgeSettings) -> bool:
        return any(c.running for c in self._containers(settings))

    def _containers(self, settings: EdgeSettings) -> list[Container]:
        return self.project.containers(settings)

    def routes(self) -> list[Route]:
        return self.status().routes

    def _routes(self, settings: EdgeSettings, service: str) -> list[Route]:
        answer = self._tool(settings, "list", service=service)
        return [Route(str(r["site"]), tuple(str(r["hosts"]).split()), str(r["upstream"]),
                      str(r["certificate"]["issuer"]), str(r["certificate"]["not_after"]))
                for r in answer.get("routes", [])]

    def servers_up(self, site: str) -> int:
        """How many of SITE's web containers the edge sends requests to now."""
        return int(self._tool(self._up(), "servers", site).get("up", 0))

    def retire(self, site: str, address: str) -> int:
        """Send no new request to SITE's web container at ADDRESS (its requests under way end first); how many
        of the backend's places had that address."""
        return int(self._tool(self._up(), "retire", site, address).get("retired", 0))

    def _up(self) -> EdgeSettings:
        settings = self.settings()
        if settings is None or not self._running(settings):
            raise HakobuneError("the edge is not running on this engine", "start it with: hakobune edge up")
        return settings

    def acme(self, *args: str, input: str | None = None, timeout: float = 180) -> dict[str, Any]:
        """hakobune-acme ARGS in the edge's acme service (ops/certs.py)."""
        settings = self.settings()
        if settings is None or not self._running(settings):
            raise HakobuneError("the edge is not running on this engine", "start it with: hakobune edge up")
        return self._tool(settings, *args, input=input, service="acme", tool="hakobune-acme", timeout=timeout)

    def _tool(self, settings: EdgeSettings, *args: str, input: str | None = None, service: str = "proxy",
              tool: str = "hakobune-edge", timeout: float = 180) -> dict[str, Any]:
        """TOOL ARGS in the running edge's SERVICE (the image is the same): its answer, or its failure raised
        (ops/contract.py)."""
        try:
            out = self._compose(settings, "exec", "-T", service, tool, *args, input=input, timeout=timeout).stdout
        except EngineError as exc:
            # hakobune-acme's failures name the certificate already.
            failed = contract.failure(exc.stdout, None if tool == "hakobune-acme" else "edge")
            if failed is None:
                raise
            raise failed from None
        return contract.answer(out) or {}

    def down(self, purge: bool = False) -> bool:
        """Stop and remove the edge (PURGE: its certificates and routes too); False when there was none.
        Refused while sites are behind it."""
        settings = self.settings()
        if settings is None:
            if purge:
                self.engine.sweep("1", EDGE_LABEL)
            return False
        sites = [route.site for route in self.status().routes]
        if sites:
            raise HakobuneError(f"the edge serves {len(sites)} site(s): {', '.join(sites)}",
                                "remove those sites (or move them to their own ports) first")
        self._compose(settings, "down", "--remove-orphans", "--timeout", str(STOP_TIMEOUT),
                      *(["--volumes"] if purge else []), timeout=300)
        return True

    def logs(self, follow: bool, since: str | None, tail: str | None) -> int:
        settings = self.settings()
        if settings is None:
            raise HakobuneError("there is no edge on this engine", "start it with: hakobune edge up")
        return self.project.logs(settings, follow, since, tail)
