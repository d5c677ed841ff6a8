"""A certificate of one's own on a site with ports of its own (`cert install`): served by its web server at once
and kept across restarts, on both web servers; a wrong one refused with nothing changed."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.helpers import NOTHING, free_port, hb, leftovers, ok, site_name
from tests.helpers import TestPKI

pytestmark = pytest.mark.e2e


def served_by(port: int, host: str, roots: Path) -> str:
    """The serial of the certificate served on PORT for HOST, its chain checked against ROOTS."""
    context = ssl.create_default_context(cafile=str(roots))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=host) as tls:
        return str(tls.getpeercert()["serialNumber"])


@pytest.mark.parametrize("web", ["nginx", "httpd"])
def test_a_site_with_ports_of_its_own_serves_its_owners_certificate_at_once_and_keeps_it(
        images, sites_dir, tmp_path, web):
    name = site_name(f"own-{web}")
    fqdn = f"{name}.example.test"
    tls_port = free_port()
    made = hb("provision", "--lamp", f"--{web}", "--fqdn", fqdn, "--http-port", str(free_port()),
              "--tls-port", str(tls_port), name, cwd=sites_dir)
    assert made.returncode == 0, made.stderr
    pki = TestPKI(tmp_path)
    roots = pki.folder / "root.pem"
    try:
        before = json.loads(ok(hb("cert", "status", "--json", "-C", name, cwd=sites_dir)))["certificates"][0]
        assert (before["source"], before["issuer"]) == ("self-signed", f"CN={fqdn}")
        other = pki.leaf("other", "elsewhere.example.test")
        refused = hb("cert", "install", "-C", name, "--cert", str(other), "--key", str(other.with_suffix(".key")),
                     cwd=sites_dir)
        assert refused.returncode == 2 and f"does not cover {fqdn}" in refused.stderr
        assert json.loads(ok(hb("cert", "status", "--json", "-C", name, cwd=sites_dir)))["certificates"][0] == \
            before

        good = pki.leaf("good", fqdn)
        installed = hb("cert", "install", "-C", name, "--cert", str(good), "--key", str(good.with_suffix(".key")),
                       "--chain", str(pki.folder / "chain.pem"), cwd=sites_dir)
        assert installed.returncode == 0, installed.stderr
        assert f"Certificate for {fqdn} installed: issuer CN=Test Intermediate" in installed.stdout
        serial = served_by(tls_port, fqdn, roots)  # the whole chain, trusted from the owner's root
        # The web image's own helper, sent what the client would never send: each refused in one JSON line,
        # the certificate served and the files on the volume as they were.
        files = "cat /var/lib/hakobune/tls/cert.pem /var/lib/hakobune/tls/key.pem; ls /var/lib/hakobune/tls"
        kept = subprocess.run(["docker", "exec", f"hb-{name}-web-1", "sh", "-c", files], capture_output=True,
                              check=True).stdout
        stranger = pki.leaf("stranger", fqdn)
        for bundle in [b"not a certificate at all\n", good.read_bytes(),  # the second without its key
                       good.read_bytes() + stranger.with_suffix(".key").read_bytes(),
                       good.read_bytes() + b"-----BEGIN PRIVATE KEY-----\n" + b"A" * 300000]:
            planted = subprocess.run(["docker", "exec", "-i", f"hb-{name}-web-1", "hakobune-tls", "install"],
                                     input=bundle, capture_output=True, check=False)
            assert planted.returncode != 0, planted
            assert json.loads(planted.stdout)["error"] == "the bundle is not a PEM certificate and its key"
            assert subprocess.run(["docker", "exec", f"hb-{name}-web-1", "sh", "-c", files], capture_output=True,
                                  check=True).stdout == kept
            assert served_by(tls_port, fqdn, roots) == serial
        with httpx.Client(http2=True, verify=ssl.create_default_context(cafile=str(roots))) as http:
            page = http.get(f"https://127.0.0.1:{tls_port}/", extensions={"sni_hostname": fqdn},
                            headers={"Host": f"{fqdn}:{tls_port}"})
        assert page.status_code == 200 and page.http_version == "HTTP/2"
        status = json.loads(ok(hb("status", "--json", "-C", name, cwd=sites_dir)))
        assert status["certificate"].startswith("own: CN=Test Intermediate") and status["warnings"] == []
        (listed,) = [s for s in json.loads(ok(hb("list", "--json", cwd=sites_dir))) if s["site"] == name]
        assert listed["certificate"] == status["certificate"] and listed["state"] == "healthy"
        # A restart keeps it: the web server makes a self-signed one only in place of its own.
        ok(hb("restart", "web", "-C", name, cwd=sites_dir))
        assert served_by(tls_port, fqdn, roots) == serial
    finally:
        removed = hb("remove", "-y", name, cwd=sites_dir)
    assert removed.returncode == 0, removed.stderr
    assert leftovers(name) == NOTHING
