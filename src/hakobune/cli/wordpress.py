"""WordPress commands, run in the ops container through WordPress's own API: wp-option, wp-user, wp-plugin,
wp-theme, search-replace, wp-core, and `wp` (wp-cli, when the ops image carries it)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from hakobune.cli import passwords
from hakobune.cli.context import SITE_DIRECTORY, state, terminal
from hakobune.errors import HakobuneError, InvalidInput
from hakobune.ops import wordpress as wp
from hakobune.ops import wp_updates
from hakobune.site import generate_password, validate_login

JSON = typer.Option(False, "--json", help="Print JSON.")
PASSWORD = typer.Option(None, "--password", help="8+ characters (default: generated, printed); --password-file "
                                                 "keeps it off the command line.")
PASSWORD_FILE = typer.Option(None, "--password-file", metavar="FILE",
                             help="Read the password from FILE's first line ('-': standard input).")


def _run(ctx: typer.Context, directory: Path | None, task: str, **request: object) -> dict[str, Any]:
    st = state(ctx)
    with st.output.working("Working in the ops container"):
        return wp.run(st.stack(directory), task, **request)


def _print(ctx: typer.Context, data: object, as_json: bool, rows: list[dict[str, Any]] | None = None,
           columns: tuple[str, ...] = ()) -> None:
    out = state(ctx).output.out
    if as_json:
        out.print_json(json.dumps(data))
    elif rows is not None:
        table = Table(*columns, box=None)
        for row in rows:
            table.add_row(*(", ".join(v) if isinstance(v, list) else str(v) for v in (row[c] for c in columns)))
        out.print(table)


option = typer.Typer(help="Read and change WordPress options.", no_args_is_help=True)


OPTION_NAME = typer.Argument(..., help="The option's name, e.g. blogname.")
LOGIN = typer.Argument(..., help="The user's login.")


@option.command("get")
def option_get(ctx: typer.Context, name: str = OPTION_NAME, directory: Path | None = SITE_DIRECTORY,
               as_json: bool = JSON) -> None:
    """Print an option's value (arrays as JSON)."""
    wp.check_option_name(name)
    value = _run(ctx, directory, "option", action="get", name=name)["value"]
    out = state(ctx).output.out
    if as_json or not isinstance(value, str):
        out.print_json(json.dumps(value))
    else:
        out.print(value, markup=False)


@option.command("set")
def option_set(
    ctx: typer.Context, name: str = OPTION_NAME,
    value: str = typer.Argument(..., help="The new value (with --json-value: JSON)."),
    directory: Path | None = SITE_DIRECTORY,
    json_value: bool = typer.Option(False, "--json-value", help="VALUE is JSON (an array, a number)."),
) -> None:
    """Set an option."""
    if json_value:
        try:
            json.loads(value)
        except ValueError as exc:
            raise InvalidInput(f"VALUE is not JSON: {exc}") from None
    wp.check_option_name(name)
    _run(ctx, directory, "option", action="set", name=name, value=value, json=json_value)
    state(ctx).output.out.print(f"Option {name} set.", markup=False)


@option.command("delete")
def option_delete(ctx: typer.Context, name: str = OPTION_NAME, directory: Path | None = SITE_DIRECTORY) -> None:
    """Delete an option."""
    wp.check_option_name(name)
    _run(ctx, directory, "option", action="delete", name=name)
    state(ctx).output.out.print(f"Option {name} deleted.", markup=False)


user = typer.Typer(help="List, create and delete WordPress users; set their passwords.", no_args_is_help=True)


@user.command("list")
def user_list(ctx: typer.Context, directory: Path | None = SITE_DIRECTORY, as_json: bool = JSON) -> None:
    """Every user with e-mail and roles."""
    users = _run(ctx, directory, "user", action="list")["users"]
    _print(ctx, users, as_json, users, ("id", "login", "email", "roles", "registered"))


@user.command("create")
def user_create(
    ctx: typer.Context, login: str = LOGIN,
    email: str = typer.Argument(..., help="The user's e-mail address."), directory: Path | None = SITE_DIRECTORY,
    role: str = typer.Option("subscriber", "--role", help="administrator, editor, author, contributor, subscriber "
                                                          "(or a role a plugin adds)"),
    password: str | None = PASSWORD,
    password_file: str | None = PASSWORD_FILE,
) -> None:
    """Create a user."""
    password = passwords.chosen("--password", password, "--password-file", password_file)
    chosen = password or generate_password()
    wp.check_new_user(login, email, chosen, role)
    _run(ctx, directory, "user", action="create", login=login, email=email, role=role, password=chosen)
    out = state(ctx).output.out
    out.print(f"User {login} created ({role}).", markup=False)
    if password is None:
        out.print(f"  password: {chosen}", markup=False)


