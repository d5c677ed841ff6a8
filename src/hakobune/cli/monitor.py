"""`hakobune monitor up|status|down|logs`: the monitoring stack of the engine (Prometheus, Alertmanager)."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from hakobune.cli.context import state
from hakobune.cli.engine_project import containers_table, print_logs
from hakobune.errors import InvalidInput
from hakobune.ops.monitor import Monitor
from hakobune.render.monitor import MonitorSettings
from hakobune.versions import image_refs

app = typer.Typer(help="The monitoring stack: one per Docker engine, finding every site on it, keeping its "
                       "metrics and sending alerts.", no_args_is_help=True)

DEFAULTS = MonitorSettings(image="")


def _option(default: object, flag: str, text: str, **extra: Any) -> Any:
    return typer.Option(None, flag, help=f"{text} (default: {default}).", **extra)


def _password(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"--smtp-password-file {path} cannot be read ({exc})", "give a readable text file, "
                           "or - for standard input") from None
    if not text.strip() or "\n" in text.strip():
        raise InvalidInput(f"--smtp-password-file {path} holds no password on one line",
                           "write the password alone in it")
    return text.strip()


@app.command()
def up(
    ctx: typer.Context,
    bind: str | None = _option(DEFAULTS.bind, "--bind", "Serve Prometheus's and Alertmanager's pages on this "
                               "address of the engine's host"),
    port: int | None = _option(DEFAULTS.port, "--port", "Prometheus's published port (the page: "
                               "/consoles/hakobune.html)"),
    alertmanager_port: int | None = _option(DEFAULTS.alertmanager_port, "--alertmanager-port",
                                            "Alertmanager's published port"),
    retention: str | None = _option(DEFAULTS.retention, "--retention", "How long metrics are kept"),
    scrape_interval: str | None = _option(DEFAULTS.scrape_interval, "--scrape-interval", "How often every "
                                          "site is read"),
    webhook: str | None = _option("none", "--webhook", "Send alerts (and their end) as JSON to this URL",
                                  metavar="URL"),
    email: str | None = _option("none", "--email", "Send alerts to this address, through --smtp-host"),
    smtp_host: str | None = _option("none", "--smtp-host", "The SMTP server alerts are sent through"),
    smtp_port: int | None = _option(DEFAULTS.smtp_port, "--smtp-port", "Its port"),
    smtp_from: str | None = _option("hakobune@localhost", "--smtp-from", "The sender of alert e-mails"),
    smtp_user: str | None = _option("none", "--smtp-user", "Log in to the SMTP server as this user"),
    smtp_password_file: str | None = typer.Option(None, "--smtp-password-file", metavar="FILE",
                                                  help="The SMTP user's password, read from FILE (- for "
                                                       "standard input); kept in Alertmanager's volume."),
    smtp_tls: bool | None = typer.Option(None, "--smtp-tls/--no-smtp-tls", help="Require STARTTLS (default: "
                                                                               "on)."),
    alert_window: str | None = _option(DEFAULTS.window, "--alert-window", "The span the alerts' rates are "
                                       "taken over"),
    alert_hold: str | None = _option(DEFAULTS.hold, "--alert-hold", "How long a condition lasts before it "
                                     "is an alert"),
    alert_hold_short: str | None = _option(DEFAULTS.hold_short, "--alert-hold-short", "The same for an "
                                           "outage: site, database, disk"),
    group_wait: str | None = _option(DEFAULTS.group_wait, "--group-wait", "How long Alertmanager gathers a "
                                     "new alert's fellows before it sends"),
    group_interval: str | None = _option(DEFAULTS.group_interval, "--group-interval", "How long it waits "
                                         "before it sends a change to a group"),
    recreate: bool = typer.Option(False, "--recreate", help="Start every part anew, e.g. for the node exporter "
                                                            "to see a disk mounted since."),
) -> None:
    """Start the monitoring stack, or bring it to this Hakobune's image and the options given (the others stay
    as they were), and wait until it is healthy."""
    given = {"bind": bind, "port": port, "alertmanager_port": alertmanager_port, "retention": retention,
             "scrape_interval": scrape_interval, "webhook_url": webhook, "email_to": email, "smtp_host": smtp_host,
             "smtp_port": smtp_port, "smtp_from": smtp_from, "smtp_user": smtp_user, "smtp_tls": smtp_tls,
             "window": alert_window, "hold": alert_hold, "hold_short": alert_hold_short,
             "group_wait": group_wait, "group_interval": group_interval}
    changes: dict[str, Any] = {key: value for key, value in given.items() if value is not None}
    dataclasses.replace(DEFAULTS, **changes)  # checked before the engine is asked anything
    password = _password(smtp_password_file)
    st = state(ctx)
    monitor = Monitor(st.engine)
    with st.output.working("Starting the monitoring stack"):
        before = monitor.settings() or DEFAULTS
        settings = dataclasses.replace(before, image=image_refs()["monitor"], **changes)
        monitor.up(settings, password, recreate)
    host = settings.bind or "every address"
    st.output.out.print(f"The monitoring stack is up: http://{host}:{settings.port}/consoles/hakobune.html "
                        f"(Alertmanager: port {settings.alertmanager_port}).", markup=False)


@app.command()
def status(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The stack's containers, the sites Prometheus reads and the alerts firing now."""
    st = state(ctx)
    result = Monitor(st.engine).status()
    if as_json:
        st.output.out.print_json(json.dumps(result.to_dict()))
        return
    if result.settings is None:
        st.output.out.print("No monitoring stack on this engine (it starts with: hakobune monitor up).")
        return
    st.output.out.print(containers_table(result.containers))
    sites = Table("site", "metrics", box=None)
    for t in result.targets:
        sites.add_row(t.site, "read" if t.up else "NOT READ")
    st.output.out.print(sites if result.targets else "No site with a metrics service has been found yet.")
    alerts = Table("alert", "site", "severity", box=None)
    for a in result.alerts:
        alerts.add_row(a.name, a.site, a.severity)
    st.output.out.print(alerts if result.alerts else "No alert is firing.")


@app.command()
def down(
    ctx: typer.Context,
    purge: bool = typer.Option(False, "--purge", help="Also delete the stack's volumes: the metrics kept, "
                                                      "silences and the SMTP password."),
) -> None:
    """Stop and remove the monitoring stack; the sites go on. Its data stays unless --purge."""
    st = state(ctx)
    with st.output.working("Removing the monitoring stack"):
        removed = Monitor(st.engine).down(purge)
    st.output.out.print("The monitoring stack is removed." if removed
                        else "There was no monitoring stack on this engine.")


@app.command()
def logs(
    ctx: typer.Context,
    follow: bool = typer.Option(False, "-f", "--follow", help="Keep printing new lines."),
    since: str | None = typer.Option(None, "--since", help="Only lines since this time (e.g. 10m, 2024-01-01)."),
    tail: str | None = typer.Option(None, "--tail", help="Only the last N lines."),
) -> None:
    """The monitoring stack's log: Prometheus, Alertmanager and the parts that feed them."""
    print_logs(Monitor(state(ctx).engine).logs, follow, since, tail)
