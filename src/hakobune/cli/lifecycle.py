"""Everyday site commands: start, stop, restart, logs, shell, exec."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from hakobune.cli.context import SITE_DIRECTORY, state, terminal
from hakobune.errors import InvalidInput
from hakobune.ops import lifecycle as ops
from hakobune.ops import logs as logs_ops
from hakobune.site import SERVICES

SERVICE_HELP = f"One service: {', '.join(SERVICES)}."
LOGGED_HELP = f"One service: {', '.join(logs_ops.LOGGED_SERVICES)}."
ONE_SHOT_HELP = f"{SERVICE_HELP[:-1]}; or a one-shot container: ops (backups, restores) or wp (WordPress work)."


def start(ctx: typer.Context, directory: Path | None = SITE_DIRECTORY) -> None:
    """Start a stopped site; returns when every service is healthy."""
    st = state(ctx)
    stack = st.stack(directory)
    with st.output.working("Starting"):
        ops.start(stack)
    st.output.out.print(f"Site {stack.site.name} is up: {stack.site.url}/", markup=False)


def stop(ctx: typer.Context, directory: Path | None = SITE_DIRECTORY) -> None:
    """Stop a site's services; its data stays."""
    st = state(ctx)
    stack = st.stack(directory)
    with st.output.working("Stopping"):
        ops.stop(stack)
    st.output.out.print(f"Site {stack.site.name} stopped.")


def restart(
    ctx: typer.Context,
    service: str | None = typer.Argument(None, help=SERVICE_HELP + " Default: all."),
    directory: Path | None = SITE_DIRECTORY,
) -> None:
    """Restart one service (only that one) or the whole site, as new containers from the current compose files
    (so a change to compose.override.yaml applies); returns when they are healthy again."""
    st = state(ctx)
    stack = st.stack(directory)
    with st.output.working("Restarting"):
        done = ops.restart(stack, service)
    st.output.out.print(f"Restarted: {', '.join(done)}")


def logs(
    ctx: typer.Context,
    service: str | None = typer.Argument(None, help=LOGGED_HELP + " Default: all."),
    directory: Path | None = SITE_DIRECTORY,
    every: bool = typer.Option(False, "--all", help="Every site on the engine, each line after its site's name."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines (Ctrl-C stops)."),
    since: str | None = typer.Option(None, "--since", help="Only lines since then: 2026-01-31T10:00:00 or 10m."),
    tail: str | None = typer.Option(None, "--tail", help="Only the last N lines of each container."),
    grep: str | None = typer.Option(None, "--grep", help="Only lines that match this regular expression."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object a line; a web server's access line "
                                                       "also as its fields, under request."),
) -> None:
    """The services' logs, with timestamps, merged in the order of time; the web server's access lines are JSON."""
    if every and directory is not None:
        raise InvalidInput("-C and --all cannot be used together", "--all shows every site on the engine")
    st = state(ctx)
    wanted = logs_ops.Filter.of(since, tail, grep)
    site = None if every else st.stack(directory).site.name
    found = logs_ops.sources(st.engine, site, service)
    width = logs_ops.label_width(found, every)

    def emit(line: logs_ops.Line) -> None:
        if as_json:
            print(json.dumps(line.to_dict()), flush=True)
        else:
            print(f"{logs_ops.label(line.source, every):<{width}} | {line.time} {line.text}", flush=follow)

    if follow:
        logs_ops.follow(st.engine, found, wanted, emit)
    else:
        for line in logs_ops.collect(st.engine, found, wanted):
            emit(line)


def shell(
    ctx: typer.Context,
    service: str = typer.Argument("php", help=ONE_SHOT_HELP),
    directory: Path | None = SITE_DIRECTORY,
) -> None:
    """An interactive shell in a service (default: php, where WordPress runs)."""
    _attached(ctx, directory, service, ["bash"])


def exec_(
    ctx: typer.Context,
    service: str = typer.Argument(..., help=ONE_SHOT_HELP),
    command: list[str] = typer.Argument(None, help="The command, after --: hakobune exec php -- php -v"),
    directory: Path | None = SITE_DIRECTORY,
) -> None:
    """Run a command in a service; its output and exit code are the command's."""
    command = list(command or [])
    if command[:1] == ["--"]:  # the customary -- is not part of the command
        command = command[1:]
    if not command:
        raise InvalidInput("exec needs a command", "e.g. hakobune exec php -- php -v")
    _attached(ctx, directory, service, command)


def _attached(ctx: typer.Context, directory: Path | None, service: str, command: list[str]) -> None:
    raise typer.Exit(ops.interact(state(ctx).stack(directory), service, command, terminal()))
