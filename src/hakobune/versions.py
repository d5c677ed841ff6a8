"""images/versions.yaml: each image's version and the package versions that matter in it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from hakobune.catalogue import images_dir
from hakobune.errors import HakobuneError
from hakobune.site import IMAGE_NAMES, site_image_names

VERSIONS_FILE = "versions.yaml"


@dataclass(frozen=True)
class ImageVersion:
    name: str
    version: str
    packages: dict[str, str]

    @property
    def ref(self) -> str:
        return f"hakobune/{self.name}:{self.version}"

    @property
    def expectations(self) -> str:
        """For the build: `package=prefix ...`, checked against what the image really installed."""
        return " ".join(f"{package}={prefix}" for package, prefix in sorted(self.packages.items()))


@cache
def image_versions(source: Path | None = None) -> dict[str, ImageVersion]:
    path = (source or images_dir()) / VERSIONS_FILE
    try:
        document = yaml.safe_load(path.read_text())
        entries = document["images"]
        found = {name: ImageVersion(name, str(entries[name]["version"]),
                                    {str(k): str(v) for k, v in entries[name].get("packages", {}).items()})
                 for name in IMAGE_NAMES}
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise HakobuneError(f"cannot read {path}: {exc}") from None
    return found


def image_refs() -> dict[str, str]:
    """Every image this Hakobune builds."""
    return {name: version.ref for name, version in image_versions().items()}


def images_for(web: str) -> dict[str, str]:
    """The images a new site with this web server runs."""
    refs = image_refs()
    return {name: refs[name] for name in site_image_names(web)}
