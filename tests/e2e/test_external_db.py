"""A site on an external database (DBaaS): a MariaDB server in its own container, outside any site, reached
through the Docker host (host.docker.internal). The connection and privileges are checked before anything is
created; wrong password, unknown host, unreachable server and missing privileges are each one clear line."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import yaml

from hakobune.versions import image_refs
from tests.e2e.helpers import (
    ADMIN_PASSWORD,
    NOTHING,
    docker,
    free_port,
    hb,
    leftovers,
    logs_in,
    ok,
    site_name,
)

pytestmark = pytest.mark.e2e

SETUP = """
CREATE DATABASE extwp;
CREATE USER 'extuser'@'%' IDENTIFIED BY 'Ext-pass-1234';
GRANT ALL PRIVILEGES ON extwp.* TO 'extuser'@'%';
CREATE DATABASE readonly;
CREATE USER 'reader'@'%' IDENTIFIED BY 'Reader-pass-1234';
GRANT SELECT ON readonly.* TO 'reader'@'%';
"""


@pytest.fixture(scope="module")
def server(images):
    """The external server: published only on the Docker bridge's gateway, where host.docker.internal points."""
    gateway = docker("network", "inspect", "bridge", "--format", "{{(index .IPAM.Config 0).Gateway}}").strip()
    port = free_port()
    name = site_name("hb-test-extdb")
    docker("run", "-d", "--name", name, "-p", f"{gateway}:{port}:3306", "-e", "MARIADB_ROOT_PASSWORD=Root-pass-1234",
           image_refs()["mariadb"])
    try:
        deadline = time.monotonic() + 180
        while json.loads(docker("inspect", name))[0]["State"]["Health"]["Status"] != "healthy":
            assert time.monotonic() < deadline, docker("logs", name)
            time.sleep(1)
        subprocess.run(["docker", "exec", "-i", name, "mariadb"], input=SETUP, text=True, check=True, timeout=60)
        yield {"name": name, "port": port}
    finally:
        docker("rm", "-f", "-v", name)


def provision_args(name: str, port: int, *db: str) -> list[str]:
    return ["provision", "--fqdn", "localhost", "--http-port", str(free_port()), "--tls-port", str(free_port()),
            "--admin-pass", ADMIN_PASSWORD, "--dbhost", "host.docker.internal", *db, name]


def test_provision_on_an_external_database_over_tls(server, sites_dir):
    name = site_name("extdb")
    args = provision_args(name, server["port"], "--dbport", str(server["port"]), "--dbname", "extwp",
                          "--dbuser", "extuser", "--dbpass", "Ext-pass-1234", "--db-tls")
    result = hb(*args, cwd=sites_dir)
    try:
        assert result.returncode == 0, result.stderr
        assert f"Checking the database on host.docker.internal:{server['port']}" in result.stderr
        folder = sites_dir / name
        status = json.loads(hb("status", "--json", cwd=folder).stdout)
        assert [s["service"] for s in status["services"]] == ["web", "php", "valkey", "cron", "metrics"]
        assert "db" not in yaml.safe_load((folder / "compose.yaml").read_text())["volumes"]
        assert logs_in(status["url"], "admin", ADMIN_PASSWORD)
        # WordPress's tables are on the external server, and the site's connection to it is encrypted.
        tables = docker("exec", server["name"], "mariadb", "-N", "-e", "SHOW TABLES FROM extwp LIKE 'wp_options'")
        assert tables.strip() == "wp_options"
        cipher = hb("exec", "php", "--", "php", "-r", "require '/srv/site/public/wp-load.php'; global $wpdb; "
                    "echo $wpdb->get_row(\"SHOW SESSION STATUS LIKE 'Ssl_cipher'\", ARRAY_N)[1];", cwd=folder)
        assert cipher.returncode == 0, cipher.stderr
        assert cipher.stdout.strip().startswith("TLS_") or "-" in cipher.stdout.strip(), cipher.stdout
        assert hb("wp-option", "get", "siteurl", cwd=folder).stdout.strip() == status["url"]
        result = hb("config", "set", "MARIADB_MAX_CONNECTIONS=10", cwd=folder)
        assert (result.returncode, result.stderr.strip()) == (2, "error: MARIADB_MAX_CONNECTIONS is a setting of "
                                                                 "the mariadb image, which this site does not run")
        backup_and_restore_on_the_external_server(folder, sites_dir / "backups")
    finally:
        hb("remove", "-y", name, cwd=sites_dir)
    assert leftovers(name) == NOTHING
    # Removing the site leaves the external database alone.
    assert docker("exec", server["name"], "mariadb", "-N", "-e", "SHOW DATABASES LIKE 'extwp'").strip() == "extwp"


def backup_and_restore_on_the_external_server(folder, backups):
    """Hakobune may not create databases there: the restore keeps a dump of the current one to fall back on."""
    ok(hb("backup", "--to", str(backups), cwd=folder))
    (archive,) = backups.glob("*.tar")
    ok(hb("wp-option", "set", "hb_marker", "after the backup", cwd=folder))
    failed = hb("restore", str(archive), env={"HAKOBUNE_FAILPOINT": "restore-swapped"}, cwd=folder)
    assert failed.returncode == 1 and "Restore failed: putting the site back as it was" in failed.stderr
    assert ok(hb("wp-option", "get", "hb_marker", cwd=folder)).strip() == "after the backup"
    ok(hb("restore", str(archive), cwd=folder))
    gone = hb("wp-option", "get", "hb_marker", cwd=folder)
    assert (gone.returncode, gone.stderr.strip()) == (1, "error: no option 'hb_marker'")
    assert logs_in(json.loads(ok(hb("status", "--json", cwd=folder)))["url"], "admin", ADMIN_PASSWORD)


@pytest.mark.parametrize(
    ("db", "message"),
    [
        (["--dbname", "extwp", "--dbuser", "extuser", "--dbpass", "Wrong-pass-1234"],
         "error: the database server at host.docker.internal:{port} refused user 'extuser': wrong password, or the "
         "user may not connect from this host"),
        (["--dbname", "readonly", "--dbuser", "reader", "--dbpass", "Reader-pass-1234"],
         "error: user 'reader' lacks the CREATE privilege on database 'readonly', which WordPress needs: "),
        (["--dbname", "nosuchdb", "--dbuser", "extuser", "--dbpass", "Ext-pass-1234"],
         "error: user 'extuser' cannot use database 'nosuchdb' on host.docker.internal:{port}: it does not exist "
         "or is not granted to the user"),
        (["--dbhost", "no-such-host.invalid", "--dbname", "extwp", "--dbuser", "extuser", "--dbpass", "Ext-pass-1234"],
         "error: database host 'no-such-host.invalid' is unknown (its name does not resolve)"),
        (["--dbport", "{closed}", "--dbname", "extwp", "--dbuser", "extuser", "--dbpass", "Ext-pass-1234"],
         "error: cannot reach the database server at host.docker.internal:{closed}: "),
    ],
)
def test_external_database_problems_are_found_before_anything_is_created(server, sites_dir, db, message):
    name = site_name("extbad")
    closed = free_port()
    values = {"port": server["port"], "closed": closed}
    db = [part.format(**values) for part in db]
    if "--dbport" not in db:
        db = ["--dbport", str(server["port"]), *db]
    result = hb(*provision_args(name, server["port"], *db), cwd=sites_dir)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(message.format(**values))
    assert not (sites_dir / name).exists()
    assert leftovers(name) == NOTHING
