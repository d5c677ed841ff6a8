"""From the benchmark's raw runs to what it reports: each measurement point's median over the rounds, and the
issue's targets as ratios.

A point is (page, tool, connections). Contenders are measured in turn at each point, round after round, so a
ratio is taken within a round, between measurements made a minute apart, and its median over the rounds is
what counts: a machine that drifts by 20 % in ten minutes then moves both sides of a ratio alike."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

Point = tuple[str, str, int]

RATIO_TARGETS = (("B >= 0.9 x C", ("B", "C"), 0.9), ("B >= 100 x E", ("B", "E"), 100),
                 ("A >= 1.5 x E", ("A", "E"), 1.5), ("A >= 1.2 x D", ("A", "D"), 1.2),
                 ("F >= 0.9 x B", ("F", "B"), 0.9),  # the shared edge costs at most 10 % of B
                 # Not a target: what a relay that only moves bytes leaves of B, the most any edge could reach.
                 ("G / B (reference)", ("G", "B"), None))


def _point(run: dict[str, Any]) -> Point:
    return run["page"], run["tool"], run["concurrency"]


def _label(point: Point) -> str:
    return "/".join(map(str, point))


def _rounds(runs: list[dict[str, Any]], contender: str) -> dict[Point, dict[int, dict[str, Any]]]:
    """CONTENDER's runs by point and round (results from before rounds existed count as round 0)."""
    found: dict[Point, dict[int, dict[str, Any]]] = defaultdict(dict)
    for run in runs:
        if run["contender"] == contender:
            found[_point(run)][run.get("round", 0)] = run
    return found


def summary(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per contender and point: medians over the rounds, the lowest and highest req/s, and the
    requests and failures summed."""
    groups: dict[tuple[str, Point], list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        groups[(run["contender"], _point(run))].append(run)
    rows = []
    for (contender, (page, tool, concurrency)), group in groups.items():
        rps = [r["rps"] for r in group]
        rows.append({
            "contender": contender, "page": page, "tool": tool, "protocol": group[0]["protocol"],
            "concurrency": concurrency, "rounds": len(group), "rps": round(statistics.median(rps), 1),
            "rps_min": min(rps), "rps_max": max(rps),
            **{key: round(statistics.median(r[key] for r in group), 2) for key in ("p50_ms", "p99_ms", "cpu_ms")
               if all(key in r for r in group)},
            "requests": sum(r["requests"] for r in group), "failed": sum(r["failed"] for r in group),
        })
    return rows


def paired_ratios(runs: list[dict[str, Any]], top: str, bottom: str, key: str = "rps") -> dict[str, list[float]]:
    """For each point: TOP's KEY over BOTTOM's, one ratio per round in which both were measured."""
    ours, theirs = _rounds(runs, top), _rounds(runs, bottom)
    ratios = {}
    for point, by_round in ours.items():
        other = theirs.get(point, {})
        if found := [round(run[key] / other[r][key], 2) for r, run in by_round.items() if other.get(r, {}).get(key)]:
            ratios[_label(point)] = found
    return ratios


def targets(runs: list[dict[str, Any]], memory: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """The issue's targets. A point's ratio is the median of its rounds' ratios; the worst point decides."""
    found = []
    for name, (top, bottom), goal in RATIO_TARGETS:
        per_round = paired_ratios(runs, top, bottom)
        ratios = {point: round(statistics.median(values), 2) for point, values in per_round.items()}
        found.append({"target": name, "ratios": ratios, "per_round": per_round,
                      "worst": min(ratios.values(), default=None),
                      "median": statistics.median(ratios.values()) if ratios else None,
                      "met": None if goal is None else bool(ratios) and min(ratios.values()) >= goal})
    medians = {(r["contender"], _point(r)): r["p99_ms"] for r in summary(runs)}
    p99 = {_label(point): [medians[("A", point)], medians[("D", point)]]
           for (contender, point) in medians if contender == "A" and ("D", point) in medians}
    lower = paired_ratios(runs, "A", "D", "p99_ms")
    found.append({"target": "A p99 <= D p99", "p99_ms": p99,
                  "rounds_lower": {point: sum(v <= 1 for v in values) for point, values in lower.items()},
                  "rounds": {point: len(values) for point, values in lower.items()},
                  "met": bool(p99) and all(ours <= theirs for ours, theirs in p99.values())})
    ours_idle, stock_idle = memory.get("hakobune", {}).get("idle_mb"), memory.get("D", {}).get("idle_mb")
    found.append({"target": "idle memory < D", "mb": [ours_idle, stock_idle],
                  "met": ours_idle is not None and stock_idle is not None and ours_idle < stock_idle})
    return found
