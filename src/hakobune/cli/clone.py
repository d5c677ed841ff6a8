"""`hakobune clone`: a staging copy of a site."""

from __future__ import annotations

from pathlib import Path

import typer

from hakobune.cli.context import HTTP_PORT, TLS_PORT, state
from hakobune.ops.clone import clone as clone_op


def clone(
    ctx: typer.Context,
    src: Path = typer.Argument(..., help="The site folder to copy."),
    dst: str = typer.Argument(..., help="Name of the copy: its folder is created in the current directory."),
    fqdn: str = typer.Option(..., "--fqdn", help="The copy's host name; its URLs are rewritten to it."),
    http_port: int | None = HTTP_PORT,
    tls_port: int | None = TLS_PORT,
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
