"""The settings each image takes, read from the images' own entrypoints (their `hb_uint`, `hb_size`, `hb_enum`,
`hb_match` and `hb_secret` declarations), so the CLI, the docs' tests and the containers share one definition."""

from __future__ import annotations

import difflib
import os
import re
import shlex
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import hakobune
from hakobune.errors import HakobuneError, InvalidInput
from hakobune.site import SIZE, has_control_characters, size_bytes

IMAGES_ENV = "HAKOBUNE_IMAGES_DIR"
# Image -> the service that runs it.
IMAGE_SERVICE = {"nginx": "web", "httpd": "web", "php": "php", "mariadb": "db", "valkey": "valkey"}
# Set by Hakobune from the site's model; a user changes them with their own commands, not `config set`.
MANAGED = {"SITE_FQDN", "SITE_ALIASES", "SITE_REDIRECT_301", "SITE_REDIRECT_308", "SITE_ACME", "SITE_METRICS",
           "NGINX_PUBLIC_TLS_PORT", "HTTPD_PUBLIC_TLS_PORT", "PHP_FPM_ADDRESS", "PHP_FPM_LISTEN",
           "MARIADB_ROOT_PASSWORD", "NGINX_CACHE"}
# The command that changes a managed setting, where there is one.
MANAGED_BY = {"NGINX_CACHE": "hakobune cache on|off", "SITE_ALIASES": "hakobune domain add|remove",
              "SITE_FQDN": "hakobune domain primary", "SITE_ACME": "hakobune cert issue|install",
              "SITE_REDIRECT_301": "hakobune domain add --redirect 301",
              "SITE_REDIRECT_308": "hakobune domain add --redirect 308"}
_DECLARATION = re.compile(r"^hb_(uint|size|enum|match|secret) +([A-Z][A-Z0-9_]*) *(.*)$")
SECRET_MAX_LENGTH = 256


def images_dir() -> Path:
    """The image sources: $HAKOBUNE_IMAGES_DIR, the copy inside an installed wheel, or the source tree."""
    package = Path(hakobune.__file__).parent
    for candidate in (os.environ.get(IMAGES_ENV), package / "_images", package.parents[1] / "images"):
        if candidate and (Path(candidate) / "common").is_dir():
            return Path(candidate)
    raise HakobuneError("cannot find the image sources", f"set {IMAGES_ENV} to the images/ folder")


@dataclass(frozen=True)
class Setting:
    name: str
    image: str
    kind: str  # uint | size | enum | match | secret
    default: str
    rule: tuple[str, ...]  # uint: [min [max]]; size: [min]; enum: values; match: regex, description

    @property
    def secret(self) -> bool:
        """Read by the image from NAME_FILE: kept in the site's secrets and secret volume, never in compose.yaml."""
        return self.kind == "secret"

    @property
    def service(self) -> str:
        return IMAGE_SERVICE[self.image]

    def problem(self, value: str) -> str | None:
        """Why VALUE is not allowed, in the entrypoint's own words; None when it is."""
        if "\n" in value or "\r" in value:
            return "must be a single line"
        if has_control_characters(value):
            return "must not contain control characters"
        if self.kind == "secret":
            if not value or len(value) > SECRET_MAX_LENGTH or not value.isprintable():
                return f"must be 1 to {SECRET_MAX_LENGTH} printable characters"
        elif self.kind == "uint":
            if not value.isdigit():
                return "must be a whole number"
            if len(self.rule) > 0 and int(value) < int(self.rule[0]):
                return f"must be at least {self.rule[0]}"
            if len(self.rule) > 1 and int(value) > int(self.rule[1]):
                return f"must be at most {self.rule[1]}"
        elif self.kind == "size":
            if not SIZE.fullmatch(value):
                return "must be a size like 512k, 64M or 1G"
            if self.rule and size_bytes(value) < size_bytes(self.rule[0]):
                return f"must be at least {self.rule[0]}"
        elif self.kind == "enum":
            if value not in self.rule:
                return f"must be one of: {' '.join(self.rule)}"
        elif not re.search(self.rule[0], value):
            return self.rule[1]
        return None


def _parse(image: str, text: str) -> list[Setting]:
    settings = []
    for line in text.splitlines():
        match = _DECLARATION.match(line.strip())
        if match:
            kind, name, rest = match.groups()
            default, *rule = shlex.split(rest) or [""]
            settings.append(Setting(name, image, kind, default, tuple(rule)))
    return settings


@cache
def catalogue(source: Path | None = None) -> dict[str, Setting]:
    """Every setting a user may change, by name."""
    root = source or images_dir()
    found: dict[str, Setting] = {}
    for image in IMAGE_SERVICE:
        for setting in _parse(image, (root / image / "entrypoint.sh").read_text()):
            if setting.name not in MANAGED:
                found[setting.name] = setting
    return found


def lookup(name: str, settings: dict[str, Setting] | None = None) -> Setting:
    known = settings if settings is not None else catalogue()
    if name in known:
        return known[name]
    if name in MANAGED:
        raise InvalidInput(f"{name} is managed by Hakobune from the site's settings and cannot be set",
                           f"use {MANAGED_BY[name]}" if name in MANAGED_BY else None)
    other = catalogue().get(name)
    if other is not None:
        raise InvalidInput(f"{name} is a setting of the {other.image} image, which this site does not run")
    close = difflib.get_close_matches(name.upper(), list(known), n=1)
    raise InvalidInput(f"unknown setting '{name}'",
                       f"did you mean {close[0]}?" if close else "see 'hakobune config get' for the list")


def check(name: str, value: str, settings: dict[str, Setting] | None = None) -> Setting:
    setting = lookup(name, settings)
    problem = setting.problem(value)
    if problem:
        # A secret is never shown; nor a value with control characters, which would act on the terminal.
        shown = " (value hidden)" if setting.secret or has_control_characters(value) else f"='{value}'"
        raise InvalidInput(f"invalid {name}{shown}: {problem}")
    return setting
