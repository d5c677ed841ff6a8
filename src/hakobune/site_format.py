"""The site settings document (hakobune.yaml, and site.yaml in every backup): its format number, and the one
place where a document of an older format is brought to the current one.

A format number changes when the meaning of a site folder changes. Each step below turns a document of one format
into the next; loading applies them in order, so a folder made by any older Hakobune loads as a current site.
Nothing is written back on load: the folder takes the current format the next time a command saves it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from hakobune.errors import HakobuneError, InvalidInput
from hakobune.site import Site

FORMAT = 6
HEADER = "# Hakobune site settings. Change them with hakobune commands, not by hand.\n"


def settings_yaml(site: Site) -> str:
    return HEADER + yaml.safe_dump({"format": FORMAT, "site": site.to_dict()}, sort_keys=False, allow_unicode=True)


def read_settings(text: str, where: str) -> Site:
    """The site in the settings document TEXT (read from WHERE), in the current format."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise HakobuneError(f"cannot read {where}: {exc}") from None
    return Site.from_dict(current(document, where))


def written_format(text: str) -> int:
    """The format number the settings document TEXT is written in; 0 when it has none (reading it says why)."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return 0
    found = document.get("format") if isinstance(document, dict) else None
    return found if isinstance(found, int) and not isinstance(found, bool) else 0


def current(document: object, where: str) -> dict[str, Any]:
    """The site settings of DOCUMENT, migrated to the current format."""
    if not isinstance(document, dict) or not isinstance(document.get("site"), dict):
        raise InvalidInput(f"{where} holds no site settings")
    version = document.get("format")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInput(f"{where} has no valid format number (got {version!r})")
    if version > FORMAT:
        raise InvalidInput(f"{where} has format {version}, newer than this Hakobune reads ({FORMAT})",
                           "upgrade Hakobune to use this site")
    settings: dict[str, Any] = dict(document["site"])
    for step in range(version, FORMAT):
        settings = MIGRATIONS[step](settings)
    return settings


def _from_1(settings: dict[str, Any]) -> dict[str, Any]:
    """Format 1 (Hakobune up to 0.5) had no words for the object cache and nginx's PHP-FPM socket: both were on
    when the site's images included valkey, which the 0.4 images, the first to take them, brought. A site made
    before keeps its older images and so neither."""
    newer_images = "valkey" in (settings.get("images") or {})
    wordpress = settings.get("profile", "wp") == "wp"
    object_cache = settings.get("object_cache")
    return {
        **settings,
        "object_cache": wordpress and newer_images if object_cache is None else object_cache,
        "fpm_socket": settings.get("web", "nginx") == "nginx" and newer_images,
    }


def _from_2(settings: dict[str, Any]) -> dict[str, Any]:
    """Format 2 (Hakobune 0.5) had no shared edge: every site published ports of its own."""
    return {**settings, "edge": False, "edge_subnet": ""}


def _from_3(settings: dict[str, Any]) -> dict[str, Any]:
    """Format 3 (Hakobune 0.5, the first edge) had one name per site."""
    return {**settings, "aliases": {}}


def _from_4(settings: dict[str, Any]) -> dict[str, Any]:
    """Format 4 (Hakobune 0.5, names and certificates at the edge) had no acme service for a site with ports of
    its own."""
    return {**settings, "acme_image": ""}


def _from_5(settings: dict[str, Any]) -> dict[str, Any]:
    """Format 5 (Hakobune 0.6) had no jobs, and its images no cron service, no cron expressions for backups and
    no metrics service: the site keeps running as it did until `upgrade` brings it newer images."""
    return {**settings, "cron_jobs": [], "scheduler": False, "metrics": False}


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _from_1, 2: _from_2, 3: _from_3,
                                                                     4: _from_4, 5: _from_5}
