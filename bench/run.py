"""`make bench`: Hakobune's stack against what a user would otherwise run, side by side on one machine in one run.

Contenders, all serving the same WordPress content (generated posts, pages and comments, the default theme):
  A  this stack, page cache off        B  this stack, page cache on
  C  a static file of B's response size, from the same web container (B's ceiling)
  D  a stock container stack: Debian's nginx, php-fpm and MariaDB, packaged defaults, one container each
  E  a tightly coupled LAMP server: Apache prefork, mod_php and MariaDB in one container, packaged defaults
  F  B through the engine's shared edge (HAProxy: TLS there, plain HTTP on to B's web container)
  G  B through a bare TCP relay (HAProxy in TCP mode, splicing; TLS passed through to B's web server): not a
     design, the floor under what any proxy in the path costs, so that F's ratio can be read against it

Each is loaded from a container on its own network (the same path for every contender), over HTTPS: HTTP/2
with h2load and HTTP/1.1 with wrk, at fixed concurrency levels for a fixed time, with as many threads as the
machine has cores (at most one per connection): one thread stopped near 3,000 req/s, below what B serves. The
contenders are measured in turn at each point, over several rounds (bench/stats.py says why). Results:
bench/results/*.json, the tables and chart in docs/performance.md. Nothing here is a test; nothing asserts a time."""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from stats import summary, targets  # bench/stats.py: medians over the rounds, and the targets

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
LABEL = "io.hakobune.bench=1"
FQDN = "bench.test"
DB_PASSWORD = "bench-db-" + secrets.token_hex(8)
IMAGES = {target: f"hakobune-bench/{target}:latest" for target in
          ("stock-nginx", "stock-php", "stock-mariadb", "lamp", "load")}


def sh(*args: str, input: bytes | str | None = None, check: bool = True, timeout: float = 1800) -> str:
    result = subprocess.run(args, input=input.encode() if isinstance(input, str) else input,
                            capture_output=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:6])}... failed: {result.stderr.decode(errors='replace')[-2000:]}")
    return result.stdout.decode(errors="replace")


def compose(site: Path, *args: str, input: bytes | str | None = None) -> str:
    """Compose in the site's folder, found as Hakobune finds it (the plugin, or a docker-compose binary)."""
    from hakobune.engine import Engine

    return sh(*Engine().compose_command(), "--project-directory", str(site), *args, input=input)


def hakobune(*args: str, cwd: Path) -> str:
    return sh(str(Path(sys.executable).parent / "hakobune"), *args, "-C", str(cwd)) if cwd.exists() else ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Target:
    """Where the load generator sends requests: a container on NETWORK, by its URL inside that network."""

    name: str
    network: str
    base: str  # e.g. https://web:8443
    containers: list[str] = field(default_factory=list)
    add_host: str = ""  # NAME:ADDRESS for the load container: the edge is asked by the site's name (SNI)


@dataclass
class Run:
    contender: str
    page: str
    tool: str
    protocol: str
    concurrency: int
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    failed: int
    cpu_ms: float  # CPU time the contender's containers spent per request (not the load generator's)
    round: int


