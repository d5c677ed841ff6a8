"""`hakobune monitor`: the monitoring stack of an engine (images/monitor), brought up, shown, asked, taken down."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hakobune.engine import Engine, EngineError
from hakobune.errors import HakobuneError
from hakobune.ops.engine_project import EngineProject
from hakobune.ops.ports import check_ports_free
from hakobune.ops.stack import START_TIMEOUT, STOP_TIMEOUT, Container
from hakobune.render.monitor import PROJECT, SETTINGS_LABEL, SMTP_PASSWORD, STACK_LABEL, MonitorSettings, monitor_yaml

NOT_UP = "start it with: hakobune monitor up"


@dataclass(frozen=True)
class Target:
    site: str
    up: bool


@dataclass(frozen=True)
class Alert:
    name: str
    site: str
    severity: str


@dataclass(frozen=True)
class MonitorStatus:
    settings: MonitorSettings | None  # None: no monitoring stack on this engine
    containers: list[Container] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        settings = json.loads(self.settings.to_json()) if self.settings else None
        return {
            "running": any(c.running and c.service == "prometheus" for c in self.containers),
            "settings": settings,
            "services": [{"service": c.service, "state": c.state, "health": c.health, "image": c.image,
                          "ports": list(c.ports)} for c in self.containers],
            "sites": [{"site": t.site, "up": t.up} for t in self.targets],
            "alerts": [{"alert": a.name, "site": a.site, "severity": a.severity} for a in self.alerts],
        }


class Monitor:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.project = EngineProject(engine, STACK_LABEL, SETTINGS_LABEL, MonitorSettings.from_json, monitor_yaml,
                                     "hakobune-monitor-")

    def settings(self) -> MonitorSettings | None:
        return self.project.settings()

    def up(self, settings: MonitorSettings, smtp_password: str | None = None, recreate: bool = False) -> None:
        """Start the stack with SETTINGS (or bring it to them) and wait until every part is healthy; SMTP_PASSWORD,
        when given, replaces the one kept; RECREATE: every part starts anew (and sees the host's disks as they are
        mounted now)."""
        if not self.engine.image_exists(settings.image):
            raise HakobuneError(f"image not built: {settings.image}", "run 'hakobune images build monitor'")
        if self.engine.is_local():
            before = self.settings() if self._running() else None
            own = {before.port, before.alertmanager_port} if before else set()
            check_ports_free(*(p for p in (settings.port, settings.alertmanager_port) if p not in own),
                             hint="free it, or give the stack other ports: hakobune monitor up --port N "
                                  "--alertmanager-port N")
        self.engine.monitor_network(settings.image)
        if smtp_password is not None:
            # Written before Alertmanager starts, by a one-off container of its service (its user, its volume).
            self.project.compose(settings, "run", "--rm", "--no-deps", "-T", "--entrypoint", "sh", "alertmanager",
                                 "-c", f"umask 077 && cat > {SMTP_PASSWORD}", input=smtp_password.strip() + "\n",
                                 timeout=120)
        self.project.compose(settings, "up", "--detach", "--wait", "--wait-timeout", str(START_TIMEOUT),
                             "--remove-orphans", *(["--force-recreate"] if recreate else []),
                             timeout=START_TIMEOUT + 120)

    def _running(self) -> bool:
        settings = self.settings()
        return settings is not None and any(c.running for c in self.project.containers(settings))

    def _up(self) -> MonitorSettings:
        settings = self.settings()
        if settings is None or not any(c.running and c.service == "prometheus"
                                       for c in self.project.containers(settings)):
            raise HakobuneError("the monitoring stack is not running on this engine", NOT_UP)
        return settings

    def query(self, expr: str) -> list[dict[str, Any]]:
        """EXPR's value now, as Prometheus's API gives it (a list of {metric, value})."""
        return self.queries(expr)[0]

    def queries(self, *exprs: str) -> list[list[dict[str, Any]]]:
        """Each of EXPRS's value now, asked with promtool inside the Prometheus container (one exec for all), so
        that it works over any engine connection."""
        settings = self._up()
        script = 'for q; do promtool query instant -o json http://127.0.0.1:9090 "$q" || exit 1; echo; done'
        try:
            out = self.project.compose(settings, "exec", "-T", "prometheus", "sh", "-c", script, "sh", *exprs,
                                       timeout=60).stdout
        except EngineError as exc:
            raise HakobuneError(f"Prometheus did not answer: {exc.stderr.strip() or exc}",
                                "see: hakobune monitor logs") from None
        answers = [json.loads(line) for line in out.splitlines() if line.strip()]
        if len(answers) != len(exprs):
            raise HakobuneError(f"Prometheus gave {len(answers)} answers to {len(exprs)} queries",
                                "see: hakobune monitor logs")
        return [list(answer or []) for answer in answers]

    def status(self) -> MonitorStatus:
        settings = self.settings()
        if settings is None:
            return MonitorStatus(None)
        containers = self.project.containers(settings)
        if not any(c.running and c.service == "prometheus" for c in containers):
            return MonitorStatus(settings, containers)
        up, firing = self.queries('max by (site) (up{job="hakobune-sites"})', 'ALERTS{alertstate="firing"}')
        targets = sorted({Target(str(r["metric"].get("site", "")), r["value"][1] == "1") for r in up},
                         key=lambda t: t.site)
        alerts = sorted({Alert(str(r["metric"].get("alertname", "")), str(r["metric"].get("site", "")),
                               str(r["metric"].get("severity", ""))) for r in firing},
                        key=lambda a: (a.site, a.name))
        return MonitorStatus(settings, containers, targets, alerts)

    def down(self, purge: bool = False) -> bool:
        """Stop and remove the stack (PURGE: its data too); False when there was none."""
        settings = self.settings()
        if settings is None:
            if purge:
                self.engine.sweep("1", STACK_LABEL)
            return False
        self.project.compose(settings, "down", "--remove-orphans", "--timeout", str(STOP_TIMEOUT),
                             *(["--volumes"] if purge else []), timeout=300)
        return True

    def logs(self, follow: bool, since: str | None, tail: str | None) -> int:
        settings = self.settings()
        if settings is None:
            raise HakobuneError("there is no monitoring stack on this engine", NOT_UP)
        return self.project.logs(settings, follow, since, tail)


__all__ = ["PROJECT", "Alert", "Monitor", "MonitorStatus", "Target"]
