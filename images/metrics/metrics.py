#!/usr/bin/python3
"""hakobune-metrics: a site's metrics on one port (METRICS_PORT), for the monitoring network alone.

Debian's exporters run as children on the loopback, one per part the site has, and their families are served
again with Hakobune's own (prometheus-client), so Prometheus scrapes one target per site. Each part is named by
a variable set by Hakobune (src/hakobune/render/compose.py); a part without its variable is not watched:

  METRICS_WEB=nginx|httpd  METRICS_WEB_STATUS=URL   the web server's status page (stub_status, mod_status)
  METRICS_FPM=HOST:PORT                            PHP-FPM's status listener (pm.status_listen)
  METRICS_DB=HOST:PORT  METRICS_DB_USER  METRICS_DB_PASSWORD_FILE  [METRICS_DB_TLS=1]
  METRICS_VALKEY=HOST:PORT
  METRICS_TLS=HOST:PORT  METRICS_TLS_NAME=NAME     the certificate the web server presents for NAME
  METRICS_SITE=HOST:PORT  METRICS_SITE_NAME=NAME   the front page, asked of the web server for NAME
  METRICS_BACKUPS=DIR  [METRICS_BACKUP_INTERVAL=SECONDS]   the backups volume, read-only
  METRICS_ACCESS_SOCKET=PATH                       a datagram socket the web server sends its JSON access lines to

`hakobune-metrics health`: healthy when the port takes a connection (when a child ends, the container ends).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cryptography import x509
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families

PORT = int(os.environ.get("METRICS_PORT", "9100"))
USER_AGENT = "hakobune-metrics"  # its requests to the front page, which the request counts leave out
TIMEOUT = 4.0  # each part's own limit, in the background
# How long a scrape waits for the parts that ask something over the network (front page, certificate, PHP-FPM,
# the exporters): below the smallest scrape timeout `monitor up` allows (2 s). A part that is slower then (a
# saturated PHP, a database that does not answer) gives the values of its last finished look, and the scrape is
# still answered: a scrape that timed out would lose every number of the site just when they matter.
BUDGET = 1.0
# The children's own runtime families (go_*, process_*) would be served once per child: left out.
CHILD_NOISE = ("go_", "process_", "promhttp_")
# Seconds buckets for page times: a cached page is answered in a millisecond, PHP's in tens to hundreds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} hakobune-metrics: {message}", file=sys.stderr,
          flush=True)


def children(env: dict[str, str]) -> dict[str, tuple[int, list[str], dict[str, str]]]:
    """Exporter name -> its loopback port, command and extra environment, for the parts the site has."""
    found: dict[str, tuple[int, list[str], dict[str, str]]] = {}
    status = env.get("METRICS_WEB_STATUS", "")
    if env.get("METRICS_WEB") == "nginx" and status:
        found["nginx"] = (9113, ["prometheus-nginx-exporter", "--web.listen-address=127.0.0.1:9113",
                                 f"--nginx.scrape-uri={status}"], {})
    if env.get("METRICS_WEB") == "httpd" and status:
        found["httpd"] = (9117, ["prometheus-apache-exporter", "--web.listen-address=127.0.0.1:9117",
                                 f"--scrape_uri={status}"], {})
    if env.get("METRICS_DB"):
        found["mariadb"] = (9104, ["prometheus-mysqld-exporter", "--web.listen-address=127.0.0.1:9104",
                                   "--config.my-cnf=/run/hakobune/my.cnf",
                                   # What the site's own user may read: no PROCESS, no replication.
                                   "--no-collect.slave_status", "--no-collect.info_schema.innodb_cmp",
                                   "--no-collect.info_schema.innodb_cmpmem",
                                   "--no-collect.info_schema.query_response_time"], {})
    if env.get("METRICS_VALKEY"):
        found["valkey"] = (9121, ["prometheus-redis-exporter", "--web.listen-address=127.0.0.1:9121",
                                  f"--redis.addr=redis://{env['METRICS_VALKEY']}"], {})
    return found


def write_my_cnf(env: dict[str, str]) -> None:
    """The database's address and the site user's password, for mysqld-exporter, in the container's tmpfs."""
    host, _, port = env["METRICS_DB"].rpartition(":")
    password = Path(env["METRICS_DB_PASSWORD_FILE"]).read_text().strip()
    lines = ["[client]", f"host={host}", f"port={port}", f"user={env['METRICS_DB_USER']}", f"password={password}"]
    if env.get("METRICS_DB_TLS") == "1":
        lines.append("ssl=true")
    path = Path("/run/hakobune/my.cnf")
    path.touch(mode=0o600)
    path.write_text("\n".join(lines) + "\n")


