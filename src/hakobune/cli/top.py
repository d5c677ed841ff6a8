"""`hakobune top`: a live view of every site on the engine (from the monitoring stack)."""

from __future__ import annotations

import json
import time

import typer
from rich.live import Live
from rich.table import Table

from hakobune.cli.context import state
from hakobune.errors import InvalidInput
from hakobune.ops.monitor import Monitor
from hakobune.ops.top import SiteNow, sites_now


def _cell(value: float | None, form: str) -> str:
    return "-" if value is None else form.format(value)


def _table(rows: list[SiteNow]) -> Table:
    table = Table("site", "health", "req/s", "cache hits", "CPU", "memory", "PHP busy/children",
                  title=f"Hakobune sites on this engine, {time.strftime('%H:%M:%S')} (Ctrl-C ends)")
    for row in rows:
        health = "-" if row.up is None else ("up" if row.up else "[bold red]DOWN[/]")
        memory = None if row.memory_bytes is None else row.memory_bytes / 2**20
        php = f"{_cell(row.php_busy, '{}')}/{_cell(row.php_children, '{}')}"
        table.add_row(row.site, health, _cell(row.requests_per_second, "{:.1f}"),
                      _cell(row.cache_hit_ratio and row.cache_hit_ratio * 100, "{:.0f}%"),
                      _cell(row.cpu_cores and row.cpu_cores * 100, "{:.0f}%"), _cell(memory, "{:.0f} MiB"), php)
    if not rows:
        table.add_row("no site measured yet", "", "", "", "", "", "")
    return table


def top(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Print the view once and end."),
    as_json: bool = typer.Option(False, "--json", help="With --once: print JSON, for scripts."),
    interval: float = typer.Option(2.0, "--interval", metavar="SECONDS", help="Seconds between two updates."),
) -> None:
    """Every site on the engine, updated every 2 s: health, requests/s, cache hit ratio, CPU (100% is one
    core), memory and PHP-FPM's busy children. Read from the monitoring stack (hakobune monitor up)."""
    if as_json and not once:
        raise InvalidInput("--json goes with --once", "hakobune top --once --json")
    if not 0.5 <= interval <= 3600:
        raise InvalidInput(f"--interval {interval} is out of range", "give 0.5 to 3600 seconds")
    st = state(ctx)
    monitor = Monitor(st.engine)
    if once:
        rows = sites_now(monitor)
        if as_json:
            st.output.out.print_json(json.dumps({"sites": [row.to_dict() for row in rows]}))
        else:
            st.output.out.print(_table(rows))
        return
    try:
        with Live(_table(sites_now(monitor)), console=st.output.out, auto_refresh=False) as live:
            while True:
                time.sleep(interval)
                live.update(_table(sites_now(monitor)), refresh=True)
    except KeyboardInterrupt:
        pass
