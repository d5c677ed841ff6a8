"""WordPress core, plugins and themes brought up to date, offline: core from the images' WordPress (`wp-core
update`), plugins and themes from a zip file or a folder on the client, or by slug from wordpress.org where the
engine reaches it (`wp-plugin|wp-theme install|update`). Each is put in place by WordPress's own code in the
site's `wp` container (images/ops/helpers/tasks/core-update.php, package.php)."""

from __future__ import annotations

import re
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from hakobune.errors import HakobuneError, InvalidInput
from hakobune.ops import backup as backups
from hakobune.ops.cache import refresh
from hakobune.ops.stack import Report, Stack

_VERSION = re.compile(r"^[0-9]+\.[0-9]+(\.[0-9]+)?([-+][0-9A-Za-z.-]{1,20})?$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")  # wordpress.org's plugin and theme slugs
_FOLDER = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


def check_version(version: str) -> None:
    if not _VERSION.match(version):
        raise InvalidInput(f"--to '{version}' is not a WordPress version", "e.g. 6.8.3")


def core_update(stack: Stack, to: str | None, backup: bool, report: Report) -> dict[str, Any]:
    """The site's core becomes the images' WordPress, and its database follows; a verified backup first."""
    if to is not None:
        check_version(to)
    stack.require_running()
    request: dict[str, object] = {"url": stack.site.url, "to": to or ""}
    within = "updating WordPress core"
    planned = stack.task("core-update", {**request, "check": True}, within=within)
    # Files change only when the version does; the database upgrade alone needs no backup first.
    made = backups.backup(stack, None, None, False, report).where if backup and planned["from"] != planned["to"] else ""
    report(f"Updating WordPress core: {planned['from']} -> {planned['to']}")
    try:
        result = stack.task("core-update", request, timeout=1800, within=within)
    except HakobuneError as exc:
        raise HakobuneError(exc.message, exc.hint or (f"the backup made first: {made}" if made else None)) from None
    stack.task("core-keep")
    refresh(stack)
    return {**result, "backup": made}


@dataclass(frozen=True)
class Source:
    """What `install` and `update` were given: a zip file or a folder on the client (its folder: the plugin's
    or theme's folder name), or a wordpress.org slug."""

    path: Path | None
    slug: str = ""
    folder: str = ""


def source(kind: str, given: str) -> Source:
    """GIVEN, checked whole before anything else happens."""
    path = Path(given)
    if given and (path.is_dir() or path.is_file()):
        return Source(path, folder=_zip_file_folder(kind, path) if path.is_file() else _folder(kind, path))
    if _SLUG.match(given):
        return Source(None, given, given)
    raise InvalidInput(f"'{given}' is neither a zip file, a folder, nor a {kind}'s slug on wordpress.org",
                       f"e.g. ./my-{kind}.zip, ./my-{kind}/ or my-{kind}")


def _zip_file_folder(kind: str, path: Path) -> str:
    """The one folder at the top of the zip file PATH, its entries checked: relative paths within it, no links,
    no damage."""
    try:
        with zipfile.ZipFile(path) as archive:
            tops = set()
            for info in archive.infolist():
                parts = info.filename.replace("\\", "/").split("/")
                if info.filename.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
                    raise InvalidInput(f"{path} has an entry outside its folder: {info.filename}")
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise InvalidInput(f"{path} holds a symbolic link ({info.filename}): a {kind} has none")
                tops.add(parts[0] if len(parts) > 1 else "")  # a file beside the folder
            if archive.testzip() is not None:
                raise InvalidInput(f"{path} is a damaged zip archive")
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput(f"{path} is not a zip archive: {exc}") from None
    if len(tops) != 1 or not _FOLDER.match(next(iter(tops))):
        raise InvalidInput(f"{path} must hold one folder, the {kind}'s, and nothing beside it",
                           f"found: {', '.join(sorted(top or '(files)' for top in tops)[:5]) or 'nothing'}")
    return next(iter(tops))


def _folder(kind: str, path: Path) -> str:
    """The folder PATH's name, which the kind's folder in the site gets; nothing in it is a link."""
    folder = path.resolve().name
    if not _FOLDER.match(folder):
        raise InvalidInput(f"'{folder}' is not a {kind}'s folder name", "letters, digits, '.', '_' and '-'")
    for item in path.rglob("*"):
        if item.is_symlink():
            raise InvalidInput(f"{item} is a symbolic link: a {kind} has none")
    return folder


def _pack(path: Path, folder: str, out: IO[bytes]) -> None:
    """The zip that PATH (a zip file, or the kind's folder, named FOLDER in the zip) makes, into OUT."""
    if path.is_file():
        out.write(path.read_bytes())
        return
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in sorted(path.rglob("*")):
            archive.write(item, f"{folder}/{item.relative_to(path).as_posix()}")


VERBING = {"install": "installing", "update": "updating"}


def package(stack: Stack, kind: str, action: str, given: Source, activate: bool) -> dict[str, Any]:
    """Install or update the plugin or theme GIVEN with WordPress's own upgrader; the page cache is emptied."""
    request: dict[str, object] = {"url": stack.site.url, "kind": kind, "action": action, "slug": given.slug,
                                  "activate": activate}
    with tempfile.TemporaryFile() as stream:
        if given.path is not None:
            _pack(given.path, given.folder, stream)
            stream.seek(0)
        stack.require_running()
        result = stack.task("package", request, stream=stream, timeout=1800, within=f"{VERBING[action]} the {kind}")
    refresh(stack)
    return result
