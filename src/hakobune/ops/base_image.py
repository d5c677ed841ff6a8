"""Create the base image (debian:trixie-slim) from a Debian mirror with debootstrap, for engines that
cannot pull it: air-gapped hosts, or no registry at all."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from hakobune.engine import Engine
from hakobune.errors import HakobuneError, InvalidInput

DEFAULT_BASE = "debian:trixie-slim"
APT_SOURCES = Path("/etc/apt")
_SUITE = re.compile(r"^[a-z]+$")


def suite_of(tag: str) -> str:
    """debian:trixie-slim -> trixie."""
    name = tag.rsplit(":", 1)[-1].removesuffix("-slim")
    if not _SUITE.match(name):
        raise InvalidInput(f"cannot tell the Debian suite from '{tag}'", "give --suite")
    return name


def detect_mirror(apt_dir: Path = APT_SOURCES) -> str | None:
    """The Debian mirror this machine's apt already uses (sources.list or deb822 .sources)."""
    candidates: list[str] = []
    files = [apt_dir / "sources.list", *sorted((apt_dir / "sources.list.d").glob("*.list")),
             *sorted((apt_dir / "sources.list.d").glob("*.sources"))]
    for path in files:
        try:
            text = path.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("deb "):
                parts = [p for p in line.split() if not p.startswith("[") and not p.endswith("]")]
                if len(parts) >= 2:
                    candidates.append(parts[1])
            elif line.startswith("URIs:"):
                candidates.extend(line.split()[1:])
    for uri in candidates:
        if uri.startswith(("http://", "https://")) and uri.rstrip("/").endswith("/debian"):
            return uri.rstrip("/")
    return None


def _sources(suite: str, mirror: str) -> str:
    return (
        f"Types: deb\nURIs: {mirror}\nSuites: {suite} {suite}-updates\nComponents: main\n"
        f"Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        f"Types: deb\nURIs: {mirror}-security\nSuites: {suite}-security\nComponents: main\n"
        f"Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    )


def _slim(root: Path, dpkg_cfg: Path) -> None:
    """What Debian's slim images leave out: documentation, manuals, translations, apt caches."""
    shutil.copy(dpkg_cfg, root / "etc/dpkg/dpkg.cfg.d/hakobune-slim")
    for sub in ("usr/share/man", "usr/share/info", "usr/share/groff", "usr/share/lintian"):
        shutil.rmtree(root / sub, ignore_errors=True)
    for doc in (root / "usr/share/doc").glob("*"):
        if doc.is_dir():
            for item in doc.iterdir():
                if item.name != "copyright":
                    shutil.rmtree(item) if item.is_dir() and not item.is_symlink() else item.unlink()
    locale = root / "usr/share/locale"
    if locale.is_dir():
        for item in locale.iterdir():
            if item.name != "locale.alias":
                shutil.rmtree(item) if item.is_dir() else item.unlink()
    for sub in ("var/lib/apt/lists", "var/cache/apt"):  # package lists, and the .debs debootstrap fetched
        for item in (root / sub).rglob("*"):
            if item.is_file() and item.name != "lock":
                item.unlink()


def bootstrap_base(engine: Engine, tag: str, mirror: str | None, dpkg_cfg: Path,
                   report: Callable[[str], None], on_line: Callable[[str], None]) -> None:
    suite = suite_of(tag)
    mirror = mirror or detect_mirror()
    if not mirror:
        raise InvalidInput("no Debian mirror found in this machine's apt sources", "give --mirror URL")
    if shutil.which("debootstrap") is None:
        raise HakobuneError("debootstrap is not installed", "on Debian or Ubuntu: apt-get install debootstrap")
    if os.geteuid() != 0:
        raise HakobuneError("creating the base image with debootstrap needs root", "run it with sudo")
    engine.ping()
    work = Path(tempfile.mkdtemp(prefix="hakobune-base-", dir="/var/tmp"))
    try:
        root = work / "rootfs"
        report(f"Creating {tag} with debootstrap from {mirror} (suite {suite})")
        argv = ["debootstrap", "--variant=minbase", "--components=main", suite, str(root), mirror]
        with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
            assert proc.stdout is not None  # noqa: S101 - Popen with PIPE always has it
            tail: list[str] = []
            for line in proc.stdout:
                tail = [*tail[-20:], line.rstrip()]
                on_line(line.rstrip())
        if proc.returncode != 0:
            raise HakobuneError(f"debootstrap failed: {tail[-1] if tail else 'no output'}")
        (root / "etc/apt/sources.list").unlink(missing_ok=True)
        (root / "etc/apt/sources.list.d").mkdir(parents=True, exist_ok=True)
        (root / "etc/apt/sources.list.d/debian.sources").write_text(_sources(suite, mirror))
        _slim(root, dpkg_cfg)
        report(f"Importing the root filesystem as {tag}")
        with subprocess.Popen(["tar", "--numeric-owner", "-C", str(root), "-c", "."],
                              stdout=subprocess.PIPE) as tar:
            assert tar.stdout is not None  # noqa: S101
            engine.import_image(tar.stdout, tag, changes=['CMD ["bash"]'])
        if tar.returncode != 0:
            raise HakobuneError("packing the root filesystem failed")
    finally:
        shutil.rmtree(work, ignore_errors=True)
