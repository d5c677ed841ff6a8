"""`hakobune clone`: a staging copy of a site, made by backing it up and restoring the archive as a new site."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hakobune.errors import InvalidInput
from hakobune.ops.backup import backup
from hakobune.ops.restore import Restored, restore_new
from hakobune.ops.stack import Report, Stack
from hakobune.site import validate_fqdn, validate_name, validate_port


def clone(source: Stack, name: str, fqdn: str, http_port: int | None, tls_port: int | None, parent: Path,
          report: Report) -> Restored:
    """A staging copy: the source backed up, restored as a new site with new secrets and its URLs rewritten,
    and hidden from search engines; behind the edge when no port is given. The source keeps running and is not
    changed."""
    validate_name(name)
    validate_fqdn(fqdn)
    for option, port in (("--http-port", http_port), ("--tls-port", tls_port)):
        if port is not None:
            validate_port(option, port)
    if (parent / name).exists():
        raise InvalidInput(f"TARGET '{name}' already exists in {parent}", "choose another name")

    def discourage_search_engines(copy: Stack) -> None:
        if copy.site.wordpress:
            report("Discouraging search engines on the copy (blog_public = 0)")
            copy.task("option", {"url": copy.site.url, "action": "set", "name": "blog_public", "value": "0"})

    with tempfile.TemporaryDirectory(prefix="hakobune-clone-") as scratch:
        made = backup(source, Path(scratch), None, False, report)
        return restore_new(source.engine, Path(made.where), name, fqdn, http_port, tls_port, parent, report,
                           then=discourage_search_engines)
