"""A site's metrics, read as Prometheus reads them (from a container on the engine's monitoring network): every
part of a real stack is measured on both web servers, the numbers follow real requests and a real backup, and
nothing of it is reachable from outside."""

from __future__ import annotations

import json
import re
import time

import pytest

from hakobune.site import MONITOR_NETWORK
from hakobune.versions import image_refs as refs
from tests.e2e.helpers import client, docker, hb, leftovers, ok, provision_site

pytestmark = pytest.mark.e2e

NOTHING = {"containers": [], "volumes": [], "networks": []}
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$")
READ = "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())"


def scrape(name: str) -> dict[str, float]:
    """The site's metrics: each sample as `name{labels}` (labels sorted) -> value."""
    text = docker("run", "--rm", "--network", MONITOR_NETWORK, "--entrypoint", "python3", refs()["metrics"], "-c",
                  READ, f"http://hb-{name}-metrics-1:9100/metrics")
    samples = {}
    for line in text.splitlines():
        found = _SAMPLE.match(line)
        if found:
            labels = ",".join(sorted(re.findall(r'[a-z_]+="[^"]*"', found[2] or "")))
            samples[f"{found[1]}{{{labels}}}" if labels else found[1]] = float(found[3])
    return samples


def wait_for_requests(name: str, at_least: float) -> dict[str, float]:
    deadline = time.monotonic() + 30
    while True:
        samples = scrape(name)
        counted = sum(v for k, v in samples.items() if k.startswith("hakobune_http_requests_total"))
        if counted >= at_least or time.monotonic() > deadline:
            return samples
        time.sleep(1)


@pytest.fixture(scope="module", params=["nginx", "httpd"])
def site(request, images, sites_dir):
    made = provision_site(request.param, sites_dir, prefix="metrics")
    yield made
    ok(hb("remove", "-y", str(made.folder), cwd=sites_dir))
    assert leftovers(made.name) == NOTHING


def test_every_part_of_the_site_is_measured_and_follows_its_requests(site):
    before = scrape(site.name)
    with client() as http:
        pages = [http.get(f"{site.url}/").status_code for _ in range(3)]
        missing = http.get(f"{site.url}/no-such-page-{site.name}/").status_code
    assert pages == [200, 200, 200] and missing == 404
    counted = sum(v for k, v in before.items() if k.startswith("hakobune_http_requests_total"))
    samples = wait_for_requests(site.name, counted + 4)

    web = {"nginx": "nginx", "httpd": "httpd"}[site.web]
    for exporter in (web, "mariadb", "valkey"):
        assert samples[f'hakobune_exporter_up{{exporter="{exporter}"}}'] == 1, exporter
    # The exporter's own families, read from the status page (its `_up` says only that the exporter answered).
    if site.web == "nginx":
        assert samples["nginx_up"] == 1 and samples["nginx_http_requests_total"] > 0
    else:
        assert samples["apache_up"] == 1 and samples["apache_accesses_total"] > 0
        assert samples.get("apache_exporter_scrape_failures_total", 0) == 0
    assert samples["mysql_up"] == 1 and samples["redis_up"] == 1
    assert samples["mysql_global_status_queries"] > 0 and "redis_keyspace_hits_total" in samples
    assert samples["phpfpm_up"] == 1 and samples["phpfpm_total_processes"] >= 1
    assert samples["phpfpm_accepted_connections"] >= 1 and "phpfpm_max_children_reached" in samples

    def count(**labels: str) -> float:
        key = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        return samples.get(f"hakobune_http_requests_total{{{key}}}", 0) - before.get(
            f"hakobune_http_requests_total{{{key}}}", 0)

    if site.web == "nginx":  # the page cache answers the second and third
        assert count(status_class="2xx", cache="HIT") >= 2
        assert count(status_class="4xx", cache="MISS") + count(status_class="4xx", cache="BYPASS") >= 1
        assert samples["hakobune_http_upstream_duration_seconds_count"] >= 1
    else:
        assert count(status_class="2xx", cache="NONE") >= 3 and count(status_class="4xx", cache="NONE") >= 1
    assert samples["hakobune_http_request_duration_seconds_count"] >= 4
    expiry = samples['hakobune_certificate_expiry_timestamp_seconds{name="localhost"}']
    assert expiry > time.time() + 30 * 86400  # the self-signed certificate, valid for years
    assert samples.get("hakobune_http_unreadable_lines_total", 0) == 0


def test_the_last_backup_is_measured(site):
    ok(hb("backup", "--on-host", cwd=site.folder))  # kept in the site's backups volume, which it reads
    samples = scrape(site.name)
    assert samples["hakobune_backup_archives"] >= 1
    assert time.time() - samples["hakobune_backup_newest_archive_timestamp_seconds"] < 600


def test_nothing_of_the_metrics_is_reachable_from_outside(site):
    metrics = json.loads(docker("inspect", f"hb-{site.name}-metrics-1"))[0]
    assert not metrics["HostConfig"]["PortBindings"] and not metrics["NetworkSettings"]["Ports"].get("9100/tcp")
    assert set(metrics["NetworkSettings"]["Networks"]) == {f"hb-{site.name}_site", MONITOR_NETWORK}
    # PHP-FPM's status and the web server's status page answer the metrics service alone, never a visitor.
    with client() as http:
        for path in ("/.hakobune/status", "/.hakobune/status?json", "/status", "/server-status",
                     "/index.php/.hakobune/status"):
            answer = http.get(f"{site.url}{path}")
            assert "accepted conn" not in answer.text and "Active connections" not in answer.text, path
            assert "Total Accesses" not in answer.text and "Scoreboard" not in answer.text, path
