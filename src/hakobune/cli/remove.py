"""`hakobune remove`: a site and all its data."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from hakobune.cli.context import state
from hakobune.errors import InvalidInput
from hakobune.ops.remove import remove as remove_op


def remove(
    ctx: typer.Context,
    target: Path = typer.Argument(..., help="The site folder."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    moved: bool = typer.Option(False, "--moved", help="This folder is the site's own though the site was last "
                                                      "started from another (the folder moved, or lives on "
                                                      "another machine)."),
) -> None:
    """Remove a site: its containers, network, volumes (all its data) and its folder. Only the site this folder
    describes: not another engine's site of the same name, nor the original of a copied folder."""
    st = state(ctx)
    stack = st.stack(target)
    name = stack.site.name
    if not yes:
        if not sys.stdin.isatty():
            raise InvalidInput("remove asks for confirmation on a terminal", "pass -y to remove without asking")
        typer.confirm(f"Remove site {name} and ALL its data (files and database)?", abort=True)
    with st.output.working(f"Removing {name}"):
        remove_op(stack, moved=moved)
    st.output.out.print(f"Site {name} removed.")
