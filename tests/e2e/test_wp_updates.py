"""WordPress brought up to date on a real site, offline: a site made with an older WordPress (the php image's
WordPress stage built with an older Debian version of the package, in the site's ops image) keeps being checked
against its own version after its images move on, then `wp-core update` moves it to the images' WordPress with
the database upgrade; plugins and themes are installed, updated and deleted from zip files and folders with
WordPress's own upgrader, and hostile packages are refused before anything changes."""

from __future__ import annotations

import json
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hakobune.versions import image_refs
from tests.e2e.helpers import REPO, Provisioned, client, docker, hb, ok, provision_site
from tests.e2e.upgrading import Load, content, image_set

pytestmark = pytest.mark.e2e

OLD_WORDPRESS_STAGE = "hakobune-test/wordpress-older"
SAME = ("nginx", "httpd", "php", "mariadb", "valkey")


def _older_wordpress() -> str:
    """The oldest Debian version of the wordpress package that the archive still has and the images do not
    carry (trixie's release, while the images take trixie-security's)."""
    carried = docker("run", "--rm", "--entrypoint", "cat", image_refs()["php"],
                     "/opt/hakobune/wordpress-version").strip()
    listed = docker("run", "--rm", "debian:trixie-slim", "sh", "-c",
                    "apt-get update -qq >/dev/null && apt-cache madison wordpress")
    versions = [line.split("|")[1].strip() for line in listed.splitlines() if "|" in line]
    older = [v for v in versions if not v.startswith(f"{carried}+") and v.split("+")[0] != carried]
    assert older, f"the archive has no wordpress package older than the images' {carried}: {versions}"
    return older[-1]


@pytest.fixture(scope="module")
def older_wordpress(images, tmp_path_factory) -> Iterator[dict[str, str]]:
    """Image sources of version 0.0.4 whose ops image carries an older WordPress (the other images: this
    Hakobune's, the very same)."""
    subprocess.run(["docker", "build", "-q", "--target", "wordpress", "-t", OLD_WORDPRESS_STAGE,
                    "--build-arg", f"WORDPRESS_VERSION={_older_wordpress()}", "-f", "php/Dockerfile", "."],
                   cwd=REPO / "images", check=True, capture_output=True, timeout=900)
    swap = ("USER root\nRUN rm -rf /opt/hakobune/wordpress /opt/hakobune/wordpress-languages\n"
            f"COPY --from={OLD_WORDPRESS_STAGE} /opt/hakobune/ /opt/hakobune/\nUSER www-data\n")
    yield from image_set("0.0.4", tmp_path_factory.mktemp("older-wordpress"), same=SAME, extra={"ops": swap})
    subprocess.run(["docker", "rmi", OLD_WORDPRESS_STAGE], capture_output=True, check=False)


def _version(folder: Path) -> dict[str, str]:
    return json.loads(ok(hb("wp-core", "version", "--json", cwd=folder)))


