"""The monitoring stack on a real engine (`hakobune monitor`): it finds a site by its labels, every shipped alert
fires when its condition is caused and resolves when it ends (seen at a webhook and an SMTP receiver the test
runs), the Docker API is reachable read-only and only by its proxy, the page lists the site in a real browser, and
`top` shows it. One plain PHP site on httpd carries every condition (its PHP, database, backups, certificate and
containers are what a WordPress site has; tests/e2e/test_metrics.py reads both web servers' numbers). Short windows
and holds, given to `monitor up`, keep the waits to seconds."""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hakobune.render.monitor import STACK_LABEL
from hakobune.site import MONITOR_NETWORK
from hakobune.versions import image_refs as refs
from tests.e2e.helpers import NOTHING, client, docker, free_port, hb, leftovers, ok, site_name
from tests.helpers import TestPKI

pytestmark = pytest.mark.e2e

# Every POST it is sent, as one JSON line on its standard output (read with docker logs); and every e-mail sent to
# its SMTP port, as one line "MAIL <subject>".
HOOK_SERVER = r"""
import http.server, socketserver, sys, threading
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        print(body.decode().replace("\n", " "), flush=True)
        self.send_response(200); self.end_headers()
    def log_message(self, *args): pass
class Mail(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"220 hook ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                subject = ""
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    if data.lower().startswith(b"subject:"):
                        subject = data.decode(errors="replace").strip()[8:].strip()
                print("MAIL " + subject, flush=True)
                self.wfile.write(b"250 kept\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n"); return
            elif verb == b"EHLO":
                self.wfile.write(b"250 hook\r\n")
            else:
                self.wfile.write(b"250 ok\r\n")
socketserver.ThreadingTCPServer.allow_reuse_address = True
threading.Thread(target=socketserver.ThreadingTCPServer(("", 2525), Mail).serve_forever, daemon=True).start()
http.server.ThreadingHTTPServer(("", 8000), Hook).serve_forever()
"""
SLOW_PHP = "<?php usleep(2500000); echo 'slow';"
ERROR_PHP = "<?php http_response_code(500); echo 'failed';"
ALERT_TIMEOUT = 240


class Hook:
    """The receiver: a container on the monitoring network that Alertmanager posts and mails to."""

    def __init__(self) -> None:
        self.name = f"hbtest-hook-{secrets.token_hex(3)}"
        self.url = f"http://{self.name}:8000/alerts"

    def start(self) -> None:
        docker("run", "-d", "--name", self.name, "--network", MONITOR_NETWORK, "--entrypoint", "python3",
               refs()["metrics"], "-c", HOOK_SERVER)

    def lines(self) -> list[str]:
        return subprocess.run(["docker", "logs", self.name], capture_output=True, text=True,
                              check=True).stdout.splitlines()

    def mails(self) -> list[str]:
        """The subjects of the e-mails received so far."""
        return [line[5:] for line in self.lines() if line.startswith("MAIL ")]

    def seen(self, since: int = 0) -> set[tuple[str, str, str]]:
        """(status, alertname, site or mountpoint) of every alert posted after the first SINCE lines."""
        found = set()
        for line in self.lines()[since:]:
            if not line.startswith("{"):
                continue
            with contextlib.suppress(ValueError):
                for alert in json.loads(line).get("alerts", []):
                    labels = alert["labels"]
                    found.add((alert["status"], labels["alertname"],
                               labels.get("site") or labels.get("mountpoint", "")))
        return found

    def wait(self, status: str, expected: set[tuple[str, str]], since: int = 0,
             timeout: float = ALERT_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            have = {(name, where) for state, name, where in self.seen(since) if state == status}
            if expected <= have:
                return
            assert time.monotonic() < deadline, (f"not {status} in {timeout} s: {sorted(expected - have)}\n"
                                                 f"{prometheus_says()}")
            time.sleep(2)

    def remove(self) -> None:
        subprocess.run(["docker", "rm", "-f", self.name], capture_output=True, check=False)


def prometheus_says() -> str:
    """What Prometheus holds now, for a failure's message: each target's scrape, and the request counts."""
    asked = ['up{job="hakobune-sites"}', 'scrape_duration_seconds{job="hakobune-sites"}',
             "hakobune_http_requests_total > 0", "ALERTS"]
    return "\n".join(subprocess.run(["docker", "exec", "hakobune-monitoring-prometheus-1", "promtool", "query",
                                     "instant", "http://127.0.0.1:9090", q], capture_output=True, text=True,
                                    check=False).stdout for q in asked)


@pytest.fixture(scope="module")
def disk() -> Iterator[Path]:
    """A small filesystem on the engine's host, mounted before the stack starts so that its node exporter sees
    it: the disk the test fills."""
    path = Path(f"/mnt/hakobune-e2e-{secrets.token_hex(3)}")
    path.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(path)], check=True)
    yield path
    subprocess.run(["umount", str(path)], check=False)
    path.rmdir()


