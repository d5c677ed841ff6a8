"""`hakobune images ...`: build the images, or create the base image alone."""

from __future__ import annotations

import typer
from rich.table import Table

from hakobune.cli.context import state
from hakobune.ops import images as images_op
from hakobune.ops.base_image import DEFAULT_BASE, bootstrap_base

app = typer.Typer(help="Build Hakobune's container images.", no_args_is_help=True)

BASE_HELP = "Base image every image is built FROM."
MIRROR_HELP = "Debian mirror for debootstrap (default: the one this machine's apt uses)."


@app.command("build")
def build(
    ctx: typer.Context,
    names: list[str] = typer.Argument(None, help="Images to build (default: all: nginx php mariadb ops)."),
    base: str = typer.Option(DEFAULT_BASE, "--base", help=BASE_HELP),
    mirror: str | None = typer.Option(None, "--mirror", help=MIRROR_HELP),
) -> None:
    """Build every image. A missing base image is pulled, or created with debootstrap when it cannot be."""
    st = state(ctx)
    with st.output.working("Building images"):
        built = images_op.build(st.engine, base, mirror, names, st.output.step, st.output.detail)
    table = Table("image", "size", "build time", box=None)
    for item in built:
        table.add_row(item.ref, f"{item.size / 1e6:.0f} MB", f"{item.seconds:.0f}s")
    st.output.out.print(table)


@app.command("bootstrap-base")
def bootstrap(
    ctx: typer.Context,
    tag: str = typer.Option(DEFAULT_BASE, "--tag", help="Name of the image to create."),
    mirror: str | None = typer.Option(None, "--mirror", help=MIRROR_HELP),
) -> None:
    """Create the base image from a Debian mirror with debootstrap (needs root and debootstrap)."""
    st = state(ctx)
    with st.output.working("Creating the base image"):
        bootstrap_base(st.engine, tag, mirror, images_op.images_dir() / "common" / "dpkg-slim.cfg",
                       st.output.step, st.output.detail)
    st.output.out.print(f"created {tag}")
