"""`hakobune upgrade`: a site, or every site, moved to the newest builds of the images (docs/upgrading.md)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from hakobune.cli.backup import TO
from hakobune.cli.context import SITE_DIRECTORY, state
from hakobune.errors import InvalidInput
from hakobune.ops import upgrade as ops


def upgrade(
    ctx: typer.Context,
    directory: Path | None = SITE_DIRECTORY,
    every: bool = typer.Option(False, "--all", help="Every site on the engine, one after another; the first "
                                                    "failure stops the rest."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would change, and change nothing."),
    no_backup: bool = typer.Option(False, "--no-backup", help="Skip the verified backup made first."),
    to: Path | None = TO,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Move a site to the newest builds of its images and its folder to the current format: a verified backup
    first, then each service replaced (the database first, then mariadb-upgrade), then a check of the site's
    pages. When anything fails, the previous builds and files come back."""
    if every and directory is not None:
        raise InvalidInput("-C and --all cannot be used together", "--all upgrades every site on the engine")
    st = state(ctx)
    found: list[dict[str, object]] = []

    def done(result: ops.Plan | ops.Upgraded) -> None:
        found.append(result.to_dict())
        if not as_json:
            for line in _lines(result):
                st.output.out.print(line, markup=False)

    with st.output.working("Upgrading" if not dry_run else "Planning"):
        if every:
            ops.upgrade_all(st.engine, st.stack,
                            dry_run=dry_run, backup=not no_backup, to=to, report=st.output.step, done=done)
        else:
            stack = st.stack(directory)
            done(ops.plan(stack, not no_backup) if dry_run
                 else ops.upgrade(stack, backup=not no_backup, to=to, report=st.output.step))
    if as_json:
        st.output.out.print_json(json.dumps(found if every else found[0]))


def _lines(result: ops.Plan | ops.Upgraded) -> list[str]:
    if isinstance(result, ops.Plan):
        return result.lines()
    plan = result.plan
    if plan.nothing:
        return plan.lines()
    lines = [f"Upgraded {plan.site}: " + (", ".join(f"{m.service} {m.target.split(':')[-1]}" for m in plan.moves)
                                          or "the folder's format")]
    if result.backup:
        lines.append(f"  backup made first: {result.backup}")
    if result.database_seconds is not None:
        lines.append(f"  the database was down for at most {result.database_seconds:.1f} s (stopped, started, "
                     f"healthy), then mariadb-upgrade ran")
    lines.append(f"  checked: {', '.join(result.checked)}")
    return lines
