"""Helpers shared by the unit and end-to-end tests."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

from hakobune.ops import archive as archives


def tar_member(tar: tarfile.TarFile, name: str, *, data: bytes = b"", link: str | None = None,
               hard: str | None = None) -> None:
    """Add NAME to TAR: a file holding DATA, or a symbolic link to LINK, or a hard link to HARD."""
    info = tarfile.TarInfo(name)
    if link is not None:
        info.type, info.linkname = tarfile.SYMTYPE, link
    elif hard is not None:
        info.type, info.linkname = tarfile.LNKTYPE, hard
    else:
        info.size = len(data)
    tar.addfile(info, io.BytesIO(data) if info.isfile() else None)


def tar_file(path: Path, members: list[tuple[str, str | None, str | None]], data: bytes = b"abc") -> Path:
    """A tar archive of (name, symbolic link target, hard link target); a name alone is a file holding DATA."""
    with tarfile.open(path, "w") as tar:
        for name, link, hard in members:
            tar_member(tar, name, data=data, link=link, hard=hard)
    return path


def crafted(original: Path, to: Path, *, sql: bytes = b"",
            files: Callable[[tarfile.TarFile], None] | None = None) -> Path:
    """A copy of ORIGINAL with SQL appended to its dump and FILES' members added to its files, every checksum
    made right again: what someone who wants it restored would hand over."""
    work = to.parent / f"{to.stem}-parts"
    work.mkdir()
    with tarfile.open(original) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        settings = tar.extractfile("site.yaml").read().decode()
        dump = tar.extractfile("database.sql.gz").read()
        old_files = tar.extractfile("files.tar.gz").read()
    (work / "database.sql.gz").write_bytes(gzip.compress(gzip.decompress(dump) + sql))
    with tarfile.open(fileobj=io.BytesIO(old_files), mode="r:gz") as old, \
            tarfile.open(work / "files.tar.gz", "w:gz") as new:
        for info in old:
            new.addfile(info, old.extractfile(info) if info.isfile() else None)
        if files:
            files(new)
    about = {k: v for k, v in manifest.items() if k not in ("kind", "format", "parts")}
    archives.write(to, settings, work / "database.sql.gz", work / "files.tar.gz", about)
    return to


class TestPKI:
    """A root, an intermediate it signs, and leaf certificates the intermediate signs, written as PEM files:
    what a user's own CA hands out (cert install)."""

    __test__ = False  # not a test class

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.root_key, self.root = self._cert("Test Root", None, None, ca=True)
        self.inter_key, self.inter = self._cert("Test Intermediate", self.root_key, self.root, ca=True)
        self.write("root.pem", self.root)
        self.write("chain.pem", self.inter)
        self.issued: list = []  # the leaves the intermediate (or root) signed

    def ocsp_responder_files(self) -> None:
        """What OpenSSL's OCSP responder needs to answer for the intermediate's leaves: its key (chain.key) and
        the index of what it issued (index.txt: every leaf valid)."""
        from cryptography.hazmat.primitives import serialization

        (self.folder / "chain.key").write_bytes(self.inter_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        def serial(cert) -> str:  # as OpenSSL writes it: whole bytes in upper-case hexadecimal
            digits = f"{cert.serial_number:X}"
            return digits.zfill(len(digits) + len(digits) % 2)
        (self.folder / "index.txt").write_text("".join(
            f"V\t{cert.not_valid_after_utc:%y%m%d%H%M%S}Z\t\t{serial(cert)}\tunknown\t"
            f"/CN={cert.subject.rfc4514_string().removeprefix('CN=')}\n" for cert in self.issued))

    def _cert(self, cn: str, issuer_key, issuer, *, ca: bool = False, names: tuple[str, ...] = (),
              days: tuple[int, int] = (-1, 90), key=None, ocsp: str | None = None):
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = key or ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        now = datetime.datetime.now(datetime.UTC)
        builder = (x509.CertificateBuilder().subject_name(subject)
                   .issuer_name(issuer.subject if issuer else subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now + datetime.timedelta(days=days[0]))
                   .not_valid_after(now + datetime.timedelta(days=days[1]))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                                            critical=False)
        if ocsp:
            builder = builder.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
                x509.oid.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp))]), critical=False)
        return key, builder.sign(issuer_key or key, hashes.SHA256())

    def leaf(self, name: str, *names: str, days: tuple[int, int] = (-1, 90), signer: str = "inter",
             ocsp: str | None = None) -> Path:
        """leaf-NAME.pem and leaf-NAME.key for NAMES, signed by the intermediate (or the root); OCSP: the address
        of the responder the certificate names."""
        from cryptography.hazmat.primitives import serialization

        issuer_key, issuer = (self.inter_key, self.inter) if signer == "inter" else (self.root_key, self.root)
        key, cert = self._cert(names[0] if names else name, issuer_key, issuer, names=names, days=days, ocsp=ocsp)
        self.issued.append(cert)
        (self.folder / f"leaf-{name}.key").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        return self.write(f"leaf-{name}.pem", cert)

    def write(self, file: str, *certs) -> Path:
        from cryptography.hazmat.primitives import serialization

        path = self.folder / file
        path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
        return path