@dataclass
class Lamp:
    name: str
    folder: Path
    url: str


@pytest.fixture(scope="module")
def site(images, sites_dir):
    """A plain PHP site on httpd whose PHP has two children, with a slow page and a failing one."""
    name, tls_port = site_name("mon"), free_port()
    ok(hb("provision", "--lamp", "--httpd", "--fqdn", "localhost", "--http-port", str(free_port()),
          "--tls-port", str(tls_port), name, cwd=sites_dir))
    made = Lamp(name, sites_dir / name, f"https://localhost:{tls_port}")
    app = sites_dir / f"{name}-app"
    app.mkdir()
    (app / "slow.php").write_text(SLOW_PHP)
    (app / "error.php").write_text(ERROR_PHP)
    ok(hb("deploy-files", str(app), cwd=made.folder))
    ok(hb("config", "set", "PHP_FPM_MAX_CHILDREN=2", cwd=made.folder))
    yield made
    ok(hb("remove", "-y", name, cwd=sites_dir))
    assert leftovers(name) == NOTHING


@pytest.fixture(scope="module")
def stack(images, site, disk, sites_dir):
    ports = (free_port(), free_port())
    hook = Hook()
    out = ok(hb("monitor", "up", "--port", str(ports[0]), "--alertmanager-port", str(ports[1]),
                "--scrape-interval", "2s", "--alert-window", "30s", "--alert-hold", "10s",
                "--alert-hold-short", "10s", "--group-wait", "1s", "--group-interval", "5s",
                "--webhook", hook.url, "--email", "ops@example.com", "--smtp-host", hook.name, "--smtp-port",
                "2525", "--no-smtp-tls", "--smtp-from", "alerts@example.com",
                "--recreate", cwd=sites_dir, timeout=600))  # its node exporter sees the disk mounted just now
    assert f"http://127.0.0.1:{ports[0]}/consoles/hakobune.html" in out
    hook.start()  # on the monitoring network, which `monitor up` made if it was missing
    yield ports[0], hook
    hook.remove()
    ok(hb("monitor", "down", "--purge", cwd=sites_dir))
    assert docker("ps", "-aq", "--filter", f"label={STACK_LABEL}") == ""
    assert docker("volume", "ls", "-q", "--filter", f"label={STACK_LABEL}") == ""


def stack_things() -> list[str]:
    return [line for kind in (["ps", "-aq"], ["volume", "ls", "-q"], ["network", "ls", "-q"])
            for line in docker(*kind, "--filter", f"label={STACK_LABEL}").split()]


@pytest.mark.parametrize(("args", "message"), [
    (["--webhook", "javascript:alert(1)"], "error: --webhook 'javascript:alert(1)' is not an http or https URL"),
    (["--retention", "15d; rm -rf /"], "error: --retention '15d; rm -rf /' is not a duration"),
    (["--scrape-interval", "1s"], "error: --scrape-interval '1s' is too short"),
    (["--email", "ops@example.com"], "error: --email needs an SMTP server to send through"),
    (["--port", "9090", "--alertmanager-port", "9090"], "error: --port and --alertmanager-port are both 9090"),
    (["--smtp-host", "mail.example.com\nX-Injected: 1"],
     "error: --smtp-host 'mail.example.com\\nX-Injected: 1' is not a host name"),
    (["--smtp-password-file", "/nonexistent"], "error: --smtp-password-file /nonexistent cannot be read"),
])
def test_hostile_options_are_refused_before_anything_is_made(images, sites_dir, args, message):
    before = stack_things()
    result = hb("monitor", "up", *args, cwd=sites_dir)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert stack_things() == before


