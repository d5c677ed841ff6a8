"""Backup archives on the client: checked whole before anything is touched; listings and retention."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from hakobune.errors import InvalidInput
from hakobune.ops import archive
from hakobune.ops.restore import new_site

SETTINGS = {"name": "blog", "fqdn": "blog.example.com", "http_port": 80, "tls_port": 443, "profile": "wp",
            "web": "httpd", "title": "My blog", "admin_user": "owner", "admin_email": "owner@example.com",
            "wplang": "ja", "db_name": "wordpress", "db_user": "wordpress", "db_host": "db.example.net",
            "db_port": 3307, "db_tls": True,
            "images": {"httpd": "hakobune/httpd:0.0.1", "php": "hakobune/php:0.0.1",
                       "mariadb": "hakobune/mariadb:0.0.1", "ops": "hakobune/ops:0.0.1"},
            "settings": {"PHP_MEMORY_LIMIT": "512M"}, "secret_settings": ["PHP_SMTP_PASSWORD"]}


def make_archive(path: Path, created: str = "2026-11-27T10:00:00Z", site: str = "blog", fmt: int = 1,
                 extra: str | None = None, drop: str | None = None,
                 links: tuple[tuple[str, str], ...] = ()) -> Path:
    """An archive as the ops container writes it (images/ops/helpers/tasks/backup.php), its files with LINKS
    (name, target) added: checksums right whatever they hold."""
    files = io.BytesIO()
    with tarfile.open(fileobj=files, mode="w:gz") as tar:
        data = b"<?php // index"
        info = tarfile.TarInfo("./public/index.php")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        for name, target in links:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    parts = {
        "site.yaml": yaml.safe_dump({"format": 1, "site": {**SETTINGS, "name": site}}).encode(),
        "database.sql.gz": gzip.compress(b"CREATE TABLE wp_posts (ID int);\n" * 50),
        "files.tar.gz": files.getvalue(),
    }
    manifest = json.dumps({
        "kind": "hakobune-backup", "format": fmt, "created": created, "wordpress": "6.8.3",
        "site": {"name": site, "url": "https://blog.example.com", "profile": "wp"},
        "parts": {name: {"bytes": len(b), "sha256": hashlib.sha256(b).hexdigest()} for name, b in parts.items()},
    }).encode()
    members = {"manifest.json": manifest,
               "manifest.sha256": f"{hashlib.sha256(manifest).hexdigest()}  manifest.json\n".encode(), **parts}
    if extra:
        members[extra] = b"surprise"
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            if name == drop:
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_a_whole_archive_is_read(tmp_path):
    manifest = archive.verify(make_archive(tmp_path / "a.tar"))
    assert (manifest.site, manifest.url, manifest.profile, manifest.wordpress) == \
        ("blog", "https://blog.example.com", "wp", "6.8.3")
    assert manifest.settings["title"] == "My blog"


def _offset_of(path: Path, member: str) -> int:
    with tarfile.open(path) as tar:
        return tar.getmember(member).offset_data


@pytest.mark.parametrize("member", ["site.yaml", "database.sql.gz", "files.tar.gz"])
def test_one_changed_byte_in_any_part_is_found(tmp_path, member):
    path = make_archive(tmp_path / "a.tar")
    data = bytearray(path.read_bytes())
    data[_offset_of(path, member) + 5] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(InvalidInput, match=f"is damaged: {member} does not match its checksum"):
        archive.verify(path)


def test_a_changed_manifest_is_found(tmp_path):
    path = make_archive(tmp_path / "a.tar")
    data = path.read_bytes().replace(b"6.8.3", b"6.8.4")
    path.write_bytes(data)
    with pytest.raises(InvalidInput, match="its manifest does not match its checksum"):
        archive.verify(path)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.99])
def test_a_truncated_archive_is_refused(tmp_path, keep):
    """Cut anywhere before the end of the last part's data (what follows is only the tar's zero padding)."""
    path = make_archive(tmp_path / "a.tar")
    with tarfile.open(path) as tar:
        last = tar.getmembers()[-1]
    data = path.read_bytes()
    path.write_bytes(data[: int((last.offset_data + last.size) * keep)])
    with pytest.raises(InvalidInput, match=r"is damaged: (it ends early|it lacks)"):
        archive.verify(path)


def test_a_newer_format_is_refused_with_a_hint(tmp_path):
    with pytest.raises(InvalidInput, match="has format 2, newer than this Hakobune reads") as caught:
        archive.verify(make_archive(tmp_path / "a.tar", fmt=2))
    assert caught.value.hint == "upgrade Hakobune to restore it"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"drop": "files.tar.gz"}, "is damaged: it lacks files.tar.gz"),
    ({"drop": "manifest.sha256"}, "is damaged: it lacks manifest.sha256"),
    ({"drop": "manifest.json"}, "is not a Hakobune backup archive"),
    ({"extra": "../../etc/passwd"}, "unexpected member '../../etc/passwd'"),
])
def test_missing_and_unexpected_members_are_refused(tmp_path, kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        archive.verify(make_archive(tmp_path / "a.tar", **kwargs))


def test_what_is_not_an_archive_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="does not exist"):
        archive.verify(tmp_path / "none.tar")
    with pytest.raises(InvalidInput, match="is not a file"):
        archive.verify(tmp_path)
    (tmp_path / "notes.tar").write_text("just text\n" * 100)
    with pytest.raises(InvalidInput, match="is not a Hakobune backup archive"):
        archive.verify(tmp_path / "notes.tar")
    other = tmp_path / "other.tar"
    with tarfile.open(other, "w") as tar:
        tar.add(tmp_path / "notes.tar", arcname="notes.txt")
    with pytest.raises(InvalidInput, match=r"unexpected member 'notes\.txt'"):
        archive.verify(other)


def test_listing_and_retention_keep_the_newest_of_one_site(tmp_path):
    for day in (1, 2, 3):
        make_archive(tmp_path / f"blog_2026112{day}T000000Z.tar", created=f"2026-11-2{day}T00:00:00Z")
    make_archive(tmp_path / "shop_20261120T000000Z.tar", created="2026-11-20T00:00:00Z", site="shop")
    (tmp_path / "unrelated.tar").write_text("not ours")
    assert [e.site for e in archive.listing(tmp_path)] == ["shop", "blog", "blog", "blog"]
    removed = archive.prune(tmp_path, "blog", keep=2)
    assert [p.name for p in removed] == ["blog_20261121T000000Z.tar"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "blog_20261122T000000Z.tar", "blog_20261123T000000Z.tar", "shop_20261120T000000Z.tar", "unrelated.tar"]
    entry = archive.listing(tmp_path, "blog")[-1]
    assert entry.to_dict()["created"] == "2026-11-23T00:00:00Z" and entry.bytes > 0


def test_a_restored_copy_gets_the_new_name_host_ports_and_its_own_database(tmp_path):
    manifest = archive.verify(make_archive(tmp_path / "a.tar"))
    site = new_site(manifest, "staging", "staging.example.com", 8080, 8443)
    assert (site.name, site.fqdn, site.http_port, site.tls_port) == ("staging", "staging.example.com", 8080, 8443)
    assert (site.web, site.title, site.wplang, site.settings) == ("httpd", "My blog", "ja",
                                                                  {"PHP_MEMORY_LIMIT": "512M"})
    assert not site.external_db and not site.db_tls
    assert site.secret_settings == ()
    assert site.images["httpd"].startswith("hakobune/httpd:") and site.images["httpd"] != "hakobune/httpd:0.0.1"


def test_a_copy_with_ports_has_them_and_a_copy_without_is_behind_the_edge_on_a_network_of_its_own(tmp_path):
    manifest = archive.verify(make_archive(tmp_path / "a.tar"))
    behind = replace(manifest, settings={**manifest.settings, "edge": True, "edge_subnet": "172.30.0.0/24"})
    site = new_site(behind, "staging", "staging.example.com", 8080, 8443)
    assert (site.edge, site.edge_subnet, site.tls_port) == (False, "", 8443)
    copy = new_site(manifest, "staging", "staging.example.com", None, None)
    assert (copy.edge, copy.edge_subnet) == (True, "")  # provision makes its network and records the range
    assert new_site(behind, "staging", "staging.example.com", None, None).edge_subnet == ""
    # The original's other names stay the original's: a copy on the same edge would take them.
    aliased = replace(behind, settings={**behind.settings, "aliases": {"www.example.com": "serve"}})
    assert new_site(aliased, "staging", "staging.example.com", None, None).aliases == {}
    assert new_site(aliased, "staging", "staging.example.com", 8080, 8443).aliases == {}


def test_a_restored_copy_with_bad_names_is_refused(tmp_path):
    manifest = archive.verify(make_archive(tmp_path / "a.tar"))
    with pytest.raises(InvalidInput, match="TARGET 'Bad Name' is not a valid site name"):
        new_site(manifest, "Bad Name", "x.example.com", 80, 443)
    with pytest.raises(InvalidInput, match="is not a valid host name"):
        new_site(manifest, "ok", "not a host", 80, 443)


def test_old_urls_are_rewritten_with_either_scheme():
    from hakobune.ops.restore import url_variants

    assert url_variants("http://old.example.com") == ["http://old.example.com", "https://old.example.com"]
    assert url_variants("https://old.example.com:8443") == ["https://old.example.com:8443",
                                                             "http://old.example.com:8443"]


def test_archives_go_beside_the_site_folders_unless_told(tmp_path, monkeypatch):
    from hakobune.ops.backup import BACKUP_DIR_ENV, default_folder
    from hakobune.ops.sitedir import SiteDir

    monkeypatch.delenv(BACKUP_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert default_folder(SiteDir(tmp_path / "sites" / "blog")) == tmp_path / "sites" / "backups"
    assert default_folder(None) == tmp_path / "backups"
    monkeypatch.setenv(BACKUP_DIR_ENV, "/srv/archive")
    assert default_folder(SiteDir(tmp_path / "blog")) == Path("/srv/archive")


def test_archive_names_sort_by_time_and_name_the_site():
    from datetime import UTC, datetime

    assert archive.archive_name("blog", datetime(2026, 11, 27, 3, 0, 5, tzinfo=UTC)) == "blog_20261127T030005Z"


def test_the_listing_of_the_cli_reads_manifests_only(tmp_path, monkeypatch, capsys):
    from tests.unit.test_cli import run

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    (tmp_path / "backups").mkdir()
    make_archive(tmp_path / "backups" / "blog_20261127T100000Z.tar")
    code, out, _ = run(capsys, "backup", "list", "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert (row["site"], row["created"], row["wordpress"]) == ("blog", "2026-11-27T10:00:00Z", "6.8.3")
    assert row["archive"] == str(tmp_path / "backups" / "blog_20261127T100000Z.tar")


@pytest.mark.parametrize(
    ("links", "message"),
    [
        ((("./public/secrets", "/run/secrets"),), "holds a link './public/secrets' to '/run/secrets', outside"),
        ((("./public/top", ".."), ("./public/out", "top/..")), "holds a link './public/out' to 'top/..', outside"),
        ((("./wp-config.php", "public/index.php"),), "holds a wp-config.php that is a link, not a file"),
    ],
)
def test_an_archive_whose_files_link_out_is_refused_though_its_checksums_are_right(tmp_path, links, message):
    path = make_archive(tmp_path / "evil.tar", links=links)
    with pytest.raises(InvalidInput, match=message) as refused:
        archive.verify(path)
    assert refused.value.hint == "nothing was changed; use another archive"


def test_links_inside_the_site_are_fine(tmp_path):
    path = make_archive(tmp_path / "fine.tar", links=(("./public/latest", "index.php"),))
    assert archive.verify(path).site == "blog"


def test_a_copy_of_a_site_from_before_the_scheduler_runs_it_on_the_new_images(tmp_path):
    manifest = archive.verify(make_archive(tmp_path / "a.tar"))
    older = replace(manifest, settings={**manifest.settings, "scheduler": False})
    assert new_site(older, "staging", "staging.example.com", 8080, 8443).scheduler is True
