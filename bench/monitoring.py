"""`make bench-monitoring`: what monitoring costs (issue 18, point 8; docs/monitoring.md).

1. Per request: B (nginx, page cache on) with metrics and without, side by side on one site, alternating over
   rounds. With: the site as made (nginx sends each access line to the metrics service, which counts it) and the
   monitoring stack scraping it every 15 s. Without: nginx's access line to the metrics service switched off in
   its rendered configuration (then reloaded) and the metrics container stopped. Loaded with h2load from a
   container on the site's network, like `make bench`; reported: requests per second, and the CPU time per
   request of the web and metrics containers, together and apart (from their cgroups), medians over the rounds
   with the ratio paired within each round.
2. At idle: the monitoring stack with three sites on the engine (WordPress on nginx, the defaults: a scrape every
   15 s): the memory each part uses (as `docker stats` shows it) and its CPU over two minutes, and the same for
   the three sites' metrics containers.

Nothing here asserts anything."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from links import Site as LinksSite
from run import BENCH, IMAGES, cpu_ms, free_port, log, memory_mb, sh

HAKOBUNE = str(Path(sys.executable).parent / "hakobune")
IDLE_SECONDS = 120
MONITOR_PARTS = ("prometheus", "alertmanager", "containers", "node", "docker-proxy")


class Site(LinksSite):
    """A bench site (bench/links.py) whose access lines to the metrics service can be switched off."""

    def __init__(self, name: str, work: Path) -> None:
        super().__init__("nginx", work)
        self.name = name
        self.web_container = f"hb-{name}-web-1"
        self.metrics_container = f"hb-{name}-metrics-1"
        self.network = f"hb-{name}_site"

    def metrics(self, on: bool) -> None:
        if on:
            sh("docker", "start", self.metrics_container)
        source = "/etc/hakobune/options/metrics.on.conf" if on else "/etc/hakobune/options/metrics.off.conf"
        sh("docker", "exec", self.web_container, "sh", "-c",
           f"cat {source} > /run/hakobune/options/metrics.conf && nginx -c /run/hakobune/nginx.conf -s reload")
        if not on:
            sh("docker", "stop", self.metrics_container)
        time.sleep(2)  # the old workers finish

    def load_cost(self, path: str, connections: int, requests: int,
                  containers: list[str]) -> tuple[float, list[float]]:
        """Requests per second, and each container's CPU time per request (ms)."""
        before = [cpu_ms([c]) for c in containers]
        out = sh("docker", "run", "--rm", "--network", self.network, IMAGES["load"], "sh", "-c",
                 f"h2load -t 1 -c {connections} -m 1 -n {requests} -H ':authority: {self.authority}' "
                 f"'https://web:8443{path}'", timeout=900)
        cpu = [cpu_ms([c]) - b for c, b in zip(containers, before, strict=True)]
        rps = float(out.split("req/s")[0].split(",")[-1].strip())
        succeeded = int(out.split(" succeeded")[0].split(",")[-1].strip())
        if succeeded < requests:
            raise RuntimeError(f"{requests - succeeded} requests failed:\n{out}")
        return rps, [ms / requests for ms in cpu]


