"""`hakobune edge up|status|down|logs`: the shared edge of the engine (ports 80 and 443 for every site)."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from hakobune.cli.context import SITE_DIRECTORY, state
from hakobune.cli.engine_project import containers_table, print_logs
from hakobune.ops import edge_move
from hakobune.ops.edge import Edge
from hakobune.render.edge import RENEW_DAYS, RENEW_EVERY, EdgeSettings, validate_options
from hakobune.versions import image_refs

app = typer.Typer(help="The shared edge: one per Docker engine, on ports 80 and 443, in front of every site "
                       "that has no ports of its own.", no_args_is_help=True)


@app.command()
def up(
    ctx: typer.Context,
    bind: str | None = typer.Option(None, "--bind", help="Listen on this address of the engine's host only "
                                                         "(default: every address)."),
    http_port: int | None = typer.Option(None, "--http-port", help="Published HTTP port (default: 80)."),
    tls_port: int | None = typer.Option(None, "--tls-port", help="Published HTTPS port, TCP and UDP for HTTP/3 "
                                                                 "(default: 443)."),
    renew_days: int | None = typer.Option(None, "--renew-days", help="Renew certificates from an ACME CA this "
                                          f"many days before they expire (default: {RENEW_DAYS})."),
    renew_every: int | None = typer.Option(None, "--renew-every", metavar="SECONDS", help="How often the edge "
                                           f"looks for certificates due (default: {RENEW_EVERY}, from a random "
                                           "offset)."),
) -> None:
    """Start the edge, or bring it to this Hakobune's image and the options given (the others stay as they
    were), and wait until it is healthy."""
    validate_options(bind, http_port, tls_port, renew_days, renew_every)
    st = state(ctx)
    edge = Edge(st.engine)
    with st.output.working("Starting the edge"):
        before = edge.settings()
        settings = EdgeSettings(
            image=image_refs()["edge"],
            bind=bind if bind is not None else (before.bind if before else ""),
            http_port=http_port or (before.http_port if before else 80),
            tls_port=tls_port or (before.tls_port if before else 443),
            renew_days=renew_days or (before.renew_days if before else RENEW_DAYS),
            renew_every=renew_every or (before.renew_every if before else RENEW_EVERY),
        )
        edge.up(settings)
    where = settings.bind or "every address"
    st.output.out.print(f"The edge is up on {where}: HTTP {settings.http_port}, HTTPS {settings.tls_port} "
                        "(TCP and UDP).", markup=False)


@app.command()
def status(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The edge's two containers (proxy, acme) and the sites it routes to, with their certificates."""
    st = state(ctx)
    result = Edge(st.engine).status()
    if as_json:
        st.output.out.print_json(json.dumps(result.to_dict()))
        return
    if result.settings is None:
        st.output.out.print("No edge on this engine (it starts with: hakobune edge up).")
        return
    st.output.out.print(containers_table(result.containers))
    routes = Table("site", "hosts", "certificate issuer", "expires", box=None)
    for r in result.routes:
        routes.add_row(r.site, " ".join(r.hosts), r.issuer, r.not_after)
    st.output.out.print(routes if result.routes else "No site is behind the edge.")


@app.command()
def attach(ctx: typer.Context, directory: str | None = SITE_DIRECTORY) -> None:
    """Move a site with ports of its own behind the edge (started when there is none), keeping everything; its
    URLs follow when its public port changes. The site is out of reach for the seconds the move takes."""
    st = state(ctx)
    stack = st.stack(directory)
    with st.output.working(f"Moving {stack.site.name} behind the edge"):
        moved = edge_move.attach(stack, st.output.step)
    st.output.out.print(f"Site {moved.name} is behind the edge: {moved.url}/", markup=False)


@app.command()
def detach(
    ctx: typer.Context,
    directory: str | None = SITE_DIRECTORY,
    http_port: int = typer.Option(..., "--http-port", help="The site's own HTTP port from now on."),
    tls_port: int = typer.Option(..., "--tls-port", help="The site's own HTTPS port from now on."),
) -> None:
    """Give a site behind the edge ports of its own again and take it off the edge, keeping everything; its URLs
    follow when its public port changes. Its certificate at the edge is dropped: on its own ports the site
    serves its self-signed one."""
    st = state(ctx)
    stack = st.stack(directory)
    with st.output.working(f"Moving {stack.site.name} to ports of its own"):
        moved = edge_move.detach(stack, http_port, tls_port, st.output.step)
    st.output.out.print(f"Site {moved.name} has ports of its own: {moved.url}/", markup=False)


@app.command()
def down(
    ctx: typer.Context,
    purge: bool = typer.Option(False, "--purge", help="Also delete the edge's volume: its routes and "
                                                      "certificates."),
) -> None:
    """Stop and remove the edge; refused while sites are behind it. Its certificates stay unless --purge."""
    st = state(ctx)
    with st.output.working("Removing the edge"):
        removed = Edge(st.engine).down(purge)
    st.output.out.print("The edge is removed." if removed else "There was no edge on this engine.")


@app.command()
def logs(
    ctx: typer.Context,
    follow: bool = typer.Option(False, "-f", "--follow", help="Keep printing new lines."),
    since: str | None = typer.Option(None, "--since", help="Only lines since this time (e.g. 10m, 2024-01-01)."),
    tail: str | None = typer.Option(None, "--tail", help="Only the last N lines."),
) -> None:
    """The edge's log: one line per request (site, status, timings) and HAProxy's notices."""
    print_logs(Edge(state(ctx).engine).logs, follow, since, tail)
