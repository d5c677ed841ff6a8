"""Everyday site commands: start, stop, restart, list, info, logs, shell, exec."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from hakobune.cli.context import SITE_DIRECTORY, state, terminal
from hakobune.engine import INTERRUPTED
from hakobune.errors import HakobuneError, InvalidInput
from hakobune.ops import lifecycle as ops
from hakobune.ops.sitedir import SiteDir
from hakobune.ops.status import info as info_op
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


def list_(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every Hakobune site on the engine, found by label: any client of the engine sees the same list."""
    st = state(ctx)
    sites = ops.list_sites(st.engine)
    if as_json:
        st.output.out.print_json(json.dumps([s.to_dict() for s in sites]))
        return
    if not sites:
        st.output.out.print("No Hakobune sites on this engine.")
        return
    table = Table("site", "state", "url", "folder", box=None)
    for s in sites:
        table.add_row(s.site, s.state, s.url or "-", s.folder or "-")
    st.output.out.print(table)


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


def register(app: typer.Typer) -> None:
    app.command()(start)
    app.command()(stop)
    app.command()(restart)
    app.command("list")(list_)
    app.command()(info)
    app.command()(logs)
    app.command()(shell)
    app.command("exec")(exec_)
