"""The shared edge's Compose document: one per engine, in front of every site that has no ports of its own.

Its settings (where it listens) are kept on the engine, as a label of its acme container, so that every client of
the engine sees and keeps the same edge; the sites' routes and certificates live in its volume (images/edge)."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import asdict, dataclass
from typing import Any

import yaml

from hakobune.errors import InvalidInput
from hakobune.layout import RUN_DIR, UIDS
from hakobune.site import ACME_METRICS_PORT, ACME_METRICS_PORT_LABEL, MONITOR_NETWORK, validate_port

PROJECT = "hakobune-edge"
EDGE_LABEL = "io.hakobune.edge"  # on everything the edge has: its container, volume and network
SETTINGS_LABEL = "io.hakobune.edge.settings"  # on its acme container: EdgeSettings as JSON
STATE_DIR = "/var/lib/hakobune/edge"
# Room for HAProxy's 64 KB buffers (two per request in flight); it holds itself to 7/8 of it (entrypoint.sh).
MEMORY = "512M"
ACME_MEMORY = "128M"
PIDS = 512
RENEW_DAYS = 30
HSTS_MAX_AGE = 63072000  # two years, as the edge's image sends it (EDGE_HSTS_MAX_AGE) for a trusted certificate
RENEW_EVERY = 3600


@dataclass(frozen=True)
class EdgeSettings:
    """Where the edge listens: BIND (an address of the engine's host; empty: all of them) and two ports."""

    image: str
    bind: str = ""
    http_port: int = 80
    tls_port: int = 443
    renew_days: int = RENEW_DAYS  # certificates from ACME are renewed from this many days before they expire
    renew_every: int = RENEW_EVERY  # seconds between two looks at what is due

    def __post_init__(self) -> None:
        validate_options(self.bind, self.http_port, self.tls_port, self.renew_days, self.renew_every)
        if self.http_port == self.tls_port:
            raise InvalidInput(f"--http-port and --tls-port are both {self.tls_port}", "give two different ports")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> EdgeSettings:
        try:
            data = json.loads(text)
            return cls(**{key: data[key] for key in ("image", "bind", "http_port", "tls_port")},
                       renew_days=data.get("renew_days", RENEW_DAYS), renew_every=data.get("renew_every", RENEW_EVERY))
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidInput(f"the edge's settings label cannot be read ({exc})", "run: hakobune edge up") \
                from None


def validate_options(bind: str | None, http_port: int | None, tls_port: int | None,
                     renew_days: int | None = None, renew_every: int | None = None) -> None:
    """The options of `edge up`, checked before the engine is asked for the edge's current ones."""
    if renew_days is not None and not 1 <= renew_days <= 36500:
        raise InvalidInput(f"--renew-days {renew_days} is out of range", "give 1 to 36500 (days before expiry)")
    if renew_every is not None and not 10 <= renew_every <= 86400:
        raise InvalidInput(f"--renew-every {renew_every} is out of range", "give 10 to 86400 (seconds)")
    if http_port is not None:
        validate_port("--http-port", http_port)
    if tls_port is not None:
        validate_port("--tls-port", tls_port)
    if bind:
        try:
            ipaddress.ip_address(bind)
        except ValueError:
            raise InvalidInput(f"--bind '{bind}' is not an IP address", "e.g. 127.0.0.1 or 0.0.0.0") from None


def _published(settings: EdgeSettings, port: int, target: str) -> str:
    host = f"[{settings.bind}]" if ":" in settings.bind else settings.bind
    return f"{host}:{port}:{target}" if host else f"{port}:{target}"


def edge_document(settings: EdgeSettings) -> dict[str, Any]:
    labels = {EDGE_LABEL: "1"}
    uid = UIDS["hbedge"]
    hardened = {
        "image": settings.image,
        "restart": "unless-stopped",
        # The acme service renders and reloads the proxy's configuration when a certificate is renewed: both
        # see the routes and certificates (state) and HAProxy's files and master socket (run, in memory).
        "volumes": [f"state:{STATE_DIR}", f"run:{RUN_DIR}"],
        "networks": ["edge"],
        "read_only": True,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "logging": {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}},
        "pids_limit": PIDS,
    }
    proxy = {
        **hardened,
        "labels": labels,
        "environment": {"EDGE_PUBLIC_TLS_PORT": str(settings.tls_port)},
        "ports": [_published(settings, settings.http_port, "8080"),
                  _published(settings, settings.tls_port, "8443"),
                  _published(settings, settings.tls_port, "8443/udp")],  # HTTP/3
        "mem_limit": MEMORY,
    }
    # lego, answering the CA's challenges that the proxy sends it and renewing what is due (hakobune-acme).
    acme = {
        **hardened,
        # The settings live here, where they change nothing served: a new renewal schedule recreates this
        # container and leaves the proxy and its connections alone.
        "labels": {**labels, SETTINGS_LABEL: settings.to_json(), ACME_METRICS_PORT_LABEL: str(ACME_METRICS_PORT)},
        "entrypoint": ["hakobune-acme", "daemon"],
        "environment": {"ACME_RENEW_DAYS": str(settings.renew_days), "ACME_RENEW_EVERY": str(settings.renew_every),
                        "ACME_METRICS_PORT": str(ACME_METRICS_PORT)},
        # Its renewals' metrics, for the monitoring stack, on the engine's internal monitoring network.
        "networks": ["edge", "monitor"],
        "healthcheck": {"test": ["CMD", "hakobune-acme", "health"], "interval": "10s", "timeout": "5s",
                        "start_period": "10s", "retries": 3},
        "tmpfs": ["/tmp:mode=1777"],
        "mem_limit": ACME_MEMORY,
        "depends_on": ["proxy"],
    }
    return {
        "name": PROJECT,
        "services": {"proxy": proxy, "acme": acme},
        "networks": {"edge": {"labels": labels}, "monitor": {"name": MONITOR_NETWORK, "external": True}},
        "volumes": {
            "state": {"labels": labels},
            "run": {"labels": labels, "driver_opts": {"type": "tmpfs", "device": "tmpfs",
                                                      "o": f"uid={uid},gid={uid},mode=0750"}},
        },
    }


def edge_yaml(settings: EdgeSettings) -> str:
    return "# Generated by Hakobune for the shared edge of this engine.\n" + \
        yaml.safe_dump(edge_document(settings), sort_keys=False, default_flow_style=False)