class Bench:
    def __init__(self, work: Path, duration: int, concurrency: list[int], posts: int, rounds: int) -> None:
        self.work, self.duration, self.concurrency, self.posts = work, duration, concurrency, posts
        self.rounds = rounds
        self.tls_port = free_port()
        self.threads = os.cpu_count() or 1
        self.authority = f"{FQDN}:{self.tls_port}"
        self.site = work / "hbbench"
        self.runs: list[Run] = []
        self.memory: dict[str, dict[str, float]] = {}
        self.pages: dict[str, str] = {}
        self.sizes: dict[str, int] = {}

    # --- setting up -------------------------------------------------------------------------------------------

    def build(self) -> None:
        for target, tag in IMAGES.items():
            log(f"Building {tag}")
            sh("docker", "build", "-q", "--target", target, "-t", tag, str(BENCH / "contenders"))

    def our_site(self) -> Target:
        log(f"Starting the shared edge, and provisioning this stack behind it (https://{self.authority}/)")
        cli = str(Path(sys.executable).parent / "hakobune")
        subprocess.run([cli, "edge", "up", "--bind", "127.0.0.1", "--http-port", str(free_port()), "--tls-port",
                        str(self.tls_port)], cwd=self.work, check=True, capture_output=True)
        subprocess.run([cli, "provision", "--fqdn", FQDN, "--wp-title", "Hakobune bench", self.site.name],
                       cwd=self.work, check=True, capture_output=True)
        log(f"Generating the content: {self.posts} posts, 10 pages, 100 comments")
        out = compose(self.site, "run", "--rm", "-T", "--no-deps", "-e", f"BENCH_HOST={self.authority}",
                      "-e", f"BENCH_POSTS={self.posts}", "ops", "php", input=(BENCH / "content.php").read_bytes())
        content = json.loads(out.strip().splitlines()[-1])
        self.pages = {"front": "/", "post": content["post"]}
        self.expect = {"front": content["site_title"], "post": content["title"]}
        return Target("hakobune", "hb-hbbench_site", "https://web:8443",
                      [f"hb-hbbench-{s}-1" for s in ("web", "php", "db", "valkey")])

    def through_edge(self, ours: Target) -> Target:
        """F: the same site, asked at the edge (on the edge's network) by its name."""
        proxy = "hakobune-edge-proxy-1"
        address = sh("docker", "inspect", "--format",
                     '{{(index .NetworkSettings.Networks "hakobune-edge_edge").IPAddress}}', proxy).strip()
        return Target("edge", "hakobune-edge_edge", f"https://{FQDN}:8443", [*ours.containers, proxy],
                      add_host=f"{FQDN}:{address}")

    def relay(self, ours: Target) -> Target:
        """G: the same site through a relay on its network that only moves bytes (bench/contenders/relay.cfg),
        run from the edge's image (the same HAProxy), as unprivileged as the edge."""
        image = sh("docker", "inspect", "--format", "{{.Config.Image}}", "hakobune-edge-proxy-1").strip()
        sh("docker", "run", "-d", "--label", LABEL, "--name", "hbbench-g-relay", "--network", ours.network,
           "--network-alias", "relay", "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
           "-v", f"{BENCH / 'contenders' / 'relay.cfg'}:/etc/relay.cfg:ro", "--entrypoint", "haproxy", image,
           "-f", "/etc/relay.cfg")
        return Target("relay", ours.network, "https://relay:9443", [*ours.containers, "hbbench-g-relay"])

    def export(self) -> tuple[bytes, Path]:
        """The site's database dump and files, from a Hakobune backup: what D and E are loaded with."""
        folder = self.work / "backup"
        hakobune("backup", "--to", str(folder), cwd=self.site)
        archive = next(folder.glob("*.tar"))
        with tarfile.open(archive) as tar:
            dump = gzip.decompress(tar.extractfile("database.sql.gz").read())  # type: ignore[union-attr]
            files = self.work / "files.tar.gz"
            files.write_bytes(tar.extractfile("files.tar.gz").read())  # type: ignore[union-attr]
        return dump, files

    def _network_and_site(self, name: str, image: str, files: Path, db_host: str) -> tuple[str, str]:
        """A contender's own network, and its site volume filled from the backup: (network, volume)."""
        volume = f"{name}-site"
        sh("docker", "network", "create", "--label", LABEL, name)
        sh("docker", "volume", "create", "--label", LABEL, volume)
        self._fill(volume, image, files, db_host)
        return name, volume

    def _fill(self, volume: str, image: str, files: Path, db_host: str) -> None:
        """The docroot from the backup, without Hakobune's must-use plugins and object cache drop-in, with a plain
        wp-config.php."""
        config = (BENCH / "wp-config.php").read_text().replace("@DB_HOST@", db_host) \
            .replace("@DB_PASSWORD@", DB_PASSWORD)
        for salt in ("AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT", "SECURE_AUTH_SALT",
                     "LOGGED_IN_SALT", "NONCE_SALT"):
            config = config.replace(f"@{salt}@", secrets.token_hex(32))
        (self.work / "wp-config.php").write_text(config)
        sh("docker", "run", "--rm", "-i", "-v", f"{volume}:/srv/site", "--entrypoint", "tar", image,
           "-xz", "-C", "/srv/site", input=files.read_bytes())
        sh("docker", "run", "--rm", "-i", "-v", f"{volume}:/srv/site", "--entrypoint", "sh", image, "-c",
           "cat > /srv/site/wp-config.php; rm -f /srv/site/public/wp-content/mu-plugins/hakobune-*.php "
           "/srv/site/public/wp-content/object-cache.php; "
           "chown -R www-data:www-data /srv/site",
           input=config)

    def _load_db(self, container: str, dump: bytes, host: str) -> None:
        for _ in range(120):
            if subprocess.run(["docker", "exec", container, "mariadb", "-e", "SELECT 1"],
                              capture_output=True, check=False).returncode == 0:
                break
            time.sleep(0.5)
        sh("docker", "exec", "-i", container, "mariadb", input=(
            "CREATE DATABASE wordpress CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; "
            f"CREATE USER 'wordpress'@'{host}' IDENTIFIED BY '{DB_PASSWORD}'; "
            f"GRANT ALL PRIVILEGES ON wordpress.* TO 'wordpress'@'{host}';"))
        sh("docker", "exec", "-i", container, "mariadb", "wordpress", input=dump)

    def stock(self, dump: bytes, files: Path) -> Target:
        log("Starting D: Debian's nginx, php-fpm and MariaDB, one container each")
        net, vol = self._network_and_site("hbbench-d", IMAGES["stock-php"], files, "db")
        run = ("docker", "run", "-d", "--label", LABEL, "--network", net)
        sh(*run, "--name", "hbbench-d-db", "--network-alias", "db", IMAGES["stock-mariadb"])
        self._load_db("hbbench-d-db", dump, "%")
        sh(*run, "--name", "hbbench-d-php", "--network-alias", "php", "-v", f"{vol}:/srv/site",
           IMAGES["stock-php"])
        sh(*run, "--name", "hbbench-d-web", "--network-alias", "web", "-v", f"{vol}:/srv/site:ro",
           IMAGES["stock-nginx"])
        return Target("stock", net, "https://web:443", ["hbbench-d-web", "hbbench-d-php", "hbbench-d-db"])

    def lamp(self, dump: bytes, files: Path) -> Target:
        log("Starting E: Apache prefork, mod_php and MariaDB in one container")
        net, vol = self._network_and_site("hbbench-e", IMAGES["lamp"], files, "localhost")
        sh("docker", "run", "--rm", "-i", "-v", f"{vol}:/srv/site", "--entrypoint", "sh", IMAGES["lamp"], "-c",
           "cat > /srv/site/public/.htaccess", input=(BENCH / "htaccess").read_text())
        sh("docker", "run", "-d", "--label", LABEL, "--network", net, "--name", "hbbench-e-lamp",
           "--network-alias", "lamp", "-v", f"{vol}:/srv/site", IMAGES["lamp"])
        self._load_db("hbbench-e-lamp", dump, "localhost")
        return Target("lamp", net, "https://lamp:443", ["hbbench-e-lamp"])

    # --- measuring --------------------------------------------------------------------------------------------

    def load(self, target: Target, command: str) -> str:
        hosts = ["--add-host", target.add_host] if target.add_host else []
        return sh("docker", "run", "--rm", "--network", target.network, *hosts, IMAGES["load"], "sh", "-c",
                  command, timeout=self.duration * 6 + 120)

    def fetch(self, target: Target, path: str) -> tuple[dict[str, str], str]:
        """One request as the load will send it: (headers, body)."""
        out = self.load(target, f"curl -sk --http2 -D - -H 'Host: {self.authority}' '{target.base}{path}'")
        head, _, body = out.partition("\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.splitlines()[1:] if ": " in line)
        status = head.splitlines()[0] if head else "(no answer)"
        if " 200" not in status:
            raise RuntimeError(f"{target.name} {path}: {status}")
        return {k.lower(): v for k, v in headers.items()}, body

    def check(self, target: Target) -> None:
        """Every contender serves the real pages (not an error page) before it is measured."""
        for page, path in self.pages.items():
            _, body = self.fetch(target, path)
            if self.expect[page] not in body:
                raise RuntimeError(f"{target.name} {path} does not show '{self.expect[page]}'")

    def h2load(self, target: Target, path: str, concurrency: int, h1: bool = False) -> tuple[float, ...]:
        """A fixed number of requests (h2load's timed mode counts none in nghttp2 1.64), sized from a short
        probe to last about the set duration, but at most 900 per connection: h2load does not reconnect when
        a server ends a connection (nginx does after 1000 requests), and counts the rest as failed."""
        probe = self._h2load(target, path, concurrency, concurrency * 4, h1)
        requests = int(min(max(probe[0] * self.duration, concurrency * 5), concurrency * 900))
        return self._h2load(target, path, concurrency, requests, h1)

    def _h2load(self, target: Target, path: str, concurrency: int, requests: int, h1: bool) -> tuple[float, ...]:
        cpu = cpu_ms(target.containers)
        out = self.load(target, (
            f"h2load {'--h1' if h1 else ''} -t {min(self.threads, concurrency)} -c {concurrency} -m 1 -n {requests} "
            f"-H ':authority: {self.authority}' --log-file /tmp/log '{target.base}{path}' > /tmp/out; "
            "cat /tmp/out; echo '=== log'; cut -f 3 /tmp/log"))
        head, _, timings = out.partition("=== log")
        rps = float(re.search(r"finished in [\d.]+\w*, ([\d.]+) req/s", head).group(1))  # type: ignore[union-attr]
        done = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded", head)
        status = re.search(r"status codes: (\d+) 2xx", head)
        latencies = sorted(int(t) / 1000 for t in timings.split())
        total = int(done.group(1)) if done else 0
        ok = int(status.group(1)) if status else 0
        if ok < requests:
            log(f"  h2load: {requests - ok} of {requests} requests without a 2xx answer:\n{head.strip()}")
        cpu = (cpu_ms(target.containers) - cpu) / max(total, 1)
        return rps, _percentile(latencies, 50), _percentile(latencies, 99), total, requests - ok, cpu

    def wrk(self, target: Target, path: str, concurrency: int) -> tuple[float, ...]:
        # A request is given 60 s, like h2load's, before it counts as failed (wrk's default is 2 s).
        cpu = cpu_ms(target.containers)
        threads = min(self.threads, concurrency)
        out = self.load(target, f"wrk -t {threads} -c {concurrency} -d {self.duration}s --timeout 60s --latency "
                                f"-H 'Host: {self.authority}' '{target.base}{path}'")
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        failed = (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0)
        cpu = (cpu_ms(target.containers) - cpu) / max(total, 1)
        return rps, _wrk_ms(out, "50%"), _wrk_ms(out, "99%"), total, failed, cpu

    def measure(self, contenders: list[tuple[str, Target, dict[str, str]]]) -> None:
        """Every contender at one point (page, tool, connections) before the next point, over several rounds,
        the order rotating from point to point: a machine whose speed drifts during the run then shifts every
        contender alike, and the ratios, taken within a round, keep what differs between the stacks."""
        samplers = {name: MemorySampler(target.containers) for name, target, _ in contenders}
        for sampler in samplers.values():
            sampler.start()
        try:
            for _, target, paths in contenders:
                for path in paths.values():
                    self._h2load(target, path, 2, 50, target.name == "lamp")  # warm up
            points = [(page, c, tool) for page in self.pages for c in self.concurrency for tool in ("h2load", "wrk")]
            for round_ in range(self.rounds):
                log(f"Round {round_ + 1} of {self.rounds}")
                for i, (page, c, tool) in enumerate(points):
                    shift = (i + round_) % len(contenders)
                    for name, target, paths in contenders[shift:] + contenders[:shift]:
                        self._record(name, target, page, paths[page], tool, c, round_)
        finally:
            for name, sampler in samplers.items():
                self.memory.setdefault(name, {})["load_mb"] = sampler.stop()

    def _record(self, name: str, target: Target, page: str, path: str, tool: str, c: int, round_: int) -> None:
        h1 = target.name == "lamp"  # Apache's prefork has no HTTP/2
        protocol = "HTTP/2" if tool == "h2load" and not h1 else "HTTP/1.1"
        result = self.h2load(target, path, c, h1=h1) if tool == "h2load" else self.wrk(target, path, c)
        rps, p50, p99, total, failed, cpu = result
        run = Run(name, page, tool, protocol, c, round(rps, 1), round(p50, 2), round(p99, 2), int(total),
                  int(failed), round(cpu, 2), round_)
        self.runs.append(run)
        log(f"  {name} {page:5} {tool:6} c={c:<3} {rps:9.1f} req/s  p50 {p50:8.2f} ms  p99 {p99:8.2f} ms"
            f"  CPU {cpu:7.2f} ms/req" + (f"  FAILED {failed}" if failed else ""))

    def idle_memory(self, name: str, target: Target) -> None:
        time.sleep(10)
        self.memory.setdefault(name, {})["idle_mb"] = round(memory_mb(target.containers), 1)
        log(f"  {name}: {self.memory[name]['idle_mb']} MB idle")

    def static_copies(self, ours: Target) -> dict[str, str]:
        """C: for each page, a static file of the size of B's answer, in the same docroot."""
        paths = {}
        for page, path in self.pages.items():
            _, body = self.fetch(ours, path)
            size = len(body.encode())
            self.sizes[page] = size
            name = f"bench-static-{page}.html"
            compose(self.site, "run", "--rm", "-T", "--no-deps", "ops", "sh", "-c",
                    f"cat > /srv/site/public/{name}", input=body.encode())
            paths[page] = f"/{name}"
        return paths

    def run(self) -> dict[str, object]:
        self.build()
        ours = self.our_site()
        dump, files = self.export()
        stock, lamp = self.stock(dump, files), self.lamp(dump, files)
        for target in (ours, stock, lamp):
            self.check(target)

        log("Idle memory, each stack warmed by one request of each page")
        for name, target in (("hakobune", ours), ("D", stock), ("E", lamp)):
            self.idle_memory(name, target)

        hakobune("cache", "off", cwd=self.site)
        self.check(ours)
        log("A, D, E: this stack with its page cache off, the stock containers, LAMP in one container")
        self.measure([("A", ours, self.pages), ("D", stock, self.pages), ("E", lamp, self.pages)])
        hakobune("cache", "on", cwd=self.site)
        self.check(ours)
        for path in self.pages.values():
            self.fetch(ours, path)
            headers, _ = self.fetch(ours, path)
            if headers.get("x-hakobune-cache") != "HIT":
                raise RuntimeError(f"B: {path} is not served from the page cache: {headers}")
        edge, relay = self.through_edge(ours), self.relay(ours)
        self.check(edge)
        self.check(relay)
        log("B, C, F, G: this stack with its page cache on, static files of B's answers' sizes from it, B "
            "through the shared edge, and B through a bare TCP relay")
        self.measure([("B", ours, self.pages), ("C", ours, self.static_copies(ours)), ("F", edge, self.pages),
                      ("G", relay, self.pages)])
        return self.report()

    def report(self) -> dict[str, object]:
        runs = [asdict(r) for r in self.runs]
        return {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "settings": {"duration_s": self.duration, "concurrency": self.concurrency, "posts": self.posts,
                         "rounds": self.rounds,
                         "pages": self.pages, "static_sizes": self.sizes,
                         "load": f"h2load -t {self.threads} -m 1 (HTTP/2; E: --h1), wrk -t {self.threads} (HTTP/1.1), "
                                 "threads at most one per connection, from a container on each contender's "
                                 "network, HTTPS"},
            "runs": runs,
            "summary": summary(runs),
            "memory_mb": self.memory,
            "targets": targets(runs, self.memory),
        }

    def clean(self) -> None:
        log("Removing the contenders")
        subprocess.run([str(Path(sys.executable).parent / "hakobune"), "remove", "-y", self.site.name],
                       cwd=self.work, capture_output=True, check=False)
        subprocess.run([str(Path(sys.executable).parent / "hakobune"), "edge", "down", "--purge"],
                       cwd=self.work, capture_output=True, check=False)
        # An interrupted run's site has no folder left to remove it by: its compose project's label finds it.
        for kind in ("container", "volume", "network"):
            for label in (LABEL, f"com.docker.compose.project=hb-{self.site.name}"):
                ids = sh("docker", kind, "ls", "-q", *(["-a"] if kind == "container" else []), "--filter",
                         f"label={label}", check=False).split()
                if ids:
                    sh("docker", kind, "rm", *(["-f"] if kind == "container" else []), *ids, check=False)


def _percentile(values: list[float], pct: int) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(pct / 100 * (len(values) - 1)))]


