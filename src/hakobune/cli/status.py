"""`hakobune status` (one site's services) and `hakobune list` (every site on the engine)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from hakobune.cli.context import SITE_DIRECTORY, state
from hakobune.ops import lifecycle as ops
from hakobune.ops.status import status as status_op


def status(
    ctx: typer.Context,
    directory: Path | None = SITE_DIRECTORY,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show each service of a site: its state, health, published ports and image; and the site's URLs."""
    st = state(ctx)
    result = status_op(st.stack(directory))
    if as_json:
        st.output.out.print_json(json.dumps(result.to_dict()))
        return
    st.output.out.print(f"{result.site}  {result.url}/  (admin: {result.admin_url})", markup=False)
    table = Table("service", "state", "health", "ports", "image", box=None)
    for svc in result.services:
        table.add_row(svc.service, svc.state, svc.health, svc.ports, svc.image)
    st.output.out.print(table)
    st.output.out.print(f"certificate: {result.certificate}", markup=False)
    st.output.out.print(f"images: {result.images}", markup=False)
    st.output.out.print(f"folder: {result.folder}", markup=False)
    for warning in result.warnings:
        st.output.err.print(f"warning: {warning}", markup=False)


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
    table = Table("site", "state", "url", "certificate", "images", "folder", box=None)
    for s in sites:
        table.add_row(s.site, s.state, s.url or "-", s.certificate or "-", s.images or "-", s.folder or "-")
    st.output.out.print(table)
