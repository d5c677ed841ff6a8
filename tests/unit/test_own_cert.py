"""`cert install`'s checks (ops/own_cert.py), with certificates made for the test: each refusal in one line,
before anything reaches the engine."""

from __future__ import annotations

import pytest
from cryptography import x509

from hakobune.errors import InvalidInput
from hakobune.ops.own_cert import load
from tests.helpers import TestPKI

HOST = ("blog.example.com",)


@pytest.fixture
def pki(tmp_path) -> TestPKI:
    return TestPKI(tmp_path)


def test_a_good_certificate_with_its_chain_makes_one_bundle_in_order(pki):
    leaf = pki.leaf("good", "blog.example.com")
    own = load(str(leaf), str(leaf.with_suffix(".key")), str(pki.folder / "chain.pem"), HOST)
    bundle = own.bundle()
    certs = x509.load_pem_x509_certificates(bundle.encode())
    assert [c.subject.rfc4514_string() for c in certs] == ["CN=blog.example.com", "CN=Test Intermediate"]
    assert bundle.rstrip().endswith("-----END PRIVATE KEY-----")


def test_the_chain_may_follow_the_certificate_in_one_file_and_a_wildcard_covers_one_label(pki):
    leaf = pki.leaf("wild", "*.example.com")
    both = pki.write("both.pem", x509.load_pem_x509_certificate(leaf.read_bytes()), pki.inter)
    assert load(str(both), str(leaf.with_suffix(".key")), None, HOST).chain == (pki.inter,)
    with pytest.raises(InvalidInput, match=r"does not cover a\.blog\.example\.com"):
        load(str(both), str(leaf.with_suffix(".key")), None, ("a.blog.example.com",))


def test_a_key_of_another_certificate_is_refused(pki):
    leaf = pki.leaf("one", "blog.example.com")
    other = pki.leaf("two", "blog.example.com")
    with pytest.raises(InvalidInput, match=r"the key in .*leaf-two.key is not the certificate's"):
        load(str(leaf), str(other.with_suffix(".key")), None, HOST)


def test_names_that_do_not_cover_the_site_are_refused(pki):
    leaf = pki.leaf("names", "shop.example.com", "www.shop.example.com")
    with pytest.raises(InvalidInput, match=r"does not cover blog.example.com \(it names: shop.example.com, "
                                           r"www.shop.example.com\)"):
        load(str(leaf), str(leaf.with_suffix(".key")), None, HOST)


@pytest.mark.parametrize(("days", "message"), [((-100, -1), "the certificate expired on "),
                                                ((2, 90), "the certificate is not valid before ")])
def test_a_certificate_out_of_its_dates_is_refused(pki, days, message):
    leaf = pki.leaf("dates", "blog.example.com", days=days)
    with pytest.raises(InvalidInput, match=message):
        load(str(leaf), str(leaf.with_suffix(".key")), None, HOST)


def test_a_chain_out_of_order_is_refused(pki):
    leaf = pki.leaf("order", "blog.example.com")
    backwards = pki.write("backwards.pem", pki.root, pki.inter)  # the root first: the leaf is not its child
    with pytest.raises(InvalidInput, match=r"the chain is out of order: certificate 1 \(CN=blog.example.com\) is "
                                           r"not signed by the one after it \(CN=Test Root\)"):
        load(str(leaf), str(leaf.with_suffix(".key")), str(backwards), HOST)


def test_files_that_are_not_pem_or_cannot_be_read_are_refused(pki, tmp_path):
    leaf = pki.leaf("form", "blog.example.com")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(InvalidInput, match="--cert holds no PEM certificate"):
        load(str(junk), str(leaf.with_suffix(".key")), None, HOST)
    with pytest.raises(InvalidInput, match=r"junk.pem holds no PEM private key"):
        load(str(leaf), str(junk), None, HOST)
    with pytest.raises(InvalidInput, match=r"--key .*missing.key cannot be read \(No such file or directory\)"):
        load(str(leaf), str(tmp_path / "missing.key"), None, HOST)


def test_an_encrypted_key_is_refused_with_the_way_out(pki, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    leaf = pki.leaf("locked", "blog.example.com")
    locked = tmp_path / "locked.key"
    locked.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret")))
    with pytest.raises(InvalidInput, match="is encrypted") as refused:
        load(str(leaf), str(locked), None, HOST)
    assert "openssl pkey" in str(refused.value.hint)
