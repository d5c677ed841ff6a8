"""WordPress work through the ops container's helpers (WordPress's own PHP API; no wp-cli): options, users,
plugins, themes, search-replace, the object cache and core."""

from __future__ import annotations

import re
from typing import Any

from hakobune.errors import HakobuneError, InvalidInput
from hakobune.ops.cache import refresh
from hakobune.ops.stack import Stack
from hakobune.site import validate_email, validate_login, validate_password

WP_CLI = "/usr/local/bin/wp"
# What `hakobune wp ARGS` suggests instead, by wp-cli's first word.
BUILT_IN = {
    "option": "hakobune wp-option get|set|delete", "user": "hakobune wp-user list|create|delete|set-password",
    "plugin": "hakobune wp-plugin list|install|update|activate|deactivate|delete",
    "theme": "hakobune wp-theme list|install|update|activate|delete",
    "search-replace": "hakobune search-replace OLD NEW [--dry-run]", "cache": "hakobune cache flush|clear",
    "core": "hakobune wp-core version|verify|update",
}


def run(stack: Stack, task: str, **request: object) -> dict[str, Any]:
    """Run a WordPress task against the running site."""
    stack.require_running()
    result = stack.task(task, {"url": stack.site.url, **request}, within="")
    if task == "search-replace" and not request.get("dry_run"):  # the database changed behind WordPress's back
        refresh(stack)
    return result


_ROLE = re.compile(r"^[a-z0-9_-]{1,64}$")  # WordPress's role names (sanitize_key), its own and plugins'


def check_new_user(login: str, email: str, password: str, role: str = "subscriber") -> None:
    check_new_password(login, password)
    validate_email("EMAIL", email)
    if not _ROLE.match(role):
        raise InvalidInput(f"--role '{role}' is not a role name",
                           "administrator, editor, author, contributor, subscriber, or a plugin's role such "
                           "as shop_manager")


def check_option_name(name: str) -> None:
    """WordPress keeps option names of up to 191 characters."""
    if not name or len(name) > 191 or not name.isprintable():
        raise InvalidInput(f"'{name}' is not an option name", "1 to 191 printable characters, e.g. blogname")


_FOLDER = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


def check_folder_name(kind: str, name: str) -> None:
    """A plugin's or theme's folder in wp-content (hello-dolly, twentytwentyfive): no path."""
    if not _FOLDER.match(name) or name in (".", ".."):
        raise InvalidInput(f"'{name}' is not a {kind}'s folder name", f"see 'hakobune wp-{kind} list'")


def check_new_password(login: str, password: str) -> None:
    validate_login("LOGIN", login)
    validate_password("--password", password)


def check_search_replace(old: str, new: str) -> None:
    if not old:
        raise InvalidInput("search-replace needs a non-empty OLD", "e.g. hakobune search-replace "
                           "https://old.example.com https://new.example.com")
    if old == new:
        raise InvalidInput("OLD and NEW are the same: nothing would change")


def wp_cli(stack: Stack, args: list[str], tty: bool) -> int:
    """wp-cli in the wp container with the user's terminal, or a clear error when the image has none."""
    probe = stack.run("test", "-x", WP_CLI, service="wp", check=False, timeout=120)
    if probe.returncode != 0:
        suggestion = BUILT_IN.get(args[0] if args else "", "; ".join(sorted(set(BUILT_IN.values()))))
        raise HakobuneError("wp-cli is not in the ops image (it cannot be fetched where the images are built)",
                            f"use {suggestion}")
    return stack.interact("wp", [WP_CLI, "--path=/srv/site/public", *args], tty)