def healthy(container: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while docker("inspect", "--format", "{{.State.Health.Status}}", container).strip() != "healthy":
        assert time.monotonic() < deadline, f"{container} not healthy in {timeout} s"
        time.sleep(1)


def site_read(sites_dir: Path, name: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status = json.loads(ok(hb("monitor", "status", "--json", cwd=sites_dir)))
        if any(s["site"] == name and s["up"] for s in status["sites"]) or time.monotonic() > deadline:
            return status
        time.sleep(2)


def test_the_stack_is_healthy_finds_the_site_and_keeps_the_engines_socket_out_of_reach(stack, site, sites_dir):
    status = site_read(sites_dir, site.name)
    assert status["running"] is True
    assert {s["service"]: s["health"] for s in status["services"]} == {
        "docker-proxy": "healthy", "containers": "healthy", "node": "healthy", "prometheus": "healthy",
        "alertmanager": "healthy"}
    assert {"site": site.name, "up": True} in status["sites"]
    # Only the proxy has the socket, read-only; the stack runs hardened.
    for cid in docker("ps", "-q", "--filter", f"label={STACK_LABEL}").split():
        item = json.loads(docker("inspect", cid))[0]
        sockets = [m for m in item["Mounts"] if m["Destination"].endswith("docker.sock")]
        service = item["Config"]["Labels"]["com.docker.compose.service"]
        assert [m["RW"] for m in sockets] == ([False] if service == "docker-proxy" else []), service
        assert item["HostConfig"]["ReadonlyRootfs"] is True and item["HostConfig"]["CapDrop"] == ["ALL"]
        assert item["HostConfig"]["Privileged"] is False
    # What the proxy passes on, asked from inside its network as the stack's parts ask it.
    probe = ("import sys, urllib.request, urllib.error\n"
             "for method, path in [a.split(' ', 1) for a in sys.argv[1:]]:\n"
             "    try: code = urllib.request.urlopen(urllib.request.Request('http://docker-proxy:2375' + path, "
             "method=method), timeout=10).status\n"
             "    except urllib.error.HTTPError as e: code = e.code\n    print(method, path, code)")
    asked = ["GET /containers/json", "GET /v1.41/containers/json?all=1", "GET /_ping",
             "POST /containers/create", "POST /v1.41/containers/prune", "DELETE /containers/hbtest",
             "GET /images/json", "GET /secrets", "GET /containers/json/../../images/json",
             "POST /v1.41/exec/abc/start", "GET /v1.41/containers/0123456789ab/logs",
             "GET /v1.41/containers/0123456789ab/archive?path=/", "GET /v1.41/events"]
    answers = docker("run", "--rm", "--network", "hakobune-monitoring_inner", "--entrypoint", "python3",
                     refs()["monitor"], "-c", probe, *asked).splitlines()
    codes = {line.rsplit(" ", 1)[0]: int(line.rsplit(" ", 1)[1]) for line in answers}
    assert [codes[a] for a in asked[:3]] == [200, 200, 200]
    assert all(codes[a] == 403 for a in asked[3:]), codes


def test_a_site_made_later_is_found_and_a_site_removed_is_forgotten_without_a_restart(stack, sites_dir):
    started = docker("inspect", "--format", "{{.State.StartedAt}}", "hakobune-monitoring-prometheus-1")
    name = site_name("mon-later")
    ok(hb("provision", "--lamp", "--fqdn", "localhost", "--http-port", str(free_port()), "--tls-port",
          str(free_port()), name, cwd=sites_dir))
    try:
        assert {"site": name, "up": True} in site_read(sites_dir, name)["sites"]
    finally:
        ok(hb("remove", "-y", name, cwd=sites_dir))
    deadline = time.monotonic() + 60
    while any(s["site"] == name for s in json.loads(ok(hb("monitor", "status", "--json", cwd=sites_dir)))["sites"]):
        assert time.monotonic() < deadline, f"{name} still watched a minute after it was removed"
        time.sleep(2)
    assert docker("inspect", "--format", "{{.State.StartedAt}}", "hakobune-monitoring-prometheus-1") == started


def test_the_rules_pass_promtools_own_tests(stack):
    ran = subprocess.run(["docker", "run", "--rm", "--read-only", "--tmpfs", "/run/hakobune:uid=103,gid=103",
                          refs()["monitor"], "test-rules"], capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "SUCCESS" in ran.stdout + ran.stderr


def _load(url: str, seconds: float) -> list[int]:
    """Slow and failing requests from 5 clients at once for SECONDS (bounded): more than two PHP children can
    take."""
    codes: list[int] = []
    stop = time.monotonic() + seconds

    def worker(path: str) -> None:
        with client(timeout=60) as http:
            while time.monotonic() < stop:
                codes.append(http.get(f"{url}/{path}").status_code)

    threads = [threading.Thread(target=worker, args=(p,)) for p in ("slow.php",) * 4 + ("error.php",)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return codes


def test_every_shipped_alert_fires_when_caused_and_resolves_when_it_ends(stack, site, disk, sites_dir, tmp_path):
    _, hook = stack
    site_read(sites_dir, site.name)
    expected = {(alert, site.name) for alert in (
        "DatabaseDown", "BackupFailed", "BackupLate", "CertificateExpiring", "ContainerRestarting",
        "PhpFpmSaturated", "SlowResponses", "ServerErrors", "CertificateRenewalFailing")} | {
        ("DiskFilling", str(disk))}
    pki = TestPKI(tmp_path)
    short = pki.leaf("short", "localhost", days=(-1, 10))

    # Caused: the database stopped, a scheduled backup run failing against it, the newest archive three hours
    # old on an hourly schedule, a certificate with ten days left, a renewal from a CA that does not answer (a
    # port of the acme service's own loopback), a container killed, a disk 90% full, and more slow and failing
    # requests than PHP can take.
    ok(hb("backup", "--on-host", cwd=site.folder))
    ok(hb("backup", "schedule", "hourly", cwd=site.folder))
    docker("run", "--rm", "--user", "0", "-v", f"hb-{site.name}_backups:/srv/backups", "--entrypoint", "sh",
           refs()["ops"], "-c", "touch -d '3 hours ago' /srv/backups/*.tar")
    ok(hb("cert", "install", "--cert", str(short), "--key", str(short.with_suffix(".key")), cwd=site.folder))
    renewal = hb("cert", "issue", "--email", "ops@example.com", "--acme-directory", "https://127.0.0.1:9/dir",
                 cwd=site.folder)
    assert renewal.returncode == 1 and "not obtained" in renewal.stderr, renewal.stderr
    docker("stop", f"hb-{site.name}-db-1")
    docker("kill", "--signal", "USR1", f"hb-{site.name}-backup-1")
    # Its MariaDB exporter ends: so does the metrics container, which the engine starts again.
    docker("exec", f"hb-{site.name}-metrics-1", "python3", "-c",
           "import os, signal\nfor p in filter(str.isdigit, os.listdir('/proc')):\n"
           "    if open(f'/proc/{p}/cmdline', 'rb').read().split(b'\\0')[0].endswith(b'mysqld-exporter'):\n"
           "        os.kill(int(p), signal.SIGTERM)")
    (disk / "filler").write_bytes(b"\0" * (7 * 2**20 + 2**19))
    codes = _load(site.url, 45)
    assert 500 in codes and 200 in codes
    hook.wait("firing", expected)
    # By e-mail too: one per group (alert and site).
    subjects = hook.mails()
    assert any("FIRING" in s and "DatabaseDown" in s and site.name in s for s in subjects), subjects

    # Ended: everything put back; a certificate of the site's own ends its renewals.
    docker("start", f"hb-{site.name}-db-1")
    healthy(f"hb-{site.name}-db-1")
    docker("kill", "--signal", "USR1", f"hb-{site.name}-backup-1")
    long = pki.leaf("long", "localhost")
    ok(hb("cert", "install", "--cert", str(long), "--key", str(long.with_suffix(".key")), cwd=site.folder))
    (disk / "filler").unlink()
    hook.wait("resolved", expected)
    ok(hb("backup", "schedule", "off", cwd=site.folder))

    # A site whose web server stops is down, and up again when it starts.
    mark = len(hook.lines())
    docker("stop", f"hb-{site.name}-web-1")
    hook.wait("firing", {("SiteDown", site.name)}, since=mark)
    docker("start", f"hb-{site.name}-web-1")
    hook.wait("resolved", {("SiteDown", site.name)}, since=mark)


def test_top_shows_the_site_with_its_numbers(stack, site, sites_dir):
    with client() as http:
        for _ in range(5):
            http.get(f"{site.url}/")
    time.sleep(6)  # three scrapes
    rows = {row["site"]: row for row in json.loads(ok(hb("top", "--once", "--json", cwd=sites_dir)))["sites"]}
    now = rows[site.name]
    assert now["up"] is True and now["requests_per_second"] > 0 and now["memory_bytes"] > 50 * 2**20
    assert now["php_children"] >= 1 and now["cpu_cores"] is not None
    table = ok(hb("top", "--once", cwd=sites_dir))
    assert site.name in table and "PHP busy/children" in table


def test_the_page_lists_the_site_in_a_real_browser(stack, site, tmp_path):
    port, _ = stack
    browser = shutil.which("chromium")
    assert browser, "Debian's chromium is needed (make e2e installs it)"
    url = f"http://127.0.0.1:{port}/consoles/hakobune.html"
    headless = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000"]
    dom = subprocess.run([*headless, "--dump-dom", url], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    assert f'data-site="{site.name}"' in dom and f'id="requests-{site.name}"' in dom
    assert "<svg" in dom  # the graphs were drawn, from Prometheus's API, by the page's scripts
    shot = tmp_path / "page.png"
    subprocess.run([*headless, "--window-size=1400,1000", f"--screenshot={shot}", url], capture_output=True,
                   timeout=120, check=True)
    assert shot.stat().st_size > 10_000
