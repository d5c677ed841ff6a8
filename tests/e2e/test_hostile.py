"""Hostile input, from outside, on nginx and httpd sites: files planted in the docroot the way a vulnerable plugin
would (as the PHP container's user), then asked for over HTTPS; HEAD, odd methods, unknown hosts, forged proxy
headers, oversized headers and slow clients. Each test here failed against the images before issue 14's fixes."""

from __future__ import annotations

import json
import socket
import ssl
import tarfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e.helpers import client, docker, fingerprint, hb, ok, provision_site
from tests.helpers import crafted, tar_file, tar_member

pytestmark = pytest.mark.e2e

PUBLIC = "/srv/site/public"
UPLOADS = f"{PUBLIC}/wp-content/uploads"
# What a planted PHP file prints when it runs; its source holds the two halves apart, so a served source
# never shows it.
RAN = "HB-PHP-RAN"
PHP_PROBE = "<?php echo 'HB-PHP' . '-RAN';"


@pytest.fixture(scope="module", params=["nginx", "httpd"])
def site(request, images, sites_dir):
    site = provision_site(request.param, sites_dir, prefix="hostile")
    yield site
    ok(hb("remove", "-y", str(site.folder), cwd=sites_dir))


def container(site, service: str) -> str:
    return f"hb-{site.name}-{service}-1"


def plant(site, script: str) -> None:
    """Run SCRIPT in the php container as its user, www-data: what any plugin's code can do."""
    docker("exec", container(site, "php"), "sh", "-euc", script)


def get(site, path: str, **kwargs: object) -> httpx.Response:
    with client() as http:
        return http.get(f"{site.url}{path}", **kwargs)  # type: ignore[arg-type]


# -- the page cache ------------------------------------------------------------------------------------------


def test_head_requests_never_blank_the_front_page(site):
    """What an uptime monitor sends: HEAD, again and again. A GET afterwards gets the whole page."""
    if site.web == "nginx":
        ok(hb("cache", "clear", cwd=site.folder))
    with client() as http:
        for _ in range(4):
            head = http.head(f"{site.url}/")
            assert head.status_code == 200
            assert head.content == b""
        for _ in range(3):
            page = http.get(f"{site.url}/")
            assert page.status_code == 200
            assert site.title in page.text, (page.headers, page.content[:200])
    if site.web == "nginx":
        assert page.headers["x-hakobune-cache"] == "HIT"
        # And a HEAD after the page is cached is answered from the cache, without a body.
        with client() as http:
            head = http.head(f"{site.url}/")
        assert head.headers["x-hakobune-cache"] == "HIT"


@pytest.mark.parametrize("host", ["evil.example", "localhost.evil.example", "127.0.0.1"])
def test_a_host_the_site_does_not_serve_gets_421_and_nothing_of_the_site(site, host):
    if site.web == "nginx":
        ok(hb("cache", "clear", cwd=site.folder))
    with client() as http:
        # The name in TLS (SNI) is the site's, the Host header another: a misdirected request.
        response = http.get(f"{site.url}/", headers={"Host": host})
        assert response.status_code == 421, response.status_code
        assert site.title not in response.text
        # Over plain HTTP, no redirect to somebody else's name either.
        plain = http.get(f"http://localhost:{site.http_port}/", headers={"Host": host})
        assert plain.status_code == 421
        assert host not in plain.headers.get("location", "")
    # Another name in TLS too.
    response = raw_https(site, "GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
                         sni="evil.example")
    assert response.startswith(b"HTTP/1.1 421"), response[:100]
    if site.web == "nginx":  # and the site's page cache holds nothing for that name
        assert json.loads(ok(hb("cache", "status", "--json", cwd=site.folder)))["pages"] == 0


# -- files planted in the docroot -----------------------------------------------------------------------------


