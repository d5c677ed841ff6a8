"""`hakobune deploy-files`: copy an application (a folder or a tar archive on the client) into the site's
docroot. The files travel as a tar stream on the ops container's standard input, so a remote engine works the
same and nothing is bind-mounted from the client."""

from __future__ import annotations

import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from hakobune.errors import InvalidInput
from hakobune.ops.cache import refresh
from hakobune.ops.stack import Stack
from hakobune.ops.tree_check import TreeCheck


@dataclass(frozen=True)
class Deployed:
    files: int
    bytes: int


def pack(source: Path, out: tarfile.TarFile, prefix: str = "", skip: tuple[str, ...] = ()) -> Deployed:
    """Write SOURCE (a folder, or a tar archive, compressed or not) into OUT: regular files, folders and
    symbolic links that stay inside the docroot; nothing else. Names get PREFIX; those in SKIP are left out."""
    files = size = 0
    check = TreeCheck(str(source))

    def add(info: tarfile.TarInfo, data: IO[bytes] | None) -> None:
        nonlocal files, size
        name = check.add(info)
        if name == "" or name in skip:
            return
        info.name = prefix + name
        if info.islnk():
            info.linkname = prefix + check.name(info.linkname)
        out.addfile(info, data if info.isfile() else None)
        if info.isfile():
            files, size = files + 1, size + info.size

    if source.is_dir():
        for path in sorted(source.rglob("*")):
            info = out.gettarinfo(str(path), arcname=path.relative_to(source).as_posix())
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if info.isfile():
                with path.open("rb") as data:
                    add(info, data)
            else:
                add(info, None)
        check.finish()
        return Deployed(files, size)
    try:
        if not tarfile.is_tarfile(source):
            raise InvalidInput(f"{source} is neither a folder nor a tar archive")
        with tarfile.open(source, "r:*") as archive:
            for info in archive:
                add(info, archive.extractfile(info) if info.isfile() else None)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise InvalidInput(f"{source} is a damaged archive: {exc}") from None
    check.finish()
    return Deployed(files, size)


def deploy(stack: Stack, source: Path) -> Deployed:
    if not source.exists():
        raise InvalidInput(f"'{source}' does not exist", "give a folder or a tar archive of the application")
    with tempfile.TemporaryFile() as stream:
        with tarfile.open(fileobj=stream, mode="w") as out:
            deployed = pack(source, out)
        if deployed.files == 0:
            raise InvalidInput(f"{source} holds no files: nothing to deploy")
        stream.seek(0)
        stack.task("deploy", stream=stream, timeout=1800, within="copying the files into the docroot")
    refresh(stack)
    return deployed
