"""The metrics service's own code (images/metrics/metrics.py), with the prometheus-client Debian ships: a scrape
is answered in time whatever a part does, and access lines become counts."""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily

SOURCE = Path(__file__).parents[2] / "images" / "metrics" / "metrics.py"
spec = importlib.util.spec_from_file_location("hakobune_metrics", SOURCE)
metrics = importlib.util.module_from_spec(spec)
spec.loader.exec_module(metrics)


class Part:
    """A part whose look takes as long as RELEASE is held, and counts itself."""

    def __init__(self, name: str) -> None:
        self.name, self.looks, self.at_once, self.busy = name, 0, 0, 0
        self.release = threading.Event()
        self.release.set()

    def collect(self):
        self.busy += 1
        self.at_once = max(self.at_once, self.busy)
        self.release.wait(10)
        self.looks += 1
        self.busy -= 1
        yield GaugeMetricFamily(self.name, "looks", value=self.looks)


def values(collector) -> dict[str, float]:
    return {family.name: family.samples[0].value for family in collector.collect()}


def test_a_scrape_is_answered_within_its_budget_while_a_part_hangs_with_that_parts_last_values():
    fast, slow = Part("fast"), Part("slow")
    bounded = metrics.Bounded([fast, slow], budget=0.3)
    assert values(bounded) == {"fast": 1, "slow": 1}

    slow.release.clear()  # a database that stops answering
    started = time.monotonic()
    assert values(bounded) == {"fast": 2, "slow": 1}
    assert values(bounded) == {"fast": 3, "slow": 1}
    assert time.monotonic() - started < 1.5
    assert slow.at_once == 1  # the hanging look is not asked again meanwhile

    slow.release.set()
    time.sleep(0.1)
    assert values(bounded) == {"fast": 4, "slow": 3}  # the look that hung ended, and a fresh one was waited for


def test_access_lines_are_counted_by_class_and_cache_and_the_services_own_look_is_not():
    counted = metrics.AccessLines(CollectorRegistry(), "/nonexistent")
    for line in (b'<190>Dec  7 07:00:00 hbaccess: {"status":200,"request_ms":3,"upstream_ms":null,"cache":"HIT"}',
                 b'<190>hbaccess: {"status":502,"request_ms":2500,"upstream_ms":2490.5,"cache":"MISS"}',
                 b'<190>hbaccess: {"status":200,"request_ms":1,"cache":"","user_agent":"hakobune-metrics"}',
                 b"<190>hbaccess: not json", b'<190>hbaccess: {"status":"x"}'):
        counted.count(line)
    assert counted.requests.labels("2xx", "HIT")._value.get() == 1
    assert counted.requests.labels("5xx", "MISS")._value.get() == 1
    assert counted.requests.labels("2xx", "NONE")._value.get() == 0
    assert counted.unreadable._value.get() == 2
    buckets = {s.labels["le"]: s.value for s in next(iter(counted.seconds.collect())).samples
               if s.name.endswith("_bucket")}
    assert buckets["0.005"] == 1 and buckets["2.5"] == 2  # 3 ms and 2.5 s
