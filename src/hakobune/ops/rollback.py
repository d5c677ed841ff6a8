"""Undo what a failed operation created, newest first."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable

from hakobune.errors import HakobuneError

# Names a step at which an operation fails on purpose. Tests use it to show that rollback
# leaves nothing behind after real resources exist; it has no other use.
FAILPOINT_ENV = "HAKOBUNE_FAILPOINT"


class UndoIncomplete(HakobuneError):
    """An operation failed, and undoing what it had done failed too: the site needs a person."""


class Rollback:
    def __init__(self) -> None:
        self._undo: list[tuple[str, Callable[[], None]]] = []

    def on_failure(self, what: str, undo: Callable[[], None]) -> None:
        self._undo.append((what, undo))

    def run(self) -> list[str]:
        """Run every undo step, even after one fails; returns what could not be undone.
        A second Ctrl-C must not leave a half-removed site, so SIGINT is ignored until it is done."""
        problems = []
        shield = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if shield else None
        try:
            for what, undo in reversed(self._undo):
                try:
                    undo()
                except Exception as exc:
                    problems.append(f"{what}: {exc}")
        finally:
            if shield:
                signal.signal(signal.SIGINT, previous)
        self._undo.clear()
        return problems


def failpoint(step: str) -> None:
    """Fail at STEP, with the usual rollback; with STEP! (e.g. restore-swapped!) end at once, as a killed
    process would, leaving the work as it is at that moment."""
    wanted = os.environ.get(FAILPOINT_ENV)
    if wanted == f"{step}!":
        os._exit(137)
    if wanted == step:
        raise HakobuneError(f"stopped at step '{step}' ({FAILPOINT_ENV} is set)")
