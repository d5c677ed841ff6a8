"""The written contract with the images: how the PHP helpers (images/ops/helpers/lib/contract.php), an image's
entrypoint in check-only mode (images/common/hakobune-lib.sh) and the build check
(images/common/hakobune-build-check.sh) answer.

Each answers with one JSON line on standard output: on success the answer itself (a JSON object), on failure
{"error": MESSAGE, "hint": HINT or null, "kind": KIND or null} and a non-zero exit. Other lines may come before it
(WordPress or a plugin printing, a build's log): the answer is the last line that is a JSON object. Nothing here
reads the words of a message; KIND is what the client acts on."""

from __future__ import annotations

import json
from typing import Any

from hakobune.errors import HakobuneError

KIND_DB_UNREACHABLE = "db-unreachable"  # the database server does not answer (stopped, or unknown)
KINDS = (KIND_DB_UNREACHABLE,)


class TaskFailed(HakobuneError):
    """A helper or an image said why it failed."""

    def __init__(self, message: str, hint: str | None = None, kind: str | None = None) -> None:
        super().__init__(message, hint)
        self.kind = kind


def answer(output: str) -> dict[str, Any] | None:
    """The last JSON object line of OUTPUT; None if there is none."""
    for line in reversed(output.splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return None


def failure(output: str, within: str | None = None) -> TaskFailed | None:
    """The failure answer in OUTPUT, as a typed error (its message after "WITHIN failed: " when given); None when
    OUTPUT holds none (the helper never ran, or died without answering)."""
    found = answer(output)
    if found is None or not isinstance(found.get("error"), str):
        return None
    hint, kind = found.get("hint"), found.get("kind")
    message = f"{within} failed: {found['error']}" if within else found["error"]
    return TaskFailed(message, hint if isinstance(hint, str) else None, kind if isinstance(kind, str) else None)
