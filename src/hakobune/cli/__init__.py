"""The `hakobune` (and `hb`) command line. Parsing, help and output only: the work is in hakobune.ops."""

from __future__ import annotations

import sys

import typer

# Typer 0.29 carries its own Click; its usage-error base class is not re-exported (pinned in pyproject).
from typer._click.exceptions import UsageError

from hakobune import __version__
from hakobune.cli import (
    backup,
    cache,
    cert,
    clone,
    config,
    cron,
    deploy,
    domain,
    edge,
    images,
    import_site,
    info,
    lifecycle,
    limits,
    monitor,
    provision,
    remove,
    restore,
    status,
    top,
    upgrade,
    wordpress,
)
from hakobune.cli.context import State
from hakobune.cli.output import Output
from hakobune.engine import INTERRUPTED, Engine
from hakobune.errors import HakobuneError
from hakobune.versions import image_versions

app = typer.Typer(
    name="hakobune",
    help="Run WordPress and PHP sites as container stacks on Docker Compose, from your own PC.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(images.app, name="images")
app.add_typer(config.app, name="config")
app.add_typer(cache.app, name="cache")
app.add_typer(limits.app, name="limits")
# The commands, in the order `hakobune --help` lists them; each lives in the module named after it.
app.command()(provision.provision)
app.command()(remove.remove)
app.command()(status.status)
app.command("deploy-files")(deploy.deploy_files)
app.command()(lifecycle.start)
app.command()(lifecycle.stop)
app.command()(lifecycle.restart)
app.command("list")(status.list_)
app.command()(upgrade.upgrade)
app.command()(info.info)
app.command()(lifecycle.logs)
app.command()(lifecycle.shell)
app.command("exec")(lifecycle.exec_)
wordpress.register(app)
app.add_typer(backup.app, name="backup")
app.add_typer(cron.app, name="cron")
app.command()(restore.restore)
app.command()(clone.clone)
app.command("import")(import_site.import_)
app.add_typer(edge.app, name="edge")
app.add_typer(cert.app, name="cert")
app.add_typer(domain.app, name="domain")
app.add_typer(monitor.app, name="monitor")
app.command()(top.top)


def _version(value: bool) -> None:
    """Hakobune's version and the images' it builds: one story (docs/images.md)."""
    if value:
        try:
            images = ", ".join(f"{name} {v.version}" for name, v in image_versions().items())
        except HakobuneError:
            images = "image sources not found"
        typer.echo(f"hakobune {__version__} (images: {images})")
        raise typer.Exit()


@app.callback()
def _global(
    ctx: typer.Context,
    context: str | None = typer.Option(
        None, "--context", envvar="DOCKER_CONTEXT", show_envvar=True,
        help="Docker context to use (a local or remote engine); DOCKER_HOST also works.",
    ),
    debug: bool = typer.Option(False, "--debug", help="Show the docker commands run, and tracebacks."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only results and errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    output = Output(quiet=quiet, debug=debug)
    ctx.obj = State(engine=Engine(context=context, debug=debug, echo=output.echo), output=output)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: every failure becomes one `error:` line and exit 2 (usage) or 1 (run time)."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    output = Output()
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="hakobune", standalone_mode=False)
    except UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "hakobune"
        output.error(f"{exc.format_message()} (see '{where} --help')", 2)
    except typer.Abort:
        output.error("aborted", 1)
    except HakobuneError as exc:
        if debug:
            raise
        output.error(exc, exc.exit_code)
    except KeyboardInterrupt:
        output.error("interrupted", INTERRUPTED)
    except Exception as exc:
        if debug:
            raise
        output.error(f"unexpected failure: {exc} (run again with --debug for details)", 1)
    if result == INTERRUPTED:  # Typer turns Ctrl-C into this exit code, silently
        output.error("interrupted", INTERRUPTED)
    sys.exit(result if isinstance(result, int) else 0)
