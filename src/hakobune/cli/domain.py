"""`hakobune domain list|add|remove|primary`: a site's names, at the shared edge or on its own ports."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from hakobune.cli.context import SITE_DIRECTORY, State, state
from hakobune.ops import domains
from hakobune.ops.certs import certificates, own_ports_certificate
from hakobune.site import Site

app = typer.Typer(help="A site's names: its primary name and aliases, served with one certificate "
                       "or redirected to the primary name.", no_args_is_help=True)

NAME = typer.Argument(..., help="A host name, e.g. www.example.com.")


@app.command("list")
def list_(ctx: typer.Context, directory: str | None = SITE_DIRECTORY,
          as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The site's names: the primary one, aliases served as the site, aliases redirected to the primary name;
    and whether the certificate served covers each."""
    st = state(ctx)
    stack = st.stack(directory)
    if stack.site.edge:
        cert = certificates(st.engine).get(stack.site.name)
    else:  # its web server's, while it runs
        cert = own_ports_certificate(stack) if "web" in stack.running() else None
    found = domains.domains(stack.site, cert)
    if as_json:
        st.output.out.print_json(json.dumps({"site": stack.site.name, "domains": [d.to_dict() for d in found]}))
        return
    table = Table("name", "role", "certificate", box=None)
    for d in found:
        role = f"redirect {d.redirect} to {stack.site.fqdn}" if d.redirect else d.role
        table.add_row(d.name, role, {True: "covers it", False: "does not cover it", None: "unknown"}[d.covered])
    st.output.out.print(table)


@app.command()
def add(
    ctx: typer.Context,
    name: str = NAME,
    directory: str | None = SITE_DIRECTORY,
    redirect: str | None = typer.Option(None, "--redirect", metavar="301|308",
                                        help="Send visitors of NAME to the primary name with this status, path "
                                             "and query kept (default: serve NAME as the site)."),
) -> None:
    """Give the site another name (or change how an alias is served). A certificate from the site's CA that
    covers it is obtained first; a certificate of your own must cover it already."""
    st = state(ctx)
    stack = st.stack(directory)
    with st.output.working(f"Adding {name} to {stack.site.name}"):
        site = domains.add(stack, name, redirect, st.output.step)
    _done(st, site)


@app.command()
def remove(ctx: typer.Context, name: str = NAME, directory: str | None = SITE_DIRECTORY) -> None:
    """Take an alias from the site: it is no longer served."""
    st = state(ctx)
    stack = st.stack(directory)
    with st.output.working(f"Removing {name} from {stack.site.name}"):
        site = domains.remove(stack, name, st.output.step)
    _done(st, site)


@app.command()
def primary(ctx: typer.Context, name: str = NAME, directory: str | None = SITE_DIRECTORY) -> None:
    """Make NAME the site's primary name: its certificate covers it first, WordPress's URLs are rewritten to
    it, and the old primary name stays as an alias redirected to it (301; `domain remove` drops it)."""
    st = state(ctx)
    stack = st.stack(directory)
    with st.output.working(f"Making {name} the primary name of {stack.site.name}"):
        site = domains.primary(stack, name, st.output.step)
    _done(st, site)


def _done(st: State, site: Site) -> None:
    names = ", ".join(f"{n} ({'redirect ' + m if m != 'serve' else 'alias'})" for n, m in site.aliases.items())
    st.output.out.print(f"Site {site.name}: {site.url}/" + (f"; also {names}" if names else ""), markup=False)
