"""The monitoring stack's Compose document: one per engine (images/monitor, docs/monitoring.md).

Prometheus finds every site's metrics service on the engine's monitoring network by its labels, through a proxy that
passes on a few GET requests to the Docker API and nothing else; Alertmanager sends what the shipped rules raise by
e-mail and to a webhook. Its settings are kept on the engine, as a label of the Prometheus container, so every
client of the engine sees the same stack; the SMTP password is kept in Alertmanager's volume, never in a label."""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import asdict, dataclass, fields
from typing import Any
from urllib.parse import urlsplit

import yaml

from hakobune.errors import InvalidInput
from hakobune.layout import RUN_DIR, UIDS
from hakobune.site import MONITOR_NETWORK, validate_port

PROJECT = "hakobune-monitoring"
STACK_LABEL = "io.hakobune.monitoring"  # on everything the stack has: its containers, volumes and networks
SETTINGS_LABEL = "io.hakobune.monitoring.settings"  # on its Prometheus container: MonitorSettings as JSON
UID = UIDS["hbmon"]
# In Alertmanager's volume, its user's alone (a path, not a password).
SMTP_PASSWORD = "/var/lib/hakobune/alertmanager/smtp-password"  # noqa: S105
DURATION = re.compile(r"^[1-9][0-9]{0,5}(s|m|h|d)$")
HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}"
                      r"[A-Za-z0-9])?)*$")
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9.-]{1,253}$")
# Each part's memory: Prometheus holds about two hours of samples in memory (a few thousand series per site).
MEMORY = {"prometheus": "1g", "alertmanager": "128m", "node": "64m", "containers": "96m", "docker-proxy": "64m"}
PIDS = 256


@dataclass(frozen=True)
class MonitorSettings:
    """What `monitor up` was given; every field has its default but the image."""

    image: str
    bind: str = "127.0.0.1"  # Prometheus's and Alertmanager's pages, on this address of the engine's host
    port: int = 9090
    alertmanager_port: int = 9093
    retention: str = "15d"
    scrape_interval: str = "15s"
    window: str = "5m"  # rates are taken over this span
    hold: str = "5m"  # a condition lasts this long before it is an alert
    hold_short: str = "1m"  # the same for an outage (site, database, disk)
    group_wait: str = "30s"
    group_interval: str = "5m"
    webhook_url: str = ""
    email_to: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_from: str = ""
    smtp_user: str = ""
    smtp_tls: bool = True

    def __post_init__(self) -> None:
        validate(self)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> MonitorSettings:
        try:
            data = json.loads(text)
            known = {f.name for f in fields(cls)}
            return cls(**{key: value for key, value in data.items() if key in known})
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"the monitoring stack's settings label cannot be read ({exc})",
                               "run: hakobune monitor up") from None


def validate(s: MonitorSettings) -> None:
    """Every option of `monitor up`, checked before anything is asked of the engine."""
    for option, value in (("--retention", s.retention), ("--scrape-interval", s.scrape_interval),
                          ("--alert-window", s.window), ("--alert-hold", s.hold),
                          ("--alert-hold-short", s.hold_short), ("--group-wait", s.group_wait),
                          ("--group-interval", s.group_interval)):
        if not DURATION.match(value):
            raise InvalidInput(f"{option} {value!r} is not a duration", "give a number and a unit: 30s, 5m, 2h, 15d")
    if s.scrape_interval == "1s":  # the one duration the pattern lets through below 2 s
        # A scrape is given its interval to answer; a site's metrics service waits up to 1 s for its slow parts.
        raise InvalidInput("--scrape-interval '1s' is too short", "give 2s or more (15s unless you need finer)")
    validate_port("--port", s.port)
    validate_port("--alertmanager-port", s.alertmanager_port)
    validate_port("--smtp-port", s.smtp_port)
    if s.port == s.alertmanager_port:
        raise InvalidInput(f"--port and --alertmanager-port are both {s.port}", "give two different ports")
    if s.bind:
        try:
            ipaddress.ip_address(s.bind)
        except ValueError:
            raise InvalidInput(f"--bind {s.bind!r} is not an IP address", "e.g. 127.0.0.1 or 0.0.0.0") from None
    if s.webhook_url:
        url = urlsplit(s.webhook_url)
        if url.scheme not in ("http", "https") or not url.hostname or any(c in s.webhook_url for c in " \n\r\t\"'"):
            raise InvalidInput(f"--webhook {s.webhook_url!r} is not an http or https URL",
                               "e.g. https://hooks.example.com/alerts")
    for option, address in (("--email", s.email_to), ("--smtp-from", s.smtp_from)):
        if address and not EMAIL.match(address):
            raise InvalidInput(f"{option} {address!r} is not an e-mail address", "e.g. ops@example.com")
    if s.smtp_host and not HOSTNAME.match(s.smtp_host):
        raise InvalidInput(f"--smtp-host {s.smtp_host!r} is not a host name", "e.g. smtp.example.com")
    if s.smtp_user and any(c in s.smtp_user for c in "\n\r\0"):
        raise InvalidInput("--smtp-user has a line break", "give the user name on one line")
    if s.email_to and not s.smtp_host:
        raise InvalidInput("--email needs an SMTP server to send through", "add --smtp-host HOST")


