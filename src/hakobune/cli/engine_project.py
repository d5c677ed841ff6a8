"""What `edge` and `monitor` share on the command line: the engine's own Compose projects (ops/engine_project.py)."""

from __future__ import annotations

from collections.abc import Callable

from rich.table import Table

from hakobune.engine import INTERRUPTED
from hakobune.errors import HakobuneError
from hakobune.ops.logs import Filter
from hakobune.ops.stack import Container


def containers_table(containers: list[Container]) -> Table:
    table = Table("service", "state", "health", "ports", "image", box=None)
    for c in containers:
        table.add_row(c.service, c.state, c.health, ", ".join(c.ports), c.image)
    return table


def print_logs(logs: Callable[[bool, str | None, str | None], int], follow: bool, since: str | None,
               tail: str | None) -> None:
    """LOGS (a project's `logs`) with the options checked first; Ctrl-C is how -f ends."""
    Filter.of(since, tail, None)
    code = logs(follow, since, tail)
    if code not in (0, INTERRUPTED):
        raise HakobuneError(f"docker compose logs exited with {code}")
