"""Backup archives on the client: their names, their manifest, and the check of every part before anything is
touched. The archive itself is written in the ops container (images/ops/helpers/lib/archive.php says what it
holds); this side only reads it."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import yaml

from hakobune import site_format
from hakobune.errors import InvalidInput
from hakobune.layout import (
    ARCHIVE_CHECKSUM,
    ARCHIVE_DATABASE,
    ARCHIVE_FILES,
    ARCHIVE_FORMAT,
    ARCHIVE_MANIFEST,
    ARCHIVE_PARTS,
    ARCHIVE_SETTINGS,
)
from hakobune.ops.tree_check import TreeCheck

FORMAT = ARCHIVE_FORMAT
PARTS = ARCHIVE_PARTS
MEMBERS = (ARCHIVE_MANIFEST, ARCHIVE_CHECKSUM, *PARTS)
SUFFIX = ".tar"
_CHUNK = 1 << 20


def archive_name(site: str, when: datetime) -> str:
    """SITE_YYYYMMDDTHHMMSSZ: sorts by time, and says whose it is."""
    return f"{site}_{when.astimezone(UTC):%Y%m%dT%H%M%SZ}"


@dataclass(frozen=True)
class Manifest:
    data: dict[str, Any]
    settings: dict[str, Any]  # the site's settings (hakobune.yaml's `site`), from site.yaml

    @property
    def site(self) -> str:
        return str(self.data.get("site", {}).get("name", "?"))

    @property
    def url(self) -> str:
        return str(self.data.get("site", {}).get("url", ""))

    @property
    def profile(self) -> str:
        return str(self.data.get("site", {}).get("profile", "wp"))

    @property
    def created(self) -> str:
        return str(self.data.get("created", ""))

    @property
    def wordpress(self) -> str | None:
        return self.data.get("wordpress")


@dataclass(frozen=True)
class Entry:
    """An archive in a folder, as `backup list` shows it."""

    path: Path
    site: str
    created: str
    bytes: int
    wordpress: str | None

    def to_dict(self) -> dict[str, object]:
        return {"archive": str(self.path), "site": self.site, "created": self.created, "bytes": self.bytes,
                "wordpress": self.wordpress}


def _damaged(path: Path, why: str) -> InvalidInput:
    return InvalidInput(f"archive {path} is damaged: {why}", "nothing was changed; use another archive")


def _digest(stream: IO[bytes]) -> tuple[int, str]:
    sha, size = hashlib.sha256(), 0
    while chunk := stream.read(_CHUNK):
        sha.update(chunk)
        size += len(chunk)
    return size, sha.hexdigest()


class _Hashing(io.RawIOBase):
    """A stream that hashes what is read through it."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream, self.sha, self.size = stream, hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.stream.read(len(buffer))
        buffer[:len(data)] = data
        self.sha.update(data)
        self.size += len(data)
        return len(data)


def _digest_files(path: Path, stream: IO[bytes]) -> tuple[int, str]:
    """files.tar.gz's size and SHA-256, and on the way its members checked as a tree from elsewhere: a link out
    of the site, or a member reached through a link, refuses the archive (tree_check.py)."""
    hashing = _Hashing(stream)
    check = TreeCheck(f"archive {path}", inside="the site")
    try:
        with tarfile.open(fileobj=io.BufferedReader(hashing, _CHUNK), mode="r|gz") as files:
            for info in files:
                if check.add(info) == "wp-config.php" and not info.isfile():
                    raise InvalidInput(f"archive {path} holds a wp-config.php that is a link, not a file")
        check.finish()
    except InvalidInput as exc:
        raise InvalidInput(exc.message, "nothing was changed; use another archive") from None
    except (tarfile.TarError, EOFError, OSError, zlib.error):
        pass  # its checksum will not match: reported as damage
    while hashing.read(_CHUNK):
        pass
    return hashing.size, hashing.sha.hexdigest()


def verify(path: Path) -> Manifest:
    """Read the whole archive once: every part must be there, once, with the size and SHA-256 its manifest
    gives, and the manifest must match its own checksum. Refuses anything else, before anything is touched."""
    if not path.exists():
        raise InvalidInput(f"archive '{path}' does not exist")
    if not path.is_file():
        raise InvalidInput(f"archive '{path}' is not a file")
    found: dict[str, tuple[int, str]] = {}
    seen = 0
    manifest_bytes = checksum = b""
    try:
        with tarfile.open(path, "r:") as archive:
            for info in archive:
                seen += 1
                if info.name not in MEMBERS or not info.isfile() or info.name in found:
                    raise _damaged(path, f"unexpected member '{info.name}'")
                stream = archive.extractfile(info)
                assert stream is not None  # noqa: S101 - a regular file always has data
                if info.name in (ARCHIVE_MANIFEST, ARCHIVE_CHECKSUM):
                    data = stream.read()
                    manifest_bytes, checksum = (data, checksum) if info.name == ARCHIVE_MANIFEST \
                        else (manifest_bytes, data)
                    found[info.name] = (len(data), hashlib.sha256(data).hexdigest())
                elif info.name == ARCHIVE_FILES:
                    found[info.name] = _digest_files(path, stream)
                else:
                    found[info.name] = _digest(stream)
    except tarfile.ReadError as exc:
        if not seen:
            raise InvalidInput(f"'{path}' is not a Hakobune backup archive ({exc})") from None
        raise _damaged(path, f"it ends early or is not a tar archive ({exc})") from None
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise _damaged(path, f"it ends early ({exc})") from None
    missing = [name for name in MEMBERS if name not in found]
    if ARCHIVE_MANIFEST in missing:
        raise InvalidInput(f"'{path}' is not a Hakobune backup archive (it has no manifest.json)")
    if missing:
        raise _damaged(path, f"it lacks {', '.join(missing)}")
    if checksum.decode(errors="replace").split(" ")[0] != found[ARCHIVE_MANIFEST][1]:
        raise _damaged(path, "its manifest does not match its checksum")
    manifest = _manifest_data(path, manifest_bytes)
    for part in PARTS:
        want = manifest.get("parts", {}).get(part, {})
        if found[part] != (want.get("bytes"), want.get("sha256")):
            raise _damaged(path, f"{part} does not match its checksum")
    return Manifest(manifest, _settings(path))


