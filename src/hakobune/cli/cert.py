"""`hakobune cert issue|install|renew|status`: a site's certificate, from an ACME CA or your own, at the edge or on
the site's own ports."""

from __future__ import annotations

import datetime
import json

import typer
from rich.table import Table

from hakobune.cli.context import SITE_DIRECTORY, State, state
from hakobune.errors import HakobuneError
from hakobune.ops import own_cert
from hakobune.ops.certs import PRESETS, Certs, CertState, acme_account, install_own, now, own_ports_certificate
from hakobune.ops.sitedir import SiteDir
from hakobune.site import Site

app = typer.Typer(help="Certificates from an ACME CA (Let's Encrypt or any other), or your own, for a site behind "
                       "the edge or with ports of its own: issued, renewed automatically, and their state.",
                  no_args_is_help=True)

EMAIL = typer.Option(None, "--email", help="The address the CA writes to (needed the first time).")
DIRECTORY = typer.Option(None, "--acme-directory", help="The CA's ACME directory URL, or one of: "
                         f"{', '.join(PRESETS)} (default: letsencrypt).")
CA_CERT = typer.Option(None, "--acme-ca-cert", metavar="FILE",
                       help="The root certificate (PEM) of a private CA's own HTTPS.")


@app.command()
def issue(
    ctx: typer.Context,
    directory: str | None = SITE_DIRECTORY,
    email: str | None = EMAIL,
    acme_directory: str | None = DIRECTORY,
    acme_ca_cert: str | None = CA_CERT,
) -> None:
    """Get a certificate for the site's names from its CA now and serve it (with --email: set the CA first)."""
    account = acme_account(email, acme_directory, acme_ca_cert) \
        if email or acme_directory or acme_ca_cert else None
    st = state(ctx)
    stack = st.stack(directory)
    with st.output.working(f"Asking the CA for a certificate for {stack.site.fqdn}"):
        cert = Certs(st.engine).issue(stack, account)
    _print_one(st, cert, "issued")


@app.command()
def install(
    ctx: typer.Context,
    directory: str | None = SITE_DIRECTORY,
    cert: str = typer.Option(..., "--cert", metavar="FILE", help="The certificate (PEM); its chain may follow it."),
    key: str = typer.Option(..., "--key", metavar="FILE", help="Its private key (PEM, without a passphrase)."),
    chain: str | None = typer.Option(None, "--chain", metavar="FILE",
                                     help="The intermediate certificates (PEM), each followed by its issuer."),
) -> None:
    """Serve a certificate of your own for the site, at once (at the edge, or by the site's web server when it
    has ports of its own); checked first (key, names, dates, chain order). An ACME CA no longer renews the
    site's certificate after this."""
    site = _site(directory)
    own = own_cert.load(cert, key, chain, site.hosts)
    st = state(ctx)
    stack = st.stack(directory)
    with st.output.working(f"Installing the certificate of {site.fqdn}"):
        installed = install_own(stack, own)
    _print_one(st, installed, "installed")


@app.command()
def renew(
    ctx: typer.Context,
    directory: str | None = SITE_DIRECTORY,
    force: bool = typer.Option(False, "--force", help="Renew now, even when it is not due."),
) -> None:
    """Renew the site's certificate when it is due (its acme service, the edge's or the site's own, does this by
    itself; see `cert status`)."""
    st = state(ctx)
    stack = st.stack(directory)
    with st.output.working(f"Renewing the certificate of {stack.site.fqdn}"):
        cert = Certs(st.engine).renew(stack, force)
    _print_one(st, cert, "renewed" if force else "checked")


@app.command()
def status(
    ctx: typer.Context,
    directory: str | None = typer.Option(None, "-C", "--directory",
                                         help="Only this site's certificate (default: every site's)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Each certificate the edge serves (with -C of a site with ports of its own: its web server's, and its own
    acme service's renewals): issuer, names, expiry, days left, the last renewal and its error. Exits 1 when one
    has a problem (it expires within 14 days, a renewal fails, the CA has not issued it yet)."""
    st = state(ctx)
    only = _site(directory) if directory else None
    if only is not None and not only.edge:  # its own: its web server's, and its acme service's renewals
        certs = [own_ports_certificate(st.stack(directory))]
    else:
        certs = [c for c in Certs(st.engine).status() if only is None or c.site == only.name]
    moment = now()
    if as_json:
        st.output.out.print_json(json.dumps({"certificates": [c.to_dict(moment) for c in certs]}))
    else:
        table = Table("site", "names", "issuer", "expires", "days left", "last renewal", "problems", box=None)
        for c in certs:
            days = c.days_left(moment)
            table.add_row(c.site, " ".join(c.names or c.hosts), c.issuer, _when(c.not_after),
                          "" if days is None else f"{days:.0f}", _last(c), "; ".join(c.problems(moment)) or "none")
        st.output.out.print(table if certs else "No site is behind the edge.")
    troubled = [c.site for c in certs if c.problems(moment)]
    if troubled:
        raise HakobuneError(f"certificate problems: {', '.join(troubled)}", "see the problems column above")


def _site(directory: str | None) -> Site:
    return SiteDir.find(directory).load()


def _when(epoch: int | None) -> str:
    if epoch is None:
        return ""
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _last(cert: CertState) -> str:
    if not cert.acme or not cert.acme.get("last_attempt"):
        return ""
    ok = cert.acme.get("last_success") == cert.acme.get("last_attempt") or not cert.acme.get("error")
    return f"{_when(cert.acme['last_attempt'])} ({'ok' if ok else 'failed'})"


def _print_one(st: State, cert: CertState, done: str) -> None:
    moment = now()
    days = cert.days_left(moment)
    st.output.out.print(f"Certificate for {' '.join(cert.names or cert.hosts)} {done}: issuer {cert.issuer}, "
                        f"expires {_when(cert.not_after)}"
                        + ("" if days is None else f" ({days:.0f} days)"), markup=False)
