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
# Tasks that run the site's code (WordPress with its plugins and themes) or write into its docroot: they run in
# the `wp` service, which has what the php service has and no more. The others (backups, restores, the
# database's setup) run in `ops`, which holds the root password and the backups volume.
WP_TASKS = frozenset({"seed", "seed-lamp", "install", "option", "user", "plugin", "theme", "search-replace",
                      "cache-flush", "core", "core-verify", "deploy"})


def service_for(task: str) -> str:
    return "wp" if task in WP_TASKS else "ops"


def run_ops(engine: Engine, sitedir: SiteDir, *command: str, service: str = "ops",
            **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """COMMAND in a one-shot container of the site's SERVICE (the ops container by default), with no terminal
    so its standard input and output carry data; KWARGS go to Engine.compose (input, stdin, stdout, ...)."""
    sitedir.refresh()  # a folder written by an older Hakobune may lack the service
    return engine.compose(sitedir.path, "run", "--rm", "-T", "--no-deps", service, *command, **kwargs)


def run_helper(engine: Engine, sitedir: SiteDir, task: str, request: dict[str, object],
               service: str | None = None, plain_errors: bool = False) -> dict[str, Any]:
    """Run TASK in a one-shot container of SERVICE (by default the one the task belongs in; `secrets` writes
    the secret volumes). A failure is the helper's own line, prefixed with the task unless PLAIN_ERRORS."""
    try:
        result = run_ops(engine, sitedir, "php", HELPER, task, service=service or service_for(task),
                         input=json.dumps(request), timeout=600)
    except EngineError as exc:
        detail = exc.message.split(": ", 1)[-1]
        raise HakobuneError(detail if plain_errors else f"{task} failed: {detail}") from None
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def available_languages(engine: Engine, site: Site) -> list[str]:
    out = engine.run_image(site.image("ops"), "php", HELPER, "languages")
    return list(json.loads(out)["languages"])
