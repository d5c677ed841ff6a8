"""A fake Docker engine for unit tests: built from the real `Engine`'s signature (create_autospec, as compose v1's
tests do), so a call the real one would not take fails here too. It answers like a healthy engine and writes
what was asked of it, one readable line per call, to a log the tests read."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from unittest.mock import create_autospec

from hakobune.engine import Engine, EngineError
from hakobune.layout import HELPER
from hakobune.site import SERVICES, SITE_LABEL


class FakeEngine:
    """FAILING: the first log line starting with it fails as docker would (an EngineError; a helper task's with
    its failure answer). ANSWERS: a helper
    task's (or a restore action's, "restore:stage") JSON answer. RUNNING: the services `compose ps` shows."""

    def __init__(self, *, failing: str | None = None, answers: dict[str, dict[str, object]] | None = None,
                 running: Sequence[str] = ("web", "php", "db", "valkey", "cron", "metrics")) -> None:
        self.log: list[str] = []
        self.failing = failing
        self.answers = answers or {}
        self.running = list(running)
        self.mock = create_autospec(Engine, instance=True)
        self.mock.ping.return_value = "27.5.1"
        self.mock.compose.side_effect = self._compose
        self.mock.compose_ps.side_effect = self._ps
        self.mock.compose_attached.side_effect = lambda _dir, *args: self._record(" ".join(args)) or 0
        self.mock.sweep.side_effect = lambda value, label=SITE_LABEL: self._record(f"sweep {label}={value}")
        self.mock.run_image.side_effect = self._run_image
        self.mock.drain.side_effect = lambda container, signal, timeout: self._record(f"drain {container} {signal}")
        self.mock.image_exists.return_value = True
        self.mock.sites.return_value = set()
        self.mock.is_local.return_value = False
        self.mock.memory_total.return_value = 8 * 2**30

    def _record(self, line: str) -> None:
        self.log.append(line)
        if self.failing and line.startswith(self.failing):
            self.failing = None  # fails once: the rollback's own calls go through
            if line.startswith(("task ", "image ")):  # a helper that ran answers as ops/contract.py says
                answer = json.dumps({"error": f"{line} broke", "hint": None, "kind": None})
                raise EngineError("docker compose run failed: exit status 1", stderr=f"{line} broke\n",
                                  stdout=f"{answer}\n")
            raise EngineError(f"docker compose failed: {line} broke", stderr=f"{line} broke")

    def _compose(self, _dir: object, *args: str, **io: object) -> subprocess.CompletedProcess[str]:
        line, answer = describe(args, io)
        self._record(line)
        return subprocess.CompletedProcess(list(args), 0, json.dumps(self.answers.get(answer, {})) + "\n", "")

    def _ps(self, _dir: object) -> list[dict[str, object]]:
        self._record("ps")
        return [{"ID": f"{s}-id", "Service": s, "State": "running", "Health": "healthy", "Image": f"hakobune/{s}:1",
                 "Publishers": [{"PublishedPort": 8443, "TargetPort": 8443}] if s == "web" else []}
                for s in self.running]

    def _run_image(self, ref: str, *command: str, **kwargs: object) -> str:
        task = command[2] if command[:2] == ("php", HELPER) else " ".join(command) or ref
        self._record(f"image {task}")
        return json.dumps(self.answers.get(task, {}))


def describe(args: Sequence[str], io: dict[str, object]) -> tuple[str, str]:
    """A compose call as a log line ("up web php", "task install", "task restore:swap", "run rm -f X"), and
    the key of its answer."""
    verb = args[0]
    if verb == "run" and HELPER in args:
        task = args[args.index(HELPER) + 1]
        request = json.loads(str(io.get("input") or "{}"))
        key = f"{task}:{request['action']}" if task in ("restore", "backups") and "action" in request else task
        return f"task {key}", key
    if verb == "run":
        service_at = args.index("--no-deps") + 1
        return f"run {' '.join(args[service_at + 1:])}", ""
    if verb == "up":
        flags = [a for a in args if a in ("--force-recreate", "--no-recreate", "--remove-orphans")]
        flags += [f"--scale {args[at + 1]}" for at, a in enumerate(args) if a == "--scale"]
        services = [a for a in args if a in (*SERVICES, "cron", "metrics", "backup")]
        return " ".join(["up", *services, *flags]), ""
    if verb == "exec":
        return " ".join(a for a in args if a != "-T"), ""
    return " ".join(args), ""
