"""`hakobune cert`: certificates from an ACME CA, your own certificates, and what state they are in, for the
sites behind the edge and for sites with ports of their own.

The work happens on the engine, in an acme service (images/edge/acme.sh, lego): the edge's for the sites behind
it, a site's own for a site with ports of its own. Account and certificate keys, challenges and the state of
renewals never reach the client. This module checks what the user asked for, hands it over, and reads back each
certificate with the problems a user must hear of."""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hakobune.engine import Engine, EngineError
from hakobune.errors import HakobuneError, InvalidInput
from hakobune.ops import contract
from hakobune.ops.edge import Edge
from hakobune.ops.own_cert import OwnCertificate
from hakobune.ops.stack import Stack
from hakobune.site import Site
from hakobune.versions import image_refs

# Named CAs for --acme-directory.
PRESETS = {
    "letsencrypt": "https://acme-v02.api.letsencrypt.org/directory",
    "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}
DEFAULT_DIRECTORY = "letsencrypt"
WARN_DAYS = 14  # `cert status` fails when a certificate has fewer days left than this
ISSUE_TIMEOUT = 900  # lego waits for the lock, the CA and its challenge
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_DIRECTORY = re.compile(r"^https://[A-Za-z0-9._:-]+(/[A-Za-z0-9._~/-]*)?$")
_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----\s+[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----")
_CA_CERT_MAX = 64 * 1024


@dataclass(frozen=True)
class AcmeAccount:
    """Where a site's certificates come from: the CA's directory, the address it writes to, and the root that CA's
    own HTTPS is signed by when the system does not know it (a private or test CA)."""

    email: str
    directory: str
    ca_cert: str = ""  # PEM

    def request(self) -> str:
        lines = [f"EMAIL={self.email}", f"DIRECTORY={self.directory}"]
        if self.ca_cert:
            lines.append("CA_CERT_B64=" + base64.b64encode(self.ca_cert.encode()).decode())
        return "\n".join(lines) + "\n"


def acme_account(email: str | None, directory: str | None, ca_cert_file: str | None) -> AcmeAccount:
    """The account options of `provision --tls acme` and `cert issue`, checked before anything is touched."""
    if not email:
        raise InvalidInput("a certificate from an ACME CA needs --email", "the CA writes there before a "
                                                                          "certificate expires")
    if not _EMAIL.match(email):
        raise InvalidInput(f"--email '{email}' is not an e-mail address")
    url = PRESETS.get(directory or DEFAULT_DIRECTORY, directory or "")
    if not _DIRECTORY.match(url):
        raise InvalidInput(f"--acme-directory '{directory}' is neither an https:// URL nor one of: "
                           f"{', '.join(PRESETS)}")
    return AcmeAccount(email, url, read_ca_cert(ca_cert_file) if ca_cert_file else "")


def read_ca_cert(path: str) -> str:
    file = Path(path)
    try:
        if file.stat().st_size > _CA_CERT_MAX:
            raise InvalidInput(f"--acme-ca-cert {path} is larger than {_CA_CERT_MAX // 1024} KiB")
        text = file.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"--acme-ca-cert {path} cannot be read ({getattr(exc, 'strerror', None) or exc})") \
            from None
    if not _PEM_CERT.search(text):
        raise InvalidInput(f"--acme-ca-cert {path} holds no PEM certificate", "give the CA's root in PEM form")
    return text


@dataclass(frozen=True)
class CertState:
    """A site's certificate as the edge serves it, and, for a site with an ACME CA, how its renewals go."""

    site: str
    hosts: tuple[str, ...]
    issuer: str
    subject: str
    names: tuple[str, ...]
    serial: str
    not_after: int | None  # seconds since the epoch; None: no certificate yet
    acme: dict[str, Any] | None

    @classmethod
    def from_answer(cls, entry: dict[str, Any]) -> CertState:
        cert = entry.get("certificate") or {}
        return cls(site=str(entry["site"]), hosts=tuple(str(entry.get("hosts", "")).split()),
                   issuer=str(cert.get("issuer", "")), subject=str(cert.get("subject", "")),
                   names=tuple(str(cert.get("names", "")).split()),
                   serial=str(cert.get("serial", "")),
                   not_after=int(cert["not_after"]) if cert.get("not_after") is not None else None,
                   acme=entry.get("acme"))

    @property
    def source(self) -> str:
        """Where it comes from: an ACME CA, the edge itself (self-signed until then), or the site's owner."""
        if self.acme:
            return "acme"
        return "self-signed" if self.issuer == self.subject else "own"

    def days_left(self, now: float) -> float | None:
        return None if self.not_after is None else (self.not_after - now) / 86400

    def problems(self, now: float) -> list[str]:
        """What a user must hear of: expiry close or past, a renewal that fails, a CA not answered yet."""
        found = []
        days = self.days_left(now)
        if days is None:
            found.append("no certificate")
        elif days <= 0:
            found.append("the certificate has expired")
        elif days < WARN_DAYS:
            found.append(f"the certificate expires in {days:.1f} days")
        if self.acme:
            if self.acme.get("error"):
                found.append(f"renewal failing ({self.acme.get('failures', 0)} tries): {self.acme['error']}")
            elif not self.acme.get("last_success"):
                found.append("not issued by the CA yet")
        return found

    def to_dict(self, now: float) -> dict[str, Any]:
        days = self.days_left(now)
        return {"site": self.site, "hosts": list(self.hosts), "issuer": self.issuer, "names": list(self.names),
                "serial": self.serial, "not_after": self.not_after, "source": self.source,
                "days_left": None if days is None else round(days, 2),
                "acme": self.acme, "problems": self.problems(now)}


class Certs:
    def __init__(self, engine: Engine) -> None:
        self.edge = Edge(engine)

    def issue(self, stack: Stack, account: AcmeAccount | None) -> CertState:
        """A certificate for the site's names from its CA (ACCOUNT: set or change the CA first), served at once.
        A site with ports of its own gets its acme service first."""
        site = stack.site
        if not site.edge and not site.acme_image:
            if account is None:
                raise InvalidInput(f"site {site.name} has no CA yet", "give --email (and --acme-directory)")
            enable_acme(stack)
        if account is not None:
            self.configure(stack, account)
        self._acme(stack, "issue", site.name, timeout=ISSUE_TIMEOUT)
        return self._served(stack)

    def configure(self, stack: Stack, account: AcmeAccount) -> None:
        """The site's CA from now on, in its acme service (the edge's, or its own)."""
        self._acme(stack, "configure", stack.site.name, input=account.request())

    def install(self, site: Site, own: OwnCertificate) -> CertState:
        """Serve OWN for SITE, behind the edge, from now on (checked already: ops/own_cert.py); its CA, if it had
        one, stops renewing it."""
        self.edge.install_certificate(site, own.bundle())
        return self.state(site.name)

    def renew(self, stack: Stack, force: bool) -> CertState:
        """Renew the site's certificate when it is due (FORCE: now)."""
        site = stack.site
        if not site.edge and not site.acme_image:
            raise HakobuneError(f"site {site.name} gets no certificate from a CA",
                                "hakobune cert issue --email ADDRESS -C SITE")
        self._acme(stack, "renew", site.name, *(["--force"] if force else []), timeout=ISSUE_TIMEOUT)
        return self._served(stack)

    def _acme(self, stack: Stack, *args: str, input: str | None = None, timeout: float = 180) -> dict[str, Any]:
        """hakobune-acme ARGS in the site's acme service: the edge's, or its own."""
        if stack.site.edge:
            return self.edge.acme(*args, input=input, timeout=timeout)
        return site_acme(stack, *args, input=input, timeout=timeout)

    def _served(self, stack: Stack) -> CertState:
        """The site's certificate as served now (a site with ports of its own: loaded by its web server first)."""
        return self.state(stack.site.name) if stack.site.edge else own_ports_certificate(stack, loaded=True)

    def status(self) -> list[CertState]:
        """Every certificate the edge serves."""
        answer = self.edge.acme("status")
        return [CertState.from_answer(entry) for entry in answer.get("certificates", [])]

    def state(self, site: str) -> CertState:
        for cert in self.status():
            if cert.site == site:
                return cert
        raise HakobuneError(f"site {site} is not behind the edge", "hakobune edge status lists the sites it serves")


def enable_acme(stack: Stack) -> None:
    """Give the site with ports of its own STACK an acme service of its own, and its web server the challenges
    that service writes; undone when they do not come up."""
    image = image_refs()["edge"]
    if not stack.engine.image_exists(image):
        raise HakobuneError(f"image not built: {image}", "run 'hakobune images build edge'")
    with stack.changing():
        stack.save(replace(stack.site, acme_image=image))
        stack.up()


def site_acme(stack: Stack, *args: str, input: str | None = None, timeout: float = 180) -> dict[str, Any]:
    """hakobune-acme ARGS in the acme service of a site with ports of its own."""
    try:
        out = stack.exec("acme", "hakobune-acme", *args, input=input, timeout=timeout)
    except EngineError as exc:
        failed = contract.failure(exc.stdout)  # it names the certificate already
        if failed is None:
            raise
        raise failed from None
    return contract.answer(out) or {}


def own_ports_certificate(stack: Stack, loaded: bool = False) -> CertState:
    """The certificate a site with ports of its own serves, and how its renewals go when its acme service gets it
    from a CA (when that service does not answer: the web server's certificate alone). LOADED: first have the
    web server load a certificate that service has just put in place, rather than at its next healthcheck."""
    site = stack.site
    if loaded:
        stack.exec("web", "hakobune-tls", "refresh")
    if site.acme_image:
        try:
            return acme_answer(site.name, site_acme(stack, "status"))
        except HakobuneError:
            pass
    return web_certificate(stack)


def acme_answer(site: str, answer: dict[str, Any]) -> CertState:
    """SITE's entry in `hakobune-acme status` of a site's own acme service."""
    for entry in answer.get("certificates", []):
        if entry.get("site") == site:
            return CertState.from_answer(entry)
    raise HakobuneError(f"the acme service of site {site} does not know it")


def install_own(stack: Stack, own: OwnCertificate) -> CertState:
    """Serve OWN (checked already: ops/own_cert.py) for the site: at the edge, or by its web server when it has
    ports of its own (whose acme service, if it has one, stops renewing)."""
    if stack.site.edge:
        return Certs(stack.engine).install(stack.site, own)
    stack.require_running(["web"])
    if stack.site.acme_image:
        site_acme(stack, "forget", stack.site.name)
    try:
        stack.exec("web", "hakobune-tls", "install", input=own.bundle())
    except EngineError as exc:
        failed = contract.failure(exc.stdout, "installing the certificate")
        if failed is None:
            raise
        raise failed from None
    return web_certificate(stack)


def web_certificate(stack: Stack) -> CertState:
    """The certificate a site with ports of its own serves: its web server's (self-signed, or its owner's)."""
    return _web_answer(stack.site.name, stack.site.hosts, stack.exec("web", "hakobune-tls", "status"))


def container_certificate(engine: Engine, site: str, container: str, acme: bool = False) -> CertState | None:
    """own_ports_certificate of a site known only by its running web CONTAINER (`list`), or by its running acme
    CONTAINER (ACME); None when it does not say."""
    try:
        out = engine.docker("exec", container, *(["hakobune-acme"] if acme else ["hakobune-tls"]), "status").stdout
        return acme_answer(site, contract.answer(out) or {}) if acme else _web_answer(site, (), out)
    except HakobuneError:
        return None


def _web_answer(site: str, hosts: tuple[str, ...], out: str) -> CertState:
    answer = contract.answer(out) or {}
    return CertState.from_answer({"site": site, "hosts": " ".join(hosts), "certificate": answer.get("certificate"),
                                  "acme": None})


def certificates(engine: Engine) -> dict[str, CertState]:
    """The certificate of every site behind the engine's edge, by site; none when the edge is not running (a
    site's status says so)."""
    edge = Edge(engine)
    if not edge.running():
        return {}
    return {cert.site: cert for cert in Certs(engine).status()}


def summary(cert: CertState | None, edge: bool, moment: float) -> tuple[str, list[str]]:
    """One line about a site's certificate for `status` and `list` (EDGE: the site is behind the edge; else CERT is
    its web server's), and the problems to show as warnings."""
    if cert is None:
        if not edge:
            return "unknown: the web server is not running", []
        return "unknown", ["the edge is not running, or has no route to this site"]
    days = cert.days_left(moment)
    left = "" if days is None else f", {days:.0f} days left"
    return f"{cert.source}: {cert.issuer or 'none'}{left}", cert.problems(moment)


def now() -> float:
    return time.time()