def environment(s: MonitorSettings) -> dict[str, str]:
    """The MONITOR_* variables hakobune-monitor reads (images/monitor/monitor.py)."""
    env = {
        "MONITOR_NETWORK": MONITOR_NETWORK, "MONITOR_RETENTION": s.retention,
        "MONITOR_SCRAPE_INTERVAL": s.scrape_interval, "MONITOR_WINDOW": s.window, "MONITOR_HOLD": s.hold,
        "MONITOR_HOLD_SHORT": s.hold_short, "MONITOR_GROUP_WAIT": s.group_wait,
        "MONITOR_GROUP_INTERVAL": s.group_interval, "MONITOR_WEBHOOK_URL": s.webhook_url,
        "MONITOR_EMAIL_TO": s.email_to, "MONITOR_SMTP_HOST": s.smtp_host, "MONITOR_SMTP_PORT": str(s.smtp_port),
        "MONITOR_SMTP_FROM": s.smtp_from, "MONITOR_SMTP_USER": s.smtp_user,
        "MONITOR_SMTP_TLS": "on" if s.smtp_tls else "off", "MONITOR_SMTP_PASSWORD_FILE": SMTP_PASSWORD,
    }
    return {key: value for key, value in env.items() if value}


def _published(s: MonitorSettings, port: int, target: int) -> str:
    host = f"[{s.bind}]" if ":" in s.bind else s.bind
    return f"{host}:{port}:{target}" if host else f"{port}:{target}"


def _healthcheck(part: str) -> dict[str, Any]:
    return {"test": ["CMD", "hakobune-monitor", "health", part], "interval": "10s", "timeout": "5s",
            "start_period": "20s", "retries": 3}


def monitor_document(s: MonitorSettings) -> dict[str, Any]:
    labels = {STACK_LABEL: "1"}
    env = environment(s)

    def part(name: str, networks: list[str], **extra: Any) -> dict[str, Any]:
        return {
            "image": s.image, "command": [name], "restart": "unless-stopped", "user": f"{UID}:{UID}",
            "labels": labels, "networks": networks, "read_only": True, "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges:true"], "pids_limit": PIDS, "mem_limit": MEMORY[name],
            "logging": {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}},
            "healthcheck": _healthcheck(name), **extra,
        }

    run = [f"{RUN_DIR}:uid={UID},gid={UID},mode=0750"]
    services = {
        # Root without capabilities: the engine's socket is root's, and nothing else in the stack may open it.
        "docker-proxy": part("docker-proxy", ["inner"], user="0:0",
                             volumes=["/var/run/docker.sock:/var/run/docker.sock:ro"]),
        "containers": part("containers", ["inner"], depends_on=["docker-proxy"]),
        # The host's filesystems as they are mounted when the part starts (no propagation: a host whose root is a
        # private mount could not give one); a disk mounted later is seen after `monitor up --recreate`.
        "node": part("node", ["inner"], volumes=[{"type": "bind", "source": "/", "target": "/host",
                                                  "read_only": True}]),
        "prometheus": part("prometheus", ["inner", "monitor", "outside"],
                           labels={**labels, SETTINGS_LABEL: s.to_json()}, environment=env, tmpfs=run,
                           volumes=["data:/var/lib/hakobune/prometheus"],
                           ports=[_published(s, s.port, 9090)], depends_on=["docker-proxy"]),
        "alertmanager": part("alertmanager", ["inner", "monitor", "outside"], environment=env, tmpfs=run,
                             volumes=["alerts:/var/lib/hakobune/alertmanager"],
                             ports=[_published(s, s.alertmanager_port, 9093)]),
    }
    return {
        "name": PROJECT,
        "services": services,
        "networks": {"inner": {"internal": True, "labels": labels}, "outside": {"labels": labels},
                     "monitor": {"name": MONITOR_NETWORK, "external": True}},
        "volumes": {"data": {"labels": labels}, "alerts": {"labels": labels}},
    }


def monitor_yaml(s: MonitorSettings) -> str:
    return "# Generated by Hakobune for the monitoring stack of this engine.\n" + \
        yaml.safe_dump(monitor_document(s), sort_keys=False, default_flow_style=False)
