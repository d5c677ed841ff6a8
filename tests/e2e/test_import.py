"""Migration: a tightly coupled server (Apache with mod_php, MariaDB and sshd in one container, the "before" of
the seed) holds a WordPress site with posts and an uploaded image. `import --from-ssh` moves it into a Hakobune
site under a new host name; posts, image bytes, table prefix, salts and the admin's password all survive.
A folder and a SQL dump on the client (`--from-dir --sql`) work the same, and so does a plain PHP application
(`--lamp`)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time

import pytest

from hakobune.versions import image_refs
from tests.e2e.helpers import (
    BASE_IMAGE,
    NOTHING,
    REPO,
    client,
    docker,
    free_port,
    hb,
    leftovers,
    logs_in,
    ok,
    png,
    site_name,
    ssh_client,
)

pytestmark = pytest.mark.e2e

LEGACY_IMAGE = "hakobune-test/legacy-lamp"
OLD_URL = "http://old-harbour.example.test"
OLD_ADMIN_PASSWORD = "Old-admin-pass-1"
POSTS = ["Boats at dawn", "The harbour festival", "Nets and knots"]


@pytest.fixture(scope="module")
def legacy(images, tmp_path_factory):
    work = tmp_path_factory.mktemp("legacy")
    public_key, bin_dir = ssh_client(work)
    subprocess.run(["docker", "build", "-q", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}",
                    "--build-arg", f"PHP_IMAGE={image_refs()['php']}", "-t", LEGACY_IMAGE,
                    str(REPO / "tests" / "e2e" / "legacy_lamp")], check=True, capture_output=True, timeout=900)
    name = site_name("hb-test-legacy")
    ssh_port = free_port()
    docker("run", "-d", "--name", name, "-e", f"AUTHORIZED_KEY={public_key}", "-p", f"127.0.0.1:{ssh_port}:22",
           LEGACY_IMAGE)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    try:
        deadline = time.monotonic() + 120
        while subprocess.run(["ssh", "-p", str(ssh_port), "root@127.0.0.1", "true"], env={**os.environ, **env},
                             capture_output=True).returncode:
            assert time.monotonic() < deadline, docker("logs", name)
            time.sleep(1)
        image = png(60, 40)
        request = {"url": OLD_URL, "admin_password": OLD_ADMIN_PASSWORD, "posts": POSTS,
                   "image": base64.b64encode(image).decode()}
        made = subprocess.run(["docker", "exec", "-i", name, "php", "/usr/local/lib/legacy-setup.php"],
                              input=json.dumps(request), capture_output=True, text=True, check=True, timeout=300)
        setup = json.loads(made.stdout.strip().splitlines()[-1])
        yield {"name": name, "ssh_port": ssh_port, "env": env, "image_bytes": image, **setup}
    finally:
        docker("rm", "-f", "-v", name)


def site_url(tls_port: int) -> str:
    return f"https://localhost:{tls_port}"


def import_args(name: str, tls_port: int, *source: str) -> list[str]:
    return ["import", name, "--fqdn", "localhost", "--http-port", str(free_port()), "--tls-port", str(tls_port),
            *source]


def old_server_state(legacy) -> str:
    tables = "legacywp.legacy_posts, legacywp.legacy_users, legacywp.legacy_options"
    files = docker("exec", legacy["name"], "sh", "-c", "find /var/www/html -printf '%p %s %T@ %m %u\\n' | sha256sum")
    return docker("exec", legacy["name"], "mariadb", "-N", "-e", f"CHECKSUM TABLE {tables} EXTENDED") + files


def test_a_tightly_coupled_server_moves_in_over_ssh(legacy, sites_dir):
    name, tls_port = site_name("imported"), free_port()
    before = old_server_state(legacy)
    started = time.monotonic()
    out = ok(hb(*import_args(name, tls_port, "--from-ssh", "root@127.0.0.1:/var/www/html", "--ssh-port",
                             str(legacy["ssh_port"])), cwd=sites_dir, env=legacy["env"]))
    print(f"\nimport over SSH: {time.monotonic() - started:.1f} s")
    url = site_url(tls_port)
    try:
        assert f"Site {name} imported from root@127.0.0.1:/var/www/html: {url}/" in out
        assert f"prefix legacy_; URLs rewritten from {OLD_URL}" in out
        image_path = legacy["image"].removeprefix(OLD_URL)
        with client() as http:
            for title, link in legacy["posts"].items():
                page = http.get(f"{url}{link.removeprefix(OLD_URL)}")
                assert page.status_code == 200 and title in page.text
                assert f"{url}{image_path}" in page.text and OLD_URL not in page.text
            image = http.get(f"{url}{image_path}")
        assert image.status_code == 200 and image.content == legacy["image_bytes"]
        assert logs_in(url, "admin", OLD_ADMIN_PASSWORD)
        # Table prefix, salts and the site's own settings are kept; the database settings are the stack's.
        folder = sites_dir / name
        tables = ok(hb("exec", "db", "--", "mariadb", "-N", "-e", "SHOW TABLES FROM wordpress LIKE 'legacy_posts'",
                       cwd=folder))
        assert tables.strip() == "legacy_posts"
        secrets = (folder / "secrets.env").read_text()
        assert all(f"WP_{key}={salt}\n" in secrets for key, salt in legacy["salts"].items())
        config = ok(hb("exec", "php", "--", "cat", "/srv/site/wp-config.php", cwd=folder))
        assert "define('WP_POST_REVISIONS', 3);" in config and "Legacy-db-pass-1" not in config
        assert "define('DB_HOST', 'db');" in config
        gone = hb("exec", "php", "--", "test", "-e", "/srv/site/public/wp-config.php", cwd=folder)
        assert gone.returncode == 1  # the old one, which would win over the new, is not in the docroot
        owners = ok(hb("exec", "php", "--", "find", "/srv/site", "!", "-user", "www-data", cwd=folder))
        assert owners.strip() == ""
    finally:
        ok(hb("remove", "-y", name, cwd=sites_dir))
    assert leftovers(name) == NOTHING
    assert old_server_state(legacy) == before  # the old server was only read


def test_a_folder_and_a_dump_on_the_client_move_in(legacy, sites_dir, tmp_path):
    """The same site, copied off the server by hand: the docroot and a gzip-compressed dump."""
    docroot = tmp_path / "html"
    docroot.mkdir()
    copy = subprocess.Popen(["docker", "exec", legacy["name"], "tar", "-C", "/var/www/html", "-cf", "-", "."],
                            stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-f", "-", "-C", str(docroot)], stdin=copy.stdout, check=True)
    assert copy.wait() == 0
    dump = tmp_path / "legacy.sql.gz"
    with dump.open("wb") as out:
        dumped = subprocess.Popen(["docker", "exec", legacy["name"], "mariadb-dump", "--databases", "legacywp"],
                                  stdout=subprocess.PIPE)
        subprocess.run(["gzip"], stdin=dumped.stdout, stdout=out, check=True)
        assert dumped.wait() == 0
    name, tls_port = site_name("imported-dir"), free_port()
    ok(hb(*import_args(name, tls_port, "--from-dir", str(docroot), "--sql", str(dump)), cwd=sites_dir))
    try:
        url = site_url(tls_port)
        with client() as http:
            front = http.get(f"{url}/")
            image = http.get(f"{url}{legacy['image'].removeprefix(OLD_URL)}")
        assert front.status_code == 200 and all(title in front.text for title in POSTS)
        assert image.content == legacy["image_bytes"]
        assert logs_in(url, "admin", OLD_ADMIN_PASSWORD)
        # The dump named its database (--databases); it went into the site's, and nothing else was made.
        databases = ok(hb("exec", "db", "--", "mariadb", "-N", "-e", "SHOW DATABASES", cwd=sites_dir / name))
        assert "legacywp" not in databases
    finally:
        ok(hb("remove", "-y", name, cwd=sites_dir))


def test_a_plain_php_application_moves_in_with_lamp(sites_dir, tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    (app / "config.php").write_text("<?php define('DB_HOST', 'localhost'); define('DB_NAME', 'shop');\n")
    (app / "index.php").write_text("<?php echo 'shop front', \"\\n\";\n")
    (app / "logo.txt").write_text("logo\n")
    dump = tmp_path / "shop.sql"
    dump.write_text("-- MySQL dump\nCREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20));\n"
                    "INSERT INTO items VALUES (1, 'anchor');\n")
    name, tls_port = site_name("imported-lamp"), free_port()
    out = ok(hb(*import_args(name, tls_port, "--lamp", "--from-dir", str(app), "--sql", str(dump)), cwd=sites_dir))
    try:
        assert "Point the application at its new database:" in out
        assert "host:     db" in out and "name:     app" in out and "user:     app" in out
        assert "Files that look like they hold the old settings: config.php" in out
        with client() as http:
            assert http.get(f"{site_url(tls_port)}/").text == "shop front\n"
            assert http.get(f"{site_url(tls_port)}/logo.txt").text == "logo\n"
        rows = ok(hb("exec", "db", "--", "mariadb", "-N", "-e", "SELECT name FROM app.items", cwd=sites_dir / name))
        assert rows.strip() == "anchor"
    finally:
        ok(hb("remove", "-y", name, cwd=sites_dir))


def errors(result) -> list[str]:
    """The error lines (progress lines come before them on stderr)."""
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def test_ssh_that_refuses_is_one_line_and_leaves_nothing(legacy, sites_dir):
    closed = free_port()
    name = site_name("imported-refused")
    result = hb(*import_args(name, free_port(), "--from-ssh", "root@127.0.0.1:/var/www/html", "--ssh-port",
                             str(closed)), cwd=sites_dir, env=legacy["env"])
    assert result.returncode == 1
    assert errors(result) == [f"error: ssh to root@127.0.0.1 (port {closed}) failed: ssh: connect to host "
                              f"127.0.0.1 port {closed}: Connection refused (hint: check the host, the port "
                              "(--ssh-port) and that sshd runs)"]
    missing = hb(*import_args(name, free_port(), "--from-ssh", "root@127.0.0.1:/srv/nothing-here", "--ssh-port",
                              str(legacy["ssh_port"])), cwd=sites_dir, env=legacy["env"])
    assert missing.returncode == 2
    assert errors(missing) == ["error: --from-ssh: /srv/nothing-here does not exist on 127.0.0.1"]
    stranger = hb(*import_args(name, free_port(), "--from-ssh", "nobody@127.0.0.1:/var/www/html", "--ssh-port",
                               str(legacy["ssh_port"])), cwd=sites_dir, env=legacy["env"])
    assert stranger.returncode == 1
    assert errors(stranger) == ["error: ssh to nobody@127.0.0.1 (port {}) failed: nobody@127.0.0.1: Permission "
                                "denied (publickey). (hint: Hakobune never types a password: use a key (or "
                                "ssh-agent) that 'ssh' finds)".format(legacy["ssh_port"])]
    assert not (sites_dir / name).exists() and leftovers(name) == NOTHING
