"""The shared edge (`hakobune edge`): one HAProxy per engine on its own ports, hardened, refusing names it does
not serve, and routing a name to its upstream over HTTP/2 with the visitor's address and scheme said by the
edge alone. Sites behind it come with provision's edge mode (issue 16)."""

from __future__ import annotations

import ipaddress
import json
import secrets
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from hakobune.versions import image_refs
from tests.e2e.helpers import (
    ADMIN_PASSWORD,
    BASE_IMAGE,
    NOTHING,
    REPO,
    docker,
    free_port,
    hb,
    image_id,
    leftovers,
    ok,
    site_name,
)
from tests.e2e.upgrading import Load, content, image_set, running_images
from tests.helpers import TestPKI

pytestmark = pytest.mark.e2e

CONTAINER = "hakobune-edge-proxy-1"
ACME_CONTAINER = "hakobune-edge-acme-1"
ECHO_CONTAINER = "hakobune-test-edge-echo"
NETWORK = "hakobune-edge_edge"
EDGE = "io.hakobune.edge"
# An upstream that answers with the headers and address it was sent: what a site's web server would see.
ECHO = ('<?php header("Content-Type: application/json"); '
        'echo json_encode(["headers" => getallheaders(), "remote" => $_SERVER["REMOTE_ADDR"]]);')


