"""A site's public URL changed (another port, another primary name): WordPress's URLs follow, in wp-config.php
and in the database, as `search-replace` does (serialisation-safe)."""

from __future__ import annotations

from hakobune.ops.cache import refresh
from hakobune.ops.restore import url_variants
from hakobune.ops.rollback import Rollback
from hakobune.ops.stack import Report, Stack
from hakobune.render.requests import site_url_request
from hakobune.site import Site


def rewrite_urls(stack: Stack, old: Site, new: Site, rollback: Rollback, report: Report) -> None:
    """WordPress's URL from OLD's to NEW's: in wp-config.php (WP_HOME, WP_SITEURL), then in the database (both
    schemes of the old URL); and back when a later step fails."""
    if not new.wordpress or old.url == new.url:
        return
    report(f"Rewriting URLs: {old.url} -> {new.url}")
    rollback.on_failure("rewrite the URLs back", lambda: _move_urls(stack, old, [[new.url, old.url]]))
    _move_urls(stack, new, [[variant, new.url] for variant in url_variants(old.url)])


def _move_urls(stack: Stack, to: Site, pairs: list[list[str]]) -> None:
    """wp-config.php says TO's URL, then PAIRS are replaced in the database."""
    stack.task("site-url", site_url_request(to))
    stack.task("search-replace", {"url": to.url, "pairs": pairs})
    refresh(stack)
