"""`hakobune images ...`: build the images, or create the base image alone."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer
from rich.table import Table

from hakobune.catalogue import images_dir
from hakobune.cli.context import state
from hakobune.errors import HakobuneError
from hakobune.image_builds import summary
from hakobune.ops import images as images_op
from hakobune.ops import outdated as outdated_op
from hakobune.ops import scan as scan_op
from hakobune.ops.base_image import DEFAULT_BASE, bootstrap_base
from hakobune.site import IMAGE_NAMES

app = typer.Typer(help="Build, list and scan Hakobune's container images.", no_args_is_help=True)
NAMES_HELP = f"Images to build (default: all: {' '.join(IMAGE_NAMES)})."

BASE_HELP = "Base image every image is built FROM."
MIRROR_HELP = "Debian mirror for debootstrap (default: the one this machine's apt uses)."


@app.command("build")
def build(
    ctx: typer.Context,
    names: list[str] = typer.Argument(None, help=NAMES_HELP),
    base: str = typer.Option(DEFAULT_BASE, "--base", help=BASE_HELP),
    mirror: str | None = typer.Option(None, "--mirror", help=MIRROR_HELP),
    allow_pending_security: bool = typer.Option(
        False, "--allow-pending-security-updates",
        help="Build even when an installed package has a pending update from Debian's security suite."),
    sbom_dir: Path = typer.Option(Path("build/sbom"), "--sbom-dir", help="Where to write each image's SBOM."),
) -> None:
    """Build every image. A missing base image is pulled, or created with debootstrap when it cannot be.
    The build fails when a package has a pending security update; each image gets a CycloneDX SBOM."""
    st = state(ctx)
    with st.output.working("Building images"):
        built = images_op.build(st.engine, base, mirror, names, st.output.step, st.output.detail,
                                allow_pending_security=allow_pending_security, sbom_dir=sbom_dir)
    table = Table("image", "build", "size", "build time", "against the build before", box=None)
    for item in built:
        changed = "first build" if item.changes is None and item.build.endswith("-1") else summary(item.changes)
        table.add_row(item.ref, item.build.split(":")[-1], f"{item.size / 1e6:.0f} MB", f"{item.seconds:.0f}s",
                      changed)
    st.output.out.print(table)
    st.output.out.print(f"SBOMs written to {sbom_dir}/", markup=False)


@app.command("list")
def list_(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show Hakobune's images on the engine, their sizes, and the sites that run each."""
    st = state(ctx)
    listed = images_op.list_images(st.engine)
    if as_json:
        st.output.out.print_json(json.dumps([asdict(item) for item in listed]))
        return
    table = Table("image", "size", "created", "sites", box=None)
    for item in listed:
        table.add_row(item.ref, f"{item.size / 1e6:.0f} MB", item.created, ", ".join(item.sites) or "-")
    st.output.out.print(table)


@app.command("outdated")
def outdated(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show, for every site on the engine, which services run an older build of their image than the newest
    built here, and what the newer build changes (packages, security fixes from Debian's security suite)."""
    st = state(ctx)
    found = outdated_op.outdated(st.engine)
    if as_json:
        st.output.out.print_json(json.dumps([item.to_dict() for item in found]))
        return
    older = [item for item in found if item.state != "current"]
    if not older:
        st.output.out.print("Every site runs the newest builds." if found else "No Hakobune sites on this engine.")
        return
    table = Table("site", "service", "runs", "newest", "changes", box=None)
    for item in older:
        table.add_row(item.site, item.service, item.running, item.newest or "not built: hakobune images build",
                      summary(item.changes) if item.state == "outdated" else "-")
    st.output.out.print(table)
    fixes = sum(item.security_fixes for item in older)
    sites = len({item.site for item in older})
    st.output.out.print(f"{len(older)} service{'s' * (len(older) != 1)} of {sites} site{'s' * (sites != 1)} run "
                        f"older builds; {fixes} security fix{'es' * (fixes != 1)} waiting.", markup=False)


@app.command("scan")
def scan(
    ctx: typer.Context,
    names: list[str] = typer.Argument(None, help="Images to scan (default: all)."),
) -> None:
    """Scan the images with Trivy (offline, its database must be present). Exit 0: no HIGH or CRITICAL
    finding; 1: findings; 3: no scanner or no database, so nothing was checked."""
    st = state(ctx)
    with st.output.working("Scanning images"):
        findings = scan_op.scan(st.engine, names, st.output.step)
    if not findings:
        st.output.out.print("No HIGH or CRITICAL vulnerabilities found.")
        return
    table = Table("image", "package", "vulnerability", "severity", box=None)
    for f in findings:
        table.add_row(f.image, f.package, f.vulnerability, f.severity)
    st.output.out.print(table)
    raise HakobuneError(f"{len(findings)} HIGH or CRITICAL vulnerabilities found")


@app.command("bootstrap-base")
def bootstrap(
    ctx: typer.Context,
    tag: str = typer.Option(DEFAULT_BASE, "--tag", help="Name of the image to create."),
    mirror: str | None = typer.Option(None, "--mirror", help=MIRROR_HELP),
) -> None:
    """Create the base image from a Debian mirror with debootstrap (needs root and debootstrap)."""
    st = state(ctx)
    with st.output.working("Creating the base image"):
        bootstrap_base(st.engine, tag, mirror, images_dir() / "common" / "dpkg-slim.cfg",
                       st.output.step, st.output.detail)
    st.output.out.print(f"created {tag}")
