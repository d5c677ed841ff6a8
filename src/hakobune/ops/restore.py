"""`hakobune restore`: put a backup archive back, into its site or into a new one.

The archive is checked whole on the client before anything is touched, copied into the site's backups volume,
checked again there, and staged beside the running site (files in the site volume, the database beside the
site's). Only then is it swapped in, in one atomic RENAME TABLE and a few file renames; a failure at any step
puts the site's own database and files back."""

from __future__ import annotations

import secrets as secrets_module
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from hakobune.engine import Engine, EngineError
from hakobune.errors import HakobuneError, InvalidInput
from hakobune.layout import BACKUP_DIR, DEFAULT_DB_PORT
from hakobune.ops import archive
from hakobune.ops.cache import refresh
from hakobune.ops.provision import provision
from hakobune.ops.rollback import Rollback, UndoIncomplete, failpoint
from hakobune.ops.stack import Report, Stack
from hakobune.render.requests import restore_request
from hakobune.site import Site, SiteSecrets, validate_fqdn, validate_name
from hakobune.versions import images_for

# An archive copied from the client, until the restore ends (one per restore: INCOMING.format(token)).
INCOMING = BACKUP_DIR + "/.incoming-{}.tar"
# How an interrupted restore may be ended, by the step it reached (images/ops/helpers/tasks/restore.php):
# before its swap and after its undo nothing of it is in place; mid-swap or mid-undo only undo is safe; once
# swapped, either way; once finishing, only finishing.
ENDINGS = {"staging": ("finish",), "staged": ("finish",), "swapping": ("undo",), "swapped": ("undo", "finish"),
           "undoing": ("undo",), "undone": ("finish",), "finishing": ("finish",)}
ENDING_SAYS = {"undo": "puts the site back as it was before that restore",
               "finish": "keeps what is in place now and removes the rest"}


@dataclass(frozen=True)
class Restored:
    site: str
    url: str
    path: Path
    from_url: str
    created: str
    forgotten: tuple[str, ...]  # secret settings of the archive's site that the restored site does not have


def _check_profile(manifest: archive.Manifest, site: Site, where: Path) -> None:
    if manifest.profile != site.profile:
        kinds = {"wp": "WordPress", "lamp": "LAMP"}
        raise InvalidInput(f"{where} is a backup of a {kinds.get(manifest.profile, manifest.profile)} site; "
                           f"site {site.name} is a {kinds[site.profile]} site")


class Steps:
    """The ops container's restore steps for one restore of SITE, under a token of its own (the lock that
    `stage` takes is this token's: another restore's steps cannot touch it)."""

    def __init__(self, stack: Stack, token: str = "", interrupted: bool = False) -> None:
        self.stack, self.site, self.secrets = stack, stack.site, stack.secrets()
        self.token = token or secrets_module.token_hex(12)
        self.interrupted = interrupted

    def __call__(self, action: str, archive: str = "") -> dict[str, object]:
        request = {**restore_request(self.site, self.secrets, action, archive), "token": self.token,
                   "interrupted": self.interrupted}
        return self.stack.task("restore", request)

    def then(self, action: str) -> None:
        """ACTION (undo, finish), whose answer does not matter: a rollback's step."""
        self(action)


def _restore_file(stack: Stack, path: Path, report: Report) -> dict[str, object]:
    """Copy the archive at PATH (on the client) into the site's backups volume, restore it, and remove the
    copy again whatever happens."""
    steps = Steps(stack)
    incoming = INCOMING.format(steps.token)
    report(f"Copying the archive to the engine ({path.stat().st_size / 1e6:.1f} MB)")
    with path.open("rb") as stream:
        try:
            stack.run("sh", "-c", 'cat > "$0"', incoming, stdin=stream, timeout=6 * 3600)
        except EngineError as exc:
            stack.run("rm", "-f", incoming, check=False, timeout=300)
            raise HakobuneError(f"copying the archive to the engine failed: {exc.message}") from None
    try:
        return _restore_into(steps, incoming, report)
    finally:
        stack.run("rm", "-f", incoming, check=False, timeout=300)


