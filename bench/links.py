"""`make bench-links`: what refusing symbolic links costs the web servers (issue 14).

nginx runs with `disable_symlinks on` and httpd with `Options None`: each checks every part of a file's path for
a link before it serves it. Against each, the same container with links followed (the rendered configuration
edited in place, then reloaded: nothing a site can ask for), on the same site, alternating over rounds:

  front, uncached  the front page with a query string (PHP renders it)
  front, cached    the front page from nginx's page cache (nginx only: httpd has none)
  static           a stylesheet of WordPress core

Loaded with h2load from a container on the site's own network, like `make bench`. Reported: requests per second
and the web container's CPU time per request (from its cgroup), as medians over the rounds with the ratio
refused/followed paired within each round. Nothing here asserts anything."""

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

from run import BENCH, FQDN, IMAGES, cpu_ms, free_port, log, sh

PAGES = {"front, uncached": "/?hb-bench-links", "front, cached": "/",
         "static": "/wp-includes/css/dist/block-library/style.min.css"}
# How each web server is switched to following links, and back: its rendered site.conf, then a reload.
FOLLOW = {
    "nginx": ("s/^disable_symlinks on from=\\$document_root;/disable_symlinks off;/",
              "s/^disable_symlinks off;/disable_symlinks on from=$document_root;/",
              "nginx -c /run/hakobune/nginx.conf -s reload"),
    "httpd": ("s/^        Options None$/        Options FollowSymLinks/",
              "s/^        Options FollowSymLinks$/        Options None/",
              "apache2 -f /run/hakobune/httpd.conf -k graceful"),
}


class Site:
    def __init__(self, web: str, work: Path) -> None:
        self.web, self.work = web, work
        self.name = f"hblinks-{web}"
        self.tls_port = free_port()
        self.authority = f"{FQDN}:{self.tls_port}"
        self.web_container = f"hb-{self.name}-web-1"
        self.network = f"hb-{self.name}_site"

    def hb(self, *args: str) -> str:
        return sh(str(Path(sys.executable).parent / "hakobune"), *args, input="")

    def provision(self, posts: int) -> None:
        log(f"Provisioning {self.name} ({self.web}), {posts} posts")
        subprocess.run([str(Path(sys.executable).parent / "hakobune"), "provision", "--fqdn", FQDN, f"--{self.web}",
                        "--http-port", str(free_port()), "--tls-port", str(self.tls_port), self.name],
                       cwd=self.work, check=True, capture_output=True)
        folder = self.work / self.name
        from hakobune.engine import Engine

        sh(*Engine().compose_command(), "--project-directory", str(folder), "run", "--rm", "-T", "--no-deps", "-e",
           f"BENCH_HOST={self.authority}", "-e", f"BENCH_POSTS={posts}", "ops", "php",
           input=(BENCH / "content.php").read_bytes())

    def remove(self) -> None:
        if (self.work / self.name).exists():
            subprocess.run([str(Path(sys.executable).parent / "hakobune"), "remove", "-y", self.name],
                           cwd=self.work, check=False, capture_output=True)

    def follow_links(self, follow: bool) -> None:
        on, off, reload = FOLLOW[self.web]
        sh("docker", "exec", self.web_container, "sh", "-c",
           f"sed -i '{on if follow else off}' /run/hakobune/site.conf && {reload}")
        time.sleep(2)  # the old workers finish
        rendered = sh("docker", "exec", self.web_container, "cat", "/run/hakobune/site.conf")
        if ("disable_symlinks off" in rendered or "Options FollowSymLinks" in rendered) != follow:
            raise RuntimeError(f"{self.web} did not switch: {rendered[:400]}")

    def load(self, path: str, connections: int, requests: int) -> tuple[float, float]:
        """(requests per second, the web container's CPU ms per request)."""
        before = cpu_ms([self.web_container])
        out = sh("docker", "run", "--rm", "--network", self.network, IMAGES["load"], "sh", "-c",
                 f"h2load -t 1 -c {connections} -m 1 -n {requests} -H ':authority: {self.authority}' "
                 f"'https://web:8443{path}'", timeout=900)
        cpu = cpu_ms([self.web_container]) - before
        rps = float(out.split("req/s")[0].split(",")[-1].strip())
        succeeded = int(out.split(" succeeded")[0].split(",")[-1].strip())
        if succeeded < requests:
            raise RuntimeError(f"{self.web} {path}: {requests - succeeded} requests failed:\n{out}")
        return rps, cpu / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8, help="about how long each measurement lasts")
    parser.add_argument("--posts", type=int, default=60)
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    args = parser.parse_args()
    sh("docker", "build", "-q", "--target", "load", "-t", IMAGES["load"], str(BENCH / "contenders"))
    with tempfile.TemporaryDirectory(prefix="hakobune-bench-links-") as scratch:
        sites = [Site(web, Path(scratch)) for web in ("nginx", "httpd")]
        try:
            for site in sites:
                site.remove()
                site.provision(args.posts)
            results = measure(sites, args)
        finally:
            for site in sites:
                site.remove()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%z")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"links-{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))


