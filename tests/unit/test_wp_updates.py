"""What `wp-plugin|wp-theme install|update` and `wp-core update` check on the client, before any site is asked:
the source (a zip file, a folder, a slug) and the version."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from hakobune.errors import HakobuneError, InvalidInput
from hakobune.ops import wp_updates
from hakobune.ops.sitedir import SiteDir
from hakobune.ops.stack import Stack
from hakobune.site import Site, SiteSecrets
from tests.unit.fake_engine import FakeEngine


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


def _stack(tmp_path: Path, answer: dict[str, object]) -> tuple[FakeEngine, Stack]:
    engine = FakeEngine(answers={"core-update": answer})
    sitedir = SiteDir(tmp_path / "shop")
    images = {name: f"hakobune/{name}:0.7.0" for name in ("nginx", "php", "mariadb", "valkey", "metrics", "ops")}
    sitedir.create(Site(name="shop", fqdn="shop.example.com", http_port=8080, tls_port=8443, images=images,
                        site_id="1" * 32), SiteSecrets())
    return engine, Stack.open(engine.mock, sitedir)


UPDATED = {"from": "6.8.12", "to": "6.8.13", "files": 40, "removed": 0, "db_version": [60421, 60421]}


def test_core_update_asks_first_then_backs_up_then_updates_and_keeps_the_checksums(tmp_path, monkeypatch):
    engine, stack = _stack(tmp_path, UPDATED)
    monkeypatch.setattr(wp_updates.backups, "backup", lambda *a: engine.log.append("backup") or
                        type("Made", (), {"where": "/b/shop.tar"})())
    done = wp_updates.core_update(stack, None, True, lambda line: None)
    tasks = [line for line in engine.log if line.startswith(("task", "backup"))]
    assert tasks == ["task core-update", "backup", "task core-update", "task core-keep"]
    assert done["backup"] == "/b/shop.tar" and done["files"] == 40
    assert engine.log[-1].startswith("exec web hakobune-cache refresh")  # the page cache emptied last


def test_core_update_makes_no_backup_when_the_version_stays(tmp_path, monkeypatch):
    _, stack = _stack(tmp_path, {**UPDATED, "from": "6.8.13"})
    monkeypatch.setattr(wp_updates.backups, "backup", lambda *a: pytest.fail("a backup for nothing"))
    assert wp_updates.core_update(stack, None, True, lambda line: None)["backup"] == ""


def test_a_failed_core_update_names_the_backup_made_first(tmp_path, monkeypatch):
    _, stack = _stack(tmp_path, UPDATED)
    monkeypatch.setattr(wp_updates.backups, "backup", lambda *a: type("Made", (), {"where": "/b/shop.tar"})())
    real = Stack.task
    calls: list[str] = []

    def task(self: Stack, name: str, request: dict[str, object] | None = None, *args: object, **kw: object):
        calls.append(name)
        if name == "core-update" and calls.count(name) == 2:
            raise HakobuneError("updating WordPress core failed: cannot copy to /srv/site/public/index.php")
        return real(self, name, request, *args, **kw)
    monkeypatch.setattr(Stack, "task", task)
    with pytest.raises(HakobuneError) as failed:
        wp_updates.core_update(stack, None, True, lambda line: None)
    assert failed.value.hint == "the backup made first: /b/shop.tar" and "core-keep" not in calls