class Relayed:
    """The children's families, read at each scrape, and whether each answered (hakobune_exporter_up)."""

    def __init__(self, ports: dict[str, int]) -> None:
        self.ports = ports

    @staticmethod
    def read(name: str, port: int) -> list | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=TIMEOUT) as answer:
                text = answer.read().decode()
            return [f for f in text_string_to_metric_families(text) if not f.name.startswith(CHILD_NOISE)]
        except (OSError, ValueError) as error:
            log(f"{name} exporter: {error}")
            return None

    def collect(self):
        up = GaugeMetricFamily("hakobune_exporter_up", "1 when the exporter of this part answered",
                               labels=["exporter"])
        # All at once: a slow part (a database that does not answer) costs the scrape its own time, not the sum.
        with ThreadPoolExecutor(max_workers=max(len(self.ports), 1)) as pool:
            answers = dict(zip(self.ports, pool.map(self.read, self.ports, self.ports.values()), strict=True))
        for name, families in answers.items():
            up.add_metric([name], 0 if families is None else 1)
            yield from families or []
        yield up


class Bounded:
    """Slow PARTS (collectors), each asked again at every scrape, all at once, waited for until BUDGET: a part
    not done by then is represented by what its last finished look found, and goes on in the background (never
    two looks of a part at once)."""

    def __init__(self, parts: list, budget: float = BUDGET) -> None:
        self.parts, self.budget = parts, budget
        self.last: dict[int, list] = {n: [] for n in range(len(parts))}
        self.looking: dict[int, threading.Thread] = {}
        self.lock = threading.Lock()

    def _look(self, n: int) -> None:
        self.last[n] = list(self.parts[n].collect())

    def collect(self):
        with self.lock:
            for n in range(len(self.parts)):
                if n not in self.looking or not self.looking[n].is_alive():
                    self.looking[n] = threading.Thread(target=self._look, args=(n,), daemon=True)
                    self.looking[n].start()
            looks = list(self.looking.values())
        deadline = time.monotonic() + self.budget
        for look in looks:
            look.join(max(deadline - time.monotonic(), 0))
        for n in range(len(self.parts)):
            yield from self.last[n]


