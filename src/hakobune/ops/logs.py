"""`hakobune logs`: the logs of one site's containers, or of every site's on the engine, merged by time and
filtered by a pattern. The web servers write access lines as JSON (docs/usage.md, "Logs"); `request()` reads
one back."""

from __future__ import annotations

import json
import queue
import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from hakobune.engine import Engine, LogStream
from hakobune.errors import InvalidInput
from hakobune.ops.lifecycle import check_service
from hakobune.site import COMPOSE_SERVICE_LABEL, SERVICES, SITE_LABEL

NUMBER_LABEL = "com.docker.compose.container-number"
# What runs for good: one-shot containers go with their work.
LOGGED_SERVICES = (*SERVICES, "cron", "metrics", "backup", "acme")
# What `docker logs --since` takes: a duration, a Unix time, or an RFC 3339 date and time.
_SINCE = re.compile(r"^(\d+(\.\d+)?(ns|us|ms|s|m|h)?|\d+(h\d+m)?(\d+s)?"
                    r"|\d{4}-\d{2}-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?)?)$")
# httpd writes a byte it will not print as \xhh, which JSON spells \u00hh; an escaped backslash stays one.
_HTTPD_ESCAPE = re.compile(r"\\(\\|x([0-9a-fA-F]{2}))")


@dataclass(frozen=True)
class Filter:
    """What the user asked for, checked before anything runs."""

    since: str | None = None
    tail: str | None = None
    grep: re.Pattern[str] | None = None

    @classmethod
    def of(cls, since: str | None, tail: str | None, grep: str | None) -> Filter:
        if tail is not None and tail != "all" and not tail.isdigit():
            raise InvalidInput(f"--tail '{tail}' must be a number of lines or 'all'")
        if since and not _SINCE.match(since):
            raise InvalidInput(f"--since '{since}' is not a time",
                               "a duration such as 10m or 2h, or a time such as 2026-01-31T10:00:00")
        try:
            pattern = re.compile(grep) if grep is not None else None
        except re.error as exc:
            raise InvalidInput(f"--grep '{grep}' is not a regular expression: {exc}",
                               "quote it for the shell; a plain word matches itself") from None
        return cls(since, tail, pattern)

    def keeps(self, text: str) -> bool:
        return self.grep is None or self.grep.search(text) is not None


@dataclass(frozen=True)
class Source:
    site: str
    name: str  # the service and its number, as Compose names the container: web-1
    container: str


@dataclass(frozen=True)
class Line:
    time: str  # as docker stamps it: RFC 3339 in UTC, nanoseconds written out (so the text sorts)
    source: Source
    text: str

    def request(self) -> dict[str, Any] | None:
        """The web server's access record this line is, or None."""
        if not self.text.startswith("{") or self.source.name.rsplit("-", 1)[0] != "web":
            return None
        try:
            record = json.loads(_HTTPD_ESCAPE.sub(_json_escape, self.text))
        except ValueError:
            return None
        return record if isinstance(record, dict) and "status" in record else None

    def to_dict(self) -> dict[str, Any]:
        found = {"time": self.time, "site": self.source.site, "service": self.source.name, "text": self.text}
        record = self.request()
        return {**found, "request": record} if record is not None else found


def _json_escape(found: re.Match[str]) -> str:
    return "\\\\" if found.group(1) == "\\" else "\\u00" + found.group(2)


def sources(engine: Engine, site: str | None, service: str | None) -> list[Source]:
    """The containers whose logs are asked for: SITE's (every site's when None), only SERVICE's when given."""
    if service is not None:
        check_service(service, LOGGED_SERVICES)
    found = []
    for container in engine.site_containers(site):
        labels = container["Config"]["Labels"] or {}
        name = labels.get(COMPOSE_SERVICE_LABEL, "")
        if name in LOGGED_SERVICES and service in (None, name):
            found.append(Source(labels[SITE_LABEL], f"{name}-{labels.get(NUMBER_LABEL, '1')}",
                                str(container["Id"])))
    return sorted(found, key=lambda s: (s.site, s.name))


def collect(engine: Engine, found: list[Source], wanted: Filter) -> list[Line]:
    """Every line there is, of every source, in the order of time."""
    def read(source: Source) -> list[Line]:
        stream = engine.container_logs(source.container, since=wanted.since, tail=wanted.tail, follow=False)
        return [Line(time, source, text) for time, text in stream if wanted.keeps(text)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        lines = [line for read_lines in pool.map(read, found) for line in read_lines]
    return sorted(lines, key=lambda line: line.time)  # stable: one source's lines keep their order


def follow(engine: Engine, found: list[Source], wanted: Filter, emit: Callable[[Line], None]) -> None:
    """Each new line of every source as it comes, until every container has stopped or Ctrl-C."""
    lines: queue.Queue[Line | BaseException | None] = queue.Queue()
    streams = [(source, engine.container_logs(source.container, since=wanted.since, tail=wanted.tail,
                                              follow=True)) for source in found]

    def pump(source: Source, stream: LogStream) -> None:
        try:
            for time, text in stream:
                if wanted.keeps(text):
                    lines.put(Line(time, source, text))
        except BaseException as exc:  # handed to the main thread, which raises it
            lines.put(exc)
        finally:
            lines.put(None)

    for source, stream in streams:
        threading.Thread(target=pump, args=(source, stream), daemon=True).start()
    try:
        _drain(lines, len(streams), emit)
    except KeyboardInterrupt:
        pass  # how following ends
    finally:
        for _, stream in streams:
            stream.close()


def _drain(lines: queue.Queue[Line | BaseException | None], running: int, emit: Callable[[Line], None]) -> None:
    while running:
        item = lines.get()
        if item is None:
            running -= 1
        elif isinstance(item, BaseException):
            raise item
        else:
            emit(item)


def label_width(found: Iterable[Source], every: bool) -> int:
    return max((len(label(source, every)) for source in found), default=0)


def label(source: Source, every: bool) -> str:
    return f"{source.site}/{source.name}" if every else source.name
