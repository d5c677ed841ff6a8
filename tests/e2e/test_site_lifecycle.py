"""The walking skeleton, end to end, on each web server (nginx and Apache httpd): provision a WordPress site, use
it over HTTPS as a browser would, check its TLS, log in to wp-admin, inspect its containers, change its
settings, read its status, remove it and find nothing left."""

from __future__ import annotations

import json
import re
import ssl
import subprocess
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import yaml
from cryptography import x509
from sslyze import (
    Scanner,
    ServerNetworkLocation,
    ServerScanRequest,
    ServerScanStatusEnum,
)
from sslyze.plugins.scan_commands import ScanCommand

from hakobune.site import MONITOR_NETWORK
from hakobune.versions import image_refs
from tests.e2e.helpers import (
    ADMIN_PASSWORD,
    NOTHING,
    client,
    docker,
    hb,
    leftovers,
    pinned,
    provision_site,
)

pytestmark = pytest.mark.e2e

# Mozilla "intermediate" TLS 1.2 suites (OpenSSL names); TLS 1.3 suites are all acceptable.
MOZILLA_INTERMEDIATE_TLS12 = {
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305",
}


@pytest.fixture(scope="module", params=["nginx", "httpd"])
def site(request, images, sites_dir):
    site = provision_site(request.param, sites_dir)
    print(f"\n{site.web}: provision to first 200: {site.seconds_to_first_200:.1f}s")  # a figure for the closing note
    yield site
    if site.folder.exists():  # the removal test failed: still leave nothing behind
        hb("remove", "-y", str(site.folder), cwd=sites_dir)


def test_provision_prints_url_and_admin_but_not_a_given_password(site):
    assert f"https://localhost:{site.tls_port}/" in site.output
    assert "user:     admin" in site.output
    assert ADMIN_PASSWORD not in site.output


def test_site_folder_holds_settings_compose_and_private_secrets(site):
    assert sorted(p.name for p in site.folder.iterdir()) == ["compose.yaml", "hakobune.yaml", "secrets.env"]
    assert (site.folder / "secrets.env").stat().st_mode & 0o777 == 0o600
    compose = (site.folder / "compose.yaml").read_text()
    for line in (site.folder / "secrets.env").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            assert line.split("=", 1)[1] not in compose


def test_site_records_its_images_and_the_engine_lists_who_uses_them(site):
    recorded = yaml.safe_load((site.folder / "hakobune.yaml").read_text())["site"]["images"]
    assert pinned(recorded) == {name: ref for name, ref in image_refs().items() if name in recorded}
    listing = json.loads(hb("images", "list", "--json", cwd=site.folder).stdout)
    users = {item["ref"]: item["sites"] for item in listing}
    assert set(recorded) == {site.web, "php", "mariadb", "valkey", "metrics", "ops"}
    for ref in (recorded[site.web], recorded["php"], recorded["mariadb"]):
        assert site.name in users[ref]
    assert all(item["size"] > 10_000_000 for item in listing)


def test_home_page_over_http2_and_tls13(site):
    with client() as http, http.stream("GET", f"{site.url}/") as response:
        tls = response.extensions["network_stream"].get_extra_info("ssl_object")
        assert tls.version() == "TLSv1.3"
        assert response.http_version == "HTTP/2"
        assert response.status_code == 200
        body = response.read().decode()
    assert f"<title>{site.title}" in body
    # WordPress builds its links from the site URL, port included.
    assert f"https://localhost:{site.tls_port}/" in body


def test_certificate_is_a_server_certificate_for_the_site(site):
    pem = ssl.get_server_certificate(("localhost", site.tls_port))
    cert = x509.load_pem_x509_certificate(pem.encode())
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName) == ["localhost"]
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days <= 366  # Mozilla's limit


def test_http_redirects_to_https_with_308(site):
    with httpx.Client(timeout=30) as http:
        response = http.get(f"http://localhost:{site.http_port}/sample-page/?x=1")
    assert response.status_code == 308
    assert response.headers["location"] == f"https://localhost:{site.tls_port}/sample-page/?x=1"