def fpm_status(address: str) -> dict[str, int]:
    """PHP-FPM's pool status (pm.status_path, asked as JSON over FastCGI with Debian's cgi-fcgi)."""
    env = {"SCRIPT_NAME": "/.hakobune/status", "SCRIPT_FILENAME": "/.hakobune/status", "QUERY_STRING": "json",
           "REQUEST_METHOD": "GET", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    answer = subprocess.run(["cgi-fcgi", "-bind", "-connect", address], env=env, capture_output=True,
                            timeout=TIMEOUT, check=True).stdout.decode()
    return json.loads(answer.split("\r\n\r\n", 1)[-1])


FPM_FIELDS = {  # status field -> family, help; a counter where PHP-FPM counts since its start
    "accepted conn": ("phpfpm_accepted_connections", "requests the pool accepted since it started"),
    "listen queue": ("phpfpm_listen_queue", "requests waiting for a free child"),
    "max listen queue": ("phpfpm_max_listen_queue", "the longest the queue has been since the start"),
    "idle processes": ("phpfpm_idle_processes", "children waiting for a request"),
    "active processes": ("phpfpm_active_processes", "children serving a request"),
    "total processes": ("phpfpm_total_processes", "children running"),
    "max active processes": ("phpfpm_max_active_processes", "the most children busy at once since the start"),
    "max children reached": ("phpfpm_max_children_reached", "times a request found every child busy"),
    "slow requests": ("phpfpm_slow_requests", "requests slower than request_slowlog_timeout"),
}


class FpmPool:
    def __init__(self, address: str) -> None:
        self.address = address

    def collect(self):
        up = GaugeMetricFamily("phpfpm_up", "1 when PHP-FPM answered its status request")
        try:
            status = fpm_status(self.address)
        except (OSError, ValueError, subprocess.SubprocessError) as error:
            log(f"PHP-FPM status: {error}")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        for field, (name, help_text) in FPM_FIELDS.items():
            if field in status:
                yield GaugeMetricFamily(name, help_text, value=float(status[field]))


def certificate_expiry(address: str, name: str) -> float:
    """When the certificate the web server presents for NAME expires (seconds since the epoch). Read, not
    trusted: a self-signed one is watched too."""
    host, _, port = address.rpartition(":")
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as raw, \
            context.wrap_socket(raw, server_hostname=name) as tls:
        der = tls.getpeercert(binary_form=True)
    return x509.load_der_x509_certificate(der).not_valid_after_utc.timestamp()


class Certificate:
    def __init__(self, address: str, name: str) -> None:
        self.address, self.name = address, name

    def collect(self):
        family = GaugeMetricFamily("hakobune_certificate_expiry_timestamp_seconds",
                                   "when the certificate the site's web server presents expires", labels=["name"])
        try:
            family.add_metric([self.name], certificate_expiry(self.address, self.name))
        except (OSError, ValueError) as error:
            log(f"certificate of {self.name}: {error}")
        yield family


class FrontPage:
    """The site's front page, asked of its web server as a visitor's request would (the site's name, over TLS):
    up when it answers below 500. Redirects are answers: a site may send its front page elsewhere."""

    def __init__(self, address: str, name: str) -> None:
        self.address, self.name = address, name

    def collect(self):
        host, _, port = self.address.rpartition(":")
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        started, status = time.monotonic(), 0
        try:
            with socket.create_connection((host, int(port)), timeout=TIMEOUT) as raw, \
                    context.wrap_socket(raw, server_hostname=self.name) as tls:
                tls.sendall(f"HEAD / HTTP/1.1\r\nHost: {self.name}\r\nUser-Agent: {USER_AGENT}\r\n"
                            "Connection: close\r\n\r\n".encode())
                status = int(tls.recv(64).split(b" ", 2)[1])
        except (OSError, ValueError, IndexError) as error:
            log(f"front page of {self.name}: {error}")
        yield GaugeMetricFamily("hakobune_site_up", "1 when the front page answers below 500",
                                value=int(0 < status < 500))
        yield GaugeMetricFamily("hakobune_site_probe_seconds", "time to the front page's status line",
                                value=time.monotonic() - started)


class Backups:
    """The newest archive in the backups volume (any backup, scheduled or not) and the scheduled service's last
    run (`.last-run.json`, written by images/ops/backup-schedule.sh)."""

    def __init__(self, folder: str, interval: str) -> None:
        self.folder, self.interval = Path(folder), interval

    def collect(self):
        archives = [p.stat().st_mtime for p in self.folder.glob("*.tar")]
        yield GaugeMetricFamily("hakobune_backup_archives", "archives in the site's backups volume",
                                value=len(archives))
        if archives:
            yield GaugeMetricFamily("hakobune_backup_newest_archive_timestamp_seconds",
                                    "when the newest archive was written", value=max(archives))
        try:
            run = json.loads((self.folder / ".last-run.json").read_text())
            ended, ok = float(run["time"]), bool(run["ok"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        else:
            yield GaugeMetricFamily("hakobune_backup_last_run_timestamp_seconds",
                                    "when the scheduled backup last ran", value=ended)
            yield GaugeMetricFamily("hakobune_backup_last_run_success",
                                    "1 when the scheduled backup's last run wrote its archive", value=int(ok))
        if self.interval:
            yield GaugeMetricFamily("hakobune_backup_interval_seconds",
                                    "the time between two scheduled backups", value=float(self.interval))


class AccessLines:
    """The web server's JSON access lines (the same as its log), sent to a datagram socket as syslog messages:
    requests by status class and page-cache result, and their times."""

    def __init__(self, registry: CollectorRegistry, path: str) -> None:
        self.path = path
        self.requests = Counter("hakobune_http_requests", "requests the web server answered",
                                ["status_class", "cache"], registry=registry)
        self.seconds = Histogram("hakobune_http_request_duration_seconds", "time to answer a request",
                                 buckets=BUCKETS, registry=registry)
        self.upstream = Histogram("hakobune_http_upstream_duration_seconds", "PHP's time, for requests it answered",
                                  buckets=BUCKETS, registry=registry)
        self.unreadable = Counter("hakobune_http_unreadable_lines", "access lines that were not JSON",
                                  registry=registry)
        # The usual series exist from the start at 0: a series that first appears with its first requests
        # counted would hide them from rate() and increase().
        for status_class in ("2xx", "3xx", "4xx", "5xx"):
            for cache in ("HIT", "MISS", "BYPASS", "EXPIRED", "NONE"):
                self.requests.labels(status_class, cache)

    def count(self, message: bytes) -> None:
        try:  # the syslog header ends where the JSON begins
            line = json.loads(message[message.index(b"{"):])
            status, request_ms = int(line["status"]), line["request_ms"]
        except (ValueError, KeyError, TypeError):
            self.unreadable.inc()
            return
        if line.get("user_agent") == USER_AGENT:  # this service's own look at the front page
            return
        self.requests.labels(f"{status // 100}xx", line.get("cache") or "NONE").inc()
        if isinstance(request_ms, (int, float)):
            self.seconds.observe(request_ms / 1000)
        if isinstance(line.get("upstream_ms"), (int, float)):
            self.upstream.observe(line["upstream_ms"] / 1000)

    def serve(self) -> None:
        path = Path(self.path)
        path.unlink(missing_ok=True)
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(self.path)
            path.chmod(0o666)  # the web server's user sends; the volume is shared by the two containers alone
            while True:
                self.count(sock.recv(65536))


def main(env: dict[str, str]) -> int:
    disable_created_metrics()  # a `_created` series beside every counter: noise Prometheus does not use
    registry = CollectorRegistry()
    started = children(env)
    if "mariadb" in started:
        write_my_cnf(env)
    processes = {name: subprocess.Popen(command, env={**os.environ, **extra})
                 for name, (_, command, extra) in started.items()}
    slow: list = [Relayed({name: port for name, (port, _, _) in started.items()})]
    if env.get("METRICS_FPM"):
        slow.append(FpmPool(env["METRICS_FPM"]))
    if env.get("METRICS_TLS"):
        slow.append(Certificate(env["METRICS_TLS"], env.get("METRICS_TLS_NAME", "")))
    if env.get("METRICS_SITE"):
        slow.append(FrontPage(env["METRICS_SITE"], env.get("METRICS_SITE_NAME", "")))
    registry.register(Bounded(slow))
    if env.get("METRICS_BACKUPS"):
        registry.register(Backups(env["METRICS_BACKUPS"], env.get("METRICS_BACKUP_INTERVAL", "")))
    if env.get("METRICS_ACCESS_SOCKET"):
        threading.Thread(target=AccessLines(registry, env["METRICS_ACCESS_SOCKET"]).serve, daemon=True).start()
    start_http_server(PORT, registry=registry)
    log(f"serving on :{PORT}: {', '.join(started) or 'no exporter'}")

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    ended = None
    while not stopping.wait(1):
        ended = next((name for name, process in processes.items() if process.poll() is not None), None)
        if ended:  # the container ends and Docker starts it again, children and all
            log(f"the {ended} exporter ended with {processes[ended].returncode}")
            break
    for process in processes.values():
        process.terminate()
    for process in processes.values():
        process.wait(timeout=10)
    return 1 if ended else 0


def health() -> int:
    """The port takes a connection. (A scrape would ask every part of the site each time.)"""
    try:
        with socket.create_connection(("127.0.0.1", PORT), timeout=TIMEOUT):
            return 0
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(health() if sys.argv[1:] == ["health"] else main(dict(os.environ)))