def _manifest_data(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        raise _damaged(path, "its manifest is not JSON") from None
    if not isinstance(data, dict) or data.get("kind") != "hakobune-backup":
        raise InvalidInput(f"'{path}' is not a Hakobune backup archive")
    version = data.get("format")
    if not isinstance(version, int) or version > FORMAT:
        raise InvalidInput(f"archive {path} has format {version}, newer than this Hakobune reads ({FORMAT})",
                           "upgrade Hakobune to restore it")
    return data


def _settings(path: Path) -> dict[str, Any]:
    with tarfile.open(path, "r:") as archive:
        stream = archive.extractfile(ARCHIVE_SETTINGS)
        assert stream is not None  # noqa: S101 - verified above
        try:
            document = yaml.safe_load(stream.read())
        except yaml.YAMLError:
            raise _damaged(path, "its site.yaml holds no site settings") from None
    if not isinstance(document, dict) or not isinstance(document.get("site"), dict):
        raise _damaged(path, "its site.yaml holds no site settings")
    return site_format.current(document, f"the site.yaml of archive {path}")


def peek(path: Path) -> Manifest | None:
    """The manifest of an archive, read from its first member only (for listings); None if it has none."""
    try:
        with tarfile.open(path, "r:") as archive:
            first = archive.next()
            if first is None or first.name != ARCHIVE_MANIFEST:
                return None
            stream = archive.extractfile(first)
            data = json.loads(stream.read()) if stream else None
    except (tarfile.TarError, OSError, ValueError, EOFError):
        return None
    return Manifest(data, {}) if isinstance(data, dict) and data.get("kind") == "hakobune-backup" else None


def listing(folder: Path, site: str | None = None) -> list[Entry]:
    """The archives in FOLDER (of SITE only, if given), oldest first."""
    entries = []
    for path in sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []:
        manifest = peek(path)
        if manifest is None or (site and manifest.site != site):
            continue
        entries.append(Entry(path, manifest.site, manifest.created, path.stat().st_size, manifest.wordpress))
    return sorted(entries, key=lambda e: (e.created, e.path.name))


def prune(folder: Path, site: str, keep: int) -> list[Path]:
    """Delete all but the KEEP newest archives of SITE in FOLDER; returns what went."""
    old = listing(folder, site)[:-keep] if keep > 0 else []
    for entry in old:
        entry.path.unlink()
    return [entry.path for entry in old]


def write(path: Path, settings: str, dump_gz: Path, files_gz: Path, about: dict[str, Any]) -> None:
    """An archive made on the client (an import), in the format the ops container writes; ABOUT goes into the
    manifest (site, wordpress, table_prefix, ...)."""
    parts: dict[str, bytes | Path] = {ARCHIVE_SETTINGS: settings.encode(), ARCHIVE_DATABASE: dump_gz,
                                      ARCHIVE_FILES: files_gz}
    digests: dict[str, dict[str, object]] = {}
    for name, part in parts.items():
        if isinstance(part, bytes):
            digests[name] = {"bytes": len(part), "sha256": hashlib.sha256(part).hexdigest()}
        else:
            with part.open("rb") as stream:
                size, sha = _digest(stream)
            digests[name] = {"bytes": size, "sha256": sha}
    manifest = json.dumps({"kind": "hakobune-backup", "format": FORMAT, **about, "parts": digests},
                          indent=4).encode() + b"\n"
    checksum = f"{hashlib.sha256(manifest).hexdigest()}  {ARCHIVE_MANIFEST}\n".encode()
    with tarfile.open(path, "w") as out:
        for name, part in {ARCHIVE_MANIFEST: manifest, ARCHIVE_CHECKSUM: checksum, **parts}.items():
            if isinstance(part, bytes):
                info = tarfile.TarInfo(name)
                info.size = len(part)
                out.addfile(info, io.BytesIO(part))
            else:
                out.add(str(part), arcname=name)
