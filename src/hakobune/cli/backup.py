"""Backup commands: backup, backup list, backup schedule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from hakobune.cli.context import SITE_DIRECTORY, state
from hakobune.errors import HakobuneError
from hakobune.ops import archive
from hakobune.ops import backup as ops
from hakobune.ops.sitedir import SiteDir

app = typer.Typer(help="Back up a site: its database, files and settings, in one verified archive.",
                  invoke_without_command=True, no_args_is_help=False)

TO = typer.Option(None, "--to", help=f"Folder for archives (default: 'backups' beside the site folders, or "
                                    f"${ops.BACKUP_DIR_ENV}).")
ON_HOST = typer.Option(False, "--on-host", help="Keep the archive on the engine, in the site's backups volume.")
def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


@app.callback()
def backup(
    ctx: typer.Context,
    directory: Path | None = SITE_DIRECTORY,
    to: Path | None = TO,
    keep: int | None = typer.Option(None, "--keep", help="Then delete all but the N newest archives of the site."),
    on_host: bool = ON_HOST,
) -> None:
    """Write one archive of a site while it runs: a consistent database dump, the site's files, its settings
    (no secrets) and a manifest with the checksum of every part."""
    if ctx.invoked_subcommand:
        return
    st = state(ctx)
    stack = st.stack(directory)
    with st.output.working("Backing up"):
        done = ops.backup(stack, to, keep, on_host, st.output.step)
    for warning in done.warnings:
        st.output.err.print(f"warning: {warning}", markup=False)
    where = f"{done.where} (on the engine, in the site's backups volume)" if on_host else done.where
    st.output.out.print(f"Backup written: {where}, {_size(done.bytes)}", markup=False)
    for pruned in done.pruned:
        st.output.out.print(f"  removed older archive: {pruned}", markup=False)


@app.command("list")
def list_(
    ctx: typer.Context,
    directory: Path | None = SITE_DIRECTORY,
    to: Path | None = TO,
    on_host: bool = typer.Option(False, "--on-host", help="The archives kept on the engine, in the site's backups "
                                                          "volume."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show archives with their date, size and site: in the backups folder (of one site with -C or inside a
    site folder), or in the site's backups volume with --on-host."""
    st = state(ctx)
    sitedir = SiteDir.find(directory) if directory or on_host or _inside_site() else None
    rows: list[dict[str, Any]]
    if on_host:
        assert sitedir is not None  # noqa: S101 - found above
        rows = [{"archive": a["name"], "site": a.get("site"), "created": a.get("created"), "bytes": a["bytes"],
                 "wordpress": a.get("wordpress")} for a in ops.on_host(st.stack(sitedir.path))]
    else:
        folder = to or ops.default_folder(sitedir)
        rows = [e.to_dict() for e in archive.listing(folder, sitedir.load().name if sitedir else None)]
    if as_json:
        st.output.out.print_json(json.dumps(rows))
        return
    table = Table("created", "site", "size", "wordpress", box=None)
    table.add_column("archive", overflow="fold")
    for row in rows:
        table.add_row(str(row["created"]), str(row["site"]), _size(int(row["bytes"])),
                      str(row["wordpress"] or "-"), str(row["archive"]))
    st.output.out.print(table)


@app.command("schedule")
def schedule(
    ctx: typer.Context,
    when: str = typer.Argument(..., help="hourly or daily (in the 03:00 hour), each at a minute of the site's "
                                         "own; a cron expression such as '30 2 * * *' (UTC); or off."),
    keep: int | None = typer.Option(None, "--keep", help="How many of the site's archives the service keeps "
                                                         "(default: 7, or what was set before)."),
    directory: Path | None = SITE_DIRECTORY,
) -> None:
    """Back up on a schedule, through a `backup` service in the site's own stack. Its archives stay on the
    engine, in the site's backups volume ('backup list --on-host'); a failed run makes the service unhealthy
    ('hakobune status', 'hakobune logs backup')."""
    st = state(ctx)
    stack = st.stack(directory)
    with st.output.working("Scheduling backups"):
        site = ops.schedule(stack, when, keep, st.output.step)
    if site.backup_schedule == "off":
        st.output.out.print(f"Scheduled backups of {site.name} are off; archives already made are kept.")
    else:
        st.output.out.print(f"Backups of {site.name}: {site.backup_schedule} ({site.backup_cron} UTC), keeping "
                            f"the newest {site.backup_keep} on the engine.", markup=False)


def _inside_site() -> bool:
    try:
        SiteDir.find(None)
    except HakobuneError:  # not a site folder: list the archives of every site
        return False
    return True