def test_tls_policy_is_mozilla_intermediate(site):
    scanner = Scanner()
    scanner.queue_scans([ServerScanRequest(
        server_location=ServerNetworkLocation("localhost", site.tls_port, ip_address="127.0.0.1"),
        scan_commands={ScanCommand.SSL_2_0_CIPHER_SUITES, ScanCommand.SSL_3_0_CIPHER_SUITES,
                       ScanCommand.TLS_1_0_CIPHER_SUITES, ScanCommand.TLS_1_1_CIPHER_SUITES,
                       ScanCommand.TLS_1_2_CIPHER_SUITES, ScanCommand.TLS_1_3_CIPHER_SUITES},
    )])
    (scan,) = list(scanner.get_results())
    assert scan.scan_status == ServerScanStatusEnum.COMPLETED
    result = scan.scan_result
    for old in ("ssl_2_0_cipher_suites", "ssl_3_0_cipher_suites", "tls_1_0_cipher_suites", "tls_1_1_cipher_suites"):
        assert getattr(result, old).result.accepted_cipher_suites == [], old
    tls12 = {s.cipher_suite.openssl_name for s in result.tls_1_2_cipher_suites.result.accepted_cipher_suites}
    assert tls12 and tls12 <= MOZILLA_INTERMEDIATE_TLS12, tls12
    assert result.tls_1_3_cipher_suites.result.accepted_cipher_suites


def test_tls12_with_a_modern_suite_still_works(site):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_2
    with httpx.Client(verify=context, timeout=30) as http:
        assert http.get(f"{site.url}/").status_code == 200


def test_admin_logs_in_to_the_dashboard(site):
    with client() as http:
        login_page = http.get(f"{site.url}/wp-login.php")
        assert login_page.status_code == 200
        response = http.post(
            f"{site.url}/wp-login.php",
            data={"log": "admin", "pwd": ADMIN_PASSWORD, "wp-submit": "Log In",
                  "redirect_to": f"{site.url}/wp-admin/", "testcookie": "1"},
        )
        assert response.status_code == 302, response.text[:500]
        assert response.headers["location"] == f"{site.url}/wp-admin/"
        dashboard = http.get(f"{site.url}/wp-admin/")
        assert dashboard.status_code == 200
        assert re.search(r"<title>Dashboard ", dashboard.text)


def test_wrong_password_is_refused(site):
    with client() as http:
        http.get(f"{site.url}/wp-login.php")
        response = http.post(f"{site.url}/wp-login.php",
                             data={"log": "admin", "pwd": "not-the-password", "testcookie": "1"})
        assert response.status_code == 200
        assert "is incorrect" in response.text


def test_status_shows_every_service_healthy(site, sites_dir):
    result = hb("status", "-C", str(site.folder), cwd=sites_dir)
    assert result.returncode == 0, result.stderr
    for service in ("web", "php", "db", "valkey", "cron", "metrics"):
        assert re.search(rf"^ *{service} +running +healthy", result.stdout, re.MULTILINE), result.stdout
    inside = hb("status", "--json", cwd=site.folder)
    assert inside.returncode == 0, inside.stderr
    data = json.loads(inside.stdout)
    assert data["site"] == site.name
    assert {s["service"]: s["health"] for s in data["services"]} == {"web": "healthy", "php": "healthy",
                                                                       "db": "healthy", "valkey": "healthy",
                                                                       "cron": "healthy", "metrics": "healthy"}


def test_running_containers_are_hardened(site):
    for service in ("web", "php", "db", "valkey", "cron", "metrics"):
        (info,) = json.loads(docker("inspect", f"hb-{site.name}-{service}-1"))
        host = info["HostConfig"]
        assert info["Config"]["User"] not in ("", "root", "0"), service
        assert docker("exec", info["Id"], "id", "-u").strip() != "0", service
        assert host["ReadonlyRootfs"] is True, service
        assert host["CapDrop"] == ["ALL"] and not host["CapAdd"], service
        assert "no-new-privileges:true" in host["SecurityOpt"], service
        # The site's network alone; the metrics service is on the engine's monitoring network too.
        networks = {f"hb-{site.name}_site", *((MONITOR_NETWORK,) if service == "metrics" else ())}
        assert set(info["NetworkSettings"]["Networks"]) == networks, service
        published = {port for port, bindings in (info["NetworkSettings"]["Ports"] or {}).items() if bindings}
        # HTTP/3 is nginx's: the TLS port's UDP twin
        web_ports = {"8080/tcp", "8443/tcp"} | ({"8443/udp"} if site.web == "nginx" else set())
        assert published == (web_ports if service == "web" else set()), service
        write = subprocess.run(["docker", "exec", info["Id"], "touch", "/usr/local/hakobune-was-here"],
                               capture_output=True, text=True, check=False)
        assert write.returncode != 0 and "Read-only file system" in write.stderr, service


