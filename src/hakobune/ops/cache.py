"""`hakobune cache on|off|clear|status`: nginx's page cache of a site. And `refresh`, for every operation that
changes a site's code or content behind WordPress's back (a deploy, a restore, an import, a search-replace):
WordPress's own changes purge the cache through the Hakobune cache plugin, these cannot."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from hakobune.engine import EngineError
from hakobune.errors import HakobuneError, InvalidInput
from hakobune.ops.config import apply
from hakobune.ops.stack import Report, Stack
from hakobune.site import Site


@dataclass(frozen=True)
class ObjectCacheStatus:
    keys: int
    bytes: int
    hits: int  # since valkey started
    misses: int


@dataclass(frozen=True)
class CacheStatus:
    on: bool
    pages: int
    bytes: int
    object_cache: ObjectCacheStatus | None  # None: the site has none, or it is not running


def _nginx_site(stack: Stack) -> Site:
    site = stack.site
    if site.web != "nginx":
        raise InvalidInput(f"site {site.name} runs {site.web}, which has no page cache",
                           "the page cache is nginx's (provision with --nginx)")
    return site


def _web(stack: Stack, *args: str) -> str:
    stack.require_running(["web"])
    try:
        return stack.exec("web", "hakobune-cache", *args)
    except EngineError as exc:
        raise HakobuneError(f"the page cache did not answer: {exc.message}") from None


def switch(stack: Stack, on: bool, report: Report) -> bool:
    """Turn the page cache on or off (the web server is recreated, so it starts empty). False: it already was."""
    site = _nginx_site(stack)
    if site.page_cache == on:
        return False
    apply(stack, replace(site, page_cache=on), ["web"], report)
    return True


def clear(stack: Stack) -> None:
    _nginx_site(stack)
    _web(stack, "clear")


def status(stack: Stack) -> CacheStatus:
    site = _nginx_site(stack)
    found = json.loads(_web(stack, "status").strip().splitlines()[-1])
    return CacheStatus(bool(found["on"]), int(found["pages"]), int(found["bytes"]), _object_cache(stack, site))


def _object_cache(stack: Stack, site: Site) -> ObjectCacheStatus | None:
    if not site.object_cache or "valkey" not in stack.running():
        return None
    try:
        info = stack.exec("valkey", "valkey-cli", "info", timeout=60)
    except EngineError as exc:
        raise HakobuneError(f"the object cache did not answer: {exc.message}") from None
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    keys = int(fields.get("db0", "keys=0").split(",")[0].removeprefix("keys="))
    return ObjectCacheStatus(keys, int(fields.get("used_memory", "0")), int(fields.get("keyspace_hits", "0")),
                             int(fields.get("keyspace_misses", "0")))


def refresh(stack: Stack) -> None:
    """After the site's files or database changed underneath it: PHP's OPcache forgets what it compiled (in
    production it never looks at the files again), the object cache forgets what it read from the database,
    nginx forgets the files it holds open, and the page cache is emptied (last: pages made meanwhile were made
    from the old objects). Services that are not running start afresh anyway."""
    site = stack.site
    running = stack.running()
    steps = [("php", ["hakobune-opcache-reset"], "emptying PHP's OPcache")]
    if site.object_cache:
        steps.append(("valkey", ["valkey-cli", "flushall"], "emptying the object cache"))
    if site.web == "nginx":
        steps.append(("web", ["hakobune-cache", "refresh"], "emptying the page cache"))
    for service, command, what in steps:
        if service not in running:
            continue
        try:
            stack.exec(service, *command)
        except EngineError as exc:
            raise HakobuneError(f"{what} failed: {exc.message}",
                                "the change is made; 'hakobune restart' starts those services afresh") from None
