"""A site's running form (as compose v1 has `Project`): its folder and settings, and the engine it runs on.

Every operation drives a site through a `Stack`, built once per command. What does not depend on how the site
is deployed (tasks in its one-shot services, the wait for health, putting a change back) is written here once;
how services are started, listed, run and removed is a backend's: `ComposeStack` for Docker Compose today, a
Swarm stack behind the same methods later."""

from __future__ import annotations

import json
import subprocess
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from hakobune.engine import Engine, EngineError
from hakobune.errors import HakobuneError
from hakobune.layout import HELPER
from hakobune.ops import contract
from hakobune.ops.rollback import Rollback, UndoIncomplete
from hakobune.ops.sitedir import COMPOSE, SiteDir
from hakobune.site import (
    ONE_SHOT_SERVICES,
    SERVICES,
    SITE_ID_LABEL,
    Site,
    SiteSecrets,
)

# What long operations say of their progress, a line at a time.
Report = Callable[[str], None]

START_TIMEOUT = 240  # seconds a service gets to become healthy
STOP_TIMEOUT = 20  # seconds a service gets to stop before it is killed
TASK_TIMEOUT = 600  # seconds a helper task gets
# What `up` waits for until healthy: the services that serve the site, its scheduler and its metrics. backup and
# acme are started and left to their healthchecks (unhealthy there means a failed run, not a failed start).
WAITED = (*SERVICES, "cron", "metrics")
# Tasks that run the site's code (WordPress with its plugins and themes) or write into its docroot: they run in
# the `wp` service, which has what the php service has and no more. The others (backups, restores, the
# database's setup) run in `ops`, which holds the root password and the backups volume.
# core-verify runs in ops: it never runs the site's code, and the checksums it keeps are in the backups volume.
WP_TASKS = frozenset({"seed", "seed-lamp", "install", "option", "user", "plugin", "theme", "search-replace",
                      "cache-flush", "core", "core-update", "package", "deploy", "site-url", "smoke"})


def service_for(task: str) -> str:
    return "wp" if task in WP_TASKS else "ops"


def ask_ops_image(engine: Engine, site: Site, task: str, request: dict[str, object] | None = None,
                  **where: Any) -> dict[str, Any]:
    """A helper TASK that needs no site on the engine (yet): in a throw-away container of the site's ops image,
    without network unless WHERE gives one (Engine.run_image). Its failure is raised as contract.TaskFailed."""
    try:
        out = engine.run_image(site.image("ops"), "php", HELPER, task, input=json.dumps(request or {}), **where)
    except EngineError as exc:
        failed = contract.failure(exc.stdout)
        if failed is None:
            raise
        raise failed from None
    return contract.answer(out) or {}


@dataclass(frozen=True)
class Container:
    """One container of the site, as its backend reports it."""

    service: str
    state: str  # running, exited, restarting, ...
    health: str  # healthy, unhealthy, starting; "" without a healthcheck
    image: str
    ports: tuple[str, ...] = ()  # published PORT->TARGET

    @property
    def running(self) -> bool:
        return self.state == "running"


def containers_of(entries: list[dict[str, Any]]) -> list[Container]:
    """`compose ps`'s entries as Containers."""
    found = []
    for entry in entries:
        publishers = entry.get("Publishers") or []
        ports = sorted({f"{p['PublishedPort']}->{p['TargetPort']}" for p in publishers
                        if isinstance(p, dict) and p.get("PublishedPort")})
        found.append(Container(str(entry.get("Service") or ""), str(entry.get("State") or "unknown"),
                               str(entry.get("Health") or ""), str(entry.get("Image") or ""), tuple(ports)))
    return found


