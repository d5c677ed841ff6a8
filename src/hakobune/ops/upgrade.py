"""`hakobune upgrade`: a site moved to the newest builds of this Hakobune's images and its folder to the current
format, after a verified backup, with a check of its pages after the switch and its previous builds back when
anything fails.

The site records each image by its numbered build (hakobune/NAME:VERSION-N) from then on, so that no later
recreate (restart, config set) moves a service to another build behind the user's back. Services are replaced
one at a time in the order the stack needs them (the database first, the web server last); each new container
must become healthy before the next service moves."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from hakobune.engine import Engine
from hakobune.errors import HakobuneError
from hakobune.ops import backup as backups
from hakobune.ops.edge import Edge
from hakobune.ops.lifecycle import WORKING_DIR_LABEL
from hakobune.ops.outdated import Builds
from hakobune.ops.rollback import Rollback, UndoIncomplete, failpoint
from hakobune.ops.stack import Report, Stack
from hakobune.site import COMPOSE_SERVICE_LABEL, SITE_LABEL, Site
from hakobune.site_format import FORMAT
from hakobune.versions import image_versions

# The order services move in: the database and the object cache first; the web server before PHP, so that a web
# server that falls back to PHP's spare socket is in place when PHP moves. One-shot services (ops, wp) have no
# container to move.
ORDER = ("db", "valkey", "web", "php", "cron", "metrics", "backup", "acme")
ADDED_IMAGES = ("metrics",)  # Hakobune 0.7 on; a site made before gets it with its first upgrade
# The signal of each server's graceful stop, sent to an old container replaced by one beside it (images of any
# age: older builds declare no STOPSIGNAL).
GRACEFUL = {"nginx": "SIGQUIT", "httpd": "SIGWINCH", "php": "SIGQUIT"}
EDGE_WAIT = 60  # seconds the edge gets to find a new web container and send it requests
# mariadb-upgrade runs in the db container, over its socket, as the account the data directory was made with
# (mariadb-install-db --user=mysql: unix-socket authentication for the container's own user).
MARIADB_UPGRADE = ("mariadb-upgrade", "--user=mysql", "--socket=/run/mysqld/mysqld.sock")


@dataclass(frozen=True)
class Move:
    """One service's container replaced by one of a newer build."""

    service: str
    running: str  # the build it runs: a numbered tag, or the image and the start of its ID
    target: str  # the numbered build it moves to
    beside: bool = False  # a new container beside the old one, which then drains; else stopped, then started


@dataclass(frozen=True)
class Plan:
    site: str
    folder: str
    format: tuple[int, int]  # the folder's format before and after
    images: dict[str, str]  # the site's images afterwards: name -> numbered build
    acme_image: str
    moves: list[Move]
    previous: dict[str, str]  # the images the site's containers run now, by a name that keeps naming them
    previous_acme: str
    backup: bool
    pins: dict[str, str] = field(default_factory=dict)  # tags made for the way back (tag -> image ID)
    one_shot: dict[str, str] = field(default_factory=dict)  # images of no running container (ops) -> their build
    added: dict[str, str] = field(default_factory=dict)  # images the site had none of (metrics) -> their build

    @property
    def database(self) -> bool:
        """The database server changes: mariadb-upgrade runs after it restarts."""
        return any(move.service == "db" for move in self.moves)

    @property
    def nothing(self) -> bool:
        return not self.moves and not self.one_shot and not self.added and self.format[0] == self.format[1]

    def lines(self) -> list[str]:
        """What the upgrade does, in the order it does it."""
        if self.nothing:
            return [f"{self.site}: current (every service runs the newest build; folder format {FORMAT})"]
        lines = [f"{self.site} ({self.folder}):"]
        if self.backup:
            lines.append("  a backup first, read back in full before anything changes")
        if self.format[0] != self.format[1]:
            lines.append(f"  the site folder from format {self.format[0]} to {self.format[1]}")
        for move in self.moves:
            how = ("beside the running one, which then drains: no request fails" if move.beside else
                   "restarted, then mariadb-upgrade: the database is down meanwhile" if move.service == "db" else
                   "restarted: down meanwhile")
            lines.append(f"  {move.service}: {move.running} -> {move.target} ({how})")
        for name, target in self.one_shot.items():
            lines.append(f"  {name}: {self.previous[name]} -> {target} (no container runs it: the next task uses it)")
        for name, target in self.added.items():
            lines.append(f"  {name}: {target} (new: its service starts with the new builds)")
        lines.append("  then a check of the front page, the login page, a post and the page cache; when anything "
                     "fails, the previous builds and files come back")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {"site": self.site, "folder": self.folder, "format": list(self.format), "backup": self.backup,
                "moves": [asdict(move) for move in self.moves], "one_shot": self.one_shot, "added": self.added,
                "current": self.nothing}