def test_core_is_checked_against_its_own_version_and_updated_from_the_images(older_wordpress, sites_dir):
    site = provision_site("nginx", sites_dir, prefix="wpcore", env=older_wordpress)
    try:
        made = _version(site.folder)
        old = made["wordpress"]
        assert made["image_wordpress"] == old and made["db_version"] == made["db_version_expected"]
        assert f"match WordPress {old} (checksums: image)" in ok(hb("wp-core", "verify", cwd=site.folder))

        # The images move on; the ops image, which no container runs, moves too, and the checksums of the
        # site's WordPress are kept first.
        planned = ok(hb("upgrade", "--dry-run", cwd=site.folder))
        assert "ops: hakobune/ops:0.0.4-1 -> hakobune/ops:" in planned and "the next task uses it" in planned
        ok(hb("upgrade", "--no-backup", cwd=site.folder))
        moved = _version(site.folder)
        new = moved["image_wordpress"]
        assert moved["wordpress"] == old and new != old
        assert f"match WordPress {old} (checksums: kept)" in ok(hb("wp-core", "verify", cwd=site.folder))

        # Only the images' version is on offer, and a version is checked before anything.
        refused = hb("wp-core", "update", "--to", "9.9.9", cwd=site.folder)
        assert refused.returncode == 1 and refused.stderr.splitlines()[-1].startswith(
            f"error: updating WordPress core failed: WordPress 9.9.9 is not in this site's images: they carry {new}")
        assert "backup" not in refused.stderr  # refused before a backup is made
        refused = hb("wp-core", "update", "--to", "latest; rm -rf /", cwd=site.folder)
        assert refused.returncode == 2 and "is not a WordPress version" in refused.stderr
        assert _version(site.folder)["wordpress"] == old

        before = content(site.name)
        with Load(site.url, ("/", "/?s=hello")) as load:
            updated = ok(hb("wp-core", "update", cwd=site.folder))
        window = f"{load.when[0].split()[0]} to {load.when[-1].split()[0]}" if load.when else "none"
        print(f"wp-core update {old} -> {new} under load: {load.summary()}; failures from {window}")
        assert f"WordPress {old} -> {new}: " in updated and "backup made first: " in updated
        assert Path(updated.rsplit("backup made first: ", 1)[1].strip()).is_file()
        now = _version(site.folder)
        assert now["wordpress"] == new and now["db_version"] == now["db_version_expected"]
        assert f"match WordPress {new} (checksums: image)" in ok(hb("wp-core", "verify", cwd=site.folder))
        assert content(site.name) == before
        with client() as http:
            page = http.get(f"{site.url}/")
            assert page.status_code == 200 and site.title in page.text
        assert not docker("exec", f"hb-{site.name}-php-1", "ls", "-A", "/srv/site/public").count(".maintenance")
        again = ok(hb("wp-core", "update", "--no-backup", cwd=site.folder))
        assert f"WordPress {new} is the images' version already." in again
    finally:
        ok(hb("remove", "-y", str(site.folder), cwd=sites_dir))


PLUGIN = """<?php
/*
 * Plugin Name: Hakobune E2E Marker
 * Version: {version}
 */
add_action('wp_footer', function () {{ echo '<p id="hb-marker">marker {version}</p>'; }});
"""


def _plugin(where: Path, version: str) -> Path:
    folder = where / f"v{version}" / "hb-e2e-marker"
    folder.mkdir(parents=True)
    (folder / "hb-e2e-marker.php").write_text(PLUGIN.format(version=version))
    (folder / "readme.txt").write_text("=== Marker ===\n")
    return folder