def test_links_planted_in_the_docroot_serve_nothing_outside_it(site):
    plant(site, f"""
        echo hb-above-the-docroot > /srv/site/above.txt
        printf '%s' "{PHP_PROBE}" > /srv/site/above.php
        cd {PUBLIC}
        ln -sfn /etc/passwd passwd.txt
        ln -sfn /var/lib/hakobune/tls/key.pem key.txt
        ln -sfn /var/lib/hakobune/tls tls
        ln -sfn / root
        ln -sfn ../above.txt above.txt
        ln -sfn ../above.php above.php
        ln -sfn .. up
    """)
    try:
        for path in ("/passwd.txt", "/key.txt", "/tls/key.pem", "/root/etc/passwd", "/root/etc/hostname",
                     "/above.txt", "/up/above.txt", "/above.php", "/up/above.php"):
            response = get(site, path)
            assert response.status_code in (403, 404), (path, response.status_code)
            for secret in ("root:x:0:0", "PRIVATE KEY", "hb-above-the-docroot", RAN):
                assert secret not in response.text, (path, secret)
    finally:
        plant(site, f"cd {PUBLIC} && rm -f passwd.txt key.txt tls root above.txt above.php up "
                    "&& rm -f /srv/site/above.txt /srv/site/above.php")


@pytest.mark.parametrize("url", ["x.php", "x.php/", "x.php/anything", "x.php/a.jpg", "x.php/a.css", "x.PHP",
                                 "x.phar", "x.phtml", "sub/../x.php", "x.php%2Fa.jpg", "x.php%00.jpg"])
def test_php_never_runs_from_uploads(site, url):
    plant(site, f"""
        mkdir -p {UPLOADS}/sub
        for f in x.php x.PHP x.phar x.phtml; do printf '%s' "{PHP_PROBE}" > {UPLOADS}/$f; done
    """)
    with client() as http:
        response = http.get(f"{site.url}/wp-content/uploads/{url}")
    assert RAN not in response.text, (url, response.status_code)


SENSITIVE = ["dump.sql", "db.sql.gz", "site.tar.gz", "site.tar", "site.tgz", "wp-config.php.bak",
             "wp-config.php.save", "wp-config.php~", "index.php.old", "index.php.orig", ".index.php.swp",
             "notes.bak", "error.log", "wp-content/debug.log", "wp-content/uploads/2026/backup.sql",
             "wp-content/uploads/2026/site.tar.gz"]


def test_sensitive_files_in_the_docroot_are_not_served(site):
    plant(site, f"""
        cd {PUBLIC}
        mkdir -p wp-content/uploads/2026
        for f in {' '.join(SENSITIVE)}; do echo hb-sensitive-content > "$f"; done
        printf 'PK-not-really-a-zip' > wp-content/uploads/2026/brochure.zip
        printf '%%PDF-1.4 hb' > wp-content/uploads/2026/menu.pdf
    """)
    for path in [*SENSITIVE, "readme.html", "license.txt", "xmlrpc.php"]:
        response = get(site, f"/{path}")
        assert response.status_code in (403, 404), (path, response.status_code)
        assert "hb-sensitive-content" not in response.text
        assert "XML-RPC" not in response.text
    # Media still download.
    assert get(site, "/wp-content/uploads/2026/brochure.zip").content == b"PK-not-really-a-zip"
    assert get(site, "/wp-content/uploads/2026/menu.pdf").content == b"%PDF-1.4 hb"


def test_xmlrpc_can_be_turned_on(site):
    name = f"{site.prefix}XMLRPC"
    ok(hb("config", "set", f"{name}=on", cwd=site.folder))
    try:
        with client() as http:
            response = http.post(f"{site.url}/xmlrpc.php", content=b"<?xml version='1.0'?><methodCall>"
                                 b"<methodName>demo.sayHello</methodName></methodCall>")
        assert response.status_code == 200
        assert "Hello!" in response.text
    finally:
        ok(hb("config", "unset", name, cwd=site.folder))


# -- headers and methods ---------------------------------------------------------------------------------------

ECHO = """<?php header('Content-Type: application/json');
echo json_encode(['addr' => $_SERVER['REMOTE_ADDR'] ?? null, 'https' => $_SERVER['HTTPS'] ?? null,
    'xff' => $_SERVER['HTTP_X_FORWARDED_FOR'] ?? null, 'xfp' => $_SERVER['HTTP_X_FORWARDED_PROTO'] ?? null,
    'real' => $_SERVER['HTTP_X_REAL_IP'] ?? null, 'fwd' => $_SERVER['HTTP_FORWARDED'] ?? null]);"""