def test_healthchecks_probe_the_real_thing(site):
    web, php, db, valkey = (f"hb-{site.name}-{service}-1" for service in ("web", "php", "db", "valkey"))
    for container in (web, php, db, valkey):
        docker("exec", container, "hakobune-healthcheck")
    # The web check passes through nginx to PHP-FPM: with PHP frozen, it fails.
    docker("pause", php)
    try:
        frozen = subprocess.run(["docker", "exec", web, "hakobune-healthcheck"], capture_output=True, check=False,
                                timeout=60)
        assert frozen.returncode != 0
    finally:
        docker("unpause", php)
    docker("exec", web, "hakobune-healthcheck")


def test_more_visitors_than_php_processes_are_all_answered(site):
    """A FastCGI connection the web server keeps open ties a PHP-FPM process to it: with more visitors than
    processes, requests on the other connections would wait in PHP-FPM's backlog until a timeout (minutes)."""
    result = hb("config", "set", "PHP_FPM_MAX_CHILDREN=2", cwd=site.folder)
    assert result.returncode == 0, result.stderr

    def visitor(number: int) -> list[int]:
        # Its own connection; a query string keeps the page cache out of the way, so each request runs PHP.
        with client(timeout=60) as http:
            return [http.get(f"{site.url}/?hb-visitor={number}-{page}").status_code for page in range(3)]

    try:
        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(visitor, range(12)))
    finally:
        assert hb("config", "unset", "PHP_FPM_MAX_CHILDREN", cwd=site.folder).returncode == 0
    assert answers == [[200, 200, 200]] * 12


def started_at(site, service):
    return json.loads(docker("inspect", f"hb-{site.name}-{service}-1"))[0]["State"]["StartedAt"]


def upload_limit_shown_to_the_admin(site):
    """The upload limit as PHP-FPM reports it to WordPress, on the media upload page."""
    with client() as http:
        http.post(f"{site.url}/wp-login.php", data={"log": "admin", "pwd": ADMIN_PASSWORD, "testcookie": "1"})
        page = http.get(f"{site.url}/wp-admin/media-new.php")
    assert page.status_code == 200
    return re.search(r"Maximum upload file size: ([^.<]+)", page.text).group(1)


def test_config_set_applies_and_restarts_only_what_it_affects(site):
    assert upload_limit_shown_to_the_admin(site) == "64 MB"
    db_started = started_at(site, "db")
    result = hb("config", "set", "PHP_UPLOAD_MAX_FILESIZE=32M", f"{site.prefix}HSTS_MAX_AGE=31536000",
                cwd=site.folder)
    assert result.returncode == 0, result.stderr
    assert "restarted: php, web" in result.stdout
    assert upload_limit_shown_to_the_admin(site) == "32 MB"
    with client() as http:
        assert http.get(f"{site.url}/").headers["strict-transport-security"] == "max-age=31536000"
    assert started_at(site, "db") == db_started
    assert hb("config", "get", "PHP_UPLOAD_MAX_FILESIZE", "-C", str(site.folder), cwd=site.folder).stdout.strip() \
        == "32M"

    result = hb("config", "unset", f"{site.prefix}HSTS_MAX_AGE", cwd=site.folder)
    assert result.returncode == 0, result.stderr
    with client() as http:
        assert "strict-transport-security" not in http.get(f"{site.url}/").headers
    listing = json.loads(hb("config", "get", "--json", cwd=site.folder).stdout)
    changed = {v["name"]: v["value"] for v in listing if v["changed"]}
    assert changed == {"PHP_UPLOAD_MAX_FILESIZE": "32M"}


