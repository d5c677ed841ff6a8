"""The benchmark's results as docs/performance.md shows them: the targets with their ratios, a table per
page, memory, and a chart (docs/performance.png). Rewrites only the part between the bench markers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from stats import summary

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
NAMES = {"A": "A: Hakobune, cache off", "B": "B: Hakobune, cache on", "C": "C: static file (B's ceiling)",
         "D": "D: stock containers", "E": "E: LAMP in one container", "F": "F: B through the shared edge",
         "G": "G: B through a bare TCP relay"}


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _targets(results: dict[str, Any]) -> str:
    rows = []
    for target in results["targets"]:
        if "ratios" in target:
            ratios = target["ratios"]
            detail = f"worst {target['worst']:.2f}x, median {target['median']:.2f}x over {len(ratios)} points"
        elif "p99_ms" in target:
            worse = {k: v for k, v in target["p99_ms"].items() if v[0] > v[1]}
            lower, rounds = target.get("rounds_lower", {}), target.get("rounds", {})
            detail = "at every point" if not worse else "higher at: " + ", ".join(
                f"{k} ({a} vs {d} ms" + (f", lower in {lower[k]} of {rounds[k]} rounds)" if k in rounds else ")")
                for k, (a, d) in worse.items())
        else:
            ours, stock = target["mb"]
            detail = f"{ours} MB vs {stock} MB"
        result = "reference" if target["met"] is None else "met" if target["met"] else "**missed**"
        rows.append([target["target"], result, detail])
    return _table(["target", "result", "measured"], rows)


def _summary(results: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(results.get("summary") or summary(results["runs"]),
                  key=lambda r: (r["page"], r["contender"], r["concurrency"], r["tool"]))


def _runs(results: dict[str, Any], page: str) -> str:
    rows = []
    for run in _summary(results):
        if run["page"] != page:
            continue
        rows.append([NAMES[run["contender"]], f"{run['tool']} ({run['protocol']})", str(run["concurrency"]),
                     f"{run['rps']:,.1f}", f"{run['rps_min']:,.1f} to {run['rps_max']:,.1f}", f"{run['p50_ms']:.2f}",
                     f"{run['p99_ms']:.2f}", f"{run['cpu_ms']:.2f}" if "cpu_ms" in run else "", str(run["failed"])])
    return _table(["contender", "load", "connections", "req/s", "req/s range", "p50 ms", "p99 ms",
                   "CPU ms/request", "failed"], rows)


def _memory(results: dict[str, Any]) -> str:
    memory = results["memory_mb"]
    stacks = [("Hakobune (A, B, C, F, G)", "hakobune", ("A", "B", "C", "F", "G")), ("D: stock containers", "D", ("D",)),
              ("E: LAMP in one container", "E", ("E",))]
    rows = []
    for label, idle, loaded in stacks:
        peak = max((memory.get(name, {}).get("load_mb", 0) for name in loaded), default=0)
        rows.append([label, str(memory.get(idle, {}).get("idle_mb", "")), str(peak or "")])
    return _table(["stack", "idle MB", "peak under load MB"], rows)


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [r for r in _summary(results) if r["concurrency"] == max(results["settings"]["concurrency"])]
    contenders = list(NAMES)
    series = [(page, tool) for page in ("front", "post") for tool in ("h2load", "wrk")]
    fig, ax = plt.subplots(figsize=(10, 5))
    width = 0.8 / len(series)
    for i, (page, tool) in enumerate(series):
        values = [next((r["rps"] for r in runs if r["contender"] == c and r["page"] == page and r["tool"] == tool),
                       0) for c in contenders]
        ax.bar([x + i * width for x in range(len(contenders))], values, width,
               label=f"{page} page, {'HTTP/2' if tool == 'h2load' else 'HTTP/1.1'}")
    ax.set_yscale("log")
    ax.set_ylabel("requests/s (log scale)")
    ax.set_xticks([x + width * (len(series) - 1) / 2 for x in range(len(contenders))])
    ax.set_xticklabels([NAMES[c].replace(": ", ":\n", 1) for c in contenders], fontsize=8)
    ax.set_title(f"WordPress over HTTPS, {max(results['settings']['concurrency'])} connections, "
                 f"{results['machine']['cpus']} CPUs ({results['when'][:10]})")
    ax.legend(fontsize=8)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _method(settings: dict[str, Any]) -> str:
    rounds = settings.get("rounds", 1)
    if rounds == 1:
        return "Ratios compare the same page, tool and connections."
    return (f"Each contender was measured {rounds} times at each point (page, tool, connections), the contenders "
            "in turn at a point before the next; the tables give the median and range of the rounds, and a "
            "target's ratio at a point is the median of the rounds' ratios.")


def write_report(results: dict[str, Any], docs: Path) -> None:
    machine = results["machine"]
    settings = results["settings"]
    body = "\n\n".join([
        START,
        f"Measured {results['when']} on {machine['cpus']} CPUs, {machine['memory_gb']} GB, Linux "
        f"{machine['kernel']}, Docker {machine['docker']}; about {settings['duration_s']} s per measurement "
        f"after 50 warm-up requests; {settings['posts']} posts; pages: front `{settings['pages']['front']}`, post "
        f"`{settings['pages']['post']}`. {_method(settings)} CPU ms/request is "
        "the CPU time the contender's own containers spent per request (from their cgroups; the load generator "
        "is not counted). Raw results: `bench/results/`.",
        "### Targets\n\n" + _targets(results),
        "![requests per second of each contender](performance.png)",
        "### Front page\n\n" + _runs(results, "front"),
        "### A single post (with comments)\n\n" + _runs(results, "post"),
        "### Memory (web, PHP and database together)\n\n" + _memory(results),
        END,
    ])
    page = docs / "performance.md"
    text = page.read_text()
    text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: body, text, flags=re.DOTALL)
    page.write_text(text)
    chart(results, docs / "performance.png")
