"""The ops image's PHP helpers, run in one-shot containers of the site's stack with a JSON request on stdin."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from hakobune.engine import Engine, EngineError
from hakobune.errors import HakobuneError
from hakobune.ops.sitedir import SiteDir
from hakobune.site import Site

HELPER = "/opt/hakobune/helpers/hakobune.php"


def run_ops(engine: Engine, sitedir: SiteDir, *command: str, service: str = "ops",
            **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """COMMAND in a one-shot container of the site's SERVICE (the ops container by default), with no terminal
    so its standard input and output carry data; KWARGS go to Engine.compose (input, stdin, stdout, ...)."""
    return engine.compose(sitedir.path, "run", "--rm", "-T", "--no-deps", service, *command, **kwargs)


def run_helper(engine: Engine, sitedir: SiteDir, task: str, request: dict[str, object],
               service: str = "ops", plain_errors: bool = False) -> dict[str, Any]:
    """Run TASK in a one-shot container of SERVICE (the ops container, or `secrets` to write secret volumes).
    A failure is the helper's own line, prefixed with the task unless PLAIN_ERRORS."""
    try:
        result = run_ops(engine, sitedir, "php", HELPER, task, service=service, input=json.dumps(request),
                         timeout=600)
    except EngineError as exc:
        detail = exc.message.split(": ", 1)[-1]
        raise HakobuneError(detail if plain_errors else f"{task} failed: {detail}") from None
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def available_languages(engine: Engine, site: Site) -> list[str]:
    out = engine.run_image(site.image("ops"), "php", HELPER, "languages")
    return list(json.loads(out)["languages"])
