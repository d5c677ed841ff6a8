"""A plain LAMP site (--lamp): an index page, then a small PHP application deployed with deploy-files that
reads and writes the site's database; on Apache httpd, the LAMP web server."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from tests.e2e.helpers import NOTHING, client, free_port, hb, leftovers, site_name

pytestmark = pytest.mark.e2e

# Reads the database password where the stack puts it: no credentials in the code.
NOTES_APP = r"""<?php
$db = new mysqli('db', 'app', trim(file_get_contents('/run/secrets/app/db_password')), 'app');
$db->query('CREATE TABLE IF NOT EXISTS notes (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(200) NOT NULL)');
if (isset($_GET['add'])) {
    $insert = $db->prepare('INSERT INTO notes (body) VALUES (?)');
    $insert->bind_param('s', $_GET['add']);
    $insert->execute();
}
header('Content-Type: application/json');
echo json_encode(array_column($db->query('SELECT body FROM notes ORDER BY id')->fetch_all(), 0));
"""


@pytest.fixture(scope="module")
def lamp(images, sites_dir):
    name = site_name("lamp")
    tls_port = free_port()
    result = hb("provision", "--lamp", "--httpd", "--fqdn", "localhost", "--http-port", str(free_port()),
                "--tls-port", str(tls_port), name, cwd=sites_dir)
    assert result.returncode == 0, result.stderr
    assert "database: app on host db, user app" in result.stdout and "wp-admin" not in result.stdout
    yield sites_dir / name, f"https://localhost:{tls_port}"
    hb("remove", "-y", name, cwd=sites_dir)
    assert leftovers(name) == NOTHING


def test_a_lamp_site_starts_with_only_an_index_page(lamp):
    folder, url = lamp
    with client() as http:
        page = http.get(f"{url}/")
    assert page.status_code == 200 and page.http_version == "HTTP/2"
    assert "ready for your PHP application: PHP 8.4." in page.text
    listing = hb("exec", "php", "--", "ls", "/srv/site/public", cwd=folder)
    assert listing.stdout.split() == ["index.php"]
    no_wp = hb("wp-option", "get", "blogname", cwd=folder)
    assert (no_wp.returncode, no_wp.stderr.strip().splitlines()[-1]) == (1, "error: this site has no WordPress")


def test_deployed_app_reads_and_writes_the_database(lamp, tmp_path):
    folder, url = lamp
    app = tmp_path / "app"
    (app / "assets").mkdir(parents=True)
    (app / "notes.php").write_text(NOTES_APP)
    (app / "assets" / "site.css").write_text("body { color: teal; }\n")
    result = hb("deploy-files", str(app), cwd=folder)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("Deployed 2 files")
    with client() as http:
        assert http.get(f"{url}/notes.php?add=hello").json() == ["hello"]
        assert http.get(f"{url}/notes.php?add=world").json() == ["hello", "world"]
        css = http.get(f"{url}/assets/site.css")
        assert css.text == "body { color: teal; }\n" and css.headers["content-type"].startswith("text/css")

    # A second release as a compressed tarball: merged over the first; the data stays across a restart.
    archive = tmp_path / "release.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"<?php echo json_encode(['release' => 2]);"
        info = tarfile.TarInfo("version.php")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    assert hb("deploy-files", str(archive), "-C", str(folder), cwd=tmp_path).returncode == 0
    assert hb("restart", "db", cwd=folder).returncode == 0
    with client() as http:
        assert http.get(f"{url}/version.php").json() == {"release": 2}
        assert http.get(f"{url}/notes.php").json() == ["hello", "world"]
    owners = hb("exec", "php", "--", "stat", "-c", "%U %a", "/srv/site/public/version.php", cwd=folder)
    assert owners.stdout.strip() == "www-data 644"


def test_deploy_files_refuses_bad_sources_and_changes_nothing(lamp, tmp_path):
    folder, _ = lamp
    before = hb("exec", "php", "--", "ls", "-R", "/srv/site/public", cwd=folder).stdout
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        info = tarfile.TarInfo("../../wp-config.php")
        tar.addfile(info, io.BytesIO(b""))
    cases = [
        ([str(tmp_path / "missing")], f"error: '{tmp_path / 'missing'}' does not exist (hint: give a folder or a tar "
                                      "archive of the application)"),
        ([str(evil)], f"error: {evil} holds '../../wp-config.php', which would land outside the docroot"),
    ]
    for args, message in cases:
        result = hb("deploy-files", *args, cwd=folder)
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().splitlines() == [message]
    assert hb("exec", "php", "--", "ls", "-R", "/srv/site/public", cwd=folder).stdout == before


def test_info_of_a_lamp_site(lamp):
    folder, url = lamp
    info = json.loads(hb("info", "--json", cwd=folder).stdout)
    assert (info["profile"], info["web"], info["db_name"], info["url"]) == ("lamp", "httpd", "app", url)