@dataclass(frozen=True)
class Upgraded:
    plan: Plan
    backup: str = ""  # the archive made first
    database_seconds: float | None = None  # how long the database did not answer (None: it did not move)
    seconds: dict[str, float] = field(default_factory=dict)  # each service: old container stopped to new healthy
    checked: list[str] = field(default_factory=list)  # what the check after the switch saw working

    def to_dict(self) -> dict[str, Any]:
        return {**self.plan.to_dict(), "backup_archive": self.backup, "database_seconds": self.database_seconds,
                "seconds": self.seconds, "checked": self.checked}


def plan(stack: Stack, backup: bool = True) -> Plan:
    """What an upgrade of STACK's site would do. Refuses a site that is not running, and images not built."""
    stack.require_running()
    site, engine = stack.site, stack.engine
    builds = Builds(engine)
    running = {(c["Config"].get("Labels") or {}).get(COMPOSE_SERVICE_LABEL): c
               for c in engine.site_containers(site.name) if c["State"].get("Running")}
    names = {**site.images, **({"edge": site.acme_image} if site.acme_image else {})}
    # Images the newest Hakobune runs that the site has none of yet: their services start with the upgrade.
    added = [name for name in ADDED_IMAGES if name not in site.images]
    newest = {name: _newest(builds, name) for name in (*names, *added)}
    previous = dict(names)
    pins: dict[str, str] = {}
    moves = []
    for service in ORDER:
        container = running.get(service)
        if container is None:
            continue
        name = _image(site, service)
        running_id = str(container["Image"])
        previous[name] = _name_for(builds, name, names[name], running_id)
        if previous[name] not in (names[name], builds.build_of(name, running_id)):
            pins[previous[name]] = running_id
        if running_id != newest[name][1]:
            moves.append(Move(service, builds.build_of(name, running_id) or
                              f"{names[name]} ({running_id.removeprefix('sha256:')[:12]})", newest[name][0],
                              _beside(site, service)))
    # A service whose container runs the newest build already keeps the name it has: a new name alone would
    # restart it (Compose sees another image name), for nothing.
    moving = {_image(site, move.service) for move in moves}
    staying = {_image(site, service) for service in running if service in ORDER} - moving
    after = {name: names[name] if name in staying else newest[name][0] for name in names}
    used = moving | staying | ({"edge"} if site.acme_image else set())
    one_shot = {name: after[name] for name in site.images
                if name not in used and builds.image_id(name, names[name].partition(":")[2]) != newest[name][1]}
    return Plan(site.name, str(stack.path), (stack.sitedir.format(), FORMAT),
                {**{name: after[name] for name in site.images}, **{name: newest[name][0] for name in added}},
                after["edge"] if site.acme_image else "", moves,
                {name: previous[name] for name in site.images}, previous.get("edge", "") if site.acme_image else "",
                backup, pins, one_shot, {name: newest[name][0] for name in added})


def _image(site: Site, service: str) -> str:
    return "edge" if service == "acme" else site.image_name(service)