def test_web_settings_for_redirect_headers_and_compression(site):
    p = site.prefix
    with client() as http:
        response = http.get(f"{site.url}/", headers={"Accept-Encoding": "br, gzip"})
        assert response.headers["content-encoding"] == "br"
        assert response.headers["x-frame-options"] == "SAMEORIGIN"
        assert response.headers["x-content-type-options"] == "nosniff"
    result = hb("config", "set", f"{p}HTTPS_REDIRECT=off", f"{p}SECURITY_HEADERS=off", f"{p}BROTLI=off",
                cwd=site.folder)
    assert result.returncode == 0, result.stderr
    with httpx.Client(timeout=30) as plain:
        served = plain.get(f"http://localhost:{site.http_port}/wp-includes/css/dashicons.min.css")
        assert served.status_code == 200 and served.headers["content-type"].startswith("text/css")
    with client() as http:
        response = http.get(f"{site.url}/", headers={"Accept-Encoding": "br, gzip"})
        assert response.headers["content-encoding"] == "gzip"
        assert "x-content-type-options" not in response.headers
    result = hb("config", "unset", f"{p}HTTPS_REDIRECT", f"{p}SECURITY_HEADERS", f"{p}BROTLI", cwd=site.folder)
    assert result.returncode == 0, result.stderr
    with httpx.Client(timeout=30) as plain:
        assert plain.get(f"http://localhost:{site.http_port}/").status_code == 308


def secret_files(site) -> list[str]:
    return docker("run", "--rm", "-v", f"hb-{site.name}_secrets-app:/s", "--entrypoint", "ls", image_refs()["ops"],
                  "/s").split()


def test_config_change_that_fails_after_applying_puts_everything_back(site):
    """Plain and secret settings together; the change fails once applied (a failpoint stands in for a service
    that does not come up): the files, the secret volume and the running service are as they were."""
    files = {name: (site.folder / name).read_text() for name in ("hakobune.yaml", "compose.yaml", "secrets.env")}
    assert secret_files(site) == ["db_password"]
    result = hb("config", "set", "PHP_UPLOAD_MAX_FILESIZE=16M", "PHP_SMTP_PASSWORD=never-kept", cwd=site.folder,
                env={"HAKOBUNE_FAILPOINT": "config-applied"})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == ("error: settings not applied, the previous ones are back: "
                                                      "stopped at step 'config-applied' (HAKOBUNE_FAILPOINT is set)")
    assert {name: (site.folder / name).read_text() for name in files} == files
    assert secret_files(site) == ["db_password"]
    assert upload_limit_shown_to_the_admin(site) == "32 MB"  # as the test before left it


SMTP_SINK = r"""
// A minimal SMTP peer: prints what it receives, and checks SCRAM-SHA-256 logins (RFC 5802) against the
// password in SMTP_PASSWORD, so a login only succeeds when the client had exactly that password.
function scram(?array &$s, string $message, string $password): string {
    if (!isset($s['bare'])) {  // client-first: n,,n=USER,r=NONCE
        preg_match('/^n,[^,]*,(n=([^,]*),r=([^,]*))$/', $message, $m);
        $s += ['bare' => $m[1], 'user' => $m[2], 'salt' => random_bytes(16)];
        $s['first'] = 'r=' . $m[3] . bin2hex(random_bytes(8)) . ',s=' . base64_encode($s['salt']) . ',i=4096';
        return '334 ' . base64_encode($s['first']);
    }
    if (isset($s['done'])) {  // the client's empty answer to our signature
        $s = null;
        return '235 authenticated';
    }
    preg_match('/^(c=[^,]*,r=[^,]*),p=(.*)$/', $message, $m);
    $salted = hash_pbkdf2('sha256', $password, $s['salt'], 4096, 32, true);
    $clientKey = hash_hmac('sha256', 'Client Key', $salted, true);
    $auth = "{$s['bare']},{$s['first']},{$m[1]}";
    $proof = $clientKey ^ hash_hmac('sha256', $auth, hash('sha256', $clientKey, true), true);
    if (!hash_equals($proof, (string) base64_decode($m[2]))) {
        echo "AUTH-FAILED {$s['user']}\n";
        $s = null;
        return '535 authentication failed';
    }
    echo "AUTH-OK {$s['user']}\n";
    $s['done'] = true;
    $serverKey = hash_hmac('sha256', 'Server Key', $salted, true);
    return '334 ' . base64_encode('v=' . base64_encode(hash_hmac('sha256', $auth, $serverKey, true)));
}

$password = (string) getenv('SMTP_PASSWORD');
$server = stream_socket_server('tcp://0.0.0.0:2525');
while ($client = stream_socket_accept($server, -1)) {
    fwrite($client, "220 sink\r\n");
    $data = false;
    $scram = null;
    while (($line = fgets($client)) !== false) {
        if ($data) {
            if (rtrim($line, "\r\n") === '.') { $data = false; fwrite($client, "250 queued\r\n"); }
            else { echo $line; }
            continue;
        }
        if ($scram !== null) {
            fwrite($client, scram($scram, (string) base64_decode(trim($line)), $password) . "\r\n");
            continue;
        }
        echo $line;
        $words = preg_split('/\s+/', trim($line));
        $verb = strtoupper($words[0]);
        if ($verb === 'EHLO') { fwrite($client, "250-sink\r\n250 AUTH SCRAM-SHA-256\r\n"); }
        elseif ($verb === 'AUTH') {
            $scram = [];
            fwrite($client, (isset($words[2]) ? scram($scram, base64_decode($words[2]), $password) : '334 ') . "\r\n");
        }
        elseif ($verb === 'DATA') { $data = true; fwrite($client, "354 go ahead\r\n"); }
        elseif ($verb === 'QUIT') { fwrite($client, "221 bye\r\n"); break; }
        else { fwrite($client, "250 ok\r\n"); }
    }
    fclose($client);
}
"""
SMTP_SETTINGS = ("PHP_SMTP_HOST=smtp-sink", "PHP_SMTP_PORT=2525", "PHP_SMTP_TLS=off",
                 "PHP_SMTP_FROM=wordpress@example.com")
