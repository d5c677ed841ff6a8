"""Structured access logs on both web servers, read across every site with `logs --all`, and bounded by
rotation: requests with hostile paths and headers are sent to a real nginx site and a real httpd site, and read
back as JSON fields."""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import time
from datetime import datetime

import pytest

from tests.e2e.helpers import HAKOBUNE, client, docker, hb, interruptible, ok, provision_site

pytestmark = pytest.mark.e2e

FIELDS = {"time", "host", "method", "path", "protocol", "status", "bytes", "request_ms", "upstream_ms", "cache",
          "client", "referer", "user_agent"}


@pytest.fixture(scope="module")
def sites(images, sites_dir):
    made = [provision_site(web, sites_dir, prefix="logs") for web in ("nginx", "httpd")]
    yield {site.web: site for site in made}
    for site in made:
        hb("remove", "-y", str(site.folder), cwd=sites_dir)


def requests_logged(sites_dir, marker: str, *args: str) -> list[dict]:
    """The lines of every site that carry MARKER, as `logs --all --json` gives them."""
    found = ok(hb("logs", "--all", "web", "--since", "10m", "--grep", marker, "--json", *args, cwd=sites_dir))
    return [json.loads(line) for line in found.splitlines()]


def test_access_lines_are_json_with_every_field_on_both_web_servers(sites, sites_dir):
    marker = secrets.token_hex(4)
    hostile_agent = f'{marker} "quoted" \\back\\slash <script>'
    with client() as http:
        for site in sites.values():
            # a query variable WordPress ignores: "?p=" named a missing post when the marker began with 2-9
            for _ in range(2):  # twice: a query string is never cached, so both are BYPASS on nginx
                http.get(f"{site.url}/?hb={marker}%22%01%0a", headers={"User-Agent": hostile_agent,
                                                                        "Referer": "https://elsewhere.example/"})
            http.post(f"{site.url}/wp-login.php", headers={"User-Agent": hostile_agent}, data={"log": "x"})
            http.get(f"{site.url}/wp-content/{marker}-missing.png", headers={"User-Agent": hostile_agent})
    lines = requests_logged(sites_dir, marker)
    by_site = {web: [line for line in lines if line["site"] == site.name] for web, site in sites.items()}
    assert [line["time"] for line in lines] == sorted(line["time"] for line in lines)  # merged in time order
    for web in sites:
        records = [line["request"] for line in by_site[web]]
        assert len(records) == 4, by_site[web]
        assert all(set(record) == FIELDS for record in records)
        page, _, login, missing = records
        # the path as the visitor sent it, still percent-encoded, before any rewrite
        assert page["path"] == f"/?hb={marker}%22%01%0a"
        assert page["method"] == "GET" and page["status"] == 200 and page["bytes"] > 1000
        assert page["protocol"] == "HTTP/2.0" and page["host"] == "localhost"
        assert page["user_agent"] == hostile_agent and page["referer"] == "https://elsewhere.example/"
        logged = datetime.fromisoformat(by_site[web][0]["time"][:26] + "Z")  # docker's clock, to the microsecond
        assert abs((datetime.fromisoformat(page["time"]) - logged).total_seconds()) < 5
        assert isinstance(page["request_ms"], int) and page["client"].count(".") == 3
        assert login["method"] == "POST" and login["path"] == "/wp-login.php"
        assert missing["status"] == 404
        if web == "nginx":
            # a query string, a POST: never cached; a missing file is WordPress's 404, never stored
            assert [record["cache"] for record in records] == ["BYPASS", "BYPASS", "BYPASS", "MISS"]
            assert all(isinstance(record["upstream_ms"], int) for record in records)
        else:  # httpd has no page cache and does not time PHP apart
            assert {record["cache"] for record in records} == {""}
            assert {record["upstream_ms"] for record in records} == {None}


def test_the_page_cache_s_word_and_php_s_time_are_logged(sites, sites_dir):
    marker = secrets.token_hex(4)
    ok(hb("cache", "clear", cwd=sites["nginx"].folder))
    with client() as http:
        for _ in range(2):
            http.get(f"{sites['nginx'].url}/hello-world/", headers={"User-Agent": marker})
    miss, hit = (line["request"] for line in requests_logged(sites_dir, marker, "--tail", "50"))
    assert (miss["cache"], hit["cache"]) == ("MISS", "HIT")
    assert miss["status"] == hit["status"] == 200
    assert isinstance(miss["upstream_ms"], int) and hit["upstream_ms"] is None  # the HIT never reached PHP


def test_healthchecks_are_not_logged(sites):
    for site in sites.values():
        text = ok(hb("logs", "web", "--since", "1m", cwd=site.folder))
        assert "/.hakobune/ping" not in text


def test_following_every_site_shows_new_lines_and_ends_on_ctrl_c(sites, sites_dir):
    marker = secrets.token_hex(4)
    proc = subprocess.Popen([str(HAKOBUNE), "logs", "--all", "-f", "--tail", "0", "--grep", marker],
                            cwd=sites_dir, preexec_fn=interruptible,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3)  # each container's docker logs attaches
        with client() as http:
            for site in sites.values():
                http.get(f"{site.url}/?followed={marker}")
        seen: set[str] = set()
        deadline = time.monotonic() + 60
        while seen != {site.name for site in sites.values()}:
            assert time.monotonic() < deadline, f"only {seen} showed in the followed log"
            line = proc.stdout.readline()
            label, _, rest = line.partition(" | ")
            assert f"followed={marker}" in rest
            seen.add(label.strip().split("/")[0])
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
    assert code == 0, proc.stderr.read()
    containers = {c for site in sites.values()
                  for c in docker("ps", "-q", "--no-trunc", "--filter", f"label=io.hakobune.site={site.name}").split()}
    followers = subprocess.run(["pgrep", "-af", "logs --timestamps --follow"], capture_output=True, text=True,
                               check=False).stdout.splitlines()
    assert not [line for line in followers if line.split()[-1] in containers]  # no docker logs left behind


def test_every_container_s_log_is_bounded_by_rotation(sites):
    for site in sites.values():
        for container in docker("ps", "-q", "--filter", f"label=io.hakobune.site={site.name}").split():
            config = json.loads(docker("inspect", "--format", "{{json .HostConfig.LogConfig}}", container))
            assert config == {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}}


@pytest.mark.parametrize(("args", "message"), [
    (["logs", "--all", "--grep", "GET ("],
     "error: --grep 'GET (' is not a regular expression: missing ), unterminated subpattern at position 4 "
     "(hint: quote it for the shell; a plain word matches itself)"),
    (["logs", "--all", "-C", "."], "error: -C and --all cannot be used together (hint: --all shows every site on "
                                   "the engine)"),
    (["logs", "--all", "--since", "last week"],
     "error: --since 'last week' is not a time (hint: a duration such as 10m or 2h, or a time such as "
     "2026-01-31T10:00:00)"),
    (["logs", "--all", "dbb"], "error: unknown service 'dbb' (hint: did you mean db?)"),
    (["edge", "logs", "--tail", "-5"], "error: --tail '-5' must be a number of lines or 'all'"),
])
def test_bad_log_requests_are_one_line(sites_dir, args, message):
    result = hb(*args, cwd=sites_dir)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [message]
    assert result.stdout == ""
