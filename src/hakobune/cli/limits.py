"""`hakobune limits [set|unset]`: each service's memory and process-count limits."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from hakobune.cli.context import SITE_DIRECTORY, state
from hakobune.ops import limits as limits_op
from hakobune.ops.sitedir import SiteDir

app = typer.Typer(help="Show and change each service's memory and process-count limits.",
                  invoke_without_command=True, no_args_is_help=False)


@app.callback()
def show(
    ctx: typer.Context,
    directory: Path | None = SITE_DIRECTORY,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show the limits of each service: memory, and how many processes (and threads) it may have."""
    if ctx.invoked_subcommand:
        return
    found = limits_op.limits(SiteDir.find(directory))
    out = state(ctx).output.out
    if as_json:
        out.print_json(json.dumps([limit.to_dict() for limit in found]))
        return
    table = Table("service", "memory", "processes", "", box=None)
    for limit in found:
        table.add_row(limit.service, limit.memory, str(limit.pids),
                      f"set: {', '.join(limit.changed)}" if limit.changed else "default")
    out.print(table)


def _apply(ctx: typer.Context, directory: Path | None, updates: dict[tuple[str, str], str | None]) -> None:
    st = state(ctx)
    stack = st.stack(directory)
    with st.output.working("Changing limits"):
        recreated = limits_op.change(stack, updates, st.output.step)
    recreated_text = ", ".join(recreated) or "nothing (they apply when the services next start)"
    st.output.out.print(f"Limits changed; recreated: {recreated_text}.", markup=False)


@app.command("set")
def set_(
    ctx: typer.Context,
    pairs: list[str] = typer.Argument(..., help="SERVICE.memory=SIZE or SERVICE.pids=N, e.g. php.memory=2G."),
    directory: Path | None = SITE_DIRECTORY,
) -> None:
    """Change limits; the running services concerned are recreated, and put back if they do not come up."""
    _apply(ctx, directory, limits_op.parse(pairs, values=True))


@app.command("unset")
def unset(
    ctx: typer.Context,
    keys: list[str] = typer.Argument(..., help="SERVICE.memory or SERVICE.pids: back to the default."),
    directory: Path | None = SITE_DIRECTORY,
) -> None:
    """Put limits back to their defaults."""
    _apply(ctx, directory, limits_op.parse(keys, values=False))