# Spaces, quotes and a backslash: the password must reach msmtp exactly as given.
SMTP_PASSWORD = 'correct "horse" \\ battery'


def ask_for_password_reset(site) -> str:
    with client() as http:
        response = http.post(f"{site.url}/wp-login.php?action=lostpassword",
                             data={"user_login": "admin", "redirect_to": "", "wp-submit": "Get New Password"})
    return response.headers.get("location", "") + response.text


def in_php(site, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "exec", f"hb-{site.name}-php-1", "sh", "-c", command],
                          capture_output=True, text=True, timeout=60, check=False)


def test_wordpress_mail_goes_through_the_smtp_relay(site):
    """A real SMTP peer (a little PHP) on the site's network; WordPress's password-reset mail reaches it, first
    without authentication, then with a user and a secret password (SCRAM-SHA-256: the peer accepts exactly that
    password), which never appears in compose.yaml and is removed again by `config unset`."""
    sink = docker("run", "-d", "--network", f"hb-{site.name}_site", "--network-alias", "smtp-sink",
                  "-e", f"SMTP_PASSWORD={SMTP_PASSWORD}", "--entrypoint", "php", image_refs()["ops"],
                  "-r", SMTP_SINK).strip()
    try:
        assert "could not be sent" in ask_for_password_reset(site)  # no relay: the failure shows
        result = hb("config", "set", *SMTP_SETTINGS, cwd=site.folder)
        assert result.returncode == 0, result.stderr
        assert "checkemail=confirm" in ask_for_password_reset(site)
        received = docker("logs", sink)
        assert "MAIL FROM:<wordpress@example.com>" in received
        assert "RCPT TO:<owner@example.com>" in received
        assert "action=rp" in received and "password reset request" in received  # the reset link and its text
        assert "AUTH-" not in received

        result = hb("config", "set", "PHP_SMTP_USER=relay-user", f"PHP_SMTP_PASSWORD={SMTP_PASSWORD}",
                    cwd=site.folder)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().endswith("restarted: php")
        assert SMTP_PASSWORD not in (site.folder / "compose.yaml").read_text()
        assert (site.folder / "secrets.env").stat().st_mode & 0o777 == 0o600
        assert f"PHP_SMTP_PASSWORD={SMTP_PASSWORD}\n" in (site.folder / "secrets.env").read_text()
        shown = hb("config", "get", "PHP_SMTP_PASSWORD", cwd=site.folder)
        assert shown.stdout.strip() == "(secret, set)"
        owner = in_php(site, "stat -c '%U %a' \"$PHP_SMTP_PASSWORD_FILE\"")
        assert owner.stdout.strip() == "www-data 400", owner
        assert "checkemail=confirm" in ask_for_password_reset(site)
        received = docker("logs", sink).splitlines()
        assert "AUTH-OK relay-user" in received
        assert "AUTH-FAILED relay-user" not in received

        result = hb("config", "unset", "PHP_SMTP_PASSWORD", "PHP_SMTP_USER", cwd=site.folder)
        assert result.returncode == 0, result.stderr
        assert "PHP_SMTP_PASSWORD" not in (site.folder / "secrets.env").read_text()
        assert in_php(site, "echo \"${PHP_SMTP_PASSWORD_FILE:-none}\"").stdout.strip() == "none"
        assert secret_files(site) == ["db_password"]
    finally:
        docker("rm", "-f", "-v", sink)  # -v: the image declares a volume
        hb("config", "unset", *(pair.split("=")[0] for pair in SMTP_SETTINGS), "PHP_SMTP_USER", "PHP_SMTP_PASSWORD",
           cwd=site.folder)


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("PHP_MEMORY_LIMIT=32M", "error: invalid PHP_MEMORY_LIMIT='32M': must be at least 64M"),
        ("PHP_UPLAOD_MAX_FILESIZE=8M", "error: unknown setting 'PHP_UPLAOD_MAX_FILESIZE' (hint: did you mean "
                                       "PHP_UPLOAD_MAX_FILESIZE?)"),
        ("{WEB}GZIP=maybe", "error: invalid {WEB}GZIP='maybe': must be one of: on off"),
        ("{OTHER}GZIP=off", "error: {OTHER}GZIP is a setting of the {other} image, which this site does not run"),
        # Only the image knows these: the check runs its entrypoint before the site is touched.
        # (within the php container's memory limit: how many children fit depends on the host; see
        # test_operations.py for the exact figure under a limit of 512M)
        ("PHP_FPM_START_SERVERS=2000", "error: invalid PHP_FPM_START_SERVERS='2000': must not exceed "
                                       "PHP_FPM_MAX_CHILDREN ("),
        ("PHP_TIMEZONE=Mars/Olympus", "error: invalid PHP_TIMEZONE='Mars/Olympus': is not a known time zone"),
        ("SITE_FQDN=evil.example", "error: SITE_FQDN is managed by Hakobune"),
        ("PHP_MEMORY_LIMIT", "error: 'PHP_MEMORY_LIMIT' is not KEY=VALUE"),
        ("PHP_SMTP_PASSWORD=", "error: invalid PHP_SMTP_PASSWORD (value hidden): must be 1 to 256 printable"),
        ("MARIADB_ROOT_PASSWORD=x", "error: MARIADB_ROOT_PASSWORD is managed by Hakobune"),
        # Control characters would reach an entrypoint and the terminal: refused, and never echoed.
        ("PHP_TIMEZONE=UTC\x1b[2J", "error: invalid PHP_TIMEZONE (value hidden): must not contain control characters"),
        ("{WEB}TRUSTED_PROXIES=evil.example", "error: invalid {WEB}TRUSTED_PROXIES='evil.example': must be IP "
                                              "addresses or CIDR ranges"),
    ],
)
def test_config_set_refuses_bad_settings_and_leaves_the_site_untouched(site, assignment, message):
    other = "httpd" if site.web == "nginx" else "nginx"
    names = {"WEB": site.prefix, "OTHER": other.upper() + "_", "other": other}
    assignment, message = assignment.format(**names), message.format(**names)
    settings = (site.folder / "hakobune.yaml").read_text()
    started = {service: started_at(site, service) for service in ("web", "php", "db")}
    result = hb("config", "set", assignment, cwd=site.folder)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(message)
    assert (site.folder / "hakobune.yaml").read_text() == settings
    assert {service: started_at(site, service) for service in ("web", "php", "db")} == started


def test_remove_leaves_nothing(site, sites_dir):
    assert leftovers(site.name) != NOTHING
    result = hb("remove", "-y", site.name, cwd=sites_dir)
    assert result.returncode == 0, result.stderr
    assert not site.folder.exists()
    assert leftovers(site.name) == NOTHING
