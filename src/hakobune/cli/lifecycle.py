"""Everyday site commands: start, stop, restart, logs, shell, exec."""

from __future__ import annotations

from pathlib import Path

import typer

from hakobune.cli.context import SITE_DIRECTORY, state, terminal
from hakobune.engine import INTERRUPTED
from hakobune.errors import HakobuneError, InvalidInput
from hakobune.ops import lifecycle as ops
from hakobune.site import SERVICES

SERVICE_HELP = f"One service: {', '.join(SERVICES)}."
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
    service: str | None = typer.Argument(None, help=SERVICE_HELP + " Default: all."),
    directory: Path | None = SITE_DIRECTORY,
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines (Ctrl-C stops)."),
    since: str | None = typer.Option(None, "--since", help="Only lines since then: 2026-01-31T10:00:00 or 10m."),
    tail: str | None = typer.Option(None, "--tail", help="Only the last N lines of each service."),
) -> None:
    """The services' logs, with timestamps."""
    code = ops.logs(state(ctx).stack(directory), service, follow, since, tail)
    if code not in (0, INTERRUPTED):  # Ctrl-C is how -f ends
        raise HakobuneError(f"docker compose logs exited with {code}")


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
