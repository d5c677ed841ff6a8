"""`hakobune cron list|add|remove|hold|release`: the jobs the site's cron service runs (times in UTC)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from hakobune.cli.context import SITE_DIRECTORY, state
from hakobune.errors import InvalidInput
from hakobune.ops import cron as ops

app = typer.Typer(help="Jobs on a schedule: WordPress's own events every minute, and a site's own commands.",
                  no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    directory: Path | None = SITE_DIRECTORY,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The site's jobs, WordPress's and the backup schedule's included, with when each runs next (UTC)."""
    st = state(ctx)
    found = ops.listed(st.stack(directory).site)
    if as_json:
        st.output.out.print_json(json.dumps([job.to_dict() for job in found]))
        return
    if not found:
        st.output.out.print("No jobs: add one with hakobune cron add 'SCHEDULE' -- COMMAND")
        return
    table = Table("id", "schedule", "next run (UTC)", "command", box=None)
    for job in found:
        table.add_row(job.id, job.schedule, job.next_run[:16].replace("T", " ") if job.next_run else "held",
                      job.command)
    st.output.out.print(table)


@app.command("add")
def add(
    ctx: typer.Context,
    schedule: str = typer.Argument(..., help="When, as cron's five fields in UTC: '*/5 * * * *', '30 2 * * 1-5'."),
    command: list[str] = typer.Argument(None, help="The command, after --, run as it is in the php image (no "
                                                   "shell: use -- sh -c '...' for one)."),
    job_id: str | None = typer.Option(None, "--id", help="The job's id (default: the next free number)."),
    directory: Path | None = SITE_DIRECTORY,
) -> None:
    """Run a command on a schedule, in the site's cron service: the php image, with the site's files (working
    directory /srv/site), its PHP settings and its database. Output and exit codes are in 'hakobune logs cron'."""
    command = list(command or [])
    if command[:1] == ["--"]:  # the customary -- is not part of the command
        command = command[1:]
    if not command:
        raise InvalidInput("a job needs a command", "after --, e.g. hakobune cron add '*/5 * * * *' -- php "
                                                    "/srv/site/public/cron.php")
    st = state(ctx)
    with st.output.working("Adding the job"):
        job = ops.add(st.stack(directory), schedule, command, job_id, st.output.step)
    st.output.out.print(f"Job {job.id} added: {job.schedule}: {' '.join(job.command)}", markup=False)


@app.command("hold")
def hold(ctx: typer.Context, directory: Path | None = SITE_DIRECTORY) -> None:
    """Run none of the site's jobs, WordPress's events included, until 'cron release' (backups keep their own
    schedule). For maintenance: a migration, a restore you check by hand, a job that misbehaves."""
    _hold(ctx, directory, held=True)


@app.command("release")
def release(ctx: typer.Context, directory: Path | None = SITE_DIRECTORY) -> None:
    """Run the site's jobs again after 'cron hold'."""
    _hold(ctx, directory, held=False)


def _hold(ctx: typer.Context, directory: Path | None, held: bool) -> None:
    st = state(ctx)
    stack = st.stack(directory)
    with st.output.working("Holding the jobs" if held else "Releasing the jobs"):
        changed = ops.hold(stack, held, st.output.step)
    word = "held" if held else "running"
    st.output.out.print(f"The jobs of {stack.site.name} are {word}" + ("." if changed else " already."),
                        markup=False)


@app.command("remove")
def remove(
    ctx: typer.Context,
    job_id: str = typer.Argument(..., help="The job's id, as 'cron list' shows it."),
    directory: Path | None = SITE_DIRECTORY,
) -> None:
    """Stop running one of the site's own jobs."""
    st = state(ctx)
    with st.output.working("Removing the job"):
        job = ops.remove(st.stack(directory), job_id, st.output.step)
    st.output.out.print(f"Job {job.id} removed.", markup=False)
