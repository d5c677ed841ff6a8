"""An image's builds: what packages a build carries (from the SBOM it holds), what changed between two builds and
whether the change brings security fixes, and the build number a new build gets.

An image's version (images/versions.yaml) changes when its sources do. Within a version, each build whose packages
differ from the newest numbered build before it (Debian's point releases and security updates, applied at build
time) gets the next build number: hakobune/nginx:0.5.0-1, 0.5.0-2, ... The numbered tags keep every build's image,
and so its SBOM, on the engine: they are the record of what changed."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

# The build check marks each Debian package whose installed version came from Debian's security suite.
SECURITY_PROPERTY = {"name": "hakobune:debian-suite", "value": "security"}


@dataclass(frozen=True)
class Package:
    version: str
    security: bool = False


@dataclass(frozen=True)
class Change:
    package: str
    old: str | None  # None: added
    new: str | None  # None: removed
    security: bool  # the new version is a fix from Debian's security suite


class UnreadableSbom(ValueError):
    pass


def packages(sbom: str) -> dict[str, Package]:
    """The Debian packages and WordPress of an image, from the CycloneDX SBOM the build check wrote into it."""
    try:
        components = json.loads(sbom)["components"]
        found = {}
        for component in components:
            purl = str(component.get("purl", ""))
            if purl.startswith(("pkg:deb/", "pkg:generic/wordpress@")):
                security = SECURITY_PROPERTY in component.get("properties", [])
                found[str(component["name"])] = Package(str(component["version"]), security)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UnreadableSbom(f"not a Hakobune SBOM: {exc}") from None
    return found


def changes(old: dict[str, Package], new: dict[str, Package]) -> list[Change]:
    """What a build NEW changes against OLD, by package name."""
    found = []
    for name in sorted(old.keys() | new.keys()):
        before, after = old.get(name), new.get(name)
        was, now = before.version if before else None, after.version if after else None
        if was != now:
            found.append(Change(name, was, now, bool(after and after.security)))
    return found


def security_fixes(found: list[Change]) -> list[Change]:
    return [change for change in found if change.security]


def summary(found: list[Change] | None) -> str:
    """One line: '3 packages changed, 2 security fixes (openssl, libssl3t64)'."""
    if found is None:
        return "changes unknown (a build without an SBOM)"
    if not found:
        return "same packages"
    fixes = security_fixes(found)
    line = f"{len(found)} package{'s' * (len(found) != 1)} changed"
    if fixes:
        names = ", ".join(change.package for change in fixes[:4]) + (", ..." if len(fixes) > 4 else "")
        line += f", {len(fixes)} security fix{'es' * (len(fixes) != 1)} ({names})"
    return line


def build_tag(version: str, number: int) -> str:
    return f"{version}-{number}"


_BUILD = re.compile(r"([0-9]+\.[0-9]+\.[0-9]+)-([1-9][0-9]{0,5})")


def build_number(tag: str) -> tuple[tuple[int, ...], int] | None:
    """A numbered build's tag ('0.5.0-2') as ((0, 5, 0), 2), in the order builds were made; None for another tag."""
    match = _BUILD.fullmatch(tag)
    return (tuple(int(part) for part in match.group(1).split(".")), int(match.group(2))) if match else None


def numbered(version: str, tags: list[str]) -> dict[int, str]:
    """The numbered builds of VERSION among an image's TAGS: number -> tag."""
    return {found[1]: tag for tag in tags if (found := build_number(tag)) and tag.startswith(f"{version}-")}


def next_number(version: str, tags: list[str], newest_packages: dict[str, Package] | None,
                built: dict[str, Package], same_image: bool) -> tuple[int, list[Change] | None]:
    """The build number of a build with packages BUILT, given the image's TAGS and the packages of its newest
    numbered build (None when there is none): the newest number again when the build is that very image
    (SAME_IMAGE: nothing changed, the build came from the cache), else the next one, so that a numbered tag,
    which sites pin, never moves to another image. Returns (number, the package changes against the newest
    build, often none when only Hakobune's own files changed; None for a first build)."""
    builds = numbered(version, tags)
    if not builds:
        return 1, None
    number = max(builds) if same_image else max(builds) + 1
    return number, None if newest_packages is None else changes(newest_packages, built)