def _newest(builds: Builds, name: str) -> tuple[str, str]:
    """The newest build of image NAME on the engine: (its numbered tag, or the version's tag; its image ID)."""
    version = image_versions()[name]
    image_id = builds.image_id(name, version.version)
    if image_id is None:
        raise HakobuneError(f"image not built: {version.ref}", "run 'hakobune images build'")
    return builds.pinned(version.ref), image_id


def _name_for(builds: Builds, name: str, recorded: str, image_id: str) -> str:
    """A name that keeps naming IMAGE_ID, the build a container runs, for the way back: the site's own when it
    still does (a tag moves to each new build), else its numbered build, else a tag to make for it."""
    if builds.image_id(name, recorded.partition(":")[2]) == image_id:
        return recorded
    return builds.build_of(name, image_id) or f"{recorded}-was-{image_id.removeprefix('sha256:')[:12]}"


def upgrade(stack: Stack, *, backup: bool, to: Path | None, report: Report) -> Upgraded:
    """Move STACK's site as `plan` says, checked afterwards; on any failure, or Ctrl-C, its previous builds and
    files come back and the failure is raised."""
    planned = plan(stack, backup)
    if planned.nothing:
        return Upgraded(planned)
    site = stack.site
    title = _title(stack) if site.wordpress else ""
    made = backups.backup(stack, to, None, False, report).where if backup else ""
    for tag, image_id in planned.pins.items():
        stack.engine.tag(image_id, tag)
    if site.wordpress:
        _keep_core_checksums(stack, report)
    before = stack.sitedir.snapshot()
    rollback = Rollback()
    rollback.on_failure("bring the previous builds back", lambda: _back(stack, before, planned))
    seconds: dict[str, float] = {}
    try:
        # The newest images run cron schedules: a site from before gets its cron service with them.
        stack.save(replace(site, images=planned.images, acme_image=planned.acme_image, scheduler=True,
                          metrics=True))
        for move in planned.moves:
            started = time.monotonic()
            if move.beside:
                report(f"Starting {move.service} beside the running one: {move.target}")
                stack.beside(move.service, GRACEFUL[stack.site.image_name(move.service)],
                             ready=_edge_sees(stack) if move.service == "web" else None)
            else:
                report(f"Replacing {move.service}: {move.target}")
                stack.up([move.service])
            seconds[move.service] = round(time.monotonic() - started, 1)
            if move.service == "db":
                report("Upgrading the database's system tables (mariadb-upgrade)")
                stack.exec("db", *MARIADB_UPGRADE, timeout=1800)
            failpoint(f"upgrade-{move.service}")
        stack.up()  # what else the current format renders differently
        failpoint("upgrade-switched")
        report("Checking the site's pages")
        checked = smoke(stack, title)
    except BaseException as exc:
        problems = rollback.run()
        if problems:
            raise UndoIncomplete(f"the upgrade of {site.name} failed ({_reason(exc)}) and could not be undone "
                                 f"fully: " + "; ".join(problems)) from None
        if isinstance(exc, Exception):
            raise HakobuneError(f"the upgrade of {site.name} failed and was rolled back: {_reason(exc)}",
                                f"the backup made first: {made}" if made else None) from None
        raise
    return Upgraded(planned, made, seconds.get("db"), seconds, checked)


def _keep_core_checksums(stack: Stack, report: Report) -> None:
    """The checksums of the site's WordPress, kept while its ops image still carries them (wp-core verify). Not
    a reason to stop: an ops image older than the task has none to keep."""
    try:
        stack.task("core-keep")
    except HakobuneError as exc:
        report(f"The checksums of the site's WordPress could not be kept ({exc.message}): 'wp-core verify' "
               "checks it against the new images' version only")