def _restore_into(steps: Steps, where: str, report: Report) -> dict[str, object]:
    """Stage, swap and finish; on failure, undo and clean up. Returns what the stage says of the archive."""
    rollback = Rollback()
    try:
        rollback.on_failure("remove the staged copy", lambda: steps.then("finish"))
        report("Checking the archive on the engine and staging it beside the site")
        staged = steps("stage", where)
        failpoint("restore-staged")
        rollback.on_failure("put the site's own database and files back", lambda: steps.then("undo"))
        report("Putting the archive's database and files in place")
        steps("swap")
        failpoint("restore-swapped")
        _rewrite_urls(steps, str(staged.get("url") or ""), report)
        failpoint("restore-rewritten")
        steps("finish")
    except BaseException:
        report("Restore failed: putting the site back as it was")
        problems = rollback.run()
        if problems:
            raise UndoIncomplete("restore failed and the site could not be put back fully: "
                                 + "; ".join(problems)) from None
        raise
    refresh(steps.stack)
    return staged


def _rewrite_urls(steps: Steps, old_url: str, report: Report) -> None:
    site = steps.site
    if site.wordpress and old_url and old_url != site.url:
        report(f"Rewriting URLs: {old_url} -> {site.url}")
        pairs = [[old, site.url] for old in url_variants(old_url) if old != site.url]
        steps.stack.task("search-replace", {"url": site.url, "pairs": pairs})


def _refuse_if_interrupted(steps: Steps) -> None:
    """Another restore holds the site's lock (it runs, or it was cut short), or left things behind: say so,
    and how to end it; nothing of it is ever dropped unasked."""
    state = steps("state")
    lock = state.get("lock")
    where = steps.stack.path
    if isinstance(lock, dict):
        step = str(lock.get("step") or "unknown")
        raise HakobuneError(
            f"a restore of site {steps.site.name} is in progress, or was interrupted (started "
            f"{lock.get('started', '?')} from {lock.get('archive', '?')}; it reached step '{step}')",
            _endings_hint(ENDINGS.get(step, ("undo", "finish")), where))
    leftovers = state.get("leftovers")
    if isinstance(leftovers, list) and leftovers:
        raise HakobuneError(f"an earlier restore of site {steps.site.name} left {', '.join(map(str, leftovers))} "
                            "behind",
                            _endings_hint(("undo", "finish"), where))


def _endings_hint(endings: tuple[str, ...], where: Path) -> str:
    choices = "; ".join(f"'hakobune restore --interrupted {how} -C {where}' {ENDING_SAYS[how]}" for how in endings)
    return f"if no restore is running: {choices}"


def end_interrupted(stack: Stack, how: str, report: Report) -> str:
    """End a restore that was cut short, the way HOW says (undo or finish); returns the step it had reached."""
    if how not in ENDING_SAYS:
        raise InvalidInput(f"--interrupted '{how}' is not undo or finish")
    site = stack.site
    _check_running(stack)
    state = Steps(stack)("state")
    lock = state.get("lock")
    if not isinstance(lock, dict) and not state.get("leftovers"):
        raise HakobuneError(f"no restore of site {site.name} was interrupted: there is nothing to end")
    step = str(lock.get("step") or "unknown") if isinstance(lock, dict) else "unknown"
    endings = ENDINGS.get(step, ("undo", "finish"))
    if how not in endings:
        raise HakobuneError(f"the interrupted restore reached step '{step}': only "
                            f"'--interrupted {' or '.join(endings)}' can end it safely")
    steps = Steps(stack, token=str(lock.get("token") or "") if isinstance(lock, dict) else "", interrupted=True)
    if how == "undo":
        report("Putting the site back as it was before the interrupted restore")
        steps("undo")
    elif step == "swapped" and isinstance(lock, dict):
        _rewrite_urls(steps, str(lock.get("url") or ""), report)
    report("Removing what the interrupted restore left")
    steps("finish")
    refresh(stack)
    return step


def url_variants(url: str) -> list[str]:
    """The old site's URL as its content may hold it: with either scheme (a site that moved to HTTPS keeps
    http:// links in old posts)."""
    scheme, _, rest = url.partition("://")
    other = {"http": "https", "https": "http"}.get(scheme)
    return [url, f"{other}://{rest}"] if other else [url]


