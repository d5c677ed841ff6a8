"""`hakobune domain`: a site's names, at the edge or on its own ports. Its primary name (fqdn) and its aliases
share one certificate; an alias is served as the site or sent to the primary name with a 301 or 308 (by the edge,
or by the web server of a site with ports of its own). A name is added only once the certificate served covers
it: from the site's ACME CA first (the CA's challenge for the name is answered before the name is served), or
the site's own certificate must cover it already; a self-signed one is made again with it. A change that fails
is undone, newest step first."""

from __future__ import annotations

from dataclasses import dataclass, replace

from hakobune.errors import HakobuneError, InvalidInput
from hakobune.ops.certs import ISSUE_TIMEOUT, Certs, CertState, own_ports_certificate, site_acme
from hakobune.ops.own_cert import covers
from hakobune.ops.rollback import failpoint
from hakobune.ops.site_url import rewrite_urls
from hakobune.ops.stack import Report, Stack
from hakobune.site import ALIAS_MODES, Site, validate_fqdn

REDIRECTS = tuple(mode for mode in ALIAS_MODES if mode != "serve")
OLD_PRIMARY = "301"  # what a primary name becomes when another takes its place: moved permanently


@dataclass(frozen=True)
class Domain:
    name: str
    role: str  # primary, alias, or redirect (to the primary name)
    redirect: str  # the status of a redirect, else ""
    covered: bool | None  # the certificate served covers it; None: unknown (the edge is not running)

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "role": self.role, "redirect": int(self.redirect) if self.redirect else None,
                "certificate_covers": self.covered}


def domains(site: Site, cert: CertState | None) -> list[Domain]:
    """SITE's names, primary first, and whether CERT (the one served) covers each."""
    found = []
    for name in site.hosts:
        mode = site.aliases.get(name)
        role = "primary" if mode is None else "alias" if mode == "serve" else "redirect"
        covered = None if cert is None else any(covers(n, name) for n in cert.names)
        found.append(Domain(name, role, mode if mode in REDIRECTS else "", covered))
    return found


def add(stack: Stack, name: str, redirect: str | None, report: Report) -> Site:
    """NAME as an alias of the site (REDIRECT: sent to the primary name with that status), or an alias's mode
    changed."""
    site = stack.site
    host = validate_fqdn(name, "NAME")
    mode = _redirect(redirect)
    if host == site.fqdn:
        raise InvalidInput(f"{host} is the primary name of site {site.name}")
    if site.aliases.get(host) == mode:
        raise InvalidInput(f"{host} is an alias of site {site.name} already, as asked")
    return _change(stack, replace(site, aliases={**site.aliases, host: mode}), report)


def remove(stack: Stack, name: str, report: Report) -> Site:
    """NAME no longer a name of the site (the certificate from a CA drops it at its next renewal)."""
    site = stack.site
    host = validate_fqdn(name, "NAME")
    if host == site.fqdn:
        raise InvalidInput(f"{host} is the primary name of site {site.name}",
                           "make another name the primary first: hakobune domain primary NAME")
    if host not in site.aliases:
        raise InvalidInput(f"{host} is not a name of site {site.name}", "hakobune domain list shows them")
    return _change(stack, replace(site, aliases={k: v for k, v in site.aliases.items() if k != host}), report)


def primary(stack: Stack, name: str, report: Report) -> Site:
    """NAME the site's primary name: WordPress's URLs move to it, and the old primary name stays as an alias
    that is redirected to it (301)."""
    site = stack.site
    host = validate_fqdn(name, "NAME")
    if host == site.fqdn:
        raise InvalidInput(f"{host} is the primary name of site {site.name} already")
    aliases = {k: v for k, v in site.aliases.items() if k != host}
    return _change(stack, replace(site, fqdn=host, aliases={site.fqdn: OLD_PRIMARY, **aliases}), report)


def _redirect(redirect: str | None) -> str:
    if redirect is None:
        return "serve"
    if redirect not in REDIRECTS:
        raise InvalidInput(f"--redirect '{redirect}' is not one of {', '.join(REDIRECTS)}",
                           "301 (moved permanently) or 308 (the same, keeping the method)")
    return redirect


def _change(stack: Stack, new: Site, report: Report) -> Site:
    """The site from its names to NEW's: the certificate first, then the web server, WordPress's URLs and the
    edge's route."""
    old = stack.site
    stack.require_running()
    if not old.edge:
        return _change_own_ports(stack, new, report)
    certs = Certs(stack.engine)
    cert = certs.state(old.name)
    added = tuple(host for host in new.hosts if host not in old.hosts)
    taken = {host: route.site for route in certs.edge.routes() if route.site != old.name for host in route.hosts}
    for host in added:
        if host in taken:
            raise InvalidInput(f"{host} is served by site {taken[host]} already")
    uncovered = tuple(host for host in added if not any(covers(n, host) for n in cert.names))
    if uncovered and cert.source == "own":
        raise InvalidInput(f"the site's own certificate does not cover {', '.join(uncovered)}",
                           "install one that does first: hakobune cert install")
    with stack.changing() as rollback:
        rollback.on_failure("route the site as it was", lambda: certs.edge.attach(old))
        if uncovered and cert.source == "acme":
            report(f"Asking the CA for a certificate that covers {', '.join(uncovered)} too")
            certs.edge.attach(old, pending=uncovered)
            certs.edge.acme("issue", old.name, timeout=ISSUE_TIMEOUT)
            failpoint("domain-certified")
        stack.save(new)
        if (old.fqdn, old.served_aliases) != (new.fqdn, new.served_aliases):
            report("Recreating the web server with the site's names")
            stack.up()
        rewrite_urls(stack, old, new, rollback, report)
        report(f"Routing {' '.join(new.hosts)} through the edge")
        certs.edge.attach(new)
        failpoint("domain-routed")
        served = certs.state(new.name)
        missing = [host for host in new.hosts if not any(covers(n, host) for n in served.names)]
        if missing:
            raise HakobuneError(f"the certificate served does not cover {', '.join(missing)}",
                                "hakobune cert status -C SITE shows it")
    return new


def _change_own_ports(stack: Stack, new: Site, report: Report) -> Site:
    """The site with ports of its own from its names to NEW's: the certificate first (its acme service's CA
    answers the challenge for a new name through the web server, which answers it for any name), then the web
    server and WordPress's URLs."""
    old = stack.site
    cert = own_ports_certificate(stack)
    uncovered = _uncovered(cert, tuple(host for host in new.hosts if host not in old.hosts))
    if uncovered and cert.source == "own":
        raise InvalidInput(f"the site's own certificate does not cover {', '.join(uncovered)}",
                           "install one that does first: hakobune cert install")
    with stack.changing() as rollback:
        if uncovered and cert.source == "acme":
            report(f"Asking the CA for a certificate that covers {', '.join(uncovered)} too")
            site_acme(stack, "issue", old.name, *uncovered, timeout=ISSUE_TIMEOUT)
            failpoint("domain-certified")
        stack.save(new)
        report("Recreating the web server with the site's names")
        stack.up()
        rewrite_urls(stack, old, new, rollback, report)
        failpoint("domain-served")
        missing = _uncovered(own_ports_certificate(stack, loaded=True), new.hosts)
        if missing:
            raise HakobuneError(f"the certificate served does not cover {', '.join(missing)}",
                                "hakobune cert status -C SITE shows it")
    return new


def _uncovered(cert: CertState, hosts: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(host for host in hosts if not any(covers(n, host) for n in cert.names))