def _beside(site: Site, service: str) -> bool:
    """SERVICE can move without a moment when none answers: a new container beside the old one, then the old one
    drained. The web server behind the edge (which sends requests to both, and again to the other when one
    refuses), and PHP-FPM on its socket (nginx falls back to the spare the new one takes). A web server with
    ports of its own cannot share them; PHP-FPM on a port is looked up by name once, when the web server starts:
    those are replaced (stopped, then started)."""
    return bool((service == "web" and site.edge) or (service == "php" and site.fpm_socket))


def _edge_sees(stack: Stack) -> Callable[[list[str]], None]:
    """Waits until the edge sends requests to both web containers of the site, then turns it away from the
    old ones (their requests under way are answered), so that none is sent to a container that is stopping."""
    def ready(old: list[str]) -> None:
        edge = Edge(stack.engine)
        deadline = time.monotonic() + EDGE_WAIT
        while edge.servers_up(stack.site.name) < len(old) + 1:
            if time.monotonic() > deadline:
                raise HakobuneError(f"the edge did not start sending requests to the new web container within "
                                    f"{EDGE_WAIT} s")
            time.sleep(0.5)
        for container in old:
            address = stack.engine.address(container, stack.site.edge_network)
            if address:
                edge.retire(stack.site.name, address)
    return ready


def _reason(exc: BaseException) -> str:
    message = exc.message if isinstance(exc, HakobuneError) else str(exc) or type(exc).__name__
    return message.splitlines()[0] if message else type(exc).__name__


def _title(stack: Stack) -> str:
    """The site's title before the switch, for the check after it (asked with the images it runs now)."""
    return str(stack.task("option", {"url": stack.site.url, "action": "get", "name": "blogname"}).get("value")
               or "")


def smoke(stack: Stack, title: str) -> list[str]:
    """The site's pages asked of its web container: the front page (with TITLE), the login page, a post and the
    page cache for WordPress; the front page answering without a server error for another site."""
    site = stack.site
    request = {"url": site.url, "wordpress": site.wordpress, "title": title if site.wordpress else "",
               **({"page_cache": bool(site.page_cache)} if site.wordpress else {})}
    return list(stack.task("smoke", request)["checked"])


def _back(stack: Stack, before: dict[str, str], planned: Plan) -> None:
    """The site's previous files, with its images named so that they name the builds it ran (a tag may have
    moved to a newer one since), and its services brought back to them."""
    stack.sitedir.put_back(before)
    site = stack.sitedir.load()
    pinned = replace(site, images=planned.previous, acme_image=planned.previous_acme)
    if pinned != site:
        stack.save(pinned)
    stack.site = pinned
    stack.up(orphans=True)  # a service the new format brought (cron) goes with it


def every_site(engine: Engine) -> list[tuple[str, str]]:
    """(name, folder) of every site on the engine, by name, from its containers' labels."""
    engine.ping()
    found: dict[str, str] = {}
    for container in engine.site_containers():
        labels = container["Config"].get("Labels") or {}
        if labels.get(SITE_LABEL) and labels.get(WORKING_DIR_LABEL):
            found.setdefault(labels[SITE_LABEL], labels[WORKING_DIR_LABEL])
    return sorted(found.items())


def upgrade_all(engine: Engine, open_stack: Callable[[str], Stack], *, dry_run: bool, backup: bool,
                to: Path | None, report: Report, done: Callable[[Plan | Upgraded], None]) -> None:
    """Every site on the engine, one after another, by name; the first failure stops the rest (raised, with
    the sites already upgraded named)."""
    finished: list[str] = []
    for name, folder in every_site(engine):
        try:
            stack = open_stack(folder)
            done(plan(stack, backup) if dry_run else upgrade(stack, backup=backup, to=to, report=report))
        except HakobuneError as exc:
            upgraded = f" (upgraded before it: {', '.join(finished)})" if finished else ""
            raise HakobuneError(f"{name}: {exc.message}; the sites after it were not touched{upgraded}",
                                exc.hint) from None
        finished.append(name)
