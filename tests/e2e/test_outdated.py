"""Knowing what is out of date, for real: an older build of the valkey image is made the way Debian made it
before a security update (a package whose installed version came from the security suite put back to the
version in Debian's main suite), and a site's valkey runs it. `images build` then gives the newest build the next
number and names the security fixes; `images outdated`, `status` and `list` name the site's service."""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict

import pytest

from hakobune.versions import image_versions
from tests.e2e.helpers import NOTHING, docker, hb, leftovers, ok, provision_site

pytestmark = pytest.mark.e2e

IMAGE = "valkey"


def older_packages(ref: str) -> dict[str, tuple[str, str]]:
    """Packages of REF whose installed version came from Debian's security suite, for one source package whose
    binaries all have an older version in the main suite: package -> (older, installed)."""
    out = docker("run", "--rm", "--user", "root", "--network", "bridge", "--entrypoint", "sh", ref, "-c",
                 "apt-get update -qq >/dev/null 2>&1; "
                 "dpkg-query -W -f '${Package}\\t${Version}\\t${source:Package}\\n'; "
                 "echo ===; apt-cache madison $(dpkg-query -W -f '${Package} ')")
    installed_text, _, madison = out.partition("===\n")
    installed = {p: (v, s) for p, v, s in (line.split("\t") for line in installed_text.splitlines())}
    security: set[str] = set()
    older: dict[str, str] = {}
    for line in madison.splitlines():
        package, version, where = (part.strip() for part in line.split("|"))
        if package not in installed:
            continue
        if "-security" in where and version == installed[package][0]:
            security.add(package)
        elif "-security" not in where and version != installed[package][0]:
            older[package] = version
    by_source: dict[str, list[str]] = defaultdict(list)
    for package, (_, source) in installed.items():
        by_source[source].append(package)
    for _source, packages in sorted(by_source.items()):
        if all(p in security and p in older for p in packages):
            return {p: (older[p], installed[p][0]) for p in packages}
    raise AssertionError(f"no package of {ref} has a security update over a version in Debian's main suite:\n{out}")


@pytest.fixture(scope="module")
def older_build(images):
    """hakobune/valkey:VERSION-N: the current build with one source package put back before its security update,
    its SBOM written again by the build check, numbered above every build so far."""
    version = image_versions()[IMAGE].version
    ref = image_versions()[IMAGE].ref
    downgraded = older_packages(ref)
    numbers = [int(t.rsplit("-", 1)[1]) for t in docker("images", "--format", "{{.Tag}}", f"hakobune/{IMAGE}").split()
               if t.startswith(f"{version}-") and t.rsplit("-", 1)[1].isdigit()]
    tag = f"hakobune/{IMAGE}:{version}-{max(numbers, default=0) + 1}"
    user = docker("image", "inspect", "--format", "{{.Config.User}}", ref).strip()
    pins = " ".join(f"{p}={old}" for p, (old, _) in downgraded.items())
    dockerfile = (f"FROM {ref}\nUSER root\n"
                  f"RUN apt-get update -qq && apt-get install -y -qq --allow-downgrades --no-install-recommends {pins} "
                  f"&& HAKOBUNE_ALLOW_PENDING_SECURITY=1 /usr/local/lib/hakobune/hakobune-build-check.sh {IMAGE} "
                  f"{version} && apt-get clean && rm -rf /var/lib/apt/lists/*\nUSER {user}\n")
    subprocess.run(["docker", "build", "-q", "--network", "bridge", "-t", tag, "-"], input=dockerfile, text=True,
                   check=True, capture_output=True, timeout=600)
    yield tag, downgraded
    subprocess.run(["docker", "rmi", tag], capture_output=True, check=False)


def test_a_new_build_after_security_updates_gets_the_next_number_and_names_the_fixes(older_build, tmp_path):
    older, downgraded = older_build
    version, number = older.split(":")[1].rsplit("-", 1)
    out = ok(hb("images", "build", IMAGE, "--sbom-dir", str(tmp_path), cwd=tmp_path))
    line = next(line for line in out.splitlines() if f"hakobune/{IMAGE}:{version}" in line)
    assert f"{version}-{int(number) + 1}" in line, out
    fixes = len(downgraded)
    assert f"{fixes} security fix" in line and next(iter(downgraded)) in line, out
    newest = f"hakobune/{IMAGE}:{version}-{int(number) + 1}"
    assert docker("image", "inspect", "--format", "{{.Id}}", newest) == \
        docker("image", "inspect", "--format", "{{.Id}}", f"hakobune/{IMAGE}:{version}")
    # Built again with nothing changed: the same number, and it says so.
    again = ok(hb("images", "build", IMAGE, "--sbom-dir", str(tmp_path), cwd=tmp_path))
    line = next(line for line in again.splitlines() if f"hakobune/{IMAGE}:{version}" in line)
    assert f"{version}-{int(number) + 1}" in line and "same packages" in line, again
    sbom = json.loads((tmp_path / f"{IMAGE}.cdx.json").read_text())
    marked = {c["name"] for c in sbom["components"] if {"name": "hakobune:debian-suite", "value": "security"}
              in c.get("properties", [])}
    assert set(downgraded) <= marked


def test_a_site_running_an_older_build_is_shown_outdated_until_its_service_moves(older_build, sites_dir):
    older, downgraded = older_build
    site = provision_site("nginx", sites_dir, "outdated")
    try:
        assert json.loads(ok(hb("status", "--json", "-C", str(site.folder), cwd=sites_dir)))["images"] == "current"
        # The site's valkey made from the older build, as it would have been before the rebuild.
        (site.folder / "compose.override.yaml").write_text(f"services:\n  valkey:\n    image: {older}\n")
        ok(hb("restart", "valkey", "-C", str(site.folder), cwd=sites_dir))

        found = json.loads(ok(hb("images", "outdated", "--json", cwd=sites_dir)))
        mine = {item["service"]: item for item in found if item["site"] == site.name}
        states = {service: item["state"] for service, item in mine.items()}
        assert states.pop("valkey") == "outdated" and {"web", "php", "db"} <= set(states), mine
        assert set(states.values()) == {"current"}, mine
        valkey = mine["valkey"]
        assert valkey["running"] == older and valkey["newest"].startswith(f"hakobune/{IMAGE}:")
        changes = {c["package"]: (c["old"], c["new"], c["security"]) for c in valkey["changes"]}
        assert changes == {p: (old, new, True) for p, (old, new) in downgraded.items()}
        assert valkey["security_fixes"] == len(downgraded)

        text = ok(hb("images", "outdated", cwd=sites_dir))
        assert site.name in text and older in text and "security fix" in text
        line = f"older builds: valkey ({len(downgraded)} security fix"
        status = json.loads(ok(hb("status", "--json", "-C", str(site.folder), cwd=sites_dir)))
        assert status["images"].startswith(line)
        assert line in ok(hb("status", "-C", str(site.folder), cwd=sites_dir))
        listed = {s["site"]: s for s in json.loads(ok(hb("list", "--json", cwd=sites_dir)))}
        assert listed[site.name]["images"].startswith(line)

        # Made again from the site's own tag, which names the newest build: current.
        (site.folder / "compose.override.yaml").unlink()
        ok(hb("restart", "valkey", "-C", str(site.folder), cwd=sites_dir))
        status = json.loads(ok(hb("status", "--json", "-C", str(site.folder), cwd=sites_dir)))
        assert status["images"] == "current", status["builds"]
    finally:
        ok(hb("remove", "-y", str(site.folder), cwd=sites_dir))
    assert leftovers(site.name) == NOTHING