def per_request(site: Site, args: argparse.Namespace) -> dict[str, object]:
    for _ in range(2):  # the first warms the page cache and PHP; the second's rate sizes the runs
        rps, _ = site.load_cost("/", args.connections, args.connections * 100, [site.web_container])
    size = int(min(max(rps * args.seconds, args.connections * 20), args.connections * 900))
    runs = []
    for round_ in range(args.rounds):
        for on in ((True, False) if round_ % 2 else (False, True)):
            site.metrics(on)
            watched = [site.web_container, *([site.metrics_container] if on else [])]
            rps, cpu = site.load_cost("/", args.connections, size, watched)
            runs.append({"round": round_, "metrics": on, "rps": round(rps, 1), "cpu_ms": round(sum(cpu), 4),
                         "web_cpu_ms": round(cpu[0], 4), "metrics_cpu_ms": round(sum(cpu[1:]), 4)})
            log(f"  metrics {'on ' if on else 'off'} {rps:9.1f} req/s  {sum(cpu):7.4f} ms CPU/request "
                f"(web {cpu[0]:.4f}, metrics {sum(cpu[1:]):.4f})")
    site.metrics(True)
    pairs = [{r["metrics"]: r for r in runs if r["round"] == n} for n in range(args.rounds)]
    return {
        "runs": runs, "requests_per_run": size, "connections": args.connections,
        "rps_on": statistics.median(r["rps"] for r in runs if r["metrics"]),
        "rps_off": statistics.median(r["rps"] for r in runs if not r["metrics"]),
        "rps_ratio": round(statistics.median(p[True]["rps"] / p[False]["rps"] for p in pairs), 3),
        "cpu_on": statistics.median(r["cpu_ms"] for r in runs if r["metrics"]),
        "cpu_off": statistics.median(r["cpu_ms"] for r in runs if not r["metrics"]),
        "cpu_ratio": round(statistics.median(p[True]["cpu_ms"] / p[False]["cpu_ms"] for p in pairs), 3),
        "web_cpu_on": statistics.median(r["web_cpu_ms"] for r in runs if r["metrics"]),
        "metrics_cpu_on": statistics.median(r["metrics_cpu_ms"] for r in runs if r["metrics"]),
    }


def at_idle(sites: list[Site]) -> dict[str, object]:
    parts = {part: f"hakobune-monitoring-{part}-1" for part in MONITOR_PARTS}
    parts.update({f"{site.name} metrics": site.metrics_container for site in sites})
    time.sleep(60)  # the stack's first minutes: discovery, the first blocks
    before = {name: cpu_ms([c]) for name, c in parts.items()}
    time.sleep(IDLE_SECONDS)
    return {name: {"memory_mb": round(memory_mb([c]), 1),
                   "cpu_percent": round((cpu_ms([c]) - before[name]) / (IDLE_SECONDS * 10), 3)}
            for name, c in parts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8, help="about how long each measurement lasts")
    parser.add_argument("--posts", type=int, default=60)
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    args = parser.parse_args()
    sh("docker", "build", "-q", "--target", "load", "-t", IMAGES["load"], str(BENCH / "contenders"))
    with tempfile.TemporaryDirectory(prefix="hakobune-bench-monitoring-") as scratch:
        sites = [Site(f"hbmon-{n}", Path(scratch)) for n in (1, 2, 3)]
        try:
            for site in sites:
                site.remove()
                site.provision(args.posts)
            log("Starting the monitoring stack")
            subprocess.run([HAKOBUNE, "monitor", "up", "--port", str(free_port()), "--alertmanager-port",
                            str(free_port())], check=True, capture_output=True)
            log("Measuring the stack at idle with three sites")
            idle = at_idle(sites)
            log("Measuring B with and without metrics")
            results = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "idle": idle,
                       "idle_seconds": IDLE_SECONDS, "per_request": per_request(sites[0], args)}
        finally:
            subprocess.run([HAKOBUNE, "monitor", "down", "--purge"], check=False, capture_output=True)
            for site in sites:
                site.remove()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%z")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"monitoring-{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))


def report(results: dict) -> str:
    lines = ["| part | memory (MB) | CPU at idle (% of one core) |", "|---|---|---|"]
    for name, cost in results["idle"].items():
        lines.append(f"| {name} | {cost['memory_mb']:.1f} | {cost['cpu_percent']:.2f} |")
    total = sum(c["memory_mb"] for c in results["idle"].values())
    cpu = sum(c["cpu_percent"] for c in results["idle"].values())
    lines.append(f"| **all** | **{total:.1f}** | **{cpu:.2f}** |")
    p = results["per_request"]
    lines += ["", "| B, cached front page | req/s | web + metrics CPU ms/request |", "|---|---|---|",
              f"| with metrics | {p['rps_on']:.0f} | {p['cpu_on']:.4f} |",
              f"| without | {p['rps_off']:.0f} | {p['cpu_off']:.4f} |",
              f"| ratio (paired per round) | {p['rps_ratio']:.3f} | {p['cpu_ratio']:.3f} |",
              "", f"With metrics, per request: web {p['web_cpu_on']:.4f} ms, metrics service "
              f"{p['metrics_cpu_on']:.4f} ms of CPU."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