@user.command("delete")
def user_delete(
    ctx: typer.Context, login: str = LOGIN, directory: Path | None = SITE_DIRECTORY,
    reassign: str | None = typer.Option(None, "--reassign", help="Give the user's posts to this user "
                                                                 "(default: they are deleted with the user)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a user."""
    validate_login("LOGIN", login)
    if reassign is not None:
        validate_login("--reassign", reassign)
    if not yes:
        if not sys.stdin.isatty():
            raise InvalidInput("wp-user delete asks for confirmation on a terminal", "pass -y to delete without asking")
        what = f"give their content to {reassign}" if reassign else "delete their content"
        typer.confirm(f"Delete user {login} and {what}?", abort=True)
    _run(ctx, directory, "user", action="delete", login=login, reassign=reassign or "")
    state(ctx).output.out.print(f"User {login} deleted.", markup=False)


@user.command("set-password")
def user_set_password(
    ctx: typer.Context, login: str = LOGIN, directory: Path | None = SITE_DIRECTORY,
    password: str | None = PASSWORD,
    password_file: str | None = PASSWORD_FILE,
) -> None:
    """Set a user's password."""
    password = passwords.chosen("--password", password, "--password-file", password_file)
    chosen = password or generate_password()
    wp.check_new_password(login, chosen)
    _run(ctx, directory, "user", action="set-password", login=login, password=chosen)
    out = state(ctx).output.out
    out.print(f"Password of {login} set.", markup=False)
    if password is None:
        out.print(f"  password: {chosen}", markup=False)


def _switchable(kind: str, verbs: tuple[str, ...]) -> typer.Typer:
    """wp-plugin and wp-theme: list; activate/deactivate and delete by folder name; install and update."""
    app = typer.Typer(help=f"List, install, update, {'/'.join(verbs)} and delete WordPress {kind}s.",
                      no_args_is_help=True)

    @app.command("list")
    def listing(ctx: typer.Context, directory: Path | None = SITE_DIRECTORY, as_json: bool = JSON) -> None:
        items = _run(ctx, directory, kind, action="list")[f"{kind}s"]
        _print(ctx, items, as_json, items, ("name", "title", "version", "active"))

    listing.__doc__ = f"Every installed {kind}, and whether it is active."
    for verb in verbs:
        app.command(verb)(_switch(kind, verb))
    for action in ("install", "update"):
        app.command(action)(_package(kind, action))
    app.command("delete")(_delete(kind))
    return app


def _switch(kind: str, verb: str) -> Callable[..., None]:
    """The command that does VERB to a KIND (a closure: the verb is no option of the command)."""

    def switch(ctx: typer.Context, name: str = typer.Argument(..., help=f"The {kind}'s folder name."),
               directory: Path | None = SITE_DIRECTORY) -> None:
        wp.check_folder_name(kind, name)
        result = _run(ctx, directory, kind, action=verb, name=name)
        state(ctx).output.out.print(f"{kind.title()} {name} {'active' if result['active'] else 'inactive'}.",
                                    markup=False)

    switch.__doc__ = f"{verb.title()} a {kind} (by its folder name)."
    return switch


def _package(kind: str, action: str) -> Callable[..., None]:
    """wp-KIND install|update SOURCE: with WordPress's own upgrader, from a zip file, a folder, or a slug."""

    def command(ctx: typer.Context,
                given: str = typer.Argument(..., metavar="SOURCE", help=f"A zip file or a folder holding the {kind} "
                                            f"(offline), or its slug on wordpress.org (e.g. my-{kind})."),
                directory: Path | None = SITE_DIRECTORY,
                activate: bool = typer.Option(False, "--activate", help=f"Activate the {kind} too."),
                as_json: bool = JSON) -> None:
        found = wp_updates.source(kind, given)
        st = state(ctx)
        with st.output.working(f"{wp_updates.VERBING[action].title()} the {kind}"):
            result = wp_updates.package(st.stack(directory), kind, action, found, activate)
        if as_json:
            _print(ctx, result, True)
            return
        was = f" (was {result['previous']})" if result.get("previous") else ""
        st.output.out.print(f"{kind.title()} {result['name']} {result['version']}{was} "
                            f"{'installed' if action == 'install' else 'updated'}"
                            f"{', active' if result['active'] else ''}.", markup=False)

    command.__doc__ = (f"{action.title()} a {kind} from a zip file or a folder, or from wordpress.org by its slug "
                       f"(where the engine reaches it), with WordPress's own upgrader"
                       + (" (refused when it is installed already)." if action == "install"
                          else ": its files are replaced; it stays active if it was."))
    return command


def _delete(kind: str) -> Callable[..., None]:
    def delete(ctx: typer.Context, name: str = typer.Argument(..., help=f"The {kind}'s folder name."),
               directory: Path | None = SITE_DIRECTORY,
               yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")) -> None:
        wp.check_folder_name(kind, name)
        if not yes:
            if not sys.stdin.isatty():
                raise InvalidInput(f"wp-{kind} delete asks for confirmation on a terminal",
                                   "pass -y to delete without asking")
            typer.confirm(f"Delete the {kind} {name} and its files?", abort=True)
        _run(ctx, directory, kind, action="delete", name=name)
        state(ctx).output.out.print(f"{kind.title()} {name} deleted.", markup=False)

    delete.__doc__ = (f"Delete a {kind}'s files, as wp-admin does (never "
                      f"{'an active plugin' if kind == 'plugin' else 'the site theme, nor its parent'}).")
    return delete


def search_replace(
    ctx: typer.Context, old: str = typer.Argument(..., help="The text to find, e.g. https://old.example.com."),
    new: str = typer.Argument(..., help="What replaces it."), directory: Path | None = SITE_DIRECTORY,
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would change; change nothing."),
    as_json: bool = JSON,
) -> None:
    """Replace OLD with NEW in every table of the site (safe for PHP-serialised data); reports rows per table."""
    wp.check_search_replace(old, new)
    result = _run(ctx, directory, "search-replace", old=old, new=new, dry_run=dry_run)
    if as_json:
        _print(ctx, result, True)
        return
    rows = [{"table": table, "rows": count} for table, count in result["tables"].items()]
    _print(ctx, result, False, rows, ("table", "rows"))
    verb = "would change" if dry_run else "changed"
    state(ctx).output.out.print(f"{result['rows']} rows {verb}.")
    if result["skipped_objects"]:
        state(ctx).output.out.print(f"{result['skipped_objects']} serialised objects of unknown classes left "
                                    "unchanged.")


core = typer.Typer(help="WordPress core: its version, a check of its files, and its update from the images.",
                   no_args_is_help=True)


@core.command("version")
def core_version(ctx: typer.Context, directory: Path | None = SITE_DIRECTORY, as_json: bool = JSON) -> None:
    """The site's WordPress version (and its database schema, PHP, and the image's WordPress)."""
    result = _run(ctx, directory, "core")
    if as_json:
        _print(ctx, result, True)
    else:
        state(ctx).output.out.print(result["wordpress"])


@core.command("verify")
def core_verify(
    ctx: typer.Context, directory: Path | None = SITE_DIRECTORY, as_json: bool = JSON,
    fetch: bool = typer.Option(False, "--fetch", help="For a version neither the images carry nor the site has "
                                                      "kept (a core updated from wp-admin): ask wordpress.org."),
) -> None:
    """Check every core file against the checksums of the version the site runs (the images', or those kept
    when the site ran an earlier image's version)."""
    st = state(ctx)
    with st.output.working("Checking core's files"):
        result = st.stack(directory).task("core-verify", {"fetch": fetch}, within="")
    out = st.output.out
    if as_json:
        _print(ctx, result, True)
    else:
        for kind in ("modified", "missing", "added"):
            for path in result[kind]:
                out.print(f"{kind}: {path}", markup=False)
    if not result["ok"]:
        count = sum(len(result[k]) for k in ("modified", "missing", "added"))
        raise HakobuneError(f"core files differ from WordPress {result['version']}'s: {count} files")
    if not as_json:
        out.print(f"All {result['checked']} core files match WordPress {result['version']} "
                  f"(checksums: {result['checksums']}).", markup=False)


@core.command("update")
def core_update(
    ctx: typer.Context, directory: Path | None = SITE_DIRECTORY,
    to: str | None = typer.Option(None, "--to", metavar="VERSION", help="The version to update to: the one the "
                                  "site's images carry (the default)."),
    no_backup: bool = typer.Option(False, "--no-backup", help="Skip the verified backup made first."),
    as_json: bool = JSON,
) -> None:
    """Update core to the WordPress of the site's images (offline): a verified backup first, WordPress's
    maintenance page while the files change, then the database upgrade. wp-content is left as it is."""
    if to is not None:
        wp_updates.check_version(to)
    st = state(ctx)
    with st.output.working("Updating WordPress core"):
        result = wp_updates.core_update(st.stack(directory), to, not no_backup, st.output.step)
    if as_json:
        _print(ctx, result, True)
        return
    out = st.output.out
    if result["from"] == result["to"]:
        out.print(f"WordPress {result['to']} is the images' version already.", markup=False)
    else:
        out.print(f"WordPress {result['from']} -> {result['to']}: {result['files']} files written, "
                  f"{result['removed']} old files removed.", markup=False)
    before, after = result["db_version"]
    if before != after:
        out.print(f"  database upgraded: schema {before} -> {after}", markup=False)
    if result["backup"]:
        out.print(f"  backup made first: {result['backup']}", markup=False)


def wp_cli(
    ctx: typer.Context,
    args: list[str] = typer.Argument(None, help="wp-cli's arguments, after --: hakobune wp -- plugin list"),
    directory: Path | None = SITE_DIRECTORY,
) -> None:
    """Pass through to wp-cli in the site's wp container, when the ops image carries it."""
    st = state(ctx)
    args = list(args or [])
    if args[:1] == ["--"]:
        args = args[1:]
    raise typer.Exit(wp.wp_cli(st.stack(directory), args, terminal()))


def register(app: typer.Typer) -> None:
    app.add_typer(option, name="wp-option")
    app.add_typer(user, name="wp-user")
    app.add_typer(_switchable("plugin", ("activate", "deactivate")), name="wp-plugin")
    app.add_typer(_switchable("theme", ("activate",)), name="wp-theme")
    app.command("search-replace")(search_replace)
    app.add_typer(core, name="wp-core")
    app.add_typer(core, name="core", hidden=True)  # its name before 0.6
    app.command("wp")(wp_cli)