def restore(stack: Stack, path: Path, report: Report, on_host: bool = False) -> Restored:
    """Into an existing site, which keeps its settings and secrets."""
    kept = f"{BACKUP_DIR}/{_host_name(path)}" if on_host else None  # an archive already on the engine
    manifest = None if on_host else archive.verify(path)
    site = stack.site
    if manifest:
        _check_profile(manifest, site, path)
    _check_running(stack)
    _refuse_if_interrupted(Steps(stack))
    staged = _restore_into(Steps(stack), kept, report) if kept else _restore_file(stack, path, report)
    return Restored(site.name, site.url, stack.path, str(staged.get("url") or ""),
                    str(staged.get("created") or ""), ())


def _check_running(stack: Stack) -> None:
    """The restore works through the site's database server: it must run (nothing is touched otherwise)."""
    site = stack.site
    if site.external_db:
        return
    states = {c.service: c.state for c in stack.containers()}
    if states.get("db") != "running":
        raise HakobuneError(f"site {site.name} is not running (its database is {states.get('db', 'missing')})",
                            "start it with 'hakobune start' first; nothing was changed")


def _host_name(path: Path) -> str:
    name = path.name
    if str(path) != name or not name.endswith(archive.SUFFIX) or name.startswith("."):
        raise InvalidInput(f"--on-host takes an archive's name as 'backup list --on-host' shows it, not '{path}'")
    return name


def new_site(manifest: archive.Manifest, name: str, fqdn: str, http_port: int | None, tls_port: int | None) -> Site:
    """The archive's site under a new name and host name, on this Hakobune's images, with the stack's own
    database (an external server is the original site's, not the copy's); with the ports given, or behind the
    engine's edge when none is (the original's network to the edge, its other names and its CA account are the
    original's)."""
    settings = dict(manifest.settings)
    for key in ("name", "fqdn", "http_port", "tls_port", "images", "secret_settings", "db_host", "db_port",
                "db_tls", "object_cache", "fpm_socket", "site_id", "limits", "host_memory", "edge", "edge_subnet",
                "aliases", "acme_image", "scheduler", "metrics"):
        settings.pop(key, None)
    try:
        base = Site.from_dict({**settings, "name": validate_name(name), "fqdn": validate_fqdn(fqdn),
                               "http_port": http_port or 80, "tls_port": tls_port or 443,
                               "edge": http_port is None and tls_port is None})
    except InvalidInput as exc:
        raise InvalidInput(f"the archive's settings do not make a valid site: {exc.message}") from None
    if base.title == manifest.settings.get("fqdn"):
        base = replace(base, title=base.fqdn)
    # None: the copy gets the object cache and PHP-FPM socket a new site on these images gets.
    return replace(base, images=images_for(base.web), db_host="", db_port=DEFAULT_DB_PORT, db_tls=False,
                   object_cache=None, fpm_socket=None)


def restore_new(engine: Engine, path: Path, name: str, fqdn: str, http_port: int | None, tls_port: int | None,
                parent: Path, report: Report, then: Callable[[Stack], None] | None = None) -> Restored:
    """Into a new site TARGET: provisioned from the archive's settings with new secrets, then filled from it.
    THEN runs last, still inside the provision: a failure anywhere removes everything the new site had."""
    manifest = archive.verify(path)
    site = new_site(manifest, name, fqdn, http_port, tls_port)
    done = fill_new_site(engine, path, site, SiteSecrets(), parent, report, then)
    forgotten = tuple(manifest.settings.get("secret_settings") or ())
    return replace(done, created=manifest.created, forgotten=forgotten)


def fill_new_site(engine: Engine, path: Path, site: Site, secrets: SiteSecrets, parent: Path, report: Report,
                  then: Callable[[Stack], None] | None = None) -> Restored:
    """Provision SITE and fill it from the (verified) archive at PATH, all or nothing."""
    staged: dict[str, object] = {}

    def fill(stack: Stack) -> None:
        staged.update(_restore_file(stack, path, report))
        if then:
            then(stack)

    done = provision(engine, site, secrets, parent, report, password_generated=False, content=fill)
    return Restored(site.name, site.url, done.path, str(staged.get("url") or ""), str(staged.get("created") or ""),
                    ())
