"""Which services run an older build of their image than the newest this Hakobune builds, and what the newer
build changes (packages, and which changes are security fixes): `hakobune images outdated`, `status`, `list`.

A container is compared by the image it runs (its image ID), not by the tag it was made from: a tag moves to
each new build, the container keeps running the build it was made from."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from hakobune.engine import Engine, EngineError
from hakobune.image_builds import Change, Package, UnreadableSbom, build_number, changes, packages, security_fixes
from hakobune.ops.images import SBOM_PATH
from hakobune.site import COMPOSE_SERVICE_LABEL, IMAGE_NAMES, SITE_LABEL
from hakobune.versions import image_versions


@dataclass(frozen=True)
class ServiceImage:
    site: str
    service: str
    image: str  # the image the container was made from, as named then
    running: str  # the build it runs: a numbered tag, or the image and the start of its ID
    newest: str  # the newest build on this engine ("" when this Hakobune's image is not built here)
    state: str  # current | outdated | not built
    changes: list[Change] | None = field(default_factory=list)  # None: unknown (a build without an SBOM)

    @property
    def security_fixes(self) -> int:
        return len(security_fixes(self.changes or []))

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "security_fixes": self.security_fixes}


class Builds:
    """What the engine holds of each image, asked once per call: image IDs, numbered tags, SBOMs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._tags: dict[str, list[dict[str, str]]] = {}
        self._packages: dict[str, dict[str, Package] | None] = {}

    def tags(self, name: str) -> list[dict[str, str]]:
        if name not in self._tags:
            self._tags[name] = [entry for entry in self.engine.images(f"hakobune/{name}", full_ids=True)
                                if entry.get("Tag") not in (None, "", "<none>")]
        return self._tags[name]

    def image_id(self, name: str, tag: str) -> str | None:
        return next((entry["ID"] for entry in self.tags(name) if entry["Tag"] == tag), None)

    def build_of(self, name: str, image_id: str) -> str | None:
        """The numbered build (hakobune/NAME:VERSION-N) that is IMAGE_ID, if it has one."""
        tags = [entry["Tag"] for entry in self.tags(name) if entry["ID"] == image_id and build_number(entry["Tag"])]
        return f"hakobune/{name}:{max(tags, key=lambda tag: build_number(tag) or ((), 0))}" if tags else None

    def pinned(self, ref: str) -> str:
        """REF (hakobune/NAME:VERSION) by the numbered build that tag names now; REF itself when it names none."""
        name, _, tag = ref.removeprefix("hakobune/").partition(":")
        image_id = self.image_id(name, tag) if ref.startswith("hakobune/") else None
        return (self.build_of(name, image_id) if image_id else None) or ref

    def packages(self, image_id: str) -> dict[str, Package] | None:
        """IMAGE_ID's packages; None for an image without a readable SBOM."""
        if image_id not in self._packages:
            try:
                self._packages[image_id] = packages(self.engine.read_file(image_id, SBOM_PATH))
            except (EngineError, UnreadableSbom):
                self._packages[image_id] = None
        return self._packages[image_id]


def service_images(engine: Engine, containers: list[dict[str, Any]],
                   builds: Builds | None = None) -> list[ServiceImage]:
    """For each container of CONTAINERS (`docker inspect`) made from one of Hakobune's images: the build it runs
    against the newest."""
    builds = builds or Builds(engine)
    versions = image_versions()
    found = []
    for container in containers:
        labels = container["Config"].get("Labels") or {}
        made_from = str(container["Config"].get("Image", ""))
        name = made_from.removeprefix("hakobune/").split(":")[0]
        if not made_from.startswith("hakobune/") or name not in IMAGE_NAMES:
            continue
        running_id = str(container["Image"])
        running = builds.build_of(name, running_id) or \
            f"{made_from} ({running_id.removeprefix('sha256:')[:12]})"
        newest_id = builds.image_id(name, versions[name].version)
        site, service = labels.get(SITE_LABEL, ""), labels.get(COMPOSE_SERVICE_LABEL, "")
        if newest_id is None:
            found.append(ServiceImage(site, service, made_from, running, "", "not built"))
            continue
        newest = builds.build_of(name, newest_id) or versions[name].ref
        if newest_id == running_id:
            found.append(ServiceImage(site, service, made_from, running, newest, "current"))
            continue
        old, new = builds.packages(running_id), builds.packages(newest_id)
        found.append(ServiceImage(site, service, made_from, running, newest, "outdated",
                                  None if old is None or new is None else changes(old, new)))
    return sorted(found, key=lambda item: (item.site, item.service))


def outdated(engine: Engine) -> list[ServiceImage]:
    """Every site's services on the engine."""
    engine.ping()
    containers = [c for c in engine.site_containers() if (c["Config"].get("Labels") or {}).get(COMPOSE_SERVICE_LABEL)]
    return service_images(engine, containers)


def site_line(found: list[ServiceImage]) -> str:
    """One line for a site: 'current', or what runs older builds and how many security fixes wait."""
    if not found:
        return "-"
    older = [item for item in found if item.state == "outdated"]
    missing = [item for item in found if item.state == "not built"]
    if not older and not missing:
        return "current"
    parts = []
    if older:
        fixes = sum(item.security_fixes for item in older)
        parts.append(f"older builds: {', '.join(item.service for item in older)}"
                     + (f" ({fixes} security fix{'es' * (fixes != 1)})" if fixes else ""))
    if missing:
        parts.append(f"newest not built here: {', '.join(item.service for item in missing)}")
    return "; ".join(parts)

