"""`hakobune info`: a site's settings as its folder records them."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from hakobune.cli.context import SITE_DIRECTORY, state
from hakobune.ops.sitedir import SiteDir
from hakobune.ops.status import info as info_op


def info(
    ctx: typer.Context,
    directory: Path | None = SITE_DIRECTORY,
    show_secrets: bool = typer.Option(False, "--show-secrets", help="Include passwords and salts."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The site's settings as recorded in its folder (secrets only with --show-secrets)."""
    out = state(ctx).output.out
    found = info_op(SiteDir.find(directory), show_secrets)
    if as_json:
        out.print_json(json.dumps(found))
        return
    for key, value in found.items():
        if isinstance(value, dict):
            out.print(f"{key}:", markup=False)
            for inner, item in value.items():
                out.print(f"  {inner}: {item}", markup=False)
        elif isinstance(value, list):
            out.print(f"{key}: {', '.join(map(str, value)) or '-'}", markup=False)
        else:
            out.print(f"{key}: {value}", markup=False)
