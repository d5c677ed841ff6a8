"""`hakobune config get|set|unset`: change a site's image settings, checked before anything changes, applied by
recreating only the services they belong to; a change that does not come up healthy is undone."""

from __future__ import annotations

from dataclasses import dataclass, replace

from hakobune.catalogue import Setting, catalogue, check, lookup
from hakobune.engine import EngineError
from hakobune.errors import HakobuneError, InvalidInput
from hakobune.ops import contract
from hakobune.ops.rollback import UndoIncomplete, failpoint
from hakobune.ops.sitedir import SiteDir
from hakobune.ops.stack import Report, Stack
from hakobune.render.requests import secrets_request
from hakobune.site import Site, SiteSecrets, service_of, site_image_names


@dataclass(frozen=True)
class Value:
    name: str
    value: str
    default: str
    service: str
    changed: bool  # set by the user, not the image's default


def site_catalogue(site: Site) -> dict[str, Setting]:
    """The settings of the images this site runs (its web server's, not the other's)."""
    return {name: s for name, s in catalogue().items()
            if s.image in site_image_names(site.web) and s.service in site.services}


HIDDEN_VALUE = "(secret, set)"


def values(sitedir: SiteDir) -> list[Value]:
    """Every setting of the site's images; a secret one shows only whether it is set."""
    site = sitedir.load()
    found = []
    for s in sorted(site_catalogue(site).values(), key=lambda s: (s.service, s.name)):
        if s.secret:
            changed = s.name in site.secret_settings
            found.append(Value(s.name, HIDDEN_VALUE if changed else "", "", s.service, changed))
        else:
            found.append(Value(s.name, site.settings.get(s.name, s.default), s.default, s.service,
                               s.name in site.settings))
    return found


def get(sitedir: SiteDir, name: str) -> Value:
    setting = lookup(name, site_catalogue(sitedir.load()))
    return next(v for v in values(sitedir) if v.name == setting.name)


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    updates: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InvalidInput(f"'{pair}' is not KEY=VALUE", "e.g. hakobune config set PHP_MEMORY_LIMIT=512M")
        updates[name] = value
    return updates


def _ask_images(stack: Stack, site: Site, services: list[str]) -> None:
    """The image has the last word on its settings (time zones that exist, limits that fit together):
    run its entrypoint in check-only mode with the new settings, within the memory limit the service has
    (what `auto` settings are sized from), before the site is touched."""
    for service in services:
        try:
            stack.engine.run_image(site.image(site.image_name(service)), memory=site.memory(service),
                                   env={**site.settings_for(service), "HAKOBUNE_CHECK_ONLY": "1"})
        except EngineError as exc:
            refused = contract.failure(exc.stdout)
            if refused is None:
                raise
            raise InvalidInput(refused.message, refused.hint) from None


def change(stack: Stack, updates: dict[str, str | None], report: Report) -> list[str]:
    """Apply UPDATES (None: back to the default). Returns the services that were recreated."""
    site, secrets = stack.site, stack.secrets()
    known = site_catalogue(site)
    plain, secret = dict(site.settings), dict(secrets.settings)
    for name, value in updates.items():
        setting = lookup(name, known) if value is None else check(name, value, known)
        target = secret if setting.secret else plain
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
    if plain == site.settings and secret == secrets.settings:
        report("Nothing to change")
        return []
    services = sorted({service_of(name) for name in updates})
    new_site = replace(site, settings=plain, secret_settings=tuple(secret))
    _ask_images(stack, new_site, services)
    apply(stack, new_site, services, report, replace(secrets, settings=secret))
    return services


def apply(stack: Stack, new_site: Site, services: list[str], report: Report,
          new_secrets: SiteSecrets | None = None) -> None:
    """Save NEW_SITE (and NEW_SECRETS' settings) and bring SERVICES up with them; when they do not come up
    healthy, put the previous site folder and services back."""
    secrets = stack.secrets()
    new_secrets = new_secrets or secrets
    try:
        with stack.changing(services) as rollback:
            stack.save(new_site)
            if new_secrets.settings != secrets.settings:
                stack.sitedir.write_secrets(new_secrets)
                report("Storing the secret settings in the site's secret volumes")
                rollback.on_failure("put the secret volumes back",
                                    lambda: _write_secret_volumes(stack, secrets, old=new_secrets))
                _write_secret_volumes(stack, new_secrets, old=secrets)
            report(f"Recreating {', '.join(services)} with the new settings")
            stack.up(services)
            failpoint("config-applied")
    except UndoIncomplete:
        raise
    except HakobuneError as exc:
        report("The new settings did not come up healthy: the previous ones are back")
        raise HakobuneError(f"settings not applied, the previous ones are back: {exc.message}") from None


def _write_secret_volumes(stack: Stack, secrets: SiteSecrets, old: SiteSecrets) -> None:
    """Write SECRETS' files; remove the files of secret settings that OLD had and SECRETS has not."""
    removed = tuple(sorted(set(old.settings) - set(secrets.settings)))
    stack.task("write-secrets", secrets_request(secrets, removed), service="secrets")