class Stack(ABC):
    """One site on one engine. The engine is asked whether it answers once, when it is first needed, so that
    input is checked before anything reaches it."""

    def __init__(self, engine: Engine, sitedir: SiteDir, site: Site | None = None) -> None:
        self._engine = engine
        self._answered = False
        self.sitedir = sitedir
        self.site = site or sitedir.load()

    @staticmethod
    def open(engine: Engine, sitedir: SiteDir, site: Site | None = None) -> Stack:
        """The stack of the site in SITEDIR (of SITE, while its folder is being made)."""
        return ComposeStack(engine, sitedir, site)

    @property
    def engine(self) -> Engine:
        if not self._answered:
            self._engine.ping()
            self._answered = True
        return self._engine

    @property
    def path(self) -> Path:
        return self.sitedir.path

    def secrets(self) -> SiteSecrets:
        return self.sitedir.secrets()

    def save(self, site: Site) -> None:
        """Make SITE this stack's settings, in its folder; services take them when next brought up."""
        self.sitedir.save(site)
        self.site = site

    # -- what every backend does its own way --------------------------------------------------------

    @abstractmethod
    def up(self, services: Sequence[str] | None = None, *, recreate: bool = False, keep: bool = False,
           orphans: bool = False, check: bool = True) -> None:
        """Bring services to the site's settings and wait until they are healthy: without SERVICES, the whole
        stack as its compose file has it (a new site, a changed schedule: the backup service too); with them,
        only those, and the backup service among them is started but not waited for (its health tells whether
        its last run worked, not whether it started). Containers whose settings changed are replaced; RECREATE
        replaces them all, KEEP none; ORPHANS removes services the site no longer runs. CHECK False: a failure
        is not raised (a rollback's last step)."""

    @abstractmethod
    def beside(self, service: str, signal: str, ready: Callable[[list[str]], None] | None = None) -> None:
        """Replace SERVICE's container without a moment when none runs: a new one, from the site's current
        settings, started beside it and healthy; then READY(the old containers), which waits until traffic
        reaches the new one and turns it away from the old; then the old one stopped with SIGNAL, its server's
        graceful stop, and removed. When the new one does not become healthy, it is removed and the old one
        keeps running."""

    @abstractmethod
    def stop(self) -> None:
        """Stop every service; the data stays."""

    @abstractmethod
    def containers(self) -> list[Container]:
        """The site's long-running containers, in whatever state."""

    @abstractmethod
    def run(self, *command: str, service: str = "ops", **io: Any) -> subprocess.CompletedProcess[str]:
        """COMMAND in a new one-shot container of SERVICE, without a terminal, so that its standard input and
        output carry data; IO: input, stdin, stdout, check, timeout."""

    @abstractmethod
    def exec(self, service: str, *command: str, timeout: float = 180, input: str | None = None) -> str:
        """COMMAND's output, run in SERVICE's running container (INPUT on its standard input)."""

    @abstractmethod
    def interact(self, service: str, command: Sequence[str], tty: bool) -> int:
        """COMMAND in SERVICE with the user's terminal (a new container for a one-shot service); its exit code."""

    @abstractmethod
    def remove(self) -> None:
        """Delete the site's containers, volumes and network: what carries its id, and nothing else."""

    # -- written once, for every backend ------------------------------------------------------------

    def running(self) -> set[str]:
        return {c.service for c in self.containers() if c.running}

    def require_running(self, services: Sequence[str] | None = None) -> None:
        """Refuse to go on unless SERVICES (default: all the site runs) run."""
        if not set(self.site.services if services is None else services) <= self.running():
            raise HakobuneError(f"site {self.site.name} is not running", "start it with: hakobune start")

    def task(self, task: str, request: dict[str, object] | None = None, service: str | None = None, *,
             within: str | None = None, stream: IO[bytes] | None = None,
             timeout: float = TASK_TIMEOUT) -> dict[str, Any]:
        """Run a PHP helper TASK with REQUEST (for a task that takes data: STREAM on its standard input, REQUEST as
        its argument) in a one-shot container of SERVICE (by default the one the task belongs in; `secrets` writes
        the secret volumes); returns its answer. Its failure is raised as contract.TaskFailed, its message after
        "WITHIN failed: " (WITHIN: by default the task's name; "" for the helper's words alone)."""
        io: dict[str, Any] = {"stdin": stream} if stream is not None else {"input": json.dumps(request or {})}
        # A task that reads data takes its request as its argument.
        argument = [json.dumps(request)] if stream is not None and request else []
        try:
            result = self.run("php", HELPER, task, *argument, service=service or service_for(task),
                              timeout=timeout, **io)
        except EngineError as exc:
            failed = contract.failure(exc.stdout, task if within is None else within)
            if failed is None:
                raise HakobuneError(f"{within or task} failed: {exc.message}", exc.hint) from None
            raise failed from None
        return contract.answer(result.stdout) or {}

    @contextmanager
    def changing(self, services: Sequence[str] | None = None, *, orphans: bool = False) -> Iterator[Rollback]:
        """Change the site within the block (its settings, secrets, services): the site's files are kept first.
        When the block fails, the undo steps it registered run (newest first), the files are put back, and
        SERVICES (default: the whole stack) are brought up again from them."""
        before = self.sitedir.snapshot()
        rollback = Rollback()
        rollback.on_failure("bring the services up as they were",
                            lambda: self.up(services, orphans=orphans, check=False))
        rollback.on_failure("put the site's files back", lambda: self._put_back(before))
        try:
            yield rollback
        except BaseException:
            problems = rollback.run()
            if problems:
                raise UndoIncomplete("the change failed and could not be undone fully: " + "; ".join(problems)) \
                    from None
            raise

    def _put_back(self, files: dict[str, str]) -> None:
        self.sitedir.put_back(files)
        self.site = self.sitedir.load()