def acme_metrics(site: str, container: str = ACME_CONTAINER) -> dict[str, float]:
    """An acme service's metrics for SITE (the edge's, by default), asked as the monitoring stack asks them: over
    the monitoring network (family name -> value)."""
    text = docker("run", "--rm", "--network", "hakobune-monitor", "--entrypoint", "python3", image_refs()["metrics"],
                  "-c", "import urllib.request; print(urllib.request.urlopen("
                  f"'http://{container}:9102/metrics', timeout=10).read().decode())")
    return {line.split("{")[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
            if f'site="{site}"' in line}


def quietly(*args: str) -> None:
    """A clean-up step that may find its work done already."""
    subprocess.run(["docker", *args], capture_output=True, check=False, timeout=120)


def edge_things() -> dict[str, list[str]]:
    selector = f"label={EDGE}"
    return {"containers": docker("ps", "-a", "-q", "--filter", selector).split(),
            "volumes": docker("volume", "ls", "-q", "--filter", selector).split(),
            "networks": docker("network", "ls", "-q", "--filter", selector).split()}


@pytest.fixture(scope="module")
def edge(images, tmp_path_factory) -> Iterator[dict[str, int]]:
    ports = {"http": free_port(), "tls": free_port()}
    cwd = tmp_path_factory.mktemp("edge")
    ok(hb("edge", "up", "--bind", "127.0.0.1", "--http-port", str(ports["http"]), "--tls-port", str(ports["tls"]),
          cwd=cwd))
    yield ports
    quietly("exec", CONTAINER, "hakobune-edge", "remove", "echo")
    quietly("rm", "-f", "-v", ECHO_CONTAINER)
    if hb("edge", "down", "--purge", cwd=cwd).returncode != 0:  # a test that failed half-way: nothing stays
        things = edge_things()
        for command, ids in ((["rm", "-f", "-v"], things["containers"]), (["volume", "rm"], things["volumes"]),
                             (["network", "rm"], things["networks"])):
            if ids:
                quietly(*command, *ids)


@pytest.fixture(scope="module")
def echo(edge) -> Iterator[str]:
    """The upstream, on the edge's network, and the edge's route to it for echo.example.test."""
    name = ECHO_CONTAINER
    docker("run", "-d", "--name", name, "--network", NETWORK, "--network-alias", "echo-upstream",
           "--entrypoint", "sh", "-e", f"ECHO={ECHO}", "-e", "PHP_CLI_SERVER_WORKERS=4", image_refs()["ops"], "-c",
           'printf "%s" "$ECHO" >/tmp/echo.php; exec php -S 0.0.0.0:8080 /tmp/echo.php')
    try:
        done = set_route("echo", "HOSTS=echo.example.test\nUPSTREAM=echo-upstream:8080\n")
        assert done.returncode == 0, done
        assert json.loads(done.stdout) == {}
        yield "echo.example.test"
    finally:
        quietly("rm", "-f", "-v", name)


def https(port: int, host: str, **kwargs) -> httpx.Response:
    # The name goes in TLS (SNI) and Host (with the port, as a browser sends it); the connection goes to
    # 127.0.0.1, where the edge listens.
    with httpx.Client(http2=True, verify=False, timeout=30) as http:  # noqa: S501 - self-signed until ACME
        return http.get(f"https://127.0.0.1:{port}/", extensions={"sni_hostname": host},
                        headers={"Host": f"{host}:{port}", **kwargs.pop("headers", {})}, **kwargs)


def test_edge_is_up_hardened_and_healthy_on_its_own_ports(edge, tmp_path):
    status = json.loads(ok(hb("edge", "status", "--json", cwd=tmp_path)))
    assert status["running"] is True
    assert status["settings"]["bind"] == "127.0.0.1"
    assert status["settings"]["tls_port"] == edge["tls"]
    assert sorted((s["service"], s["state"], s["health"]) for s in status["services"]) == \
        [("acme", "running", "healthy"), ("proxy", "running", "healthy")]
    for container in (CONTAINER, ACME_CONTAINER):
        (info,) = json.loads(docker("inspect", container))
        host = info["HostConfig"]
        assert host["ReadonlyRootfs"] is True
        assert host["CapDrop"] == ["ALL"] and not host["CapAdd"]
        assert "no-new-privileges:true" in host["SecurityOpt"]
        assert docker("exec", container, "id", "-u").strip() == "102"
    (info,) = json.loads(docker("inspect", CONTAINER))
    host = info["HostConfig"]
    bindings = host["PortBindings"]
    assert bindings["8443/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(edge["tls"])}]
    assert bindings["8443/udp"] == [{"HostIp": "127.0.0.1", "HostPort": str(edge["tls"])}]  # HTTP/3
    # HAProxy holds itself below the container's memory limit (a flood is refused, not OOM-killed), and keeps
    # the connections it was given.
    info = dict(line.split(": ", 1) for line in docker(
        "exec", CONTAINER, "sh", "-c", "echo 'show info' | socat - UNIX:/run/hakobune/admin.sock").splitlines()
        if ": " in line)
    assert int(info["Memmax_MB"]) == host["Memory"] // 1048576 * 7 // 8 > 0
    assert info["Maxconn"] == info["MaxSslConns"] == "8000"
    # Up again with nothing given: the same edge, its settings kept.
    ok(hb("edge", "up", cwd=tmp_path))
    assert json.loads(ok(hb("edge", "status", "--json", cwd=tmp_path)))["settings"] == status["settings"]


def test_a_name_the_edge_does_not_serve_gets_no_certificate_and_no_page(edge, echo):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", edge["tls"]), timeout=10) as raw, \
            pytest.raises(ssl.SSLError):
        context.wrap_socket(raw, server_hostname="unknown.example.test")
    response = httpx.get(f"http://127.0.0.1:{edge['http']}/", headers={"Host": "unknown.example.test"})
    assert response.status_code == 421
    assert "echo" not in response.text
    # A served name in TLS with another in Host: sent to make a connection of its own.
    assert https(edge["tls"], echo, headers={"Host": "unknown.example.test"}).status_code == 421


def test_a_route_is_served_over_http2_and_plain_http_goes_to_https(edge, echo):
    response = https(edge["tls"], echo)
    assert response.status_code == 200
    assert response.http_version == "HTTP/2"
    assert response.headers["alt-svc"] == f'h3=":{edge["tls"]}"; ma=86400'
    plain = httpx.get(f"http://127.0.0.1:{edge['http']}/a?b=c", headers={"Host": echo})
    assert plain.status_code == 308
    assert plain.headers["location"] == f"https://{echo}:{edge['tls']}/a?b=c"


def test_the_upstream_hears_the_visitor_from_the_edge_alone(edge, echo):
    forged = {"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "http", "X-Real-IP": "6.6.6.6",
              "Forwarded": "for=6.6.6.6"}
    seen = https(edge["tls"], echo, headers=forged).json()
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert "6.6.6.6" not in json.dumps(headers)
    assert headers["x-forwarded-proto"] == "https"
    # One address, the one the edge saw the visitor come from (here Docker's gateway, which publishes the port).
    visitor = headers["x-forwarded-for"]
    assert "," not in visitor and visitor.count(".") == 3
    assert "x-real-ip" not in headers and "forwarded" not in headers


def set_route(site: str, route: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "exec", "-i", CONTAINER, "hakobune-edge", "set", site], input=route,
                          capture_output=True, text=True, check=False, timeout=120)


def test_a_route_that_would_take_another_sites_name_or_is_malformed_is_refused_and_nothing_changes(
        edge, echo, tmp_path):
    for route, message in (("HOSTS=echo.example.test\nUPSTREAM=x:1\n", "echo.example.test is served by site echo"),
                           ("HOSTS=bad_host\nUPSTREAM=x:1\n", "HOSTS must be host names"),
                           ("HOSTS=a.test\nUPSTREAM=x:1\nserver evil 6.6.6.6:80\n", "unknown route line"),
                           # A redirect must stay among the site's own names: never an open redirect.
                           ("HOSTS=a.test b.test\nREDIRECT301=evil.test\nUPSTREAM=x:1\n",
                            "evil.test is redirected but is not one of its other names"),
                           ("HOSTS=a.test b.test\nREDIRECT308=b.test;evil\nUPSTREAM=x:1\n",
                            "REDIRECT301, REDIRECT308 and PENDING must be host names"),
                           ("HOSTS=a.test\nPENDING=a.test\nUPSTREAM=x:1\n", "a.test is served and pending at once"),
                           ("HOSTS=a.test\nPENDING=echo.example.test\nUPSTREAM=x:1\n",
                            "echo.example.test is served by site echo")):
        refused = set_route("other", route)
        assert refused.returncode == 1
        assert message in json.loads(refused.stdout)["error"]
    # A certificate planted with another's key, or no key, is refused before HAProxy sees it.
    pki = TestPKI(tmp_path)
    cert, stranger = pki.leaf("echo", echo), pki.leaf("stranger", echo)
    for bundle in (cert.read_bytes(), cert.read_bytes() + stranger.with_suffix(".key").read_bytes()):
        planted = subprocess.run(["docker", "exec", "-i", CONTAINER, "hakobune-edge", "install", "echo"],
                                 input=bundle, capture_output=True, check=False, timeout=120)
        assert planted.returncode == 1
        assert json.loads(planted.stdout)["error"] == "the bundle for echo is not a PEM certificate and its key"
    routes = json.loads(docker("exec", CONTAINER, "hakobune-edge", "list"))["routes"]
    assert [r["site"] for r in routes] == ["echo"]
    assert routes[0]["certificate"]["issuer"] == f"CN={echo}"  # the edge's own, as before
    assert https(edge["tls"], echo).status_code == 200


def test_tls_1_2_and_1_3_are_spoken(edge, echo):
    for version, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.minimum_version = context.maximum_version = version
        with socket.create_connection(("127.0.0.1", edge["tls"]), timeout=10) as raw, \
                context.wrap_socket(raw, server_hostname=echo) as tls:
            assert tls.version() == name


def test_edge_refuses_bad_options_before_reaching_the_engine(tmp_path: Path):
    env = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    for args, message in ((["--bind", "localhost"], "--bind 'localhost' is not an IP address"),
                          (["--tls-port", "70000"], "--tls-port 70000 is out of range")):
        result = hb("edge", "up", *args, cwd=tmp_path, env=env)
        assert result.returncode == 2, result
        assert result.stderr.startswith(f"error: {message}")


# What PHP was told: the visitor's address, the scheme, the host and port.
WHO = ('<?php header("Content-Type: application/json"); echo json_encode(["remote" => $_SERVER["REMOTE_ADDR"], '
       '"https" => $_SERVER["HTTPS"] ?? "", "host" => $_SERVER["HTTP_HOST"], '
       '"port" => $_SERVER["SERVER_PORT"]]);')


@pytest.mark.parametrize("web", ["nginx", "httpd"])
def test_a_site_without_ports_is_served_through_the_edge_and_removed_from_it(edge, echo, sites_dir, web):
    name = site_name(f"edge-{web}")
    fqdn = f"{name}.example.test"
    made = hb("provision", "--fqdn", fqdn, f"--{web}", "--admin-pass-file", "-", name, cwd=sites_dir,
              input=f"{ADMIN_PASSWORD}\n")
    assert made.returncode == 0, made.stderr
    url = f"https://{fqdn}:{edge['tls']}"
    assert f"Site {name} is ready: {url}/" in made.stdout
    try:
        # No ports of its own: only the edge publishes.
        assert json.loads(docker("inspect", f"hb-{name}-web-1"))[0]["HostConfig"]["PortBindings"] in ({}, None)
        page = https(edge["tls"], fqdn)
        assert page.status_code == 200 and page.http_version == "HTTP/2"
        assert f'href="{url}/' in page.text  # WordPress's links: https, the edge's public port
        docker("exec", f"hb-{name}-php-1", "sh", "-c", f"printf '%s' '{WHO}' >/srv/site/public/who.php")
        who = httpx.Client(http2=True, verify=False, timeout=30).get(  # noqa: S501 - self-signed until ACME
            f"https://127.0.0.1:{edge['tls']}/who.php", extensions={"sni_hostname": fqdn},
            headers={"Host": f"{fqdn}:{edge['tls']}", "X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "http"})
        assert who.status_code == 200, who.text
        seen = who.json()
        assert seen["https"] == "on"
        assert seen["remote"] != "6.6.6.6"
        assert seen["host"] == f"{fqdn}:{edge['tls']}" and seen["port"] == str(edge["tls"])
        # The visitor's address is the one the edge saw (not the edge's own on the site's network).
        subnet = json.loads(docker("network", "inspect", f"hb-{name}-edge"))[0]["IPAM"]["Config"][0]["Subnet"]
        assert ipaddress.ip_address(seen["remote"]) not in ipaddress.ip_network(subnet)
        # Plain HTTP goes to HTTPS at the edge.
        plain = httpx.get(f"http://127.0.0.1:{edge['http']}/", headers={"Host": fqdn})
        assert plain.status_code == 308 and plain.headers["location"] == f"{url}/"
        routes = json.loads(ok(hb("edge", "status", "--json", cwd=sites_dir)))["routes"]
        assert {"site": name, "hosts": [fqdn]}.items() <= next(r for r in routes if r["site"] == name).items()
    finally:
        removed = hb("remove", "-y", name, cwd=sites_dir)
    assert removed.returncode == 0, removed.stderr
    assert leftovers(name) == NOTHING
    assert name not in docker("exec", CONTAINER, "hakobune-edge", "list")
    assert https(edge["tls"], "echo.example.test").status_code == 200  # the other route never stopped


# -- certificates from a real ACME CA: pebble, with pebble-challtestsrv as the DNS that points the test names at
# the edge's proxy, both on the edge's network (made by the test's `edge up`), where the acme service finds them.

ACME_CA_IMAGE = "hakobune-test/acme-ca"
EMAIL = "ops@example.test"


@dataclass
class AcmeCA:
    dns: str  # container names
    ca: str
    https_root: Path  # the root of the CA's own HTTPS, for --acme-ca-cert
    roots: Path  # the root of the certificates it issues, which the test's clients trust
    directory: str = "https://acme-ca:14000/dir"

    def dns_api(self, call: str, body: dict[str, object]) -> None:
        docker("exec", self.dns, "curl", "-fsS", "-d", json.dumps(body), f"http://127.0.0.1:8055/{call}")

    def options(self) -> list[str]:
        return ["--tls", "acme", "--email", EMAIL, "--acme-directory", self.directory,
                "--acme-ca-cert", str(self.https_root)]

    @contextmanager
    def out_of_reach(self) -> Iterator[None]:
        docker("network", "disconnect", NETWORK, self.ca)
        try:
            yield
        finally:
            docker("network", "connect", "--alias", "acme-ca", NETWORK, self.ca)


@pytest.fixture(scope="module")
def acme_ca(edge, tmp_path_factory) -> Iterator[AcmeCA]:
    docker("build", "-q", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "-t", ACME_CA_IMAGE,
           str(REPO / "tests" / "e2e" / "acme_ca"))
    suffix = secrets.token_hex(3)
    dns, ca = f"hbtest-acme-dns-{suffix}", f"hbtest-acme-ca-{suffix}"
    folder = tmp_path_factory.mktemp("acme")
    proxy = json.loads(docker("inspect", CONTAINER))[0]["NetworkSettings"]["Networks"][NETWORK]["IPAddress"]
    try:
        docker("run", "-d", "--name", dns, "--network", NETWORK, "--network-alias", "acme-dns",
               "-e", f"ADDRESS={proxy}", ACME_CA_IMAGE, "dns")
        docker("run", "-d", "--name", ca, "--network", NETWORK, "--network-alias", "acme-ca",
               "-e", "DNS_SERVER=acme-dns:8053", "-e", "HTTP_PORT=8080",  # the edge's plain port, inside
               "-e", "PEBBLE_VA_NOSLEEP=1", "-e", "PEBBLE_WFE_NONCEREJECT=0", ACME_CA_IMAGE, "ca")
        roots = ""
        for _ in range(60):
            got = subprocess.run(["docker", "exec", ca, "curl", "-fsSk", "https://127.0.0.1:15000/roots/0"],
                                 capture_output=True, text=True, check=False, timeout=30)
            if got.returncode == 0:
                roots = got.stdout
                break
            time.sleep(0.5)
        assert roots, "pebble did not start"
        (folder / "roots.pem").write_text(roots)
        (folder / "https-root.pem").write_text(docker("exec", ca, "cat", "/run/acme/root.pem"))
        yield AcmeCA(dns, ca, folder / "https-root.pem", folder / "roots.pem")
    finally:
        quietly("rm", "-f", "-v", dns, ca)


def served(port: int, host: str, roots: Path) -> str:
    """The serial number of the certificate the edge serves for HOST, checked against ROOTS and the name."""
    context = ssl.create_default_context(cafile=str(roots))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=host) as tls:
        return str(tls.getpeercert()["serialNumber"])


def cert_status(folder: Path) -> tuple[int, dict[str, object]]:
    result = hb("cert", "status", "--json", "-C", str(folder), cwd=folder.parent)
    (cert,) = json.loads(result.stdout)["certificates"]
    return result.returncode, cert


def test_a_site_gets_a_certificate_from_an_acme_ca_renews_it_and_keeps_serving_it_while_the_ca_is_gone(
        edge, acme_ca, sites_dir):
    name = site_name("acme")
    fqdn = f"{name}.example.test"
    folder = sites_dir / name
    started = time.monotonic()
    made = hb("provision", "--fqdn", fqdn, *acme_ca.options(), "--admin-pass-file", "-", name, cwd=sites_dir,
              input=f"{ADMIN_PASSWORD}\n")
    assert made.returncode == 0, made.stderr
    assert "warning" not in made.stderr
    try:
        first = served(edge["tls"], fqdn, acme_ca.roots)  # a chain the client trusts, for the site's name
        print(f"\nprovision --tls acme (WordPress, behind the edge) to a trusted certificate served: "
              f"{time.monotonic() - started:.1f} s")
        with httpx.Client(http2=True, verify=ssl.create_default_context(cafile=str(acme_ca.roots))) as http:
            page = http.get(f"https://127.0.0.1:{edge['tls']}/", extensions={"sni_hostname": fqdn},
                            headers={"Host": f"{fqdn}:{edge['tls']}"})
        assert page.status_code == 200 and page.http_version == "HTTP/2"
        # A certificate a CA signed: HSTS from the edge, two years, no preload.
        assert page.headers["strict-transport-security"] == "max-age=63072000"
        # A site that says its own HSTS keeps it (one header, the site's).
        ok(hb("config", "set", "-C", name, "NGINX_HSTS_MAX_AGE=300", cwd=sites_dir))
        with httpx.Client(http2=True, verify=ssl.create_default_context(cafile=str(acme_ca.roots))) as http:
            page = http.get(f"https://127.0.0.1:{edge['tls']}/", extensions={"sni_hostname": fqdn},
                            headers={"Host": f"{fqdn}:{edge['tls']}"})
        assert page.headers.get_list("strict-transport-security") == ["max-age=300"]
        code, cert = cert_status(folder)
        assert code == 0 and cert["problems"] == []
        assert str(cert["issuer"]).startswith("CN=Pebble Intermediate CA")
        assert cert["names"] == [fqdn] and float(cert["days_left"]) > 300  # type: ignore[arg-type]
        assert cert["acme"]["directory"] == acme_ca.directory and cert["acme"]["failures"] == 0  # type: ignore[index]

        renewed = hb("cert", "renew", "--force", "-C", name, cwd=sites_dir)
        assert renewed.returncode == 0, renewed.stderr
        assert f"Certificate for {fqdn} renewed: issuer CN=Pebble Intermediate CA" in renewed.stdout
        second = served(edge["tls"], fqdn, acme_ca.roots)
        assert second != first

        # The CA out of reach: the renewal fails in one line, is written down, and the certificate stays.
        with acme_ca.out_of_reach():
            failed = hb("cert", "renew", "--force", "-C", name, cwd=sites_dir)
            assert failed.returncode == 1
            (line,) = failed.stderr.strip().splitlines()
            assert line.startswith(f"error: certificate for {name} not obtained: Could not create client: "
                                   "get directory at 'https://acme-ca:14000/dir'"), line
            code, cert = cert_status(folder)
            assert code == 1
            (problem,) = cert["problems"]  # type: ignore[misc]
            assert problem.startswith("renewal failing (1 tries): Could not create client")
            assert served(edge["tls"], fqdn, acme_ca.roots) == second
            # The site's own status and the list say so too: healthy services, a certificate to look at.
            site_status = json.loads(ok(hb("status", "--json", "-C", name, cwd=sites_dir)))
            assert site_status["certificate"].startswith("acme: CN=Pebble Intermediate CA")
            assert site_status["warnings"] == [problem]
            listed = {s["site"]: s for s in json.loads(ok(hb("list", "--json", cwd=sites_dir)))}[name]
            assert listed["state"] == f"warning: {problem}" and listed["healthy"] == listed["services"]
            # Not due (30 days before expiry), and backing off after the failure: no new attempt.
            assert hb("cert", "renew", "-C", name, cwd=sites_dir).returncode == 0
            assert cert_status(folder)[1]["acme"]["failures"] == 1  # type: ignore[index]
            # What the monitoring stack reads (the alert CertificateRenewalFailing): the failure, and the end of
            # the certificate visitors still get.
            failing = acme_metrics(name)
            assert failing["hakobune_certificate_renewal_failures"] == 1
            assert failing["hakobune_certificate_renewal_last_attempt_timestamp_seconds"] >= \
                failing["hakobune_certificate_renewal_last_success_timestamp_seconds"]
            assert failing["hakobune_certificate_expiry_timestamp_seconds"] - time.time() > 300 * 86400
        assert hb("cert", "renew", "--force", "-C", name, cwd=sites_dir).returncode == 0
        code, cert = cert_status(folder)
        assert code == 0 and cert["problems"] == [] and cert["acme"]["failures"] == 0  # type: ignore[index]
        assert acme_metrics(name)["hakobune_certificate_renewal_failures"] == 0
        third = served(edge["tls"], fqdn, acme_ca.roots)

        # Renewal on its own: certificates due within 36500 days, looked at every 10 seconds. The proxy stays
        # as it was (a new schedule is the acme service's alone).
        proxy_id = docker("inspect", "-f", "{{.Id}}", CONTAINER)
        ok(hb("edge", "up", "--renew-days", "36500", "--renew-every", "10", cwd=sites_dir))
        assert docker("inspect", "-f", "{{.Id}}", CONTAINER) == proxy_id
        try:
            deadline = time.monotonic() + 120
            while served(edge["tls"], fqdn, acme_ca.roots) == third and time.monotonic() < deadline:
                time.sleep(2)
            assert served(edge["tls"], fqdn, acme_ca.roots) != third
        finally:
            ok(hb("edge", "up", "--renew-days", "30", "--renew-every", "3600", cwd=sites_dir))
    finally:
        removed = hb("remove", "-y", name, cwd=sites_dir)
    assert removed.returncode == 0, removed.stderr
    assert leftovers(name) == NOTHING
    assert name not in docker("exec", ACME_CONTAINER, "ls", "/var/lib/hakobune/edge/acme")


def test_a_name_the_ca_cannot_reach_is_served_self_signed_with_a_visible_problem_until_one_installs_a_cert(
        edge, acme_ca, sites_dir, tmp_path):
    name = site_name("blocked")
    fqdn = f"{name}.example.test"
    acme_ca.dns_api("add-a", {"host": fqdn, "addresses": ["127.0.0.1"]})  # the CA asks itself: refused
    made = hb("provision", "--lamp", "--httpd", "--fqdn", fqdn, *acme_ca.options(), name, cwd=sites_dir)
    assert made.returncode == 0, made.stderr
    try:
        (warning,) = [line for line in made.stderr.splitlines() if line.startswith("warning:")]
        assert warning.startswith(f"warning: no certificate from the CA yet, the site serves a self-signed one: "
                                  f"certificate for {name} not obtained: [{fqdn}] acme: error: 400"), warning
        assert "urn:ietf:params:acme:error:connection" in warning
        code, cert = cert_status(sites_dir / name)
        assert code == 1
        assert any(p.startswith("renewal failing (1 tries)") for p in cert["problems"])  # type: ignore[union-attr]
        assert cert["issuer"] == f"CN={fqdn}"  # self-signed, and served
        page = https(edge["tls"], fqdn)
        assert page.status_code == 200
        assert "strict-transport-security" not in page.headers  # no HSTS for a certificate nobody trusts

        # A certificate of one's own instead: refused in one line when wrong, with nothing changed; served at
        # once when right, and the CA's renewals stop.
        pki = TestPKI(tmp_path)
        good = pki.leaf("good", fqdn)
        other = pki.leaf("other", "elsewhere.example.test")
        expired = pki.leaf("expired", fqdn, days=(-90, -1))
        backwards = pki.write("backwards.pem", pki.root, pki.inter)
        chain = str(pki.folder / "chain.pem")
        before = cert_status(sites_dir / name)[1]["serial"]
        for args, message in (
            (["--cert", str(good), "--key", str(other.with_suffix(".key"))], "is not the certificate's"),
            (["--cert", str(other), "--key", str(other.with_suffix(".key"))], f"does not cover {fqdn}"),
            (["--cert", str(expired), "--key", str(expired.with_suffix(".key"))], "the certificate expired on"),
            (["--cert", str(good), "--key", str(good.with_suffix(".key")), "--chain", str(backwards)],
             "the chain is out of order"),
        ):
            refused = hb("cert", "install", "-C", name, *args, cwd=sites_dir)
            assert refused.returncode == 2, refused
            (line,) = refused.stderr.strip().splitlines()
            assert line.startswith("error: ") and message in line, line
        assert cert_status(sites_dir / name)[1]["serial"] == before
        installed = hb("cert", "install", "-C", name, "--cert", str(good), "--key", str(good.with_suffix(".key")),
                       "--chain", chain, cwd=sites_dir)
        assert installed.returncode == 0, installed.stderr
        served(edge["tls"], fqdn, pki.folder / "root.pem")  # the whole chain, trusted from the user's root
        code, cert = cert_status(sites_dir / name)
        assert (code, cert["issuer"], cert["acme"], cert["problems"]) == (0, "CN=Test Intermediate", None, [])
        with httpx.Client(http2=True, verify=ssl.create_default_context(cafile=str(pki.folder / "root.pem"))) as h:
            page = h.get(f"https://127.0.0.1:{edge['tls']}/", extensions={"sni_hostname": fqdn},
                         headers={"Host": fqdn})
        assert page.headers["strict-transport-security"] == "max-age=63072000"
        # httpd's own HSTS goes through instead of the edge's (one header, the site's).
        ok(hb("config", "set", "-C", name, "HTTPD_HSTS_MAX_AGE=300", cwd=sites_dir))
        with httpx.Client(http2=True, verify=ssl.create_default_context(cafile=str(pki.folder / "root.pem"))) as h:
            page = h.get(f"https://127.0.0.1:{edge['tls']}/", extensions={"sni_hostname": fqdn},
                         headers={"Host": fqdn})
        assert page.headers.get_list("strict-transport-security") == ["max-age=300"]
    finally:
        removed = hb("remove", "-y", name, cwd=sites_dir)
    assert removed.returncode == 0, removed.stderr
    assert leftovers(name) == NOTHING


# -- a site with ports of its own, certified through them by its own acme service ------------------------------

def web_address(name: str) -> str:
    """The site's web container on the site's own network, where the CA (joined to it) checks the challenges."""
    return str(json.loads(docker("inspect", f"hb-{name}-web-1"))[0]["NetworkSettings"]["Networks"]
               [f"hb-{name}_site"]["IPAddress"])


def until_served(port: int, host: str, roots: Path, other_than: str | None = None, wait: float = 30) -> str:
    """The serial of the trusted certificate served for HOST, once it is one (and not OTHER_THAN): a web server
    loads a new one when it reloads, within its healthcheck's interval."""
    deadline = time.monotonic() + wait
    while True:
        try:
            serial = served(port, host, roots)
            if serial != other_than:
                return serial
        except (ssl.SSLError, OSError):
            pass
        assert time.monotonic() < deadline, f"no new trusted certificate served for {host} on {port}"
        time.sleep(0.5)


@pytest.mark.parametrize("web", ["nginx", "httpd"])
def test_a_site_with_ports_of_its_own_is_certified_and_renewed_by_its_own_acme_service(
        edge, acme_ca, sites_dir, tmp_path, web):
    """nginx: provisioned with --tls acme while the CA cannot reach it yet; httpd: provisioned self-signed, then
    `cert issue`. Both: the challenge is answered on the plain port (everything else goes to HTTPS), a renewal
    is served without a restart, a failed one is reported while the old certificate keeps serving, nothing the
    acme service holds is served, and a certificate of one's own ends the renewals."""
    name = site_name(f"own-acme-{web}")
    fqdn = f"{name}.example.test"
    http_port, tls_port = free_port(), free_port()
    roots = acme_ca.roots
    folder = sites_dir / name
    ports = ["--http-port", str(http_port), "--tls-port", str(tls_port)]
    if web == "nginx":
        made = hb("provision", "--fqdn", fqdn, *ports, *acme_ca.options(), "--admin-pass-file", "-", name,
                  cwd=sites_dir, input=ADMIN_PASSWORD)
    else:
        made = hb("provision", "--lamp", "--httpd", "--fqdn", fqdn, *ports, name, cwd=sites_dir)
    assert made.returncode == 0, made.stderr
    site_network = f"hb-{name}_site"
    try:
        if web == "nginx":  # the CA is not on the site's network yet: not reached, said, and retried later
            (warning,) = [line for line in made.stderr.splitlines() if line.startswith("warning:")]
            assert warning.startswith("warning: no certificate from the CA yet, the site serves a self-signed "
                                      f"one: certificate for {name} not obtained:"), warning
            code, cert = cert_status(folder)
            assert code == 1 and cert["issuer"] == f"CN={fqdn}"
            assert any(p.startswith("renewal failing (1 tries)") for p in cert["problems"])  # type: ignore[union-attr]
            shown = json.loads(ok(hb("status", "--json", "-C", name, cwd=sites_dir)))
            assert any("renewal failing" in w for w in shown["warnings"]), shown
            # Its own acme service tells the monitoring stack too.
            failing = acme_metrics(name, f"hb-{name}-acme-1")
            assert failing["hakobune_certificate_renewal_failures"] == 1
        else:  # self-signed, and no acme service until asked for one
            shown = json.loads(ok(hb("status", "--json", "-C", name, cwd=sites_dir)))
            assert "acme" not in [s["service"] for s in shown["services"]]
        docker("network", "connect", "--alias", "acme-ca", site_network, acme_ca.ca)
        if web == "httpd":
            # The first `cert issue` adds the acme service (the web server is recreated, at a new address) and
            # fails: the name still points elsewhere. The service stays, and says so.
            first_try = hb("cert", "issue", "-C", name, *acme_ca.options()[2:], cwd=sites_dir)
            assert first_try.returncode == 1
            (line,) = first_try.stderr.strip().splitlines()
            assert line.startswith(f"error: certificate for {name} not obtained: "), line
            shown = json.loads(ok(hb("status", "--json", "-C", name, cwd=sites_dir)))
            assert "acme" in [s["service"] for s in shown["services"]], shown
            assert any("renewal failing" in w for w in shown["warnings"]), shown
        acme_ca.dns_api("add-a", {"host": fqdn, "addresses": [web_address(name)]})
        started = time.monotonic()
        if web == "nginx":
            ok(hb("cert", "renew", "--force", "-C", name, cwd=sites_dir))
        else:  # the CA it was given the first time
            ok(hb("cert", "issue", "-C", name, cwd=sites_dir))
        first = until_served(tls_port, fqdn, roots)
        print(f"\n{web}, ports of its own: cert {'renew' if web == 'nginx' else 'issue'} to a trusted certificate "
              f"served: {time.monotonic() - started:.1f} s")
        code, cert = cert_status(folder)
        assert (code, cert["source"], cert["problems"]) == (0, "acme", []), cert
        assert cert["acme"]["failures"] == 0 and cert["acme"]["directory"] == acme_ca.directory  # type: ignore[index]
        assert acme_metrics(name, f"hb-{name}-acme-1")["hakobune_certificate_renewal_failures"] == 0
        with httpx.Client(http2=True, verify=ssl.create_default_context(cafile=str(roots))) as http:
            page = http.get(f"https://127.0.0.1:{tls_port}/", extensions={"sni_hostname": fqdn},
                            headers={"Host": fqdn})
        assert page.status_code == 200 and page.http_version == "HTTP/2"
        assert page.headers["strict-transport-security"] == "max-age=63072000"
        listed = {s["site"]: s for s in json.loads(ok(hb("list", "--json", cwd=sites_dir)))}[name]
        assert listed["certificate"].startswith("acme: ") and not listed["warnings"], listed

        # On the plain port, a challenge is answered there (a CA may not follow a redirect to another port);
        # everything else goes to HTTPS.
        acme = f"hb-{name}-acme-1"
        docker("exec", acme, "sh", "-c", "mkdir -p /srv/acme-challenge/.well-known/acme-challenge && "
               "printf token-body >/srv/acme-challenge/.well-known/acme-challenge/tok3n")
        with httpx.Client(timeout=10) as plain:
            base = f"http://127.0.0.1:{http_port}"
            answer = plain.get(f"{base}/.well-known/acme-challenge/tok3n", headers={"Host": fqdn})
            assert (answer.status_code, answer.text) == (200, "token-body")
            assert answer.headers["content-type"].startswith("text/plain")
            assert plain.get(f"{base}/.well-known/acme-challenge/none", headers={"Host": fqdn}).status_code == 404
            assert plain.get(f"{base}/wp-login.php", headers={"Host": fqdn}).status_code == 308
            # Hostile: what the challenge folder holds is served as text, never run, and never through a link
            # (to the certificate's key the acme service can write); the service's own files are not there.
            docker("exec", acme, "sh", "-c", "cd /srv/acme-challenge/.well-known/acme-challenge && "
                   "printf '<?php echo \"ran-\" . (6*7);' >x.php && ln -s /var/lib/hakobune/tls/key.pem key")
            script = plain.get(f"{base}/.well-known/acme-challenge/x.php", headers={"Host": fqdn})
            assert "ran-42" not in script.text and script.status_code in (200, 403, 404), script
            key = plain.get(f"{base}/.well-known/acme-challenge/key", headers={"Host": fqdn})
            assert key.status_code in (403, 404) and "PRIVATE KEY" not in key.text, key
            for path in ("/.well-known/acme-challenge/../../acme/acme/" + name + "/acme.conf",
                         "/.well-known/acme-challenge/%2e%2e/%2e%2e/var/lib/hakobune/tls/key.pem"):
                got = plain.get(f"{base}{path}", headers={"Host": fqdn})
                assert "EMAIL=" not in got.text and "PRIVATE KEY" not in got.text, (path, got)
        assert subprocess.run(["docker", "exec", f"hb-{name}-web-1", "ls", "/var/lib/hakobune/acme"],
                              capture_output=True, check=False).returncode != 0  # the web server never sees it

        # A renewal by the service itself (as its schedule does) is served within seconds, without a restart.
        started = docker("inspect", "-f", "{{.State.StartedAt}}", f"hb-{name}-web-1")
        asked = time.monotonic()
        ok(subprocess.run(["docker", "exec", acme, "hakobune-acme", "renew", name, "--force"],
                          capture_output=True, text=True, check=False, timeout=300))
        renewed = time.monotonic()
        second = until_served(tls_port, fqdn, roots, other_than=first)
        print(f"{web}: a renewal by the acme service: {renewed - asked:.1f} s, then served after "
              f"{time.monotonic() - renewed:.1f} s")
        assert docker("inspect", "-f", "{{.State.StartedAt}}", f"hb-{name}-web-1") == started

        # Other names, served by the site's own web server: certified first (the CA's challenge for a name not
        # served yet is answered), then served; a redirected one goes to the primary name, path and query kept.
        www, old_name = f"www.{fqdn}", f"old-{fqdn}"

        def point_names() -> None:  # the web container gets a new address each time it is recreated
            for host in (fqdn, www, old_name):
                acme_ca.dns_api("add-a", {"host": host, "addresses": [web_address(name)]})
        point_names()
        ok(hb("domain", "add", www, "-C", name, cwd=sites_dir))
        point_names()
        ok(hb("domain", "add", old_name, "--redirect", "301", "-C", name, cwd=sites_dir))
        point_names()
        names = {d["name"]: (d["role"], d["redirect"], d["certificate_covers"]) for d in
                 json.loads(ok(hb("domain", "list", "--json", "-C", name, cwd=sites_dir)))["domains"]}
        assert names == {fqdn: ("primary", None, True), www: ("alias", None, True),
                         old_name: ("redirect", 301, True)}, names
        second = until_served(tls_port, www, roots)
        with httpx.Client(http2=True, verify=ssl.create_default_context(cafile=str(roots))) as http:
            page = http.get(f"https://127.0.0.1:{tls_port}/", extensions={"sni_hostname": www}, headers={"Host": www})
            # Served as the site: WordPress itself sends its visitors on to its own address (the lamp site serves).
            assert (page.status_code, page.headers.get("location")) in \
                ((200, None), (301, f"https://{fqdn}:{tls_port}/")), page
            moved = http.get(f"https://127.0.0.1:{tls_port}/x?y=1", extensions={"sni_hostname": old_name},
                             headers={"Host": old_name})
        assert (moved.status_code, moved.headers["location"]) == (301, f"https://{fqdn}:{tls_port}/x?y=1")
        with httpx.Client(timeout=10) as plain:
            moved = plain.get(f"http://127.0.0.1:{http_port}/x?y=1", headers={"Host": old_name})
        assert (moved.status_code, moved.headers["location"]) == (301, f"https://{fqdn}:{tls_port}/x?y=1")

        # The CA out of reach: the renewal fails in one line, the certificate served stays, and it shows.
        docker("network", "disconnect", site_network, acme_ca.ca)
        failed = hb("cert", "renew", "--force", "-C", name, cwd=sites_dir)
        assert failed.returncode != 0
        (line,) = failed.stderr.strip().splitlines()
        assert line.startswith(f"error: certificate for {name} not obtained: "), line
        assert served(tls_port, fqdn, roots) == second
        code, cert = cert_status(folder)
        assert code == 1 and any(p.startswith("renewal failing (1 tries)") for p in cert["problems"])  # type: ignore[union-attr]
        listed = {s["site"]: s for s in json.loads(ok(hb("list", "--json", cwd=sites_dir)))}[name]
        assert any("renewal failing" in w for w in listed["warnings"]), listed

        # Hostile: a certificate planted in the tls volume without its key is never loaded (the web server keeps
        # serving the pair it has), and names about to be added must be host names.
        docker("exec", acme, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
               "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=planted", "-keyout", "/tmp/planted.key",
               "-out", "/var/lib/hakobune/tls/cert.pem")
        time.sleep(12)  # two of the web server's healthchecks
        assert served(tls_port, fqdn, roots) == second
        bad = subprocess.run(["docker", "exec", acme, "hakobune-acme", "issue", name, "evil.test;reload"],
                             capture_output=True, text=True, check=False, timeout=60)
        assert bad.returncode != 0 and "usage: hakobune-acme issue" in bad.stdout, bad

        # A certificate of one's own: served at once, and the CA renews no more.
        pki = TestPKI(tmp_path)
        good = pki.leaf("good", fqdn, www, old_name)
        ok(hb("cert", "install", "-C", name, "--cert", str(good), "--key", str(good.with_suffix(".key")),
              "--chain", str(pki.folder / "chain.pem"), cwd=sites_dir))
        until_served(tls_port, fqdn, pki.folder / "root.pem")
        code, cert = cert_status(folder)
        assert (code, cert["source"], cert["acme"], cert["problems"]) == (0, "own", None, [])
    finally:
        quietly("network", "disconnect", site_network, acme_ca.ca)
        removed = hb("remove", "-y", name, cwd=sites_dir)
    assert removed.returncode == 0, removed.stderr
    assert leftovers(name) == NOTHING


def stapled(port: int, host: str) -> str:
    """What OpenSSL's client hears of the OCSP answer the edge staples for HOST."""
    got = subprocess.run(["docker", "run", "--rm", "--network", "host", "--entrypoint", "openssl", ACME_CA_IMAGE,
                          "s_client", "-connect", f"127.0.0.1:{port}", "-servername", host, "-status"],
                         input="", capture_output=True, text=True, check=False, timeout=60)
    return got.stdout


def test_a_certificate_whose_ca_offers_ocsp_is_served_with_the_answer_stapled(edge, acme_ca, sites_dir, tmp_path):
    """A certificate of one's own that names an OCSP responder (OpenSSL's, on the edge's network): the edge asks
    it and staples the answer; the self-signed one before named none, and none was stapled."""
    name = site_name("ocsp")
    fqdn = f"{name}.example.test"
    responder = f"hbtest-ocsp-{secrets.token_hex(3)}"
    pki = TestPKI(tmp_path)
    leaf = pki.leaf("ocsp", fqdn, ocsp=f"http://{responder}:8888")  # as CAs write it: no path
    pki.ocsp_responder_files()
    made = hb("provision", "--lamp", "--fqdn", fqdn, name, cwd=sites_dir)
    assert made.returncode == 0, made.stderr
    try:
        docker("run", "-d", "--name", responder, "--network", NETWORK, "-v", f"{tmp_path}:/pki:ro",
               "--entrypoint", "openssl", ACME_CA_IMAGE, "ocsp", "-index", "/pki/index.txt", "-port", "8888",
               "-rsigner", "/pki/chain.pem", "-rkey", "/pki/chain.key", "-CA", "/pki/chain.pem", "-ndays", "1",
               "-ignore_err")  # HAProxy staples answers that say until when they hold (nextUpdate)
        assert "OCSP response: no response sent" in stapled(edge["tls"], fqdn)
        ok(hb("cert", "install", "-C", name, "--cert", str(leaf), "--key", str(leaf.with_suffix(".key")),
              "--chain", str(pki.folder / "chain.pem"), cwd=sites_dir))
        deadline = time.monotonic() + 90
        answer = stapled(edge["tls"], fqdn)
        while "OCSP Response Status: successful" not in answer and time.monotonic() < deadline:
            time.sleep(2)
            answer = stapled(edge["tls"], fqdn)
        assert "OCSP Response Status: successful" in answer, answer
        assert "Cert Status: good" in answer
    finally:
        quietly("rm", "-f", responder)
        removed = hb("remove", "-y", name, cwd=sites_dir)
    assert removed.returncode == 0, removed.stderr
    assert leftovers(name) == NOTHING


def trusted_get(port: int, host: str, roots: Path, path: str = "/") -> httpx.Response:
    """PATH of HOST from the edge, over TLS checked against ROOTS for HOST; redirects not followed."""
    with httpx.Client(http2=True, verify=ssl.create_default_context(cafile=str(roots)), timeout=30) as http:
        return http.get(f"https://127.0.0.1:{port}{path}", extensions={"sni_hostname": host},
                        headers={"Host": f"{host}:{port}"})


def back_up(get: Callable[[], httpx.Response]) -> httpx.Response:
    """GET's answer once the site's web container, just recreated, answers again (503 from the edge until then)."""
    deadline = time.monotonic() + 60
    page = get()
    while page.status_code == 503 and time.monotonic() < deadline:
        time.sleep(0.5)
        page = get()
    return page


def domain_list(folder: Path) -> dict[str, tuple[str, object, object]]:
    listed = json.loads(ok(hb("domain", "list", "--json", "-C", str(folder), cwd=folder.parent)))
    return {d["name"]: (d["role"], d["redirect"], d["certificate_covers"]) for d in listed["domains"]}


def test_a_sites_names_change_each_certified_by_its_ca_before_it_is_served(edge, acme_ca, sites_dir):
    """Aliases served and redirected with the site's certificate from the CA, a name the CA cannot reach refused
    with nothing changed, a new primary name with WordPress's URLs following, an alias dropped."""
    name = site_name("names")
    fqdn, www, old, blocked, new = (f"{prefix}{name}.example.test" for prefix in ("", "www.", "old.", "nope.",
                                                                                 "new."))
    port, roots = edge["tls"], acme_ca.roots
    folder = sites_dir / name
    made = hb("provision", "--fqdn", fqdn, *acme_ca.options(), "--admin-pass-file", "-", name, cwd=sites_dir,
              input=f"{ADMIN_PASSWORD}\n")
    assert made.returncode == 0 and "warning" not in made.stderr, made.stderr
    asset = "/wp-includes/js/jquery/jquery.min.js"  # served by nginx itself: no WordPress redirect in the way
    try:
        # An alias served as the site: the CA's certificate covers it before the edge serves it.
        added = hb("domain", "add", www, "-C", name, cwd=sites_dir)
        assert added.returncode == 0, added.stderr
        assert f"Asking the CA for a certificate that covers {www} too" in added.stderr + added.stdout
        assert back_up(lambda: trusted_get(port, www, roots, asset)).status_code == 200
        serial = served(port, fqdn, roots)
        assert served(port, www, roots) == serial
        # WordPress sends its pages to the primary name itself.
        page = trusted_get(port, www, roots, "/?p=1")
        assert page.status_code == 301 and page.headers["location"].startswith(f"https://{fqdn}:{port}/")
        # An alias redirected by the edge, path and query kept, with a certificate for its name too.
        ok(hb("domain", "add", old, "--redirect", "308", "-C", name, cwd=sites_dir))
        moved = trusted_get(port, old, roots, "/some/page?x=1")
        assert moved.status_code == 308 and moved.headers["location"] == f"https://{fqdn}:{port}/some/page?x=1"
        assert domain_list(folder) == {fqdn: ("primary", None, True), www: ("alias", None, True),
                                       old: ("redirect", 308, True)}
        # A redirect turned back into a served name and back: only the mode changes.
        ok(hb("domain", "add", old, "--redirect", "301", "-C", name, cwd=sites_dir))
        assert trusted_get(port, old, roots, "/").status_code == 301

        # A name the CA cannot reach: refused in one line; the site, its route, its certificate and its renewal
        # state as they were.
        settings = (folder / "hakobune.yaml").read_text()
        serial = served(port, fqdn, roots)
        acme_ca.dns_api("add-a", {"host": blocked, "addresses": ["127.0.0.1"]})
        refused = hb("domain", "add", blocked, "-C", name, cwd=sites_dir)
        assert refused.returncode == 1
        line = refused.stderr.strip().splitlines()[-1]
        assert line.startswith(f"error: certificate for {name} not obtained: ") and blocked in line, line
        assert (folder / "hakobune.yaml").read_text() == settings
        assert served(port, fqdn, roots) == serial
        code, cert = cert_status(folder)
        assert code == 0 and cert["problems"] == [] and cert["acme"]["failures"] == 0  # type: ignore[index]
        route = json.loads(docker("exec", CONTAINER, "hakobune-edge", "list"))
        (mine,) = [r for r in route["routes"] if r["site"] == name]
        assert (mine["hosts"], mine["pending"]) == (f"{fqdn} {www} {old}", "")
        with pytest.raises(ssl.SSLError):  # never served: no certificate for it
            served(port, blocked, roots)

        # A new primary name that fails at its last step: everything back as it was (the URLs, the web server's
        # names, the route), the site served under its name.
        failed = hb("domain", "primary", new, "-C", name, cwd=sites_dir, env={"HAKOBUNE_FAILPOINT": "domain-routed"})
        assert failed.returncode == 1
        assert failed.stderr.strip().splitlines()[-1] == "error: stopped at step 'domain-routed' " \
                                                          "(HAKOBUNE_FAILPOINT is set)"
        assert (folder / "hakobune.yaml").read_text() == settings
        assert hb("wp-option", "get", "home", cwd=folder).stdout.strip() == f"https://{fqdn}:{port}"
        page = back_up(lambda: trusted_get(port, fqdn, roots, "/"))
        assert page.status_code == 200 and f'href="https://{fqdn}:{port}/' in page.text
        route = json.loads(docker("exec", CONTAINER, "hakobune-edge", "list"))
        assert [r["hosts"] for r in route["routes"] if r["site"] == name] == [f"{fqdn} {www} {old}"]

        # A new primary name: certified first, WordPress's URLs rewritten to it, the old one redirected to it.
        switched = hb("domain", "primary", new, "-C", name, cwd=sites_dir)
        assert switched.returncode == 0, switched.stderr
        assert hb("wp-option", "get", "home", cwd=folder).stdout.strip() == f"https://{new}:{port}"
        page = back_up(lambda: trusted_get(port, new, roots, "/"))
        assert page.status_code == 200 and f'href="https://{new}:{port}/' in page.text
        assert f"//{fqdn}" not in page.text
        gone = trusted_get(port, fqdn, roots, "/?p=1")
        assert gone.status_code == 301 and gone.headers["location"] == f"https://{new}:{port}/?p=1"
        assert domain_list(folder) == {new: ("primary", None, True), fqdn: ("redirect", 301, True),
                                       www: ("alias", None, True), old: ("redirect", 301, True)}
        assert json.loads(ok(hb("status", "--json", "-C", name, cwd=sites_dir)))["warnings"] == []

        # An alias dropped: the edge no longer hands out a certificate for it.
        ok(hb("domain", "remove", www, "-C", name, cwd=sites_dir))
        with pytest.raises(ssl.SSLError):
            served(port, www, roots)
        assert www not in domain_list(folder)
    finally:
        removed = hb("remove", "-y", name, cwd=sites_dir)
    assert removed.returncode == 0, removed.stderr
    assert leftovers(name) == NOTHING


def test_an_httpd_site_serves_its_aliases_and_no_site_takes_anothers_name(edge, echo, sites_dir):
    """A self-signed site on httpd: an alias is served (ServerAlias) with a certificate the edge makes for both
    names; another site's name, an IP address and a site with ports of its own are refused with nothing
    changed."""
    name = site_name("alias")
    fqdn, www = f"{name}.example.test", f"www.{name}.example.test"
    made = hb("provision", "--lamp", "--httpd", "--fqdn", fqdn, name, cwd=sites_dir)
    assert made.returncode == 0, made.stderr
    folder = sites_dir / name
    try:
        with pytest.raises(httpx.ConnectError, match="UNRECOGNIZED_NAME"):  # not a name of any site yet
            https(edge["tls"], www)
        ok(hb("domain", "add", www, "-C", name, cwd=sites_dir))
        page = back_up(lambda: https(edge["tls"], www))
        assert page.status_code == 200, page.text
        assert domain_list(folder)[www] == ("alias", None, True)
        settings = (folder / "hakobune.yaml").read_text()
        for args, code, message in (
            ([echo], 2, f"error: {echo} is served by site echo already"),
            (["10.1.2.3"], 2, "error: NAME '10.1.2.3' is an IP address"),
            ([www, "--redirect", "302"], 2, "error: --redirect '302' is not one of 301, 308"),
        ):
            refused = hb("domain", "add", *args, "-C", name, cwd=sites_dir)
            assert (refused.returncode, refused.stderr.splitlines()[0].startswith(message)) == (code, True), refused
        assert (folder / "hakobune.yaml").read_text() == settings
    finally:
        removed = hb("remove", "-y", name, cwd=sites_dir)
    assert removed.returncode == 0, removed.stderr
    assert leftovers(name) == NOTHING


def test_http3_is_served_on_the_published_udp_port(edge, echo, acme_ca):
    """A real HTTP/3 client (Debian's curl, with nghttp3, in the test CA's image) from this machine, over the
    UDP port the edge publishes: QUIC, the route's answer, and Alt-Svc naming the port."""
    port = edge["tls"]
    got = subprocess.run(
        ["docker", "run", "--rm", "--network", "host", "--entrypoint", "curl", ACME_CA_IMAGE, "--http3-only", "-sk",
         "--max-time", "20", "--resolve", f"{echo}:{port}:127.0.0.1", "-D", "-", "-o", "/dev/null",
         "-w", "%{http_version} %{http_code}", f"https://{echo}:{port}/"],
        capture_output=True, text=True, check=False, timeout=120)
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip().endswith("3 200"), got.stdout
    assert f'alt-svc: h3=":{port}"; ma=86400' in got.stdout.lower()


LOAD_LIMIT = 50_000  # requests, all clients together: the load is bounded in requests as in time


def test_a_site_coming_getting_a_certificate_and_going_fails_no_request_of_another_site(
        edge, echo, acme_ca, sites_dir):
    """Load on one site (keep-alive HTTP/2 clients, and clients making a new connection for each request) while
    another is provisioned behind the edge, issued a certificate, renewed, given an alias (a certificate for it
    first) and removed: every reload of the edge
    in between must leave the first site's requests alone."""
    stop = threading.Event()
    lock = threading.Lock()
    done: list[int] = [0]
    failed: list[str] = []
    goaway: list[int] = [0]

    def get(client: httpx.Client, keep_alive: bool) -> str | None:
        """One request; what went wrong, or None. An HTTP/2 connection that a retiring HAProxy worker ends with
        GOAWAY (NO_ERROR) is asked again on a new one, as browsers do: the server said so, nothing failed."""
        for attempt in (1, 2):
            try:
                response = client.get(f"https://127.0.0.1:{edge['tls']}/", extensions={"sni_hostname": echo},
                                      headers={"Host": echo, **({} if keep_alive else {"Connection": "close"})})
                return None if response.status_code == 200 else f"status {response.status_code}"
            except httpx.RemoteProtocolError as exc:
                if attempt == 1 and "ConnectionTerminated error_code:0," in str(exc):
                    with lock:
                        goaway[0] += 1
                    continue
                return f"{type(exc).__name__}: {exc}"
            except httpx.HTTPError as exc:
                return f"{type(exc).__name__}: {exc}"
        return "unreachable"

    def load(keep_alive: bool) -> None:
        client = httpx.Client(http2=keep_alive, verify=False, timeout=15)  # noqa: S501 - the echo route's cert
        try:
            while not stop.is_set() and done[0] < LOAD_LIMIT:
                problem = get(client, keep_alive)
                with lock:
                    done[0] += 1
                    if problem:
                        failed.append(problem)
        finally:
            client.close()

    clients = [threading.Thread(target=load, args=(keep_alive,)) for keep_alive in (True, True, False, False)]
    for client in clients:
        client.start()
    name = site_name("coming")
    try:
        made = hb("provision", "--lamp", "--fqdn", f"{name}.example.test", *acme_ca.options(), name, cwd=sites_dir)
        assert made.returncode == 0 and "warning" not in made.stderr, made.stderr
        assert hb("cert", "renew", "--force", "-C", name, cwd=sites_dir).returncode == 0
        aliased = hb("domain", "add", f"www.{name}.example.test", "-C", name, cwd=sites_dir)
        assert aliased.returncode == 0, aliased.stderr
        removed = hb("remove", "-y", name, cwd=sites_dir)
        assert removed.returncode == 0, removed.stderr
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=60)
    assert leftovers(name) == NOTHING
    assert failed == [], f"{len(failed)} of {done[0]} requests failed: {failed[:5]} ({goaway[0]} GOAWAY)"
    assert done[0] >= 200, done[0]  # the load really ran through it all
    print(f"\nedge reloads under load: {done[0]} requests, 0 failed, {goaway[0]} asked again after GOAWAY")


def test_acme_options_are_refused_before_reaching_the_engine(tmp_path: Path):
    env = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    bad_root = tmp_path / "not-a-cert.pem"
    bad_root.write_text("hello\n")
    cases = (
        (["--tls", "acme"], "a certificate from an ACME CA needs --email"),
        (["--tls", "acme", "--email", "nobody"], "--email 'nobody' is not an e-mail address"),
        (["--tls", "acme", "--email", EMAIL, "--acme-directory", "http://ca.test/dir"],
         "--acme-directory 'http://ca.test/dir' is neither an https:// URL nor one of: letsencrypt"),
        (["--tls", "acme", "--email", EMAIL, "--acme-ca-cert", str(bad_root)],
         f"--acme-ca-cert {bad_root} holds no PEM certificate"),
        (["--email", EMAIL], "--email, --acme-directory and --acme-ca-cert are for --tls acme"),
        (["--tls", "lets"], "--tls 'lets' is not one of: self-signed, acme"),
    )
    for args, message in cases:
        result = hb("provision", "--fqdn", "a.example.test", *args, "refused", cwd=tmp_path, env=env)
        assert result.returncode == 2, (args, result)
        assert result.stderr.startswith(f"error: {message}"), (args, result.stderr)
        assert not (tmp_path / "refused").exists()


def test_a_site_with_ports_of_its_own_moves_behind_the_edge_and_back_keeping_its_content(edge, sites_dir):
    name = site_name("moving")
    fqdn = f"{name}.example.test"
    tls_port = free_port()
    made = hb("provision", "--fqdn", fqdn, "--http-port", str(free_port()), "--tls-port", str(tls_port),
              "--admin-pass-file", "-", name, cwd=sites_dir, input=f"{ADMIN_PASSWORD}\n")
    assert made.returncode == 0, made.stderr
    folder = sites_dir / name
    try:
        ok(hb("wp-option", "set", "blogname", "Kept through every move", cwd=folder))
        moved = hb("edge", "attach", "-C", name, cwd=sites_dir)
        assert moved.returncode == 0, moved.stderr
        url = f"https://{fqdn}:{edge['tls']}"
        assert f"Site {name} is behind the edge: {url}/" in moved.stdout
        assert json.loads(docker("inspect", f"hb-{name}-web-1"))[0]["HostConfig"]["PortBindings"] in ({}, None)
        page = https(edge["tls"], fqdn)
        assert page.status_code == 200 and "Kept through every move" in page.text
        assert f'href="{url}/' in page.text and f":{tls_port}" not in page.text  # its URLs followed
        assert hb("wp-option", "get", "home", cwd=folder).stdout.strip() == url
        assert hb("edge", "attach", "-C", name, cwd=sites_dir).stderr.startswith(
            f"error: site {name} is behind the edge already")

        back = hb("edge", "detach", "-C", name, "--http-port", str(free_port()), "--tls-port", str(tls_port),
                  cwd=sites_dir)
        assert back.returncode == 0, back.stderr
        own = f"https://{fqdn}:{tls_port}"
        assert hb("wp-option", "get", "home", cwd=folder).stdout.strip() == own
        with httpx.Client(http2=True, verify=False, timeout=30) as http:  # noqa: S501 - self-signed, its own
            page = http.get(f"https://127.0.0.1:{tls_port}/", headers={"Host": f"{fqdn}:{tls_port}"})
        assert page.status_code == 200 and "Kept through every move" in page.text
        assert name not in docker("exec", CONTAINER, "hakobune-edge", "list")
        assert docker("network", "ls", "-q", "--filter", f"name=hb-{name}-edge") == ""
        code, cert = cert_status(folder)  # its web server's own, self-signed
        assert (code, cert["source"], cert["issuer"]) == (0, "self-signed", f"CN={fqdn}")

        # A staging copy without port options is behind the edge, its URLs its own.
        copy, copy_fqdn = f"{name}-copy", f"{name}-copy.example.test"
        cloned = hb("clone", str(folder), copy, "--fqdn", copy_fqdn, cwd=sites_dir)
        assert cloned.returncode == 0, cloned.stderr
        page = https(edge["tls"], copy_fqdn)
        assert page.status_code == 200 and "Kept through every move" in page.text
        assert f'href="https://{copy_fqdn}:{edge["tls"]}/' in page.text and f"//{fqdn}" not in page.text
        ok(hb("remove", "-y", copy, cwd=sites_dir))
        assert leftovers(copy) == NOTHING
    finally:
        hb("remove", "-y", f"{name}-copy", cwd=sites_dir)
        removed = hb("remove", "-y", name, cwd=sites_dir)
    assert removed.returncode == 0, removed.stderr
    assert leftovers(name) == NOTHING


@pytest.fixture(scope="module")
def older_but_db(images, tmp_path_factory) -> Iterator[dict[str, str]]:
    """This Hakobune's images as builds of 0.0.2, the database's the very same image (a database that moves is
    down while it restarts: test_upgrade.py measures that): an upgrade then moves web, php and valkey."""
    yield from image_set("0.0.2", tmp_path_factory.mktemp("older"), same=("mariadb",))


def test_a_site_behind_the_edge_is_upgraded_without_a_failed_request(edge, echo, older_but_db, sites_dir, capsys):
    name = site_name("edge-upgrade")
    fqdn = f"{name}.example.test"
    ok(hb("provision", "--fqdn", fqdn, "--nginx", "--admin-pass-file", "-", name, cwd=sites_dir, env=older_but_db,
          input=f"{ADMIN_PASSWORD}\n"))
    folder = sites_dir / name
    try:
        before, data = running_images(name), content(name)
        with Load(f"https://127.0.0.1:{edge['tls']}", ("/", "/?s=hello", "/wp-login.php"), host=fqdn) as load:
            time.sleep(2)
            began = time.monotonic() - load.started
            upgraded = hb("--debug", "upgrade", "--no-backup", "-C", str(folder), cwd=sites_dir)
            ended = time.monotonic() - load.started
            time.sleep(2)
        out = ok(upgraded)
        with capsys.disabled():  # the figures for the closing note
            print(f"\nupgrade behind the edge under load ({began:.1f} s to {ended:.1f} s): {load.summary()}\n{out}")
            if load.failed:
                print(upgraded.stderr)
        assert load.done > 100 and load.failed == [], load.summary()
        after = running_images(name)
        for service, image in {"web": "nginx", "php": "php", "valkey": "valkey"}.items():
            assert after[service] == image_id(image_refs()[image]) != before[service], service
        assert after["db"] == before["db"] and content(name) == data
        assert "checked: front page, login page, a post, page cache" in out, out
        # PHP took the spare socket while the old one drained; then the socket became a link to it.
        php = next(c for c in docker("ps", "--format", "{{.Names}}").split() if c.startswith(f"hb-{name}-php-"))
        deadline = time.monotonic() + 30
        while docker("exec", php, "sh", "-c", "readlink /run/hakobune-fpm/php.sock || true").strip() != "php-2.sock":
            assert time.monotonic() < deadline, "the socket never became a link to the spare"
            time.sleep(1)
        assert https(edge["tls"], fqdn).status_code == 200
    finally:
        removed = hb("remove", "-y", str(folder), cwd=sites_dir)
    assert removed.returncode == 0, removed.stderr
    assert leftovers(name) == NOTHING


def test_down_is_refused_while_a_site_is_behind_it_then_leaves_nothing(edge, echo, acme_ca, tmp_path):
    refused = hb("edge", "down", cwd=tmp_path)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: the edge serves 1 site(s): echo")
    assert json.loads(ok(hb("edge", "status", "--json", cwd=tmp_path)))["running"] is True
    # A proxy that is down (or keeps restarting) still has its sites: status shows them, down is refused.
    docker("stop", CONTAINER)
    status = json.loads(ok(hb("edge", "status", "--json", cwd=tmp_path)))
    assert [r["site"] for r in status["routes"]] == ["echo"]
    assert {s["service"]: s["state"] for s in status["services"]}["proxy"] == "exited"
    assert status["running"] is False  # it serves nothing, though its acme service runs
    refused = hb("edge", "down", "--purge", cwd=tmp_path)
    assert refused.returncode == 1 and refused.stderr.startswith("error: the edge serves 1 site(s): echo (hint:")
    ok(hb("edge", "up", cwd=tmp_path))
    assert json.loads(docker("exec", CONTAINER, "hakobune-edge", "remove", "echo")) == {}
    # The test's own containers on the edge's network.
    quietly("rm", "-f", "-v", ECHO_CONTAINER, acme_ca.dns, acme_ca.ca)
    assert "removed" in ok(hb("edge", "down", "--purge", cwd=tmp_path))
    assert edge_things() == {"containers": [], "volumes": [], "networks": []}
    assert "No edge" in ok(hb("edge", "status", cwd=tmp_path))
