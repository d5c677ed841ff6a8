"""A Compose project of the engine itself, not of a site: the shared edge (ops/edge.py), the monitoring stack
(ops/monitor.py).

Its Compose file is rendered from its settings for each call and never kept on the client: the settings live on
the engine, as a label of one of its containers, so every client of the engine sees the same project."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

from hakobune.engine import Engine
from hakobune.ops.stack import Container, containers_of

S = TypeVar("S")


class EngineProject(Generic[S]):
    def __init__(self, engine: Engine, label: str, settings_label: str, parse: Callable[[str], S],
                 render: Callable[[S], str], prefix: str) -> None:
        self.engine = engine
        self._label = label
        self._settings_label = settings_label
        self._parse = parse
        self._render = render
        self._prefix = prefix

    def settings(self) -> S | None:
        """The settings of the project on the engine; None when it has none."""
        ids = self.engine.labelled("container", "1", self._label)
        if not ids:
            return None
        for item in json.loads(self.engine.docker("inspect", *ids).stdout):
            text = ((item.get("Config") or {}).get("Labels") or {}).get(self._settings_label)
            if text:
                return self._parse(text)
        return None

    @contextmanager
    def project(self, settings: S) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix=self._prefix) as folder:
            (Path(folder) / "compose.yaml").write_text(self._render(settings))
            yield Path(folder)

    def compose(self, settings: S, *args: str, **io: Any) -> subprocess.CompletedProcess[str]:
        with self.project(settings) as folder:
            return self.engine.compose(folder, *args, **io)

    def containers(self, settings: S) -> list[Container]:
        with self.project(settings) as folder:
            return containers_of(self.engine.compose_ps(folder))

    def logs(self, settings: S, follow: bool, since: str | None, tail: str | None) -> int:
        args = ["logs", "--timestamps", *(["--follow"] if follow else []), *(["--since", since] if since else []),
                *(["--tail", tail] if tail is not None else [])]
        with self.project(settings) as folder:
            return self.engine.compose_attached(folder, *args)
