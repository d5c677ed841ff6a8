"""Helpers shared by the unit and end-to-end tests."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

from hakobune.ops import archive as archives


def tar_member(tar: tarfile.TarFile, name: str, *, data: bytes = b"", link: str | None = None,
               hard: str | None = None) -> None:
    """Add NAME to TAR: a file holding DATA, or a symbolic link to LINK, or a hard link to HARD."""
    info = tarfile.TarInfo(name)
    if link is not None:
        info.type, info.linkname = tarfile.SYMTYPE, link
    elif hard is not None:
        info.type, info.linkname = tarfile.LNKTYPE, hard
    else:
        info.size = len(data)
    tar.addfile(info, io.BytesIO(data) if info.isfile() else None)


def tar_file(path: Path, members: list[tuple[str, str | None, str | None]], data: bytes = b"abc") -> Path:
    """A tar archive of (name, symbolic link target, hard link target); a name alone is a file holding DATA."""
    with tarfile.open(path, "w") as tar:
        for name, link, hard in members:
            tar_member(tar, name, data=data, link=link, hard=hard)
    return path


def crafted(original: Path, to: Path, *, sql: bytes = b"",
            files: Callable[[tarfile.TarFile], None] | None = None) -> Path:
    """A copy of ORIGINAL with SQL appended to its dump and FILES' members added to its files, every checksum
    made right again: what someone who wants it restored would hand over."""
    work = to.parent / f"{to.stem}-parts"
    work.mkdir()
    with tarfile.open(original) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        settings = tar.extractfile("site.yaml").read().decode()
        dump = tar.extractfile("database.sql.gz").read()
        old_files = tar.extractfile("files.tar.gz").read()
    (work / "database.sql.gz").write_bytes(gzip.compress(gzip.decompress(dump) + sql))
    with tarfile.open(fileobj=io.BytesIO(old_files), mode="r:gz") as old, \
            tarfile.open(work / "files.tar.gz", "w:gz") as new:
        for info in old:
            new.addfile(info, old.extractfile(info) if info.isfile() else None)
        if files:
            files(new)
    about = {k: v for k, v in manifest.items() if k not in ("kind", "format", "parts")}
    archives.write(to, settings, work / "database.sql.gz", work / "files.tar.gz", about)
    return to
