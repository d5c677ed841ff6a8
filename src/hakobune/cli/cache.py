"""`hakobune cache ...`: nginx's page cache (on, off, clear, status) and WordPress's object cache (flush)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer

from hakobune.cli.context import SITE_DIRECTORY, state
from hakobune.ops import cache as cache_op
from hakobune.ops import wordpress as wp

app = typer.Typer(help="The page cache (nginx's, in front of PHP) and WordPress's object cache.",
                  no_args_is_help=True)


def _switch(ctx: typer.Context, directory: Path | None, on: bool) -> None:
    st = state(ctx)
    word = "on" if on else "off"
    with st.output.working(f"Turning the page cache {word}"):
        changed = cache_op.switch(st.stack(directory), on, st.output.step)
    st.output.out.print(f"The page cache is {word}." if changed else f"The page cache was already {word}.")


@app.command("on")
def on(ctx: typer.Context, directory: Path | None = SITE_DIRECTORY) -> None:
    """Serve anonymous visitors' pages from the page cache (the default for WordPress on nginx)."""
    _switch(ctx, directory, True)


@app.command("off")
def off(ctx: typer.Context, directory: Path | None = SITE_DIRECTORY) -> None:
    """Send every request to PHP."""
    _switch(ctx, directory, False)


@app.command("clear")
def clear(ctx: typer.Context, directory: Path | None = SITE_DIRECTORY) -> None:
    """Purge every cached page."""
    st = state(ctx)
    with st.output.working("Purging the page cache"):
        cache_op.clear(st.stack(directory))
    st.output.out.print("Page cache cleared.")


@app.command("status")
def status(ctx: typer.Context, directory: Path | None = SITE_DIRECTORY,
           as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Whether the page cache is on, how many pages it holds and their size; what the object cache holds."""
    found = cache_op.status(state(ctx).stack(directory))
    out = state(ctx).output.out
    if as_json:
        out.print_json(json.dumps(asdict(found)))
        return
    out.print(f"page cache: {'on' if found.on else 'off'}, {found.pages} pages, {found.bytes / 1e6:.1f} MB")
    objects = found.object_cache
    if objects is None:
        out.print("object cache: none running")
    else:
        asked = objects.hits + objects.misses
        rate = f", {objects.hits / asked:.0%} of {asked} lookups found" if asked else ""
        out.print(f"object cache: {objects.keys} keys, {objects.bytes / 1e6:.1f} MB{rate}")


@app.command("flush")
def flush(ctx: typer.Context, directory: Path | None = SITE_DIRECTORY) -> None:
    """Empty WordPress's object cache and expired transients."""
    st = state(ctx)
    with st.output.working("Working in the ops container"):
        wp.run(st.stack(directory), "cache-flush")
    st.output.out.print("Object cache flushed.")
