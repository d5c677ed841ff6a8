"""Helpers of the end-to-end tests: the real CLI as a user runs it, docker, HTTP clients, a logged-in
WordPress admin. Fixtures are in conftest.py."""

from __future__ import annotations

import hashlib
import os
import secrets
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import httpx

from hakobune.versions import image_refs

REPO = Path(__file__).resolve().parents[2]
HAKOBUNE = Path(sys.executable).parent / "hakobune"
LABEL = "io.hakobune.site"
BASE_IMAGE = "debian:trixie-slim"


def hb(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 900,
       input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the hakobune command as a user would, from `cwd`."""
    full_env = {**os.environ, **(env or {})}
    full_env["PATH"] = f"{HAKOBUNE.parent}:{full_env.get('PATH', '')}"
    return subprocess.run([str(HAKOBUNE), *args], cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout, input=input, check=False)


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True, timeout=300).stdout


def pinned(recorded: dict[str, str]) -> dict[str, str]:
    """RECORDED (image name -> the build a site names) where each is a numbered build of this Hakobune's version
    and the very image its version's tag names, as provision records them, each as that version's tag (so that
    a test compares with image_refs(); another test's rebuild may have given the same image a newer number)."""
    found = {}
    for name, ref in recorded.items():
        version_ref = image_refs()[name]
        number = ref.removeprefix(f"{version_ref}-")
        same = number.isdigit() and image_id(ref) == image_id(version_ref)
        found[name] = version_ref if same else ref
    return found


def image_id(ref: str) -> str:
    return docker("image", "inspect", "--format", "{{.Id}}", ref).strip()


def leftovers(site: str) -> dict[str, list[str]]:
    """Every container, volume and network still labelled for the site."""
    selector = f"label={LABEL}={site}"
    return {
        "containers": docker("ps", "-a", "-q", "--filter", selector).split(),
        "volumes": docker("volume", "ls", "-q", "--filter", selector).split(),
        "networks": docker("network", "ls", "-q", "--filter", selector).split(),
    }


NOTHING = {"containers": [], "volumes": [], "networks": []}


def free_port() -> int:
    """A port free for both TCP and UDP (the TLS port is published for HTTP/3 too), taken below the kernel's
    ephemeral range: a port in that range can be taken at any moment by an outgoing socket, a DNS query's among
    them, which made a site's publish fail once in CI."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    chooser = secrets.SystemRandom()
    for _ in range(200):
        port = chooser.randrange(10000, low)
        if all(_bindable(port, kind) for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM)):
            return port
    raise RuntimeError(f"no port below {low} is free for both TCP and UDP")


def _bindable(port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind(("0.0.0.0", port))  # noqa: S104 - the same test Docker makes when publishing
        except OSError:
            return False
        return True


def site_name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


ADMIN_PASSWORD = "e2e-Admin-pass-1"


@dataclass
class Provisioned:
    web: str
    name: str
    folder: Path
    http_port: int
    tls_port: int
    title: str
    output: str
    seconds_to_first_200: float

    @property
    def url(self) -> str:
        return f"https://localhost:{self.tls_port}"

    @property
    def prefix(self) -> str:
        """Its web server's settings prefix."""
        return {"nginx": "NGINX_", "httpd": "HTTPD_"}[self.web]


def client(timeout: float = 30) -> httpx.Client:
    # The certificate is self-signed: what is checked here is the protocol, not the trust chain.
    http = httpx.Client(http2=True, verify=False, timeout=timeout)  # noqa: S501 - self-signed by design
    http.cookies.set("wordpress_test_cookie", "WP Cookie check")  # what wp-login.php's page sets in JS
    return http


def provision_site(web: str, sites_dir: Path, prefix: str = "e2e", env: dict[str, str] | None = None) -> Provisioned:
    """Provision a site as a user would, on free ports, and wait for its first 200 (ENV: more of the
    environment hakobune runs with)."""
    name = site_name(f"{prefix}-{web}")
    http_port, tls_port = free_port(), free_port()
    title = f"Hakobune E2E {name}"
    started = time.monotonic()
    # The password on standard input, as the docs recommend (never on the command line).
    result = hb("provision", "--fqdn", "localhost", "--http-port", str(http_port), "--tls-port", str(tls_port),
                "--wp-title", title, "--admin-pass-file", "-", "--admin-email", "owner@example.com",
                f"--{web}", name, cwd=sites_dir, env=env, input=f"{ADMIN_PASSWORD}\n")
    assert result.returncode == 0, result.stderr
    with client() as http:
        while http.get(f"https://localhost:{tls_port}/").status_code != 200:
            time.sleep(0.2)
    return Provisioned(web, name, sites_dir / name, http_port, tls_port, title, result.stdout,
                       time.monotonic() - started)


def logs_in(url: str, login: str, password: str) -> bool:
    """A real login through wp-login.php that reaches the dashboard."""
    with client() as http:
        http.get(f"{url}/wp-login.php")
        response = http.post(f"{url}/wp-login.php", data={"log": login, "pwd": password, "wp-submit": "Log In",
                                                          "redirect_to": f"{url}/wp-admin/", "testcookie": "1"})
        if response.status_code != 302:
            return False
        return http.get(f"{url}/wp-admin/").status_code == 200


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def fingerprint(folder: Path) -> dict[str, str]:
    """Everything a restore may change: the checksum of every table, the databases on the server, and every
    file of the site volume with its size, time and mode."""
    def run(*args: str) -> str:
        return ok(hb("exec", *args, cwd=folder))

    tables = run("db", "--", "mariadb", "-N", "-e", "SELECT GROUP_CONCAT(CONCAT('wordpress.', table_name)) "
                 "FROM information_schema.tables WHERE table_schema = 'wordpress'").strip()
    return {
        "tables": run("db", "--", "mariadb", "-N", "-e", f"CHECKSUM TABLE {tables} EXTENDED"),
        "databases": run("db", "--", "mariadb", "-N", "-e", "SHOW DATABASES"),
        "files": hashlib.sha256(run("php", "--", "find", "/srv/site", "-mindepth", "1", "-printf",
                                    "%p %s %T@ %m\\n").encode()).hexdigest(),
    }


def png(width: int = 40, height: int = 30) -> bytes:
    """A valid PNG of random pixels: WordPress accepts it as an image, and no two are alike."""
    rows = b"".join(b"\x00" + os.urandom(width * 3) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


class WordPressAdmin:
    """A logged-in administrator working through WordPress's REST API, as its block editor does."""

    def __init__(self, url: str, login: str = "admin", password: str = ADMIN_PASSWORD) -> None:
        self.url = url
        self.http = client()
        self.http.get(f"{url}/wp-login.php")
        response = self.http.post(f"{url}/wp-login.php", data={
            "log": login, "pwd": password, "wp-submit": "Log In", "redirect_to": f"{url}/wp-admin/",
            "testcookie": "1"})
        assert response.status_code == 302, f"login as {login} failed"
        nonce = self.http.get(f"{url}/wp-admin/admin-ajax.php", params={"action": "rest-nonce"})
        assert nonce.status_code == 200, nonce.text
        self.http.headers["X-WP-Nonce"] = nonce.text.strip()

    def post(self, path: str, **kwargs: object) -> dict:
        response = self.http.post(f"{self.url}/wp-json/wp/v2/{path}", **kwargs)  # type: ignore[arg-type]
        assert response.status_code in (200, 201), response.text
        return response.json()

    def upload(self, name: str, data: bytes) -> dict:
        return self.post("media", content=data, headers={
            "Content-Type": "image/png", "Content-Disposition": f'attachment; filename="{name}"'})

    def close(self) -> None:
        self.http.close()


def ssh_client(work: Path) -> tuple[str, str]:
    """A key pair for a test server, and a folder holding an `ssh` that uses it without host-key prompts (the
    server's host key is new each run). Put the folder first on PATH; returns (public key, folder)."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / "key")], check=True)
    bin_dir = work / "bin"
    bin_dir.mkdir()
    (bin_dir / "ssh").write_text(f"#!/bin/sh\nexec /usr/bin/ssh -i {work / 'key'} -o StrictHostKeyChecking=no "
                                 "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \"$@\"\n")
    (bin_dir / "ssh").chmod(0o755)
    return (work / "key.pub").read_text(), str(bin_dir)


def interruptible() -> None:
    """preexec_fn for a hakobune that a test interrupts: Ctrl-C's default action, even when the test run itself
    was started in the background of a shell (which ignores SIGINT, and the child would inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
