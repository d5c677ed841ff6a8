"""`hakobune config ...`: read and change a site's image settings."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer
from rich.table import Table

from hakobune.cli.context import SITE_DIRECTORY, state
from hakobune.ops import config as config_op
from hakobune.ops.sitedir import SiteDir

app = typer.Typer(help="Read and change a site's settings (the images' environment variables).",
                  no_args_is_help=True)



@app.command("get")
def get(
    ctx: typer.Context,
    key: str | None = typer.Argument(None, help="One setting (default: all of them)."),
    directory: Path | None = SITE_DIRECTORY,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show the site's settings: each value, and whether it is the image's default."""
    out = state(ctx).output.out
    sitedir = SiteDir.find(directory)
    if key:
        value = config_op.get(sitedir, key)
        if as_json:
            out.print_json(json.dumps(asdict(value)))
        else:
            out.print(value.value, markup=False)
        return
    rows = config_op.values(sitedir)
    if as_json:
        out.print_json(json.dumps([asdict(v) for v in rows]))
        return
    table = Table("setting", "value", "service", "", box=None)
    for v in rows:
        table.add_row(v.name, v.value, v.service, "changed" if v.changed else "default")
    out.print(table)


@app.command("set")
def set_(
    ctx: typer.Context,
    assignments: list[str] = typer.Argument(..., help="KEY=VALUE pairs, e.g. PHP_MEMORY_LIMIT=512M."),
    directory: Path | None = SITE_DIRECTORY,
) -> None:
    """Change settings. All are checked before anything changes; only the services they belong to restart."""
    _apply(ctx, directory, dict(config_op.parse_assignments(assignments)))


@app.command("unset")
def unset(
    ctx: typer.Context,
    keys: list[str] = typer.Argument(..., help="Settings to return to the image's default."),
    directory: Path | None = SITE_DIRECTORY,
) -> None:
    """Return settings to the image's defaults; only the services they belong to restart."""
    _apply(ctx, directory, dict.fromkeys(keys))


def _apply(ctx: typer.Context, directory: Path | None, updates: dict[str, str | None]) -> None:
    st = state(ctx)
    stack = st.stack(directory)
    with st.output.working("Applying settings"):
        services = config_op.change(stack, updates, st.output.step)
    if services:
        st.output.out.print(f"Applied; restarted: {', '.join(services)}")
