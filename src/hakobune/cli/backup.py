"""Backup commands: backup, backup list, restore, clone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from hakobune.cli.context import SITE_DIRECTORY, state
from hakobune.errors import HakobuneError, InvalidInput
from hakobune.ops import archive
from hakobune.ops import backup as ops
from hakobune.ops.restore import ENDING_SAYS, Restored, end_interrupted, restore_new
from hakobune.ops.restore import clone as clone_op
from hakobune.ops.restore import restore as restore_op
from hakobune.ops.sitedir import SiteDir

app = typer.Typer(help="Back up a site: its database, files and settings, in one verified archive.",
                  invoke_without_command=True, no_args_is_help=False)

TO = typer.Option(None, "--to", help=f"Folder for archives (default: 'backups' beside the site folders, or "
                                    f"${ops.BACKUP_DIR_ENV}).")
ON_HOST = typer.Option(False, "--on-host", help="Keep the archive on the engine, in the site's backups volume.")
HTTP_PORT = typer.Option(80, "--http-port", help="The new site's published HTTP port.")
TLS_PORT = typer.Option(443, "--tls-port", help="The new site's published HTTPS port.")


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
    when: str = typer.Argument(..., help="hourly (on the hour), daily (03:00 UTC) or off."),
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
        st.output.out.print(f"Backups of {site.name}: {site.backup_schedule}, keeping the newest "
                            f"{site.backup_keep} on the engine.", markup=False)


def _inside_site() -> bool:
    try:
        SiteDir.find(None)
    except HakobuneError:  # not a site folder: list the archives of every site
        return False
    return True


def _restored(ctx: typer.Context, done: Restored) -> None:
    out = state(ctx).output
    out.out.print(f"Site {done.site} restored from the backup of {done.from_url or '?'} taken {done.created}: "
                  f"{done.url}/", markup=False)
    out.out.print(f"  folder:   {done.path}", markup=False)
    if done.forgotten:
        out.err.print(f"warning: archives hold no secrets; set again with 'hakobune config set': "
                      f"{', '.join(done.forgotten)}", markup=False)


def restore(
    ctx: typer.Context,
    source: Path | None = typer.Argument(None, help="The archive (with --on-host: its name in the site's backups "
                                                    "volume)."),
    directory: Path | None = SITE_DIRECTORY,
    new: str | None = typer.Option(None, "--new", help="Restore into a new site of this name instead, created "
                                                       "in the current directory (needs --fqdn)."),
    fqdn: str | None = typer.Option(None, "--fqdn", help="The new site's host name; its URLs are rewritten."),
    http_port: int = HTTP_PORT,
    tls_port: int = TLS_PORT,
    on_host: bool = typer.Option(False, "--on-host", help="SOURCE is an archive kept on the engine."),
    interrupted: str | None = typer.Option(None, "--interrupted", metavar="undo|finish",
                                           help="End a restore of the site that was cut short (no SOURCE): undo "
                                                "puts the site back as it was before it, finish keeps what is "
                                                "in place; either removes what it left."),
) -> None:
    """Restore a site from an archive, checked whole before anything is touched. Into the existing site (it
    keeps its secrets), or with --new into a new one. If a step fails, the site is left as it was."""
    st = state(ctx)
    if interrupted is not None:
        if source is not None or new is not None or on_host:
            raise InvalidInput("--interrupted ends an earlier restore: give no archive, --new or --on-host")
        if interrupted not in ENDING_SAYS:
            raise InvalidInput(f"--interrupted '{interrupted}' is not undo or finish")
        stack = st.stack(directory)
        with st.output.working("Ending the interrupted restore"):
            step = end_interrupted(stack, interrupted, st.output.step)
        st.output.out.print(f"The interrupted restore of {stack.site.name} (at step '{step}') is ended: "
                            f"{'undone' if interrupted == 'undo' else 'finished'}.", markup=False)
        return
    if source is None:
        raise InvalidInput("restore needs SOURCE, the archive",
                           "e.g. hakobune restore backups/blog_20261201T030000Z.tar -C blog")
    if new is None:
        if fqdn is not None:
            raise InvalidInput("--fqdn is for a new site", "give --new TARGET too, or leave out --fqdn")
        stack = st.stack(directory)
        with st.output.working("Restoring"):
            done = restore_op(stack, source, st.output.step, on_host=on_host)
    else:
        if directory is not None:
            raise InvalidInput("-C and --new cannot be used together",
                               "-C restores into an existing site; --new makes a new one")
        if on_host:
            raise InvalidInput("--on-host restores into the site that keeps the archive, not a new one",
                               "copy it to the client with 'backup', then restore --new from the file")
        if not fqdn:
            raise InvalidInput("--new needs --fqdn", "the new site's host name, e.g. --fqdn staging.example.com")
        with st.output.working(f"Restoring into new site {new}"):
            done = restore_new(st.engine, source, new, fqdn, http_port, tls_port, Path.cwd(), st.output.step)
    _restored(ctx, done)


def clone(
    ctx: typer.Context,
    src: Path = typer.Argument(..., help="The site folder to copy."),
    dst: str = typer.Argument(..., help="Name of the copy: its folder is created in the current directory."),
    fqdn: str = typer.Option(..., "--fqdn", help="The copy's host name; its URLs are rewritten to it."),
    http_port: int = HTTP_PORT,
    tls_port: int = TLS_PORT,
) -> None:
    """Make a staging copy of a site: files, database and settings, with new secrets, its URLs rewritten and
    search engines discouraged. The original keeps running, unchanged."""
    st = state(ctx)
    source = st.stack(src)
    original = source.site
    with st.output.working(f"Cloning {original.name} to {dst}"):
        done = clone_op(source, dst, fqdn, http_port, tls_port, Path.cwd(), st.output.step)
    out = st.output.out
    out.print(f"Site {done.site} is a copy of {original.name}: {done.url}/ (search engines discouraged)",
              markup=False)
    out.print(f"  folder:   {done.path}", markup=False)
    if done.forgotten:
        st.output.err.print(f"warning: the copy has no secret settings; set again with 'hakobune config set': "
                            f"{', '.join(done.forgotten)}", markup=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="backup")
    root.command()(restore)
    root.command()(clone)
