"""`hakobune cron list|add|remove`: the jobs a site's cron service runs. WordPress's due events (every minute)
and the backup schedule are listed with them; the site's own jobs are added and removed here. A change that does
not come up is undone."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from hakobune.errors import InvalidInput
from hakobune.ops.stack import Report, Stack
from hakobune.schedule import MAX_JOBS, WORDPRESS_JOB, CronJob, next_run
from hakobune.site import Site


@dataclass(frozen=True)
class Listed:
    id: str
    schedule: str
    command: str
    next_run: str | None  # ISO 8601, UTC; None while the site's jobs are held
    kind: str  # wordpress (built in), backup (backup schedule), job (cron add)

    def to_dict(self) -> dict[str, str | None]:
        return {"id": self.id, "schedule": self.schedule, "command": self.command, "next_run": self.next_run,
                "kind": self.kind}


def listed(site: Site, now: datetime | None = None) -> list[Listed]:
    moment = now or datetime.now(UTC)

    def when(expression: str) -> str:
        return next_run(expression, moment).isoformat()

    found = [Listed(job.id, job.schedule, " ".join(job.command), None if site.cron_held else when(job.schedule),
                    "wordpress" if job.id == WORDPRESS_JOB else "job") for job in site.jobs]
    if site.backup_schedule != "off" and site.scheduler:
        found.append(Listed("backup", site.backup_cron, f"backup, keeping {site.backup_keep}",
                            when(site.backup_cron), "backup"))
    return found


def add(stack: Stack, schedule: str, command: list[str], job_id: str | None, report: Report) -> CronJob:
    """The job added to the site's cron service, which restarts with it (starts, for a site with none)."""
    site = stack.site
    taken = {job.id for job in site.jobs} | {"backup"}
    job = CronJob.checked(job_id if job_id is not None else _free_id(taken), schedule, command)
    if job.id in taken:
        raise InvalidInput(f"site {site.name} has a job '{job.id}' already", "choose another --id")
    if len(site.cron_jobs) >= MAX_JOBS:
        raise InvalidInput(f"site {site.name} has {MAX_JOBS} jobs, the most a site has",
                           "remove one first: hakobune cron remove ID")
    _apply(stack, replace(site, cron_jobs=[*site.cron_jobs, job.to_dict()]), report)
    return job


def remove(stack: Stack, job_id: str, report: Report) -> CronJob:
    """The job taken out of the site's cron service; the service goes with the last job of a non-WordPress site."""
    site = stack.site
    own = {job.id: job for job in site.jobs if job.id != WORDPRESS_JOB}
    if job_id == WORDPRESS_JOB and site.wordpress:
        raise InvalidInput("the wordpress job is WordPress's own scheduled events; it cannot be removed")
    if job_id == "backup":
        raise InvalidInput("backups are scheduled with: hakobune backup schedule off")
    if job_id not in own:
        raise InvalidInput(f"site {site.name} has no job '{job_id}'",
                           f"its jobs: {', '.join(own)}" if own else "it has none of its own")
    _apply(stack, replace(site, cron_jobs=[job.to_dict() for job in own.values() if job.id != job_id]), report)
    return own[job_id]


def hold(stack: Stack, held: bool, report: Report) -> bool:
    """Hold the site's jobs (the cron service stops; WordPress's events do not run on page loads either) or
    release them. False when the site was so already."""
    site = stack.site
    if not site.scheduler:
        raise InvalidInput(f"site {site.name} runs images from before cron schedules",
                           "upgrade it first: hakobune upgrade")
    if site.cron_held == held:
        return False
    _apply(stack, replace(site, cron_held=held), report)
    return True


def _free_id(taken: set[str]) -> str:
    return str(next(n for n in range(1, MAX_JOBS + 2) if str(n) not in taken))


def _apply(stack: Stack, new: Site, report: Report) -> None:
    report("Restarting the cron service" if "cron" in new.services else "Stopping the cron service")
    # The stack is brought to its compose file: the cron service restarts with its jobs, or leaves it.
    with stack.changing(orphans=True):
        stack.save(new)
        stack.up(orphans=True)
