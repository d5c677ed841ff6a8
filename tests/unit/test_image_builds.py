"""Image builds without Docker: packages from an SBOM, what changed and which changes are security fixes, build
numbers, and which services of a site run an older build (by image ID, whatever tag they were made from)."""

from __future__ import annotations

import json
from unittest.mock import create_autospec

import pytest

from hakobune.engine import Engine, EngineError
from hakobune.image_builds import Change, Package, UnreadableSbom, build_number, changes, next_number, packages, summary
from hakobune.ops.images import number_build
from hakobune.ops.outdated import service_images, site_line
from hakobune.site import SITE_LABEL
from hakobune.versions import image_versions

SECURITY = [{"name": "hakobune:debian-suite", "value": "security"}]


def sbom(*components: tuple[str, str, bool], wordpress: str | None = None) -> str:
    found: list[dict[str, object]] = [
        {"type": "library", "name": name, "version": version, "purl": f"pkg:deb/debian/{name}@{version}?arch=amd64",
         **({"properties": SECURITY} if security else {})} for name, version, security in components]
    found.append({"type": "library", "group": "php-extension", "name": "curl", "version": "8.4.1"})
    if wordpress:
        found.append({"type": "application", "name": "wordpress", "version": wordpress,
                      "purl": f"pkg:generic/wordpress@{wordpress}"})
    return json.dumps({"bomFormat": "CycloneDX", "components": found})


OLD = sbom(("openssl", "3.5.1-1", False), ("nginx", "1.26.3-3", False), ("gone", "1.0", False), wordpress="6.8.2")
NEW = sbom(("openssl", "3.5.1-1+deb13u1", True), ("nginx", "1.26.3-3", False), ("libnew", "2.0", False),
           wordpress="6.8.3")


def test_packages_are_the_debian_packages_and_wordpress_with_security_versions_marked():
    found = packages(NEW)
    assert found == {"openssl": Package("3.5.1-1+deb13u1", True), "nginx": Package("1.26.3-3"),
                     "libnew": Package("2.0"), "wordpress": Package("6.8.3")}


@pytest.mark.parametrize("text", ["", "{}", "[]", '{"components": 3}', '{"components": [{"purl": "pkg:deb/x"}]}'])
def test_an_unreadable_sbom_is_said_so(text):
    with pytest.raises(UnreadableSbom):
        packages(text)


def test_changes_name_added_removed_and_updated_packages_and_the_security_fixes():
    found = changes(packages(OLD), packages(NEW))
    assert found == [Change("gone", "1.0", None, False), Change("libnew", None, "2.0", False),
                     Change("openssl", "3.5.1-1", "3.5.1-1+deb13u1", True),
                     Change("wordpress", "6.8.2", "6.8.3", False)]
    assert summary(found) == "4 packages changed, 1 security fix (openssl)"
    assert summary([]) == "same packages"
    # A package that was already a security version and stays is not a change.
    assert changes(packages(NEW), packages(NEW)) == []


def test_build_numbers_follow_the_packages():
    built = packages(NEW)
    assert next_number("0.5.0", ["0.5.0", "0.4.0-7"], None, built, False) == (1, None)
    assert next_number("0.5.0", ["0.5.0", "0.5.0-1", "0.5.0-2"], built, built, True) == (2, [])
    # Another image with the same packages (Hakobune's own files changed): a number of its own.
    assert next_number("0.5.0", ["0.5.0", "0.5.0-1", "0.5.0-2"], built, built, False) == (3, [])
    number, found = next_number("0.5.0", ["0.5.0-1", "0.5.0-2", "0.5.0-x", "0.5.0-01"], packages(OLD), built,
                                False)
    assert number == 3 and found and len(found) == 4
    assert build_number("0.5.0-12") == ((0, 5, 0), 12)
    assert build_number("0.5.0") is None and build_number("latest") is None and build_number("0.5.0-0") is None


