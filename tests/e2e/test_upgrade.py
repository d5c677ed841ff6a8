"""`hakobune upgrade` on real sites: a site made with other image versions (this Hakobune's images under another
version, with HAKOBUNE_IMAGES_DIR pointing at image sources that say so) moved to the current builds while
requests keep coming, and upgrades that fail after the switch (a failpoint, a build whose PHP does not start)
rolled back to the builds the site ran."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from hakobune.versions import image_refs
from tests.e2e.helpers import NOTHING, REPO, docker, hb, leftovers, ok, provision_site

pytestmark = pytest.mark.e2e

SITE_IMAGES = ("nginx", "httpd", "php", "mariadb", "valkey", "ops")


def image_set(version: str, tmp: Path, broken: str | None = None) -> Iterator[dict[str, str]]:
    """This Hakobune's images as builds of VERSION (each a new image: one label more), numbered -1, with image
    sources that name VERSION; BROKEN: that image's containers exit at once. Yields HAKOBUNE_IMAGES_DIR."""
    refs = []
    for name in SITE_IMAGES:
        ref = f"hakobune/{name}:{version}"
        dockerfile = f"FROM {image_refs()[name]}\nLABEL io.hakobune.e2e-version={version}\n"
        if name == broken:
            dockerfile += 'ENTRYPOINT ["sh", "-c", "echo this build is broken >&2; exit 1"]\n'
        subprocess.run(["docker", "build", "-q", "-t", ref, "-t", f"{ref}-1", "-"], input=dockerfile, text=True,
                       check=True, capture_output=True, timeout=300)
        refs += [ref, f"{ref}-1"]
    sources = tmp / f"images-{version}"
    shutil.copytree(REPO / "images", sources)
    versions = yaml.safe_load((sources / "versions.yaml").read_text())
    for entry in versions["images"].values():
        entry["version"] = version
    (sources / "versions.yaml").write_text(yaml.safe_dump(versions))
    yield {"HAKOBUNE_IMAGES_DIR": str(sources)}
    subprocess.run(["docker", "rmi", *refs], capture_output=True, check=False)


@pytest.fixture(scope="module")
def older(images, tmp_path_factory):
    yield from image_set("0.0.1", tmp_path_factory.mktemp("older"))


@pytest.fixture(scope="module")
def newer(images, tmp_path_factory):
    yield from image_set("9.9.9", tmp_path_factory.mktemp("newer"))


@pytest.fixture(scope="module")
def broken(images, tmp_path_factory):
    yield from image_set("9.9.8", tmp_path_factory.mktemp("broken"), broken="php")


def running_images(site: str) -> dict[str, str]:
    """Service -> the image ID its running container runs."""
    ids = docker("ps", "-q", "--filter", f"label=io.hakobune.site={site}").split()
    found = json.loads(docker("inspect", *ids))
    return {c["Config"]["Labels"]["com.docker.compose.service"]: c["Image"] for c in found}


def image_id(ref: str) -> str:
    return docker("image", "inspect", "--format", "{{.Id}}", ref).strip()


def content(site) -> str:
    """The site's posts, users and its title in the database: row counts and checksums."""
    return docker("exec", f"hb-{site.name}-db-1", "mariadb", "-N", "-e",
                  "SELECT COUNT(*) FROM wordpress.wp_posts; SELECT COUNT(*) FROM wordpress.wp_users; "
                  "CHECKSUM TABLE wordpress.wp_posts, wordpress.wp_users, wordpress.wp_usermeta; "
                  "SELECT option_value FROM wordpress.wp_options WHERE option_name IN ('blogname', 'siteurl')")


class Load:
    """Requests for the front page from this machine, one after another, until stopped (at most 20,000): how
    many failed (a connection error, or a status other than 200) and the longest answer."""

    def __init__(self, url: str) -> None:
        self.url, self.done, self.failed, self.longest = url, 0, [], 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(verify=False, http2=True, timeout=30) as http:  # noqa: S501 - the site's own certificate
            while not self._stop.is_set() and self.done < 20_000:
                started = time.monotonic()
                try:
                    status = http.get(self.url).status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                self.longest = max(self.longest, time.monotonic() - started)
                self.done += 1
                if status != 200:
                    self.failed.append(status)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(60)


