"""How Hakobune talks to people: progress on a terminal, plain lines otherwise, errors as one line."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console
from rich.status import Status

from hakobune.errors import HakobuneError

# Wide enough for any line Hakobune prints: written to a file or a pipe, tables keep their natural width.
PLAIN_WIDTH = 1000


def console(stderr: bool = False) -> Console:
    """On a terminal, Rich fits tables to its width. Written to a file or a pipe, nothing is cut short: Rich
    would take 80 columns there and end long URLs and folders with an ellipsis."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=None if stream.isatty() else PLAIN_WIDTH)


@dataclass
class Output:
    quiet: bool = False
    debug: bool = False
    out: Console = field(default_factory=console)
    err: Console = field(default_factory=lambda: console(stderr=True))
    _status: Status | None = None

    def step(self, message: str) -> None:
        """A step of long work: a spinner line on a terminal, a plain line in a log."""
        if self.quiet:
            return
        if self._status is not None:
            self._status.update(f"{message} ...")
            self.err.print(f"[dim]•[/dim] {message}")
        else:
            self.err.print(f"• {message}", markup=False)

    def detail(self, line: str) -> None:
        """Noisy output of a tool (a build log): shown only with --debug."""
        if self.debug:
            self.err.print(line, markup=False)

    def echo(self, line: str) -> None:
        self.err.print(line, markup=False, style="dim")

    @contextmanager
    def working(self, message: str) -> Iterator[None]:
        if self.quiet or not self.err.is_terminal:
            yield
            return
        with self.err.status(message) as status:
            self._status = status
            try:
                yield
            finally:
                self._status = None

    def error(self, exc: HakobuneError | str, exit_code: int) -> None:
        text = str(exc)
        first, *_ = text.splitlines() or [""]
        self.err.print(f"error: {first}", markup=False, style="bold red" if self.err.is_terminal else None)
        sys.exit(exit_code)