def engine_with(images: dict[str, list[tuple[str, str]]], sboms: dict[str, str]) -> Engine:
    """An engine holding IMAGES (repository -> (tag, image ID)) whose SBOMs (by tag or ID) are SBOMS."""
    engine = create_autospec(Engine, instance=True)

    def listing(reference: str, full_ids: bool = False) -> list[dict[str, str]]:
        return [{"Repository": reference, "Tag": tag, "ID": image_id} for tag, image_id in images.get(reference, [])]

    def read_file(ref: str, path: str) -> str:
        key = ref.split(":", 1)[1] if ref.startswith("hakobune/") else ref
        if key not in sboms:
            raise EngineError("no such image")
        return sboms[key]

    engine.images.side_effect = listing
    engine.read_file.side_effect = read_file
    return engine


def test_another_image_gets_the_next_number_and_the_same_image_keeps_it():
    version = image_versions()["nginx"].version
    engine = engine_with({"hakobune/nginx": [(version, "sha256:b"), (f"{version}-1", "sha256:a")]},
                         {f"{version}-1": OLD})
    assert number_build(engine, "nginx", version, NEW)[0] == f"hakobune/nginx:{version}-2"
    engine.tag.assert_called_with(f"hakobune/nginx:{version}", f"hakobune/nginx:{version}-2")
    # The same packages in another image (Hakobune's files changed): a new number, no package changes.
    assert number_build(engine, "nginx", version, OLD) == (f"hakobune/nginx:{version}-2", [])
    # The build came from the cache: the very image numbered before keeps its number.
    cached = engine_with({"hakobune/nginx": [(version, "sha256:a"), (f"{version}-1", "sha256:a")]},
                         {f"{version}-1": OLD})
    assert number_build(cached, "nginx", version, OLD) == (f"hakobune/nginx:{version}-1", [])


def container(site: str, service: str, made_from: str, image_id: str) -> dict[str, object]:
    return {"Image": image_id, "Config": {"Image": made_from,
                                          "Labels": {SITE_LABEL: site, "com.docker.compose.service": service}}}


def test_a_service_is_outdated_by_the_image_it_runs_not_by_its_tag():
    nginx, php = image_versions()["nginx"], image_versions()["php"]
    engine = engine_with(
        {"hakobune/nginx": [(nginx.version, "sha256:new"), (f"{nginx.version}-2", "sha256:new"),
                            (f"{nginx.version}-1", "sha256:old")],
         "hakobune/php": [(php.version, "sha256:php")]},
        {"sha256:old": OLD, "sha256:new": NEW})
    found = service_images(engine, [
        container("blog", "web", nginx.ref, "sha256:old"),  # made from the moving tag, before it moved
        container("blog", "php", php.ref, "sha256:php"),
        container("shop", "valkey", "hakobune/valkey:0.1.0", "sha256:v"),  # not built here any more
        container("shop", "db", "mariadb:11", "sha256:m"),  # not one of Hakobune's images
    ])
    web = next(item for item in found if item.service == "web")
    assert (web.state, web.running, web.newest) == ("outdated", f"hakobune/nginx:{nginx.version}-1",
                                                    f"hakobune/nginx:{nginx.version}-2")
    assert web.security_fixes == 1 and web.to_dict()["security_fixes"] == 1
    assert [(item.site, item.service, item.state) for item in found] == [
        ("blog", "php", "current"), ("blog", "web", "outdated"), ("shop", "valkey", "not built")]
    assert site_line([item for item in found if item.site == "blog"]) == "older builds: web (1 security fix)"
    assert site_line([item for item in found if item.site == "shop"]) == "newest not built here: valkey"
    assert site_line([]) == "-"


def test_the_changes_of_a_build_without_an_sbom_are_unknown_not_every_package():
    nginx = image_versions()["nginx"]
    engine = engine_with({"hakobune/nginx": [(nginx.version, "sha256:new")]}, {"sha256:new": NEW})
    (web,) = service_images(engine, [container("blog", "web", "hakobune/nginx:0.1.0", "sha256:ancient")])
    assert (web.state, web.changes, web.security_fixes) == ("outdated", None, 0)
    assert web.running == "hakobune/nginx:0.1.0 (ancient)" and web.newest == nginx.ref
    assert summary(web.changes).startswith("changes unknown")
    assert site_line([web]) == "older builds: web"
