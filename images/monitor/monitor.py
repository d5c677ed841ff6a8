#!/usr/bin/python3
"""hakobune-monitor: one part of an engine's monitoring stack, named by the first argument (docs/monitoring.md).

  prometheus      Prometheus, finding every site's metrics service on the engine by its labels
  alertmanager    Alertmanager, sending alerts by e-mail (SMTP) and to a webhook
  node            the node exporter, for the disks of the engine's host (mounted read-only at /host)
  containers      CPU, memory and restarts of every Hakobune container, read through the docker proxy
  docker-proxy    HAProxy passing on the GET requests of the two above to the engine's socket, and nothing else
  test-rules      `promtool test rules` on the shipped alerts, written with the default durations
  health PART     exit 0 when PART answers

Each part reads its settings from MONITOR_* variables (set by Hakobune, src/hakobune/render/monitor.py) and writes
its configuration to /run/hakobune before it starts, so the image carries no settings of its own.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SHARE = Path("/etc/hakobune/monitor")
RUN = Path("/run/hakobune")
DATA = Path("/var/lib/hakobune")
PROXY = "http://docker-proxy:2375"  # the docker-proxy part (docker-proxy.cfg)
PORTS = {"prometheus": 9090, "alertmanager": 9093, "node": 9100, "containers": 9101, "docker-proxy": 2375}
DURATION = re.compile(r"^[1-9][0-9]*(s|m|h|d)$")
DEFAULTS = {"WINDOW": "5m", "HOLD": "5m", "HOLD_SHORT": "1m"}


def setting(env: dict[str, str], name: str, default: str = "") -> str:
    return env.get(f"MONITOR_{name}", "") or default


def duration(env: dict[str, str], name: str, default: str) -> str:
    value = setting(env, name, default)
    if not DURATION.match(value):
        raise SystemExit(f"hakobune-monitor: MONITOR_{name}={value!r} is not a duration such as 30s, 5m or 15d")
    return value


def rules(env: dict[str, str]) -> str:
    """alerts.yml with the window and hold durations put in."""
    text = (SHARE / "alerts.yml").read_text()
    for key, default in DEFAULTS.items():
        text = text.replace("${" + key + "}", duration(env, key, default))
    return text


def prometheus_config(env: dict[str, str]) -> dict:
    network = setting(env, "NETWORK", "hakobune-monitor")
    scrape = duration(env, "SCRAPE_INTERVAL", "15s")
    return {
        "global": {"scrape_interval": scrape, "evaluation_interval": duration(env, "EVALUATION_INTERVAL", scrape),
                   "external_labels": {"engine": setting(env, "ENGINE", "default")}},
        "rule_files": [str(RUN / "alerts.yml")],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": ["alertmanager:9093"]}]}]},
        "scrape_configs": [
            {
                # Every container labelled with a metrics port: a site's metrics service, found as it comes and
                # goes, scraped at its address on the monitoring network and labelled with its site.
                "job_name": "hakobune-sites",
                "docker_sd_configs": [{"host": PROXY, "refresh_interval": scrape,
                                       "filters": [{"name": "label", "values": ["io.hakobune.metrics-port"]}]}],
                "relabel_configs": [
                    {"source_labels": ["__meta_docker_network_name"], "regex": network, "action": "keep"},
                    {"source_labels": ["__meta_docker_network_ip",
                                       "__meta_docker_container_label_io_hakobune_metrics_port"],
                     "separator": ":", "target_label": "__address__"},
                    {"source_labels": ["__meta_docker_container_label_io_hakobune_site"], "target_label": "site"},
                    # A site's name as Hakobune allows it, nothing else: the page writes it into HTML and scripts.
                    {"source_labels": ["site"], "regex": "[a-z0-9][a-z0-9_-]{0,39}", "action": "keep"},
                    {"source_labels": ["__meta_docker_container_name"], "regex": "/?(.*)",
                     "target_label": "instance"},
                ],
            },
            {
                # Every acme service (the edge's; a site's own): its renewals, and the edge's certificates, each
                # sample naming its site (kept as it is said).
                "job_name": "hakobune-acme",
                "honor_labels": True,
                "docker_sd_configs": [{"host": PROXY, "refresh_interval": scrape,
                                       "filters": [{"name": "label", "values": ["io.hakobune.acme-metrics-port"]}]}],
                "relabel_configs": [
                    {"source_labels": ["__meta_docker_network_name"], "regex": network, "action": "keep"},
                    {"source_labels": ["__meta_docker_network_ip",
                                       "__meta_docker_container_label_io_hakobune_acme_metrics_port"],
                     "separator": ":", "target_label": "__address__"},
                    {"source_labels": ["__meta_docker_container_name"], "regex": "/?(.*)",
                     "target_label": "instance"},
                ],
            },
            {"job_name": "hakobune-containers", "static_configs": [{"targets": ["containers:9101"]}]},
            {"job_name": "hakobune-node", "static_configs": [{"targets": ["node:9100"]}]},
            {"job_name": "prometheus", "static_configs": [{"targets": ["localhost:9090"]}]},
            {"job_name": "alertmanager", "static_configs": [{"targets": ["alertmanager:9093"]}]},
        ],
    }


def alertmanager_config(env: dict[str, str]) -> dict:
    receiver: dict = {"name": "hakobune"}
    if setting(env, "SMTP_HOST") and setting(env, "EMAIL_TO"):
        email = {"to": setting(env, "EMAIL_TO"), "from": setting(env, "SMTP_FROM", "hakobune@localhost"),
                 "smarthost": f"{setting(env, 'SMTP_HOST')}:{setting(env, 'SMTP_PORT', '587')}",
                 "require_tls": setting(env, "SMTP_TLS", "on") == "on", "send_resolved": True}
        if setting(env, "SMTP_USER"):
            email["auth_username"] = setting(env, "SMTP_USER")
            email["auth_password_file"] = setting(env, "SMTP_PASSWORD_FILE",
                                                  str(DATA / "alertmanager" / "smtp-password"))
        receiver["email_configs"] = [email]
    if setting(env, "WEBHOOK_URL"):
        receiver["webhook_configs"] = [{"url": setting(env, "WEBHOOK_URL"), "send_resolved": True}]
    return {
        "route": {"receiver": "hakobune", "group_by": ["alertname", "site"],
                  "group_wait": duration(env, "GROUP_WAIT", "30s"),
                  "group_interval": duration(env, "GROUP_INTERVAL", "5m"),
                  "repeat_interval": duration(env, "REPEAT_INTERVAL", "4h")},
        "receivers": [receiver],
    }


def write(name: str, text: str) -> Path:
    path = RUN / name
    path.write_text(text)
    return path


def run_prometheus(env: dict[str, str]) -> list[str]:
    write("alerts.yml", rules(env))
    # JSON is YAML: Prometheus reads it as its configuration.
    config = write("prometheus.yml", json.dumps(prometheus_config(env), indent=1))
    external = setting(env, "EXTERNAL_URL")
    return ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={DATA / 'prometheus'}",
            f"--storage.tsdb.retention.time={duration(env, 'RETENTION', '15d')}",
            "--web.listen-address=:9090", f"--web.console.templates={SHARE / 'consoles'}",
            f"--web.console.libraries={SHARE / 'consoles'}",
            *([f"--web.external-url={external}"] if external else [])]


def run_alertmanager(env: dict[str, str]) -> list[str]:
    config = write("alertmanager.yml", json.dumps(alertmanager_config(env), indent=1))
    return ["prometheus-alertmanager", f"--config.file={config}", f"--storage.path={DATA / 'alertmanager'}",
            "--web.listen-address=:9093", "--cluster.listen-address="]


def run_node(env: dict[str, str]) -> list[str]:
    # Only what the shipped rules and the page read: filesystems, memory, CPU and load. Disks mounted under /mnt
    # and /media are watched (Debian's default leaves them out); the container's own /etc files are not.
    return ["prometheus-node-exporter", "--web.listen-address=:9100", "--path.rootfs=/host",
            "--collector.disable-defaults", "--collector.filesystem", "--collector.meminfo", "--collector.cpu",
            "--collector.loadavg", "--collector.filesystem.mount-points-exclude="
            "^/(dev|proc|run|sys|etc|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"]


def run_proxy(env: dict[str, str]) -> list[str]:
    return ["haproxy", "-W", "-db", "-f", str(SHARE / "docker-proxy.cfg")]


def docker_get(path: str, timeout: float = 10.0):
    with urllib.request.urlopen(f"http://docker-proxy:2375{path}", timeout=timeout) as answer:
        return json.load(answer)


REFRESH = 10.0  # seconds between two readings of the containers


class Containers:
    """CPU, memory and restarts of every container Hakobune made (a site's, the edge's, this stack's). The engine
    takes about a second to answer for one container's stats (cgroup v1), so they are read in the background,
    several at once, every REFRESH seconds; a scrape gets the last reading."""

    def __init__(self) -> None:
        self.engine_up, self.readings = 0, []

    def forever(self) -> None:
        while True:
            started = time.monotonic()
            try:
                listed = docker_get("/containers/json?all=1")
            except OSError as exc:
                print(f"hakobune-monitor: the engine did not answer: {exc}", file=sys.stderr, flush=True)
                self.engine_up = 0
            else:
                ours = [item for item in listed
                        if any(key.startswith("io.hakobune.") for key in item.get("Labels") or {})]
                with ThreadPoolExecutor(max_workers=16) as pool:
                    self.readings = [r for r in pool.map(self.read, ours) if r is not None]
                self.engine_up = 1
            time.sleep(max(REFRESH - (time.monotonic() - started), 1.0))

    @staticmethod
    def read(item: dict) -> dict | None:
        tags = item.get("Labels") or {}
        reading = {"labels": [tags.get("io.hakobune.site", ""), tags.get("com.docker.compose.service", ""),
                              (item.get("Names") or ["?"])[0].lstrip("/")],
                   "running": item.get("State") == "running"}
        try:
            reading["restarts"] = float(docker_get(f"/containers/{item['Id']}/json").get("RestartCount") or 0)
            if reading["running"]:
                stats = docker_get(f"/containers/{item['Id']}/stats?stream=false&one-shot=true")
                usage = (stats.get("cpu_stats") or {}).get("cpu_usage") or {}
                mem = stats.get("memory_stats") or {}
                details = mem.get("stats") or {}
                cache = details.get("inactive_file", details.get("total_inactive_file", 0))  # cgroup v2, v1
                reading.update(cpu=(usage.get("total_usage") or 0) / 1e9,
                               memory=float(max((mem.get("usage") or 0) - cache, 0)), limit=mem.get("limit"))
        except OSError:
            return None  # gone between the two requests
        return reading

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        names = ["site", "service", "container"]
        families = {
            "cpu": CounterMetricFamily("hakobune_container_cpu_seconds", "CPU time the container used",
                                       labels=names),
            "memory": GaugeMetricFamily("hakobune_container_memory_bytes", "memory the container uses, less the "
                                        "page cache it could give back", labels=names),
            "limit": GaugeMetricFamily("hakobune_container_memory_limit_bytes", "the container's memory limit",
                                       labels=names),
            "restarts": CounterMetricFamily("hakobune_container_restarts", "times the engine restarted the "
                                            "container", labels=names),
        }
        running = GaugeMetricFamily("hakobune_container_running", "1 when the container runs", labels=names)
        for reading in self.readings:
            running.add_metric(reading["labels"], 1.0 if reading["running"] else 0.0)
            for key, family in families.items():
                if reading.get(key) is not None:
                    family.add_metric(reading["labels"], float(reading[key]))
        yield GaugeMetricFamily("hakobune_containers_engine_up", "1 when the engine listed its containers at the "
                                "last reading", value=self.engine_up)
        yield from (*families.values(), running)


def serve_containers() -> int:
    from prometheus_client import CollectorRegistry, start_http_server

    containers = Containers()
    registry = CollectorRegistry()
    registry.register(containers)
    start_http_server(PORTS["containers"], registry=registry)
    containers.forever()
    return 0


def test_rules() -> int:
    """promtool's unit tests of the shipped rules, with the default durations."""
    write("alerts.yml", rules({}))
    write("alerts-test.yml", (SHARE / "alerts-test.yml").read_text())
    # promtool keeps each test's samples in a temporary folder: the writable one, in a read-only container.
    return subprocess.call(["promtool", "test", "rules", str(RUN / "alerts-test.yml")],
                           env={**os.environ, "TMPDIR": str(RUN)})


def health(part: str) -> int:
    # The collector is asked nothing: each scrape of it asks the engine about every container.
    paths = {"prometheus": "/-/ready", "alertmanager": "/-/ready", "node": "/", "containers": "",
             "docker-proxy": "/_ping"}
    if part not in paths:
        print(f"hakobune-monitor: no part named {part!r}", file=sys.stderr)
        return 2
    try:
        if not paths[part]:
            socket.create_connection(("127.0.0.1", PORTS[part]), timeout=4).close()
            return 0
        with urllib.request.urlopen(f"http://127.0.0.1:{PORTS[part]}{paths[part]}", timeout=4) as answer:
            return 0 if answer.status == 200 else 1
    except OSError as exc:
        print(f"hakobune-monitor: {part}: {exc}", file=sys.stderr)
        return 1


STARTS = {"prometheus": run_prometheus, "alertmanager": run_alertmanager, "node": run_node,
          "docker-proxy": run_proxy}


def main(argv: list[str]) -> int:
    part = argv[1] if len(argv) > 1 else ""
    if part in STARTS:
        command = STARTS[part](dict(os.environ))
        os.execvp(command[0], command)  # noqa: S606 -- the part becomes the container's main process
    if part == "containers":
        return serve_containers()
    if part == "test-rules":
        return test_rules()
    if part == "health" and len(argv) == 3:
        return health(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
