"""What every command gets from the global options."""

from __future__ import annotations

from dataclasses import dataclass

import typer

from hakobune.cli.output import Output
from hakobune.engine import Engine


@dataclass
class State:
    engine: Engine
    output: Output


# `-C TARGET`, as every command that works on one site takes it.
SITE_DIRECTORY = typer.Option(None, "-C", "--directory", help="The site folder (default: the current directory).")


def state(ctx: typer.Context) -> State:
    return ctx.find_root().obj  # type: ignore[no-any-return]
