"""Everyday commands on a running site: start, stop, restart, logs, shell, exec, info, and `list` of every site
on the engine."""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass

from hakobune.engine import Engine
from hakobune.errors import InvalidInput
from hakobune.ops.sitedir import SiteDir
from hakobune.site import ONE_SHOT_SERVICES, SERVICES, SITE_LABEL, URL_LABEL

START_TIMEOUT = 240
WORKING_DIR_LABEL = "com.docker.compose.project.working_dir"
# What `docker compose logs --since` takes: a duration, a Unix time, or an RFC 3339 date and time.
_SINCE = re.compile(r"^(\d+(\.\d+)?(ns|us|ms|s|m|h)?|\d+(h\d+m)?(\d+s)?"
                    r"|\d{4}-\d{2}-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?)?)$")


def check_service(name: str, allowed: tuple[str, ...] = SERVICES) -> str:
    if name in allowed:
        return name
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f"did you mean {close[0]}?" if close else f"services: {', '.join(allowed)}"
    raise InvalidInput(f"unknown service '{name}'", hint)


KEEP = ("--no-recreate",)  # start the containers there are, as they are
RECREATE = ("--force-recreate", "--no-deps", "--timeout", "20")  # new containers from the current compose files


def _wait_up(engine: Engine, sitedir: SiteDir, services: tuple[str, ...], how: tuple[str, ...] = KEEP) -> None:
    """Start SERVICES (HOW: KEEP or RECREATE), and wait until those that serve the site are healthy. The backup
    service's health tells whether its last run worked, not whether it started, so it is not waited for."""
    serving = tuple(s for s in services if s in SERVICES)
    if serving:
        engine.compose(sitedir.path, "up", "--detach", "--wait", "--wait-timeout", str(START_TIMEOUT),
                       *how, *serving, timeout=START_TIMEOUT + 60)
    others = tuple(s for s in services if s not in SERVICES)
    if others:
        engine.compose(sitedir.path, "up", "--detach", *how, *others, timeout=START_TIMEOUT)


def start(engine: Engine, sitedir: SiteDir) -> None:
    site = sitedir.load()
    engine.ping()
    _wait_up(engine, sitedir, site.services)


def stop(engine: Engine, sitedir: SiteDir) -> None:
    site = sitedir.load()
    engine.ping()
    engine.compose(sitedir.path, "stop", "--timeout", "20", *site.services, timeout=300)


def restart(engine: Engine, sitedir: SiteDir, service: str | None) -> tuple[str, ...]:
    """Restart one service (only that one) or all, as new containers from the current compose files (so a
    change to compose.override.yaml, or one an older Hakobune did not write, applies); returns when they are
    healthy again."""
    site = sitedir.load()
    services = (check_service(service, site.services),) if service else site.services
    engine.ping()
    sitedir.refresh()
    _wait_up(engine, sitedir, services, RECREATE)
    return services


def attached_args(verb: str, service: str, command: list[str], tty: bool) -> list[str]:
    """compose arguments that run COMMAND in SERVICE: `exec` in a running service, `run --rm` for ops."""
    if service in ONE_SHOT_SERVICES:  # started for the job: `shell ops` runs a new container
        return ["run", "--rm", "--no-deps", *([] if tty else ["-T"]), service, *command]
    return [verb, *([] if tty else ["-T"]), service, *command]


def logs_args(service: str | None, follow: bool, since: str | None, tail: str | None,
              services: tuple[str, ...] = SERVICES) -> list[str]:
    if tail is not None and tail != "all" and not tail.isdigit():
        raise InvalidInput(f"--tail '{tail}' must be a number of lines or 'all'")
    args = ["logs", "--timestamps"]
    if follow:
        args.append("--follow")
    if since:
        if not _SINCE.match(since):
            raise InvalidInput(f"--since '{since}' is not a time",
                               "a duration such as 10m or 2h, or a time such as 2026-01-31T10:00:00")
        args += ["--since", since]
    if tail is not None:
        args += ["--tail", tail]
    return [*args, *([check_service(service, services)] if service else services)]


@dataclass(frozen=True)
class ListedSite:
    site: str
    url: str
    folder: str
    running: int
    healthy: int
    services: int

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def state(self) -> str:
        if self.running == 0:
            return "stopped"
        if self.healthy == self.services:
            return "healthy"
        return f"{self.running}/{self.services} running, {self.healthy} healthy"


def list_sites(engine: Engine) -> list[ListedSite]:
    """Every site on the engine, from its containers' labels (any client sees the same), and sites that have
    only volumes left (stopped and removed containers) too."""
    engine.ping()
    found: dict[str, list[dict[str, object]]] = {name: [] for name in engine.sites()}
    for container in engine.site_containers():
        labels = container["Config"]["Labels"] or {}
        if labels.get("com.docker.compose.service") in SERVICES:
            found.setdefault(labels[SITE_LABEL], []).append(container)
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
        ))
    return listed