@pytest.fixture
def echo(site):
    plant(site, f"cat > {PUBLIC}/hb-echo.php <<'PHP'\n{ECHO}\nPHP")
    yield "/hb-echo.php"
    plant(site, f"rm -f {PUBLIC}/hb-echo.php")


FORGED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "http", "X-Real-IP": "203.0.113.9",
          "Forwarded": "for=203.0.113.9;proto=http"}


def test_forged_proxy_headers_are_not_believed(site, echo):
    seen = get(site, echo, headers=FORGED).json()
    assert seen["addr"] != "203.0.113.9"
    assert seen["https"] == "on"
    assert seen["xff"] is None and seen["xfp"] is None and seen["real"] is None and seen["fwd"] is None
    # WordPress itself: a comment's recorded address is the visitor's, whatever the headers say.


def test_proxy_headers_are_believed_from_a_trusted_proxy(site, echo):
    # Requests to the published port reach the container from the engine's network gateway: trust it as a
    # proxy would be trusted.
    gateway = docker("network", "inspect", f"hb-{site.name}_site", "--format",
                     "{{(index .IPAM.Config 0).Subnet}}").strip()
    name = f"{site.prefix}TRUSTED_PROXIES"
    ok(hb("config", "set", f"{name}={gateway}", cwd=site.folder))
    try:
        seen = get(site, echo, headers={"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}).json()
        assert seen["addr"] == "198.51.100.7"
        assert seen["https"] == "on"
    finally:
        ok(hb("config", "unset", name, cwd=site.folder))


@pytest.mark.parametrize("method", ["TRACE", "TRACK", "PROPFIND", "DEBUG", "FOO"])
def test_odd_methods_are_refused(site, method):
    with client() as http:
        response = http.request(method, f"{site.url}/")
        assert response.status_code in (405, 501), (method, response.status_code)
        assert site.title not in response.text
        assert http.get(f"{site.url}/").status_code == 200


def test_oversized_headers_are_refused_and_the_site_still_serves(site):
    huge = {"X-Big": "a" * 70000}
    many = {f"X-H{i}": "b" * 200 for i in range(300)}
    with httpx.Client(verify=False, timeout=30) as http1:  # noqa: S501 - self-signed by design
        for headers in (huge, many):
            response = http1.get(f"{site.url}/", headers=headers)
            assert response.status_code in (400, 431, 494), response.status_code
    with client() as http2:  # over HTTP/2 the stream (or the connection) is reset instead
        for headers in (huge, many):
            try:
                response = http2.get(f"{site.url}/", headers=headers)
            except httpx.RemoteProtocolError:
                continue
            assert response.status_code in (400, 431, 494), response.status_code
    assert get(site, "/").status_code == 200


# -- slow clients -------------------------------------------------------------------------------------------


def raw_https(site, request: str, sni: str = "localhost") -> bytes:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", site.tls_port), timeout=30) as raw, \
            context.wrap_socket(raw, server_hostname=sni) as tls:
        tls.sendall(request.encode())
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
        return data


def slow_client(site, stop: threading.Event) -> None:
    """Slowloris: a request whose headers never end, a few bytes every few seconds; when the server gives up
    on it, it starts again."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", site.tls_port), timeout=10) as raw, \
                    context.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
                while not stop.wait(3):
                    tls.sendall(b"X-Slow: 1\r\n")
        except OSError:
            stop.wait(0.5)


def test_slow_clients_cannot_keep_a_visitor_out(site):
    workers = 25
    slow = 2 * workers
    if site.web == "httpd":  # one process of 25 threads: each slow connection holds one of them
        ok(hb("config", "set", f"HTTPD_THREADS_PER_CHILD={workers}", f"HTTPD_MAX_REQUEST_WORKERS={workers}",
              cwd=site.folder))
    stop = threading.Event()
    pool = ThreadPoolExecutor(slow)
    try:
        for _ in range(slow):
            pool.submit(slow_client, site, stop)
        time.sleep(5)  # every worker is taken by now
        with client(timeout=60) as http:
            response = http.get(f"{site.url}/?visitor")
        assert response.status_code == 200
        assert site.title in response.text
    finally:
        stop.set()
        pool.shutdown(wait=True)
        if site.web == "httpd":
            ok(hb("config", "unset", "HTTPD_THREADS_PER_CHILD", "HTTPD_MAX_REQUEST_WORKERS", cwd=site.folder))


# -- deploy-files ----------------------------------------------------------------------------------------------


def sha(site, path: str) -> str:
    return docker("exec", container(site, "php"), "sha256sum", path).split()[0]


def test_a_deploy_never_writes_through_a_link_planted_in_the_docroot(site, tmp_path):
    """A plugin plants links where a deploy will write: above the docroot, and to where backups are kept."""
    plant(site, f"cd {PUBLIC} && ln -sfn /srv/site app && ln -sfn /srv/backups kept")
    config = sha(site, "/srv/site/wp-config.php")
    app = tmp_path / "app.tar"
    with tarfile.open(app, "w") as tar:
        tar_member(tar, "app/wp-config.php", data=b"<?php // replaced")
        tar_member(tar, "kept/planted.tar", data=b"not a backup")
    try:
        ok(hb("deploy-files", str(app), cwd=site.folder))
        assert sha(site, "/srv/site/wp-config.php") == config
        assert docker("exec", container(site, "php"), "sh", "-c",
                      f"test -d {PUBLIC}/app -a ! -L {PUBLIC}/app && test ! -L {PUBLIC}/kept && echo real").strip() \
            == "real"
        assert ok(hb("exec", "ops", "--", "find", "/srv/backups", "-name", "planted.tar", cwd=site.folder)) == ""
        assert get(site, "/").status_code == 200
    finally:
        plant(site, f"rm -rf {PUBLIC}/app {PUBLIC}/kept")


@pytest.mark.parametrize("members", [
    # Each link alone stays inside the docroot; through the first, the second leads out.
    [("top", "..", None), ("out", "top/..", None)],
    [("here", ".", None), ("here/x.php", None, None)],
    [("a/b", "../../../etc", None)],
])
def test_a_tarball_whose_links_lead_out_is_refused_and_nothing_changes(site, tmp_path, members):
    before = docker("exec", container(site, "php"), "sh", "-c", f"ls -laR {PUBLIC} | sha256sum")
    result = hb("deploy-files", str(tar_file(tmp_path / "evil.tar", members)), cwd=site.folder)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert docker("exec", container(site, "php"), "sh", "-c", f"ls -laR {PUBLIC} | sha256sum") == before


# -- crafted archives --------------------------------------------------------------------------------------


def test_a_crafted_archive_of_the_site_changes_nothing(site, tmp_path):
    """The site's own backup with its checksums made right again after an edit: links that lead out of the site
    through each other are refused before the archive reaches the engine; a dump that drops the live database
    is loaded by a user that cannot, and the site stays exactly as it was."""
    folder = tmp_path / "backups"
    ok(hb("backup", "--to", str(folder), cwd=site.folder))
    (original,) = folder.glob("*.tar")

    def chain(tar: tarfile.TarFile) -> None:
        tar_member(tar, "./public/top", link="..")
        tar_member(tar, "./public/out", link="top/..")

    # WordPress's events write the database and files on their own, every minute: held while "nothing changed"
    # compares what the test did only.
    ok(hb("cron", "hold", cwd=site.folder))
    before = fingerprint(site.folder)
    links = crafted(original, tmp_path / "links.tar", files=chain)
    refused = hb("restore", str(links), cwd=site.folder)
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.startswith(f"error: archive {links} holds a link './public/out' to 'top/..'")
    drop = crafted(original, tmp_path / "drop.tar", sql=b"DROP DATABASE wordpress;\n")
    contained = hb("restore", str(drop), cwd=site.folder)
    assert contained.returncode == 1, contained.stderr
    errors = [line for line in contained.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Access denied" in errors[0], contained.stderr
    assert fingerprint(site.folder) == before
    ok(hb("cron", "release", cwd=site.folder))
    page = get(site, "/")
    assert page.status_code == 200 and site.title in page.text