def test_a_site_made_with_older_builds_is_upgraded_with_its_content_kept(older, sites_dir, capsys):
    site = provision_site("nginx", sites_dir, "upgrade", env=older)
    folder = str(site.folder)
    try:
        before, data = running_images(site.name), content(site)
        assert before["web"] == image_id("hakobune/nginx:0.0.1")

        planned = json.loads(ok(hb("upgrade", "--dry-run", "--json", "-C", folder, cwd=sites_dir)))
        assert {m["service"] for m in planned["moves"]} == {"web", "php", "db", "valkey"}, planned
        assert not planned["current"] and running_images(site.name) == before
        text = ok(hb("upgrade", "--dry-run", "-C", folder, cwd=sites_dir))
        assert "mariadb-upgrade" in text and "hakobune/nginx:0.0.1-1 -> hakobune/nginx:" in text, text

        with Load(f"https://localhost:{site.tls_port}/") as load:
            time.sleep(2)
            out = ok(hb("upgrade", "-C", folder, cwd=sites_dir))
            time.sleep(2)
        with capsys.disabled():  # the figures for the closing note
            print(f"\nupgrade under load: {load.done} requests, {len(load.failed)} failed "
                  f"({sorted(set(map(str, load.failed)))}), longest answer {load.longest:.2f} s\n{out}")
        assert load.done > 0

        after = running_images(site.name)
        for service, image in {"web": "nginx", "php": "php", "db": "mariadb", "valkey": "valkey"}.items():
            assert after[service] == image_id(image_refs()[image]) != before[service], service
        recorded = yaml.safe_load((site.folder / "hakobune.yaml").read_text())["site"]["images"]
        assert all(ref.startswith(f"hakobune/{name}:{image_refs()[name].split(':')[1]}-")
                   for name, ref in recorded.items()), recorded  # pinned to numbered builds
        assert content(site) == data
        assert "backup made first" in out and "the database was down for at most" in out, out
        assert "checked: front page, login page, a post, page cache" in out, out
        backup = Path(out.split("backup made first: ")[1].split()[0])
        assert backup.is_file()
        assert json.loads(ok(hb("status", "--json", "-C", folder, cwd=sites_dir)))["images"] == "current"
        with httpx.Client(verify=False) as http:  # noqa: S501
            page = http.get(f"https://localhost:{site.tls_port}/")
            assert page.status_code == 200 and site.title in page.text

        again = ok(hb("upgrade", "-C", folder, cwd=sites_dir))
        assert "current" in again and running_images(site.name) == after
    finally:
        ok(hb("remove", "-y", folder, cwd=sites_dir))
    assert leftovers(site.name) == NOTHING


def test_an_upgrade_that_fails_after_the_switch_is_rolled_back(newer, broken, sites_dir):
    site = provision_site("httpd", sites_dir, "upgrade")
    folder = str(site.folder)
    try:
        before, data = running_images(site.name), content(site)
        files = {name: (site.folder / name).read_text() for name in ("hakobune.yaml", "compose.yaml")}

        def rolled_back(result: subprocess.CompletedProcess[str], reason: str) -> None:
            assert result.returncode == 1, result.stderr
            errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
            assert len(errors) == 1 and "failed and was rolled back" in errors[0] and reason in errors[0], \
                result.stderr
            assert running_images(site.name) == before
            assert {name: (site.folder / name).read_text() for name in files} == files
            assert content(site) == data
            with httpx.Client(verify=False) as http:  # noqa: S501
                assert http.get(f"https://localhost:{site.tls_port}/").status_code == 200

        failed = hb("upgrade", "-C", folder, cwd=sites_dir,
                    env={**newer, "HAKOBUNE_FAILPOINT": "upgrade-switched"})
        rolled_back(failed, "stopped at step 'upgrade-switched'")
        assert "the backup made first:" in failed.stderr

        failed = hb("upgrade", "--no-backup", "-C", folder, cwd=sites_dir, env=broken)
        rolled_back(failed, "php")
    finally:
        ok(hb("remove", "-y", folder, cwd=sites_dir))
    assert leftovers(site.name) == NOTHING
