"""`hakobune upgrade --all` on real sites. It acts on every site on the engine, so this file runs alone, after the
other end-to-end tests (marker `serial`, `make e2e`'s second step): three sites made with older builds go one
after another by name; a site that cannot be upgraded (stopped) stops the rest with one line that names what was
done, and a second run finishes them, the site already upgraded left as it is."""

from __future__ import annotations

import json
import os

import pytest

from hakobune.versions import image_refs
from tests.e2e.helpers import NOTHING, client, hb, image_id, leftovers, ok, provision_site
from tests.e2e.upgrading import content, image_set, running_images

pytestmark = [pytest.mark.e2e, pytest.mark.serial]

IMAGES = {"web": None, "php": "php", "db": "mariadb", "valkey": "valkey", "cron": "php", "metrics": "metrics"}


@pytest.fixture(scope="module")
def older(images, tmp_path_factory):
    yield from image_set("0.0.3", tmp_path_factory.mktemp("older"))


def on_the_engine(sites_dir) -> set[str]:
    return {entry["site"] for entry in json.loads(ok(hb("list", "--json", cwd=sites_dir)))}


def newest(site) -> dict[str, str]:
    return {service: image_id(image_refs()[image or site.web]) for service, image in IMAGES.items()}


def test_every_site_goes_by_name_and_a_site_that_cannot_stops_the_rest(older, sites_dir):
    assert int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) == 1, \
        "upgrade --all acts on every site on the engine: run this file alone (make e2e runs it after the others)"
    assert on_the_engine(sites_dir) == set(), "upgrade --all would act on the sites already on this engine"
    sites = []
    try:
        for letter, web in (("a", "nginx"), ("b", "httpd"), ("c", "nginx")):
            sites.append(provision_site(web, sites_dir, f"all-{letter}", env=older))
        a, b, c = sites
        before = {site.name: running_images(site.name) for site in sites}
        data = {site.name: content(site.name) for site in sites}

        planned = json.loads(ok(hb("upgrade", "--all", "--dry-run", "--json", cwd=sites_dir)))
        assert [p["site"] for p in planned] == [a.name, b.name, c.name], planned
        assert not any(p["current"] for p in planned) and all(p["backup"] for p in planned), planned
        assert {site.name: running_images(site.name) for site in sites} == before

        ok(hb("stop", "-C", str(b.folder), cwd=sites_dir))
        failed = hb("upgrade", "--all", "--no-backup", cwd=sites_dir)
        assert failed.returncode == 1, failed.stderr
        errors = [line for line in failed.stderr.splitlines() if line.startswith("error:")]
        assert errors == [f"error: {b.name}: site {b.name} is not running; the sites after it were not touched "
                          f"(upgraded before it: {a.name}) (hint: start it with: hakobune start)"], failed.stderr
        assert f"Upgraded {a.name}: " in failed.stdout, failed.stdout
        assert running_images(a.name) == newest(a)
        assert running_images(c.name) == before[c.name]

        ok(hb("start", "-C", str(b.folder), cwd=sites_dir))
        out = ok(hb("upgrade", "--all", cwd=sites_dir))
        assert f"{a.name}: current" in out, out
        for site in (b, c):
            assert f"Upgraded {site.name}: " in out and "backup made first:" in out, out
        for site in sites:
            assert running_images(site.name) == newest(site), site.name
            assert content(site.name) == data[site.name], site.name
            with client() as http:
                page = http.get(f"https://localhost:{site.tls_port}/")
                assert page.status_code == 200 and site.title in page.text, site.name
        again = json.loads(ok(hb("upgrade", "--all", "--dry-run", "--json", cwd=sites_dir)))
        assert [p["current"] for p in again] == [True, True, True], again
    finally:
        removed = [hb("remove", "-y", str(site.folder), cwd=sites_dir) for site in sites]
    assert all(result.returncode == 0 for result in removed), [result.stderr for result in removed]
    assert all(leftovers(site.name) == NOTHING for site in sites)
