"""The benchmark's arithmetic: medians over rounds, ratios paired within a round, and the targets."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import stats


def _run(contender: str, round_: int, rps: float, p99: float = 100.0, page: str = "front", tool: str = "h2load",
         concurrency: int = 8) -> dict[str, object]:
    return {"contender": contender, "page": page, "tool": tool, "protocol": "HTTP/2", "concurrency": concurrency,
            "rps": rps, "p50_ms": p99 / 2, "p99_ms": p99, "requests": 100, "failed": 0, "cpu_ms": 1000 / rps,
            "round": round_}


def _target(found: list[dict[str, object]], name: str) -> dict[str, object]:
    return next(t for t in found if t["target"] == name)


def test_a_machine_that_drifts_between_rounds_moves_both_sides_of_a_ratio_alike() -> None:
    # The machine is twice as fast in round 1: A is 1.3 x D within each round, though A's slow round is
    # slower than D's fast one.
    runs = [_run("A", 0, 13), _run("D", 0, 10), _run("A", 1, 26), _run("D", 1, 20), _run("A", 2, 14.3),
            _run("D", 2, 11)]
    target = _target(stats.targets(runs, {}), "A >= 1.2 x D")
    assert target["per_round"] == {"front/h2load/8": [1.3, 1.3, 1.3]}
    assert target["ratios"] == {"front/h2load/8": 1.3}
    assert target["met"] is True


def test_the_worst_point_decides_and_the_median_of_rounds_ignores_one_outlier() -> None:
    runs = [_run("A", r, rps) for r, rps in enumerate((12, 30, 12))] + [_run("D", r, 10) for r in range(3)]
    runs += [_run("A", r, 11, page="post") for r in range(3)] + [_run("D", r, 10, page="post") for r in range(3)]
    target = _target(stats.targets(runs, {}), "A >= 1.2 x D")
    assert target["ratios"] == {"front/h2load/8": 1.2, "post/h2load/8": 1.1}
    assert target["worst"] == 1.1
    assert target["met"] is False


def test_a_round_in_which_one_side_is_missing_gives_no_ratio() -> None:
    runs = [_run("A", 0, 12), _run("A", 1, 12), _run("D", 0, 10)]
    assert stats.paired_ratios(runs, "A", "D") == {"front/h2load/8": [1.2]}


def test_summary_gives_medians_ranges_and_sums_per_point() -> None:
    runs = [_run("A", r, rps, p99) for r, (rps, p99) in enumerate(((10, 900), (14, 700), (12, 800)))]
    (row,) = stats.summary(runs)
    assert (row["rps"], row["rps_min"], row["rps_max"], row["p99_ms"]) == (12, 10, 14, 800)
    assert (row["rounds"], row["requests"], row["failed"]) == (3, 300, 0)


def test_p99_compares_medians_and_counts_the_rounds_in_which_a_was_lower() -> None:
    runs = [_run("A", r, 10, p99) for r, p99 in enumerate((700, 900, 800))]
    runs += [_run("D", r, 10, p99) for r, p99 in enumerate((750, 850, 790))]
    target = _target(stats.targets(runs, {}), "A p99 <= D p99")
    assert target["p99_ms"] == {"front/h2load/8": [800, 790]}
    assert target["rounds_lower"] == {"front/h2load/8": 1}
    assert target["met"] is False


def test_results_from_before_rounds_count_as_one_round() -> None:
    runs = [{k: v for k, v in _run(c, 0, rps).items() if k != "round"} for c, rps in (("B", 900), ("C", 1000))]
    assert _target(stats.targets(runs, {}), "B >= 0.9 x C")["ratios"] == {"front/h2load/8": 0.9}


def test_idle_memory_is_met_only_below_the_stock_stack() -> None:
    assert _target(stats.targets([], {"hakobune": {"idle_mb": 160}, "D": {"idle_mb": 200}}), "idle memory < D")["met"]
    assert not _target(stats.targets([], {"hakobune": {"idle_mb": 200}, "D": {"idle_mb": 200}}),
                       "idle memory < D")["met"]
    assert not _target(stats.targets([], {}), "idle memory < D")["met"]


def test_a_reference_ratio_is_reported_but_neither_met_nor_missed() -> None:
    runs = [_run("B", 0, 1000), _run("G", 0, 650), _run("F", 0, 450)]
    found = stats.targets(runs, {})
    reference = _target(found, "G / B (reference)")
    assert reference["ratios"] == {"front/h2load/8": 0.65}
    assert reference["met"] is None
    assert _target(found, "F >= 0.9 x B")["met"] is False
