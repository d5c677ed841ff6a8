"""What every command gets from the global options."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import typer

from hakobune.cli.output import Output
from hakobune.engine import Engine
from hakobune.ops.sitedir import SiteDir
from hakobune.ops.stack import Stack


@dataclass
class State:
    engine: Engine  # handed to operations, never called from the CLI
    output: Output

    def stack(self, directory: str | Path | None) -> Stack:
        """The site in DIRECTORY (-C), or in the current directory, on the engine the global options chose."""
        return Stack.open(self.engine, SiteDir.find(directory))


# `-C TARGET`, as every command that works on one site takes it.
SITE_DIRECTORY = typer.Option(None, "-C", "--directory", help="The site folder (default: the current directory).")
# The ports of a site made from another (restore --new, clone): none, and it is behind the engine's shared edge.
HTTP_PORT = typer.Option(None, "--http-port", help="The new site's own HTTP port (without port options the new "
                                                   "site is behind the engine's shared edge, on 80 and 443).")
TLS_PORT = typer.Option(None, "--tls-port", help="The new site's own HTTPS port.")


def state(ctx: typer.Context) -> State:
    found = ctx.find_root().obj
    assert isinstance(found, State)  # noqa: S101 - the root callback always sets it
    return found


def terminal() -> bool:
    """Both ends are a terminal: an interactive command gets one too."""
    return sys.stdin.isatty() and sys.stdout.isatty()
