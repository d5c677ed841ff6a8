"""`hakobune top`: every site on the engine, now, from the monitoring stack's Prometheus (ops/monitor.py)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from hakobune.ops.monitor import Monitor

# Rates over the last minute: four scrapes at the default interval, steady enough to read every 2 s.
QUERIES = {
    "read": 'min by (site) (up{job="hakobune-sites"})',
    "answers": "min by (site) (hakobune_site_up)",
    "requests": "sum by (site) (rate(hakobune_http_requests_total[1m]))",
    "hits": 'sum by (site) (rate(hakobune_http_requests_total{cache="HIT"}[1m]))',
    "cpu": 'sum by (site) (rate(hakobune_container_cpu_seconds_total{site!=""}[1m]))',
    "memory": 'sum by (site) (hakobune_container_memory_bytes{site!=""})',
    "busy": "sum by (site) (phpfpm_active_processes)",
    "children": "sum by (site) (phpfpm_total_processes)",
}


@dataclass(frozen=True)
class SiteNow:
    site: str
    up: bool | None  # None: not read yet
    requests_per_second: float | None
    cache_hit_ratio: float | None  # None: no request in the last minute
    cpu_cores: float | None
    memory_bytes: float | None
    php_busy: int | None
    php_children: int | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def sites_now(monitor: Monitor) -> list[SiteNow]:
    answered = dict(zip(QUERIES, monitor.queries(*QUERIES.values()), strict=True))
    values: dict[str, dict[str, float]] = {key: {} for key in QUERIES}
    for key, found in answered.items():
        for row in found:
            values[key][str(row["metric"].get("site", ""))] = float(row["value"][1])
    names = sorted({site for found in values.values() for site in found if site})

    def number(key: str, site: str) -> float | None:
        return values[key].get(site)

    rows: list[SiteNow] = []
    for site in names:
        requests, hits = number("requests", site), number("hits", site)
        busy, children = number("busy", site), number("children", site)
        read, answers = number("read", site), number("answers", site)
        # Up: its metrics were read and its front page answered; None: not read yet.
        up = None if read is None else read == 1.0 and answers == 1.0
        rows.append(SiteNow(
            site, up, requests,
            hits / requests if requests and hits is not None else None, number("cpu", site),
            number("memory", site), None if busy is None else int(busy), None if children is None else int(children)))
    return rows
