"""Helpers shared by the unit and end-to-end tests."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path


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
