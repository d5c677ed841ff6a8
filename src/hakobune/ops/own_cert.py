"""`hakobune cert install`: a certificate of your own, checked on your PC before it goes anywhere.

Refused with one line when the key is not the certificate's, its names do not cover the site's, it is expired or
not valid yet, or the chain is not in order (each certificate signed by the next). What passes is sent to the
engine as one PEM bundle (certificate, chain, key) over standard input, never on a command line."""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from hakobune.errors import InvalidInput

_MAX = 256 * 1024  # bytes in any one of the files


@dataclass(frozen=True)
class OwnCertificate:
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    key: CertificateIssuerPrivateKeyTypes

    def bundle(self) -> str:
        """What HAProxy reads: the certificate, its chain, its key (PEM, unencrypted)."""
        parts = [c.public_bytes(serialization.Encoding.PEM) for c in (self.certificate, *self.chain)]
        parts.append(self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
        return b"".join(parts).decode()


def load(cert_file: str, key_file: str, chain_file: str | None, hosts: tuple[str, ...],
         now: datetime.datetime | None = None) -> OwnCertificate:
    """The certificate in CERT_FILE (its chain after it, or in CHAIN_FILE) and the key in KEY_FILE, checked for
    HOSTS at NOW."""
    now = now or datetime.datetime.now(datetime.UTC)
    certs = _certificates("--cert", _read("--cert", cert_file))
    if chain_file:
        certs += _certificates("--chain", _read("--chain", chain_file))
    leaf, chain = certs[0], tuple(certs[1:])
    key = _key(_read("--key", key_file), key_file)
    if _public(key.public_key()) != _public(leaf.public_key()):
        raise InvalidInput(f"the key in {key_file} is not the certificate's", "give the key the certificate was "
                                                                              "made for")
    names = _names(leaf)
    uncovered = [host for host in hosts if not any(covers(name, host) for name in names)]
    if uncovered:
        raise InvalidInput(f"the certificate does not cover {', '.join(uncovered)} (it names: "
                           f"{', '.join(names) or 'nothing'})", "get one whose names include every domain of the site")
    if now < leaf.not_valid_before_utc:
        raise InvalidInput(f"the certificate is not valid before {leaf.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
    if now >= leaf.not_valid_after_utc:
        raise InvalidInput(f"the certificate expired on {leaf.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
    for position, (cert, issuer) in enumerate(itertools.pairwise(certs), start=1):
        try:
            cert.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            raise InvalidInput(f"the chain is out of order: certificate {position} "
                               f"({cert.subject.rfc4514_string() or 'no subject'}) is not signed by the one after "
                               f"it ({issuer.subject.rfc4514_string() or 'no subject'})",
                               "put the certificate first, then each issuer in turn up to (not including) the "
                               "root") from None
    return OwnCertificate(leaf, chain, key)


def _read(option: str, path: str) -> bytes:
    file = Path(path)
    try:
        if file.stat().st_size > _MAX:
            raise InvalidInput(f"{option} {path} is larger than {_MAX // 1024} KiB")
        return file.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{option} {path} cannot be read ({exc.strerror})") from None


def _certificates(option: str, data: bytes) -> list[x509.Certificate]:
    try:
        found = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise InvalidInput(f"{option} holds no PEM certificate", "give PEM (-----BEGIN CERTIFICATE-----)") from None
    return list(found)


def _key(data: bytes, path: str) -> CertificateIssuerPrivateKeyTypes:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise InvalidInput(f"the key in {path} is encrypted", "give it without a passphrase (openssl pkey -in KEY "
                                                              "-out PLAIN)") from None
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidInput(f"{path} holds no PEM private key") from None
    return key  # type: ignore[return-value]


def _public(key: object) -> bytes:
    der: bytes = key.public_bytes(serialization.Encoding.DER,  # type: ignore[attr-defined]
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    return der


def _names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []  # browsers ignore the common name
    return [name.lower() for name in san.get_values_for_type(x509.DNSName)]


def covers(name: str, host: str) -> bool:
    """NAME (from the certificate) covers HOST: the same, or a wildcard for exactly one label."""
    if name.startswith("*."):
        first, _, rest = host.partition(".")
        return bool(first) and rest == name[2:]
    return name == host
