"""How Hakobune talks to people: progress on a terminal, plain lines otherwise, errors as one line."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console
from rich.status import Status

from hakobune.errors import HakobuneError


@dataclass
class Output:
    quiet: bool = False
    debug: bool = False
    out: Console = field(default_factory=lambda: Console(highlight=False, soft_wrap=True))
    err: Console = field(default_factory=lambda: Console(stderr=True, highlight=False, soft_wrap=True))
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
