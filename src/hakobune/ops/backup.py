"""`hakobune backup`: one archive per run, written by the ops container while the site runs, then copied to
the client (or kept on the engine with --on-host); `backup list` and retention."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from hakobune.engine import EngineError
from hakobune.errors import HakobuneError, InvalidInput
from hakobune.layout import BACKUP_DIR
from hakobune.ops import archive
from hakobune.ops.contract import KIND_DB_UNREACHABLE, TaskFailed
from hakobune.ops.sitedir import SiteDir
from hakobune.ops.stack import Report, Stack
from hakobune.render.requests import backup_request
from hakobune.schedule import check_expression
from hakobune.site import BACKUP_WORDS, Site, validate_keep

# Where archives go unless --to says otherwise: a `backups` folder beside the site folders, so removing a
# site never removes its backups.
BACKUP_DIR_ENV = "HAKOBUNE_BACKUP_DIR"


@dataclass(frozen=True)
class Backup:
    where: str  # a path on the client, or NAME in the site's backups volume
    bytes: int
    wordpress: str | None
    warnings: list[str]
    pruned: list[str]


def default_folder(sitedir: SiteDir | None) -> Path:
    if os.environ.get(BACKUP_DIR_ENV):
        return Path(os.environ[BACKUP_DIR_ENV])
    return (sitedir.path.parent if sitedir else Path.cwd()) / "backups"


def backup(stack: Stack, to: Path | None, keep: int | None, on_host: bool, report: Report) -> Backup:
    if keep is not None:
        validate_keep(keep)
    if on_host and to is not None:
        raise InvalidInput("--to and --on-host cannot be used together",
                           "--on-host keeps the archive in the site's backups volume on the engine")
    site = stack.site
    folder = to or default_folder(stack.sitedir)
    if not on_host:
        if folder.exists() and not folder.is_dir():
            raise InvalidInput(f"--to '{folder}' is not a folder")
        _check_writable(folder)
    name = archive.archive_name(site.name, datetime.now(UTC))
    report("Dumping the database and archiving the files (the site keeps running)")
    try:
        made = stack.task("backup", backup_request(site, name))
    except TaskFailed as exc:
        if exc.kind == KIND_DB_UNREACHABLE and not site.external_db:
            raise TaskFailed(exc.message, "the site's database is not running: 'hakobune start' first",
                             exc.kind) from None
        raise
    file = f"{name}{archive.SUFFIX}"
    if on_host:
        pruned = _prune_on_host(stack, keep) if keep else []
        return Backup(file, int(made["bytes"]), made.get("wordpress"), list(made.get("warnings", [])), pruned)
    try:
        target = folder / file
        report(f"Copying the archive to {target}")
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{file}.part"
        try:
            # The archive holds the site's salts (in wp-config.php) and its users: private, like secrets.env.
            with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
                stack.run("cat", f"{BACKUP_DIR}/{file}", stdout=out, timeout=6 * 3600)
            archive.verify(partial)  # what arrived is what was written
            partial.rename(target)
        except (EngineError, InvalidInput) as exc:
            partial.unlink(missing_ok=True)
            raise HakobuneError(f"copying the archive to the client failed: {exc.message}") from None
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    finally:
        stack.task("backups", {"action": "remove", "names": [file]})
    pruned = [str(p) for p in archive.prune(folder, site.name, keep)] if keep else []
    return Backup(str(target), target.stat().st_size, made.get("wordpress"), list(made.get("warnings", [])),
                  pruned)


def _check_writable(folder: Path) -> None:
    probe = folder
    while not probe.exists():
        probe = probe.parent
    if not os.access(probe, os.W_OK):
        raise InvalidInput(f"cannot write archives to '{folder}': permission denied")


def on_host(stack: Stack) -> list[dict[str, object]]:
    """The archives in the site's backups volume, oldest first."""
    found = stack.task("backups", {"action": "list"})["archives"]
    return sorted(found, key=lambda a: (str(a.get("created") or ""), str(a["name"])))


def _prune_on_host(stack: Stack, keep: int) -> list[str]:
    return list(stack.task("backups", {"action": "prune", "site": stack.site.name, "keep": keep})["removed"])


def schedule(stack: Stack, when: str, keep: int | None, report: Report) -> Site:
    """Start, change or stop the site's own `backup` service; its archives stay in the backups volume. A change
    that does not come up is undone."""
    if when not in BACKUP_WORDS:
        try:
            when = check_expression(when, "backup schedule")
        except InvalidInput as exc:
            raise InvalidInput(f"'{when}' is not a schedule{exc.message.partition('expression')[2]}",
                               "hourly, daily, off, or a cron expression such as '30 2 * * *' "
                               "(minute hour day month weekday, in UTC)") from None
    site = stack.site
    new = replace(site, backup_schedule=when, backup_keep=validate_keep(keep) if keep else site.backup_keep)
    report("Starting the backup service" if when != "off" else "Stopping the backup service")
    # The stack is brought to its compose file: a service that left it (backup, when turned off) is removed.
    with stack.changing(orphans=True):
        stack.save(new)
        stack.up(orphans=True)
    return new
