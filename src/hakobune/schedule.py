"""Cron schedules: a site's jobs (`hakobune cron`) and its backups (`backup schedule`). Expressions are the five
fields of crontab(5), read in UTC, checked here with cronsim before anything runs; the images read them with
the same rules (php-dragonmantank-cron-expression, images/php/cron.php)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cronsim import CronSim, CronSimError

from hakobune.errors import InvalidInput

# Each field of an expression: numbers, names (MON, JAN), and * / , - L W #; nothing a shell or JSON reads.
_FIELD = re.compile(r"^[0-9A-Za-z*/,#-]{1,64}$")
MAX_JOBS = 50
MAX_COMMAND = 4096  # bytes of a job's command, all its arguments together
WORDPRESS_JOB = "wordpress"  # the job every WordPress site has: its due events, every minute
# `backup schedule hourly|daily`: once an hour, or once a day in the 03:00 hour, each at its site's own minute.
BACKUP_WORDS = {"hourly": "{minute} * * * *", "daily": "{minute} 3 * * *"}


def check_expression(expression: str, what: str = "schedule") -> str:
    """EXPRESSION with its fields separated by single spaces, or InvalidInput saying what is wrong with it."""
    fields = expression.split()
    hint = "five fields: minute hour day-of-month month day-of-week, e.g. '*/5 * * * *' (times in UTC)"
    if len(fields) != 5 or not all(_FIELD.match(f) for f in fields):
        raise InvalidInput(f"{what} '{expression}' is not a cron expression", hint)
    normal = " ".join(fields)
    try:
        CronSim(normal, datetime.now(UTC))
    except CronSimError as exc:
        raise InvalidInput(f"{what} '{expression}' is not a cron expression: {str(exc).lower()}", hint) from None
    return normal


def next_run(expression: str, after: datetime) -> datetime:
    return next(CronSim(expression, after))


def longest_gap(expression: str, start: datetime | None = None) -> int:
    """The most seconds between two runs of EXPRESSION, over its next 2,000 runs or 400 days, whichever ends
    first (a backup older than twice this is late: docs/monitoring.md); a year at most."""
    year = 366 * 86400
    runs = CronSim(expression, start or datetime.now(UTC))
    first = previous = next(runs)
    longest = 0
    for _, when in zip(range(2000), runs, strict=False):
        longest, previous = max(longest, int((when - previous).total_seconds())), when
        if (when - first).total_seconds() > 400 * 86400:
            break
    return min(longest, year) or year


def spread_minute(key: str) -> int:
    """The minute of the hour a site's hourly and daily work runs at: the same for the site every time, and
    spread over the hour across sites, so sites on one engine do not all start at once."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % 60


def backup_expression(when: str, key: str) -> str:
    """What `backup schedule WHEN` means for the site KEY names: a word, at the site's own minute, or an
    expression of the user's."""
    if when in BACKUP_WORDS:
        return BACKUP_WORDS[when].format(minute=spread_minute(key))
    return check_expression(when, "backup schedule")


@dataclass(frozen=True)
class CronJob:
    """One of a site's jobs: its id, its schedule and its command (run as it is, with no shell)."""

    id: str
    schedule: str
    command: tuple[str, ...]

    @classmethod
    def checked(cls, job_id: str, schedule: str, command: list[str] | tuple[str, ...]) -> CronJob:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,31}", job_id) or job_id == WORDPRESS_JOB:
            raise InvalidInput(f"job id '{job_id}' is not valid", "lower-case letters, digits and -, at most 32")
        if not isinstance(command, (list, tuple)) or not command:
            raise InvalidInput("a job needs a command", "after --, e.g. hakobune cron add '*/5 * * * *' -- php "
                                                        "/srv/site/public/cron.php")
        for arg in command:
            if not isinstance(arg, str) or "\0" in arg or "\n" in arg or "\r" in arg:
                raise InvalidInput("a job's command must be text on one line")
        if sum(len(arg.encode()) + 1 for arg in command) > MAX_COMMAND:
            raise InvalidInput(f"a job's command is longer than {MAX_COMMAND} bytes")
        return cls(job_id, check_expression(schedule), tuple(command))

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "schedule": self.schedule, "command": list(self.command)}
