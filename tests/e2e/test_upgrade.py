"""`hakobune upgrade` on real sites: a site made with other image versions (this Hakobune's images under another
version, with HAKOBUNE_IMAGES_DIR pointing at image sources that say so) moved to the current builds while
requests keep coming, and upgrades that fail after the switch (a failpoint, a build whose PHP does not start)
rolled back to the builds the site ran."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml

from hakobune.site_format import FORMAT
from hakobune.versions import image_refs
from tests.e2e.helpers import NOTHING, docker, hb, image_id, leftovers, ok, provision_site
from tests.e2e.upgrading import Load, content, image_set, previous_mariadb, running_images, server_version

pytestmark = pytest.mark.e2e


# The front page (the page cache answers it), a search and the login page (PHP makes them).
PAGES = ("/", "/?s=hello", "/wp-login.php")


@pytest.fixture(scope="module")
def older(images, tmp_path_factory):
    """Builds of 0.0.1, the database MariaDB 10.11 (the major version before the images')."""
    yield from image_set("0.0.1", tmp_path_factory.mktemp("older"), bases={"mariadb": previous_mariadb()})


@pytest.fixture(scope="module")
def newer(images, tmp_path_factory):
    yield from image_set("9.9.9", tmp_path_factory.mktemp("newer"))


@pytest.fixture(scope="module")
def broken(images, tmp_path_factory):
    yield from image_set("9.9.8", tmp_path_factory.mktemp("broken"), broken="php")


def test_a_site_made_with_older_builds_is_upgraded_with_its_content_kept(older, sites_dir, capsys):
    site = provision_site("nginx", sites_dir, "upgrade", env=older)
    folder = str(site.folder)
    try:
        before, data = running_images(site.name), content(site.name)
        assert before["web"] == image_id("hakobune/nginx:0.0.1")
        assert server_version(site.name).startswith("10.11.")

        # The folder as a Hakobune of format 4 wrote it (before sites with ports of their own had an acme service,
        # and before the scheduler and metrics: no cron service, no metrics service or image).
        settings = yaml.safe_load((site.folder / "hakobune.yaml").read_text())
        for key in ("acme_image", "cron_jobs", "scheduler", "metrics"):
            del settings["site"][key]
        del settings["site"]["images"]["metrics"]
        (site.folder / "hakobune.yaml").write_text(yaml.safe_dump({**settings, "format": 4}))
        for service in ("cron", "metrics"):
            docker("rm", "-f", f"hb-{site.name}-{service}-1")
            del before[service]
        shown = ok(hb("status", "-C", folder, cwd=sites_dir))
        assert f"folder: format 4, read as format {FORMAT}: 'hakobune upgrade' writes it in format {FORMAT}" in shown, \
            shown
        assert "'hakobune upgrade --dry-run' says what an upgrade does" in shown, shown

        planned = json.loads(ok(hb("upgrade", "--dry-run", "--json", "-C", folder, cwd=sites_dir)))
        assert {m["service"] for m in planned["moves"]} == {"web", "php", "db", "valkey"}, planned
        assert not planned["current"] and running_images(site.name) == before
        text = ok(hb("upgrade", "--dry-run", "-C", folder, cwd=sites_dir))
        assert "mariadb-upgrade" in text and "hakobune/nginx:0.0.1-1 -> hakobune/nginx:" in text, text
        assert f"the site folder from format 4 to {FORMAT}" in text, text
        assert "php: hakobune/php:0.0.1-1 -> " in text and "(beside the running one" in text, text
        assert "(restarted: down meanwhile)" in text, text  # web: ports of its own

        with Load(f"https://localhost:{site.tls_port}", PAGES) as load:
            time.sleep(2)
            out = ok(hb("upgrade", "-C", folder, cwd=sites_dir))
            time.sleep(2)
        with capsys.disabled():  # the figures for the closing note
            print(f"\nupgrade under load: {load.summary()}\n{out}")
        assert load.done > 0

        after = running_images(site.name)
        for service, image in {"web": "nginx", "php": "php", "db": "mariadb", "valkey": "valkey"}.items():
            assert after[service] == image_id(image_refs()[image]) != before[service], service
        assert after["cron"] == after["php"]  # the scheduler came with the new images, and the metrics service
        assert after["metrics"] == image_id(image_refs()["metrics"])
        assert f"metrics: {image_refs()['metrics']}" in text, text
        recorded = yaml.safe_load((site.folder / "hakobune.yaml").read_text())["site"]["images"]
        assert all(ref.startswith(f"hakobune/{name}:{image_refs()[name].split(':')[1]}-")
                   for name, ref in recorded.items()), recorded  # pinned to numbered builds
        # MariaDB 10.11 -> 11.8: the system tables upgraded, every row and checksum as it was.
        assert server_version(site.name).startswith("11.8.")
        assert docker("exec", f"hb-{site.name}-db-1", "cat", "/var/lib/mysql/mariadb_upgrade_info").startswith("11.8.")
        assert content(site.name) == data
        assert "backup made first" in out and "the database was down for at most" in out, out
        assert "checked: front page, login page, a post, page cache" in out, out
        backup = Path(out.split("backup made first: ")[1].split()[0])
        assert backup.is_file()
        shown = json.loads(ok(hb("status", "--json", "-C", folder, cwd=sites_dir)))
        assert shown["images"] == "current" and shown["folder"] == "current", shown
        assert yaml.safe_load((site.folder / "hakobune.yaml").read_text())["format"] == FORMAT
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
        before, data = running_images(site.name), content(site.name)
        files = {name: (site.folder / name).read_text() for name in ("hakobune.yaml", "compose.yaml")}

        def rolled_back(result: subprocess.CompletedProcess[str], reason: str) -> None:
            assert result.returncode == 1, result.stderr
            errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
            assert len(errors) == 1 and "failed and was rolled back" in errors[0] and reason in errors[0], \
                result.stderr
            assert running_images(site.name) == before
            assert {name: (site.folder / name).read_text() for name in files} == files
            assert content(site.name) == data
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
