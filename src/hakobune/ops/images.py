"""`hakobune images build`: build every image from images/, creating the base image first when needed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import hakobune
from hakobune.catalogue import images_dir
from hakobune.engine import Engine
from hakobune.errors import HakobuneError
from hakobune.ops.base_image import bootstrap_base
from hakobune.site import IMAGE_NAMES


@dataclass(frozen=True)
class Built:
    name: str
    ref: str
    size: int
    seconds: float


def image_ref(name: str, version: str = hakobune.__version__) -> str:
    return f"hakobune/{name}:{version}"


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


def build(engine: Engine, base: str, mirror: str | None, only: list[str] | None,
          report: Callable[[str], None], on_line: Callable[[str], None]) -> list[Built]:
    engine.ping()
    unknown = sorted(set(only or []) - set(IMAGE_NAMES))
    if unknown:
        raise HakobuneError(f"unknown image(s): {', '.join(unknown)}", f"images: {', '.join(IMAGE_NAMES)}")
    source = images_dir()
    ensure_base(engine, base, mirror, report, on_line)
    built = []
    for name in IMAGE_NAMES:  # ops builds on php, so the order matters
        if only and name not in only:
            continue
        ref = image_ref(name)
        report(f"Building {ref}")
        started = time.monotonic()
        engine.build(
            context=source, dockerfile=source / name / "Dockerfile", tag=ref,
            build_args={"PHP_IMAGE": image_ref("php")} if name == "ops" else {"BASE_IMAGE": base},
            on_line=on_line,
        )
        built.append(Built(name, ref, engine.image_size(ref), time.monotonic() - started))
    return built
