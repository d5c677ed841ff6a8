"""`hakobune cache on|off|clear|status`: nginx's page cache of a site. And `refresh`, for every operation that
changes a site's code or content behind WordPress's back (a deploy, a restore, an import, a search-replace):
WordPress's own changes purge the cache through the Hakobune cache plugin, these cannot."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace

from hakobune.engine import Engine, EngineError
from hakobune.errors import HakobuneError, InvalidInput
from hakobune.ops.config import apply
from hakobune.ops.sitedir import SiteDir
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


def _nginx_site(sitedir: SiteDir) -> Site:
    site = sitedir.load()
    if site.web != "nginx":
        raise InvalidInput(f"site {site.name} runs {site.web}, which has no page cache",
                           "the page cache is nginx's (provision with --nginx)")
    return site


def _running(engine: Engine, sitedir: SiteDir) -> set[str]:
    return {str(e.get("Service")) for e in engine.compose_ps(sitedir.path) if e.get("State") == "running"}


def _web(engine: Engine, sitedir: SiteDir, site: Site, *args: str) -> str:
    if "web" not in _running(engine, sitedir):
        raise HakobuneError(f"site {site.name} is not running", "start it with: hakobune start")
    try:
        return engine.compose(sitedir.path, "exec", "-T", "web", "hakobune-cache", *args, timeout=180).stdout
    except EngineError as exc:
        raise HakobuneError(f"the page cache did not answer: {exc.message}") from None


def switch(engine: Engine, sitedir: SiteDir, on: bool, report: Callable[[str], None]) -> bool:
    """Turn the page cache on or off (the web server is recreated, so it starts empty). False: it already was."""
    site = _nginx_site(sitedir)
    if site.page_cache == on:
        return False
    engine.ping()
    apply(engine, sitedir, replace(site, page_cache=on), ["web"], report)
    return True


def clear(engine: Engine, sitedir: SiteDir) -> None:
    site = _nginx_site(sitedir)
    engine.ping()
    _web(engine, sitedir, site, "clear")


def status(engine: Engine, sitedir: SiteDir) -> CacheStatus:
    site = _nginx_site(sitedir)
    engine.ping()
    found = json.loads(_web(engine, sitedir, site, "status").strip().splitlines()[-1])
    return CacheStatus(bool(found["on"]), int(found["pages"]), int(found["bytes"]),
                       _object_cache(engine, sitedir, site))


def _object_cache(engine: Engine, sitedir: SiteDir, site: Site) -> ObjectCacheStatus | None:
    if not site.object_cache or "valkey" not in _running(engine, sitedir):
        return None
    try:
        info = engine.compose(sitedir.path, "exec", "-T", "valkey", "valkey-cli", "info", timeout=60).stdout
    except EngineError as exc:
        raise HakobuneError(f"the object cache did not answer: {exc.message}") from None
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    keys = int(fields.get("db0", "keys=0").split(",")[0].removeprefix("keys="))
    return ObjectCacheStatus(keys, int(fields.get("used_memory", "0")), int(fields.get("keyspace_hits", "0")),
                             int(fields.get("keyspace_misses", "0")))


def refresh(engine: Engine, sitedir: SiteDir, site: Site) -> None:
    """After the site's files or database changed underneath it: PHP's OPcache forgets what it compiled (in
    production it never looks at the files again), the object cache forgets what it read from the database,
    nginx forgets the files it holds open, and the page cache is emptied (last: pages made meanwhile were made
    from the old objects). Services that are not running start afresh anyway."""
    running = _running(engine, sitedir)
    steps = [("php", ["hakobune-opcache-reset"], "emptying PHP's OPcache")]
    if site.object_cache:
        steps.append(("valkey", ["valkey-cli", "flushall"], "emptying the object cache"))
    if site.web == "nginx":
        steps.append(("web", ["hakobune-cache", "refresh"], "emptying the page cache"))
    for service, command, what in steps:
        if service not in running:
            continue
        try:
            engine.compose(sitedir.path, "exec", "-T", service, *command, timeout=180)
        except EngineError as exc:
            raise HakobuneError(f"{what} failed: {exc.message}",
                                "the change is made; 'hakobune restart' starts those services afresh") from None
