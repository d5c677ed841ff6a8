"""`hakobune images build`: build every image from images/, creating the base image first when needed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hakobune.catalogue import images_dir
from hakobune.engine import Engine, EngineError
from hakobune.errors import HakobuneError, InvalidInput
from hakobune.image_builds import Change, UnreadableSbom, build_tag, next_number, numbered, packages
from hakobune.ops import contract
from hakobune.ops.base_image import bootstrap_base
from hakobune.site import IMAGE_NAMES
from hakobune.versions import image_versions

SBOM_PATH = "/usr/share/hakobune/sbom.cdx.json"


@dataclass(frozen=True)
class Built:
    name: str
    ref: str
    size: int
    seconds: float
    build: str  # the numbered build it is: hakobune/NAME:VERSION-N
    changes: list[Change] | None  # against the numbered build before it; None for the first


def ensure_base(engine: Engine, base: str, mirror: str | None, report: Callable[[str], None],
                on_line: Callable[[str], None]) -> bool:
    """Make sure the base image exists: present, pulled, or created with debootstrap. True when created."""
    if engine.image_exists(base):
        return False
    report(f"Base image {base} is missing; trying to pull it")
    if engine.try_pull(base):
        return False
    report(f"{base} cannot be pulled: creating it from a Debian mirror with debootstrap")
    bootstrap_base(engine, base, mirror, images_dir() / "common" / "dpkg-slim.cfg", report, on_line)
    return True


def check_names(names: list[str] | None) -> None:
    unknown = sorted(set(names or []) - set(IMAGE_NAMES))
    if unknown:
        raise InvalidInput(f"unknown image(s): {', '.join(unknown)}", f"images: {', '.join(IMAGE_NAMES)}")


def build(engine: Engine, base: str, mirror: str | None, only: list[str] | None,
          report: Callable[[str], None], on_line: Callable[[str], None],
          allow_pending_security: bool = False, sbom_dir: Path | None = None) -> list[Built]:
    check_names(only)
    engine.ping()
    source = images_dir()
    versions = image_versions(source)
    ensure_base(engine, base, mirror, report, on_line)
    built = []
    for name in IMAGE_NAMES:  # ops builds on php, so the order matters
        if only and name not in only:
            continue
        ref = versions[name].ref
        report(f"Building {ref}")
        started = time.monotonic()
        try:
            engine.build(
                context=source, dockerfile=source / name / "Dockerfile", tag=ref,
                build_args={"HAKOBUNE_IMAGE_VERSION": versions[name].version,
                            "HAKOBUNE_EXPECT": versions[name].expectations,
                            "HAKOBUNE_ALLOW_PENDING_SECURITY": "1" if allow_pending_security else "0",
                            **({"PHP_IMAGE": versions["php"].ref} if name == "ops" else {"BASE_IMAGE": base})},
                on_line=on_line,
            )
        except EngineError as exc:
            raise HakobuneError(f"building {ref} failed: {_build_reason(exc)}",
                                "run again with --debug to see the whole build log") from None
        sbom = engine.read_file(ref, SBOM_PATH)
        build, found = number_build(engine, name, versions[name].version, sbom)
        built.append(Built(name, ref, engine.image_size(ref), time.monotonic() - started, build, found))
        if sbom_dir is not None:
            sbom_dir.mkdir(parents=True, exist_ok=True)
            (sbom_dir / f"{name}.cdx.json").write_text(sbom)
    return built


def number_build(engine: Engine, name: str, version: str, sbom: str) -> tuple[str, list[Change] | None]:
    """Tag the image just built as hakobune/NAME:VERSION with its build number (src/hakobune/image_builds.py):
    the newest numbered build's again when it is the same image, else the next."""
    repository = f"hakobune/{name}"
    ids = {entry["Tag"]: entry["ID"] for entry in engine.images(repository, full_ids=True)}
    builds = numbered(version, list(ids))
    newest = None
    if builds:
        try:
            newest = packages(engine.read_file(f"{repository}:{builds[max(builds)]}", SBOM_PATH))
        except (EngineError, UnreadableSbom):
            newest = None  # a build from before SBOMs
    same = bool(builds) and ids[builds[max(builds)]] == ids.get(version)
    number, found = next_number(version, list(ids), newest, packages(sbom), same)
    ref = f"{repository}:{build_tag(version, number)}"
    engine.tag(f"{repository}:{version}", ref)
    return ref, found


def _build_reason(exc: EngineError) -> str:
    """The build check's answer when it stopped the build (the build's output ends with it); else docker's last
    line."""
    refused = contract.failure(exc.stderr)
    return refused.message if refused else exc.message


@dataclass(frozen=True)
class Listed:
    ref: str
    size: int
    created: str
    sites: list[str]


def list_images(engine: Engine) -> list[Listed]:
    """Hakobune's images on the engine, and which sites run each."""
    engine.ping()
    users = engine.site_images()
    listed = []
    for entry in engine.images("hakobune/*"):
        ref = f"{entry['Repository']}:{entry['Tag']}"
        listed.append(Listed(ref, engine.image_size(ref), entry.get("CreatedSince", ""), sorted(users.get(ref, []))))
    return sorted(listed, key=lambda item: item.ref)
