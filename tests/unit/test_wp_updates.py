"""What `wp-plugin|wp-theme install|update` and `wp-core update` check on the client, before any site is asked:
the source (a zip file, a folder, a slug) and the version."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from hakobune.errors import InvalidInput
from hakobune.ops import wp_updates


def _zip(path: Path, entries: dict[str, str], link: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in entries.items():
            archive.writestr(name, text)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


def test_a_zip_with_one_folder_names_the_plugin(tmp_path):
    package = _zip(tmp_path / "p.zip", {"shop/shop.php": "<?php", "shop/inc/a.php": "<?php"})
    assert wp_updates.source("plugin", str(package)) == wp_updates.Source(package, folder="shop")


@pytest.mark.parametrize(("entries", "link", "message"), [
    ({"../evil.php": "x"}, None, "has an entry outside its folder: ../evil.php"),
    ({"shop/../../evil.php": "x"}, None, "has an entry outside its folder"),
    ({"/etc/cron.d/x": "x"}, None, "has an entry outside its folder: /etc/cron.d/x"),
    ({"C:/x.php": "x"}, None, "has an entry outside its folder"),
    ({"a/x.php": "x", "b/y.php": "y"}, None, "must hold one folder, the plugin's, and nothing beside it"),
    ({"x.php": "x"}, None, "must hold one folder"),
    ({"shop/a.php": "x"}, "shop/passwd", "holds a symbolic link (shop/passwd)"),
    ({"sh op/a.php": "x"}, None, "must hold one folder"),
])
def test_a_hostile_or_malformed_zip_is_refused(tmp_path, entries, link, message):
    package = _zip(tmp_path / "p.zip", entries, link)
    with pytest.raises(InvalidInput) as refused:
        wp_updates.source("plugin", str(package))
    assert message in refused.value.message


def test_a_file_that_is_not_a_zip_is_refused(tmp_path):
    (tmp_path / "p.zip").write_text("not a zip")
    with pytest.raises(InvalidInput, match="is not a zip archive"):
        wp_updates.source("theme", str(tmp_path / "p.zip"))


def test_a_folder_is_zipped_under_its_own_name_and_may_hold_no_link(tmp_path):
    folder = tmp_path / "my-theme"
    (folder / "parts").mkdir(parents=True)
    (folder / "style.css").write_text("/* Theme Name: Mine */")
    (folder / "parts" / "a.html").write_text("<p>")
    given = wp_updates.source("theme", str(folder))
    assert given.folder == "my-theme"
    out = io.BytesIO()
    wp_updates._pack(folder, given.folder, out)
    assert sorted(zipfile.ZipFile(out).namelist()) == ["my-theme/parts/", "my-theme/parts/a.html",
                                                       "my-theme/style.css"]
    (folder / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(InvalidInput, match="is a symbolic link: a theme has none"):
        wp_updates.source("theme", str(folder))


def test_a_slug_goes_to_wordpress_org_and_anything_else_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert wp_updates.source("plugin", "akismet") == wp_updates.Source(None, "akismet", "akismet")
    for given in ("Not A Slug", "../akismet", "akismet.zip", "-rf", ""):
        with pytest.raises(InvalidInput, match="is neither a zip file, a folder, nor a plugin's slug"):
            wp_updates.source("plugin", given)


@pytest.mark.parametrize("version", ["6.8", "6.8.3", "6.9-RC1", "6.8.13+dfsg1"])
def test_a_wordpress_version_is_accepted(version):
    wp_updates.check_version(version)


@pytest.mark.parametrize("version", ["latest", "6", "6.8.3; rm -rf /", "../6.8", "", "6.8.3 "])
def test_anything_else_is_not_a_version(version):
    with pytest.raises(InvalidInput, match="is not a WordPress version"):
        wp_updates.check_version(version)