def measure(sites: list[Site], args: argparse.Namespace) -> dict[str, object]:
    runs = []
    for site in sites:
        pages = {page: path for page, path in PAGES.items() if site.web == "nginx" or page != "front, cached"}
        sizes = {}
        for page, path in pages.items():  # warm up, and size each measurement to about --seconds
            rps, _ = site.load(path, args.connections, args.connections * 10)
            # At most 900 a connection: h2load does not reconnect when nginx ends one (after 1000 requests).
            sizes[page] = int(min(max(rps * args.seconds, args.connections * 20), args.connections * 900))
        for round_ in range(args.rounds):
            order = (False, True) if round_ % 2 else (True, False)
            for page, path in pages.items():
                for follow in order:
                    site.follow_links(follow)
                    rps, cpu = site.load(path, args.connections, sizes[page])
                    runs.append({"web": site.web, "page": page, "links": "followed" if follow else "refused",
                                 "round": round_, "rps": round(rps, 1), "cpu_ms": round(cpu, 4)})
                    log(f"  {site.web} {page:16} links {'followed' if follow else 'refused ':8} "
                        f"{rps:9.1f} req/s  {cpu:7.3f} ms CPU/request")
        site.follow_links(False)
    return {"when": datetime.now(UTC).isoformat(timespec="seconds"), "connections": args.connections,
            "rounds": args.rounds, "runs": runs, "summary": summarise(runs)}


def summarise(runs: list[dict]) -> list[dict]:
    out = []
    for key in sorted({(r["web"], r["page"]) for r in runs}):
        mine = [r for r in runs if (r["web"], r["page"]) == key]
        by_round = {}
        for r in mine:
            by_round.setdefault(r["round"], {})[r["links"]] = r
        pairs = [v for v in by_round.values() if len(v) == 2]
        out.append({
            "web": key[0], "page": key[1],
            "rps_refused": statistics.median(r["rps"] for r in mine if r["links"] == "refused"),
            "rps_followed": statistics.median(r["rps"] for r in mine if r["links"] == "followed"),
            "rps_ratio": round(statistics.median(p["refused"]["rps"] / p["followed"]["rps"] for p in pairs), 3),
            "cpu_refused": statistics.median(r["cpu_ms"] for r in mine if r["links"] == "refused"),
            "cpu_followed": statistics.median(r["cpu_ms"] for r in mine if r["links"] == "followed"),
            "cpu_ratio": round(statistics.median(p["refused"]["cpu_ms"] / p["followed"]["cpu_ms"]
                                                 for p in pairs), 3),
        })
    return out


def report(results: dict) -> str:
    lines = ["| web server | page | req/s, links refused | req/s, links followed | ratio | web CPU ms/request, "
             "refused | followed | ratio |", "|---|---|---|---|---|---|---|---|"]
    for s in results["summary"]:
        lines.append(f"| {s['web']} | {s['page']} | {s['rps_refused']:.0f} | {s['rps_followed']:.0f} | "
                     f"{s['rps_ratio']:.3f} | {s['cpu_refused']:.3f} | {s['cpu_followed']:.3f} | "
                     f"{s['cpu_ratio']:.3f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
