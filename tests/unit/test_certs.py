"""Certificates from an ACME CA (ops/certs.py): the account options checked before anything is touched, and the
problems a user must hear of read from the edge's answer."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest

from hakobune.errors import InvalidInput
from hakobune.ops.certs import PRESETS, AcmeAccount, CertState, acme_account, summary
from hakobune.ops.lifecycle import ListedSite

NOW = 1_800_000_000
DAY = 86400
PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"


def test_the_default_ca_is_lets_encrypt_and_presets_are_named():
    assert acme_account("ops@example.com", None, None) == AcmeAccount("ops@example.com", PRESETS["letsencrypt"])
    staging = acme_account("ops@example.com", "letsencrypt-staging", None)
    assert staging.directory == "https://acme-staging-v02.api.letsencrypt.org/directory"
    assert acme_account("ops@example.com", "https://ca.internal:14000/dir", None).directory == \
        "https://ca.internal:14000/dir"


def test_the_request_to_the_edge_carries_the_ca_root_in_one_line(tmp_path):
    root = tmp_path / "root.pem"
    root.write_text(PEM)
    account = acme_account("ops@example.com", "https://ca.test/dir", str(root))
    lines = account.request().splitlines()
    assert lines[:2] == ["EMAIL=ops@example.com", "DIRECTORY=https://ca.test/dir"]
    assert base64.b64decode(lines[2].removeprefix("CA_CERT_B64=")).decode() == PEM
    assert len(lines) == 3  # nothing a line break in a value could add


@pytest.mark.parametrize(("email", "directory", "message"), [
    (None, None, "a certificate from an ACME CA needs --email"),
    ("ops", None, "--email 'ops' is not an e-mail address"),
    ("ops@example.com\nDIRECTORY=https://evil.test/", None, "is not an e-mail address"),
    ("ops@example.com", "http://ca.test/dir", "--acme-directory 'http://ca.test/dir' is neither an https:// URL"),
    ("ops@example.com", "https://ca.test/dir\nEMAIL=x@y.z", "is neither an https:// URL"),
    ("ops@example.com", "letsencrypt-prod", "nor one of: letsencrypt, letsencrypt-staging"),
])
def test_bad_account_options_are_refused(email, directory, message):
    with pytest.raises(InvalidInput, match=message):
        acme_account(email, directory, None)


def test_a_ca_root_must_be_a_readable_pem_certificate(tmp_path):
    missing = tmp_path / "missing.pem"
    with pytest.raises(InvalidInput, match=f"--acme-ca-cert {missing} cannot be read"):
        acme_account("ops@example.com", None, str(missing))
    key = tmp_path / "key.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n")
    with pytest.raises(InvalidInput, match="holds no PEM certificate"):
        acme_account("ops@example.com", None, str(key))
    huge = tmp_path / "huge.pem"
    huge.write_text(PEM * 2000)
    with pytest.raises(InvalidInput, match="is larger than 64 KiB"):
        acme_account("ops@example.com", None, str(huge))


def state(days: float | None, acme: dict[str, object] | None = None) -> CertState:
    return CertState.from_answer({
        "site": "blog", "hosts": "blog.example.com",
        "certificate": {"issuer": "CN=R11", "names": "blog.example.com", "serial": "01",
                        "not_after": None if days is None else int(NOW + days * DAY)},
        "acme": acme})


GOOD = {"email": "ops@example.com", "directory": "https://ca.test/dir", "last_attempt": NOW - DAY,
        "last_success": NOW - DAY, "failures": 0, "next_try": 0, "error": ""}


def test_a_certificate_with_time_left_and_renewals_working_has_no_problem():
    cert = state(60, GOOD)
    assert cert.problems(NOW) == []
    assert cert.to_dict(NOW)["days_left"] == 60.0
    assert state(365).problems(NOW) == []  # self-signed, no CA: nothing to renew


@pytest.mark.parametrize(("days", "acme", "problems"), [
    (13.5, GOOD, ["the certificate expires in 13.5 days"]),
    (-1, GOOD, ["the certificate has expired"]),
    (None, None, ["no certificate"]),
    (60, {**GOOD, "failures": 3, "error": "urn:ietf:params:acme:error:rateLimited :: too many"},
     ["renewal failing (3 tries): urn:ietf:params:acme:error:rateLimited :: too many"]),
    (365, {**GOOD, "last_success": None, "failures": 0}, ["not issued by the CA yet"]),
    (5, {**GOOD, "failures": 1, "error": "connection refused"},
     ["the certificate expires in 5.0 days", "renewal failing (1 tries): connection refused"]),
])
def test_what_a_user_must_hear_of(days, acme, problems):
    assert state(days, acme).problems(NOW) == problems
    assert state(days, acme).to_dict(NOW)["problems"] == problems


def test_status_and_list_say_where_the_certificate_comes_from_and_warn_of_its_problems():
    assert summary(None, False, NOW) == ("unknown: the web server is not running", [])
    own = replace(state(60, None), issuer="CN=Test Intermediate")  # a web server's own, on the site's ports
    assert summary(own, False, NOW) == ("own: CN=Test Intermediate, 60 days left", [])
    assert summary(None, True, NOW)[1] == ["the edge is not running, or has no route to this site"]
    assert summary(state(60, GOOD), True, NOW) == ("acme: CN=R11, 60 days left", [])
    line, warnings = summary(state(10, {**GOOD, "failures": 2, "error": "timeout"}), True, NOW)
    assert warnings == ["the certificate expires in 10.0 days", "renewal failing (2 tries): timeout"]
    listed = ListedSite("blog", "https://blog.example.com", "/srv/blog", 4, 4, 4, line, tuple(warnings))
    assert listed.state == "warning: the certificate expires in 10.0 days; renewal failing (2 tries): timeout"
    assert listed.to_dict()["warnings"] == warnings
    assert replace(listed, warnings=()).state == "healthy"


def test_a_certificate_says_whether_it_is_the_edges_own_a_cas_or_the_owners():
    self_signed = CertState.from_answer({"site": "a", "hosts": "a.test", "certificate": {
        "issuer": "CN=a.test", "subject": "CN=a.test", "not_after": NOW}, "acme": None})
    own = replace(self_signed, issuer="CN=Test Intermediate")
    assert (self_signed.source, own.source, state(60, GOOD).source) == ("self-signed", "own", "acme")