def _zip(path: Path, entries: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in entries.items():
            archive.writestr(name, text)
    return path


def _marker(url: str) -> str | None:
    with client() as http:
        text = http.get(f"{url}/").text
    return text.split('<p id="hb-marker">', 1)[1].split("<", 1)[0] if 'id="hb-marker"' in text else None


UPDATER = """$_SERVER['HTTP_HOST'] = 'localhost'; $_SERVER['HTTPS'] = 'on';
require '/srv/site/public/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/file.php';
require_once ABSPATH . 'wp-admin/includes/class-wp-upgrader.php';
wp_set_current_user(1);
echo json_encode(['method' => get_filesystem_method([], WP_CONTENT_DIR), 'file_mods' => wp_is_file_mod_allowed('hb'),
    'update_plugins' => current_user_can('update_plugins'), 'install_themes' => current_user_can('install_themes'),
    'auto_updates_off' => (new WP_Automatic_Updater())->is_disabled()]);"""


def _updater(site: str) -> dict[str, object]:
    """What WordPress's updater may do in SITE's php container, for its administrator."""
    return json.loads(docker("exec", f"hb-{site}-php-1", "php", "-r", UPDATER).strip().splitlines()[-1])


# wordpress.org's plugin API as WordPress asks it (plugins_api: /plugins/info/1.2/), and a download.
WPORG = """<?php
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path === '/plugins/info/1.2/') {
    header('Content-Type: application/json');
    echo json_encode(($_GET['request']['slug'] ?? '') === 'hb-remote'
        ? ['name' => 'HB Remote', 'slug' => 'hb-remote', 'version' => '3.0',
           'download_link' => 'http://downloads.wordpress.org/plugin/hb-remote.3.0.zip']
        : ['error' => 'Plugin not found.']);
} elseif ($path === '/plugin/hb-remote.3.0.zip') {
    header('Content-Type: application/zip');
    readfile(__DIR__ . '/remote.zip');
} else {
    http_response_code(404);
}
"""
# WordPress downloads only from public addresses (wp_safe_remote_get); the stand-in is on the site's network.
LET_THROUGH = """<?php
add_filter('http_request_host_is_external', fn ($external, $host) => $external
    || in_array($host, ['api.wordpress.org', 'downloads.wordpress.org'], true), 10, 2);
"""


def _by_slug_from_a_stand_in(site: Provisioned, tmp_path: Path, package: Path) -> None:
    """A plugin installed by its slug: the engine cannot reach wordpress.org here, so a container on the site's
    network answers for api.wordpress.org and downloads.wordpress.org (plain HTTP: WordPress falls back to it
    when HTTPS fails, as it does for wordpress.org)."""
    served = tmp_path / "wporg"
    served.mkdir()
    (served / "router.php").write_text(WPORG)
    (served / "remote.zip").write_bytes(package.read_bytes())
    stand_in = f"hb-e2e-wporg-{site.name}"
    mu_plugin = "/srv/site/public/wp-content/mu-plugins/hb-e2e-wporg.php"
    docker("run", "-d", "--name", stand_in, "--network", f"hb-{site.name}_site",
           "--network-alias", "api.wordpress.org", "--network-alias", "downloads.wordpress.org", "--user", "0",
           "-v", f"{served}:/srv/wporg:ro", image_refs()["ops"], "php", "-S", "0.0.0.0:80", "-t", "/srv/wporg",
           "/srv/wporg/router.php")
    subprocess.run(["docker", "exec", "-i", f"hb-{site.name}-php-1", "sh", "-c", f"cat > {mu_plugin}"],
                   input=LET_THROUGH, text=True, check=True)
    try:
        done = ok(hb("wp-plugin", "install", "hb-remote", cwd=site.folder))
        assert done.strip() == "Plugin hb-remote 3.0 installed.", done
        missing = hb("wp-plugin", "install", "no-such-plugin", cwd=site.folder)
        assert missing.returncode == 1 and "wordpress.org has no plugin 'no-such-plugin'" in missing.stderr
        ok(hb("wp-plugin", "delete", "hb-remote", "-y", cwd=site.folder))
    finally:
        docker("exec", f"hb-{site.name}-php-1", "rm", "-f", mu_plugin)
        docker("rm", "-f", "-v", stand_in)  # and the anonymous volume the ops image declares


def _names(folder: Path, kind: str) -> set[str]:
    return {item["name"] for item in json.loads(ok(hb(f"wp-{kind}", "list", "--json", cwd=folder)))}


def test_plugins_and_themes_are_installed_updated_and_deleted_from_zips_and_folders(images, sites_dir, tmp_path):
    site = provision_site("httpd", sites_dir, prefix="wppkg")
    folder = site.folder
    try:
        # A folder, activated: the page shows it at once (the page cache was emptied).
        first = _plugin(tmp_path, "1.0")
        done = ok(hb("wp-plugin", "install", str(first), "--activate", cwd=folder))
        assert done.strip() == "Plugin hb-e2e-marker 1.0 installed, active."
        assert _marker(site.url) == "marker 1.0"
        again = hb("wp-plugin", "install", str(first), cwd=folder)
        assert again.returncode == 1 and "Plugin hb-e2e-marker is installed already (version 1.0)" in again.stderr

        # A zip of a newer version replaces it, and it stays active.
        second = _plugin(tmp_path, "1.1")
        package = _zip(tmp_path / "marker-1.1.zip", {f"hb-e2e-marker/{p.name}": p.read_text()
                                                     for p in second.iterdir()})
        done = ok(hb("wp-plugin", "update", str(package), cwd=folder))
        assert done.strip() == "Plugin hb-e2e-marker 1.1 (was 1.0) updated, active."
        assert _marker(site.url) == "marker 1.1"
        files = docker("exec", f"hb-{site.name}-php-1", "ls", "-ln", "/srv/site/public/wp-content/plugins/"
                       "hb-e2e-marker")
        assert " 33 33 " in files  # www-data's, as wp-admin's own updater leaves them

        # An active plugin is not deleted; an inactive one is, files and all.
        refused = hb("wp-plugin", "delete", "hb-e2e-marker", "-y", cwd=folder)
        assert refused.returncode == 1 and "plugin hb-e2e-marker is active" in refused.stderr
        ok(hb("wp-plugin", "deactivate", "hb-e2e-marker", cwd=folder))
        assert ok(hb("wp-plugin", "delete", "hb-e2e-marker", "-y", cwd=folder)).strip() == \
            "Plugin hb-e2e-marker deleted."
        assert "hb-e2e-marker" not in _names(folder, "plugin") and _marker(site.url) is None
        missing = hb("wp-plugin", "update", str(package), cwd=folder)
        assert missing.returncode == 1 and "there is no plugin hb-e2e-marker to update" in missing.stderr

        # A theme from a zip; the site's own theme is never deleted.
        theme = _zip(tmp_path / "plain.zip", {"hb-plain/style.css": "/*\nTheme Name: HB Plain\nVersion: 2.0\n*/\n",
                                              "hb-plain/index.php": "<?php echo 'plain';\n"})
        assert ok(hb("wp-theme", "install", str(theme), cwd=folder)).strip() == "Theme hb-plain 2.0 installed."
        refused = hb("wp-theme", "delete", "twentytwentyfive", "-y", cwd=folder)
        assert refused.returncode == 1 and "theme twentytwentyfive is the site's" in refused.stderr
        ok(hb("wp-theme", "delete", "hb-plain", "-y", cwd=folder))
        assert "hb-plain" not in _names(folder, "theme") and "twentytwentyfive" in _names(folder, "theme")

        _by_slug_from_a_stand_in(site, tmp_path, _zip(tmp_path / "remote.zip", {
            "hb-remote/hb-remote.php": "<?php\n/*\n * Plugin Name: HB Remote\n * Version: 3.0\n */\n"}))

        # WordPress's own updater, as PHP-FPM's user sees it: it may write the site's files (no FTP form, no
        # read-only path) until PHP_WP_UPDATES=off switches it off; Hakobune's commands work either way.
        assert _updater(site.name) == {"method": "direct", "file_mods": True, "update_plugins": True,
                                       "install_themes": True, "auto_updates_off": False}
        ok(hb("config", "set", "PHP_WP_UPDATES=off", cwd=folder))
        assert _updater(site.name) == {"method": "direct", "file_mods": False, "update_plugins": False,
                                       "install_themes": False, "auto_updates_off": True}
        assert ok(hb("wp-theme", "install", str(theme), cwd=folder)).strip() == "Theme hb-plain 2.0 installed."
    finally:
        ok(hb("remove", "-y", str(folder), cwd=sites_dir))


@pytest.mark.parametrize(("entries", "message"), [
    ({"../evil.php": "<?php"}, "has an entry outside its folder: ../evil.php"),
    ({"one/a.php": "<?php", "two/b.php": "<?php"}, "must hold one folder, the plugin's, and nothing beside it"),
    ({"/abs/a.php": "<?php"}, "has an entry outside its folder: /abs/a.php"),
])
def test_a_hostile_package_is_refused_on_the_client_before_the_site_is_asked(entries, message, sites_dir, tmp_path):
    # No site is needed: the package is checked before the site is even looked up.
    package = _zip(tmp_path / "hostile.zip", entries)
    refused = hb("wp-plugin", "install", str(package), "-C", str(tmp_path / "no-such-site"), cwd=tmp_path)
    assert refused.returncode == 2 and message in refused.stderr