def _wrk_ms(out: str, label: str) -> float:
    match = re.search(rf"^\s*{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    if not match:
        return float("nan")
    return float(match.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[match.group(2)]


def _cgroup_files(container: str, controller: str = "memory") -> list[Path]:
    """Where the kernel keeps CONTAINER's use of CONTROLLER (cgroup v1 or v2, cgroupfs or systemd driver)."""
    full = sh("docker", "inspect", "--format", "{{.Id}}", container).strip()
    return [Path(f"/sys/fs/cgroup/{controller}/docker", full), Path("/sys/fs/cgroup/docker", full),
            Path(f"/sys/fs/cgroup/{controller}/system.slice/docker-{full}.scope"),
            Path(f"/sys/fs/cgroup/system.slice/docker-{full}.scope")]


def cpu_ms(containers: list[str]) -> float:
    """CPU time the containers have used since they started, summed, in ms (cgroup v1 cpuacct or v2 cpu.stat).
    Per request, it is how much work a page costs a stack, whatever else shares the machine."""
    total = 0.0
    for container in containers:
        folder = next(f for f in _cgroup_files(container, "cpuacct") if f.is_dir())
        if (folder / "cpuacct.usage").exists():
            total += int((folder / "cpuacct.usage").read_text()) / 1e6
        else:
            stat = dict(line.split() for line in (folder / "cpu.stat").read_text().splitlines())
            total += int(stat["usage_usec"]) / 1e3
    return total


def memory_mb(containers: list[str]) -> float:
    """What `docker stats` shows, summed: memory in use less the page cache the kernel may drop at will
    (inactive files), read from the cgroup files, which costs nothing, unlike `docker stats` itself."""
    total = 0
    for container in containers:
        folder = next(f for f in _cgroup_files(container) if f.is_dir())
        usage_file = folder / ("memory.usage_in_bytes" if (folder / "memory.usage_in_bytes").exists()
                               else "memory.current")
        stat = dict(line.split() for line in (folder / "memory.stat").read_text().splitlines())
        inactive = int(stat.get("total_inactive_file", stat.get("inactive_file", 0)))
        total += int(usage_file.read_text()) - inactive
    return total / 2**20


class MemorySampler:
    """The most memory the stack used while it was loaded, sampled with `docker stats`."""

    def __init__(self, containers: list[str]) -> None:
        self.containers, self.peak, self.done = containers, 0.0, threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, memory_mb(self.containers))
            self.done.wait(1)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> float:
        self.done.set()
        self.thread.join()
        return round(self.peak, 1)


def machine() -> dict[str, object]:
    meminfo = Path("/proc/meminfo").read_text()
    return {"cpus": os.cpu_count(), "memory_gb": round(int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1))
                                                        / 2**20, 1),  # type: ignore[union-attr]
            "kernel": platform.release(), "docker": sh("docker", "version", "--format", "{{.Server.Version}}").strip()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement (default 10)")
    parser.add_argument("--concurrency", default="8,32", help="connections, comma-separated (default 8,32)")
    parser.add_argument("--posts", type=int, default=100, help="generated posts (default 100)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="times each contender is measured at each point; medians are reported (default 3)")
    parser.add_argument("--keep", action="store_true", help="leave the contenders running afterwards")
    parser.add_argument("--report", type=Path, metavar="RESULTS",
                        help="measure nothing: write docs/performance.md again from a results file")
    args = parser.parse_args()
    from report import write_report  # bench/report.py: the tables and chart in docs/performance.md

    if args.report:
        results = json.loads(args.report.read_text())
        write_report(results, REPO / "docs")
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the contenders are removed below
    work = Path(tempfile.mkdtemp(prefix="hakobune-bench-"))
    bench = Bench(work, args.duration, [int(c) for c in args.concurrency.split(",")], args.posts,
                  args.rounds)
    bench.clean()  # what an interrupted run left
    try:
        results = bench.run()
    finally:
        if not args.keep:
            bench.clean()
            shutil.rmtree(work, ignore_errors=True)
    stamp = results["when"].replace(":", "").replace("-", "")  # type: ignore[union-attr]
    out = BENCH / "results" / f"{stamp}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    (BENCH / "results" / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    log(f"Results: {out.relative_to(REPO)}")
    write_report(results, REPO / "docs")


if __name__ == "__main__":
    main()