class ComposeStack(Stack):
    """A site as a Docker Compose project: the compose file in its folder, and the user's override beside it."""

    def _compose(self, *args: str, **io: Any) -> subprocess.CompletedProcess[str]:
        return self.engine.compose(self.path, *args, **io)

    def up(self, services: Sequence[str] | None = None, *, recreate: bool = False, keep: bool = False,
           orphans: bool = False, check: bool = True) -> None:
        self._monitor_network()
        how = [*(["--force-recreate", "--timeout", str(STOP_TIMEOUT)] if recreate else []),
               *(["--no-recreate"] if keep else []), *(["--remove-orphans"] if orphans else [])]
        wait = ["--detach", "--wait", "--wait-timeout", str(START_TIMEOUT)]
        if services is None:
            self._compose("up", *wait, *how, check=check, timeout=START_TIMEOUT + 120)
            return
        serving = tuple(s for s in services if s in WAITED)
        if serving:
            self._compose("up", *wait, "--no-deps", *how, *serving, check=check, timeout=START_TIMEOUT + 120)
        others = tuple(s for s in services if s not in WAITED)
        if others:
            self._compose("up", "--detach", "--no-deps", *how, *others, check=check, timeout=START_TIMEOUT)

    def _monitor_network(self) -> None:
        """The engine's monitoring network, which every site's metrics service joins: made by the first."""
        if self.site.metrics:
            self.engine.monitor_network(self.site.images["metrics"])

    def beside(self, service: str, signal: str, ready: Callable[[list[str]], None] | None = None) -> None:
        self._monitor_network()
        old = self._container_ids(service)
        try:
            self._compose("up", "--detach", "--wait", "--wait-timeout", str(START_TIMEOUT), "--no-deps",
                          "--no-recreate", "--scale", f"{service}={len(old) + 1}", service,
                          timeout=START_TIMEOUT + 120)
            if ready:
                ready(old)
        except BaseException:
            for new in set(self._container_ids(service)) - set(old):
                self.engine.docker("rm", "--force", new, check=False, timeout=120)
            raise
        for container in old:
            self.engine.drain(container, signal, STOP_TIMEOUT)

    def _container_ids(self, service: str) -> list[str]:
        return [str(entry["ID"]) for entry in self.engine.compose_ps(self.path) if entry.get("Service") == service]

    def stop(self) -> None:
        self._compose("stop", "--timeout", str(STOP_TIMEOUT), *self.site.services, timeout=300)

    def containers(self) -> list[Container]:
        return containers_of(self.engine.compose_ps(self.path))

    def run(self, *command: str, service: str = "ops", **io: Any) -> subprocess.CompletedProcess[str]:
        self.sitedir.refresh()  # a folder written by an older Hakobune may lack the service
        return self._compose("run", "--rm", "-T", "--no-deps", service, *command, **io)

    def exec(self, service: str, *command: str, timeout: float = 180, input: str | None = None) -> str:
        return self._compose("exec", "-T", service, *command, timeout=timeout, input=input).stdout

    def interact(self, service: str, command: Sequence[str], tty: bool) -> int:
        terminal = [] if tty else ["-T"]
        if service in ONE_SHOT_SERVICES:  # started for the job: `shell ops` runs a new container
            return self.engine.compose_attached(self.path, "run", "--rm", "--no-deps", *terminal, service,
                                                *command)
        return self.engine.compose_attached(self.path, "exec", *terminal, service, *command)

    def remove(self) -> None:
        """Sites made before ids existed go by their Compose project, then their name."""
        if self.site.site_id:
            self.engine.sweep(self.site.site_id, SITE_ID_LABEL)
            return
        if (self.path / COMPOSE).exists():
            self._compose("--profile", "ops", "--profile", "init", "down", "--volumes", "--remove-orphans",
                          "--timeout", "10", check=False, timeout=300)
        self.engine.sweep(self.site.name)
