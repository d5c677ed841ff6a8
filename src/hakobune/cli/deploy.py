"""`hakobune deploy-files`: an application into a site's docroot."""

from __future__ import annotations

from pathlib import Path

import typer

from hakobune.cli.context import SITE_DIRECTORY, state
from hakobune.ops.deploy import deploy as deploy_op


def deploy_files(
    ctx: typer.Context,
    source: Path = typer.Argument(..., help="The application: a folder, or a tar archive (.tar, .tar.gz, ...)."),
    directory: Path | None = SITE_DIRECTORY,
) -> None:
    """Copy an application into the site's docroot (files with the same names are replaced)."""
    st = state(ctx)
    stack = st.stack(directory)
    with st.output.working("Copying files"):
        done = deploy_op(stack, source)
    st.output.out.print(f"Deployed {done.files} files ({done.bytes / 1e6:.1f} MB) into the docroot of "
                        f"{stack.site.name}.", markup=False)
