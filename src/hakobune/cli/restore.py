"""`hakobune restore`: a site from an archive, into itself or a new site."""

from __future__ import annotations

from pathlib import Path

import typer

from hakobune.cli.context import HTTP_PORT, SITE_DIRECTORY, TLS_PORT, state
from hakobune.errors import InvalidInput
from hakobune.ops.restore import ENDING_SAYS, Restored, end_interrupted, restore_new
from hakobune.ops.restore import restore as restore_op


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
    http_port: int | None = HTTP_PORT,
    tls_port: int | None = TLS_PORT,
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
