"""Nothing lost: a real site with posts, a page, a user and an uploaded image goes through backup, removal,
restore into a new site, a failed and a good restore over the running site, retention, and a clone."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.helpers import (
    ADMIN_PASSWORD,
    NOTHING,
    Provisioned,
    WordPressAdmin,
    client,
    fingerprint,
    free_port,
    hb,
    leftovers,
    logs_in,
    ok,
    png,
    provision_site,
    site_name,
)

pytestmark = pytest.mark.e2e

EDITOR, EDITOR_PASSWORD = "editor1", "Editor-pass-for-backups-1"


@dataclass
class Content:
    site: Provisioned
    post: str  # paths, relative to the site URL
    page: str
    image: str
    image_bytes: bytes
    secrets: dict[str, str]


@dataclass
class Restored:
    name: str
    folder: Path
    tls_port: int

    @property
    def url(self) -> str:
        return f"https://localhost:{self.tls_port}"


@pytest.fixture(scope="module")
def content(images, sites_dir) -> Content:
    site = provision_site("nginx", sites_dir, prefix="bak")
    wp = WordPressAdmin(site.url)
    image = png()
    media = wp.upload("harbour.png", image)
    post = wp.post("posts", json={"title": "Ships in the harbour", "status": "publish",
                                  "content": f'<img src="{media["source_url"]}">'})
    page = wp.post("pages", json={"title": "About the harbour", "status": "publish"})
    wp.post("users", json={"username": EDITOR, "email": "editor1@example.com", "password": EDITOR_PASSWORD,
                           "roles": ["editor"]})
    wp.close()
    base = len(site.url)
    secrets = dict(line.split("=", 1) for line in (site.folder / "secrets.env").read_text().splitlines()
                   if "=" in line and not line.startswith("#"))
    return Content(site, post["link"][base:], page["link"][base:], media["source_url"][base:], image, secrets)


@pytest.fixture(scope="module")
def archive(content, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("backups")
    started = time.monotonic()
    out = ok(hb("backup", "-C", str(content.site.folder), "--to", str(folder), cwd=content.site.folder.parent))
    seconds = time.monotonic() - started
    (path,) = folder.glob("*.tar")
    print(f"\nbackup of the test site: {seconds:.1f} s, {path.stat().st_size / 1e6:.1f} MB")
    assert f"Backup written: {path}" in out
    return path


@pytest.fixture(scope="module")
def restored(content, archive, sites_dir):
    """The original removed, then restored from its archive into a new site on other ports."""
    ok(hb("remove", "-y", str(content.site.folder), cwd=sites_dir))
    assert leftovers(content.site.name) == NOTHING
    name, http_port, tls_port = site_name("bak-new"), free_port(), free_port()
    started = time.monotonic()
    out = ok(hb("restore", str(archive), "--new", name, "--fqdn", "localhost", "--http-port", str(http_port),
                "--tls-port", str(tls_port), cwd=sites_dir))
    print(f"\nrestore into a new site: {time.monotonic() - started:.1f} s")
    assert f"Site {name} restored from the backup of {content.site.url}" in out
    # WordPress's events write the database and files on their own, every minute: held, so that "nothing
    # changed" compares what the test did only.
    ok(hb("cron", "hold", cwd=sites_dir / name))
    yield Restored(name, sites_dir / name, tls_port)
    hb("remove", "-y", name, cwd=sites_dir)
    assert leftovers(name) == NOTHING


def get(url: str, **kwargs: object):
    with client() as http:
        return http.get(url, **kwargs)  # type: ignore[arg-type]


def test_the_archive_holds_checksummed_parts_and_no_secrets(content, archive):
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
        parts = {name: tar.extractfile(name).read() for name in manifest["parts"]}
    assert names == ["manifest.json", "manifest.sha256", "site.yaml", "database.sql.gz", "files.tar.gz"]
    assert manifest["site"]["name"] == content.site.name and manifest["format"] == 1
    assert manifest["wordpress"].startswith("6.8.") and manifest["table_prefix"] == "wp_"
    assert set(manifest["images"]) == {"nginx", "php", "mariadb", "valkey", "metrics", "ops"}
    for name, data in parts.items():
        assert manifest["parts"][name] == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    plain = gzip.decompress(parts["database.sql.gz"]) + gzip.decompress(parts["files.tar.gz"])
    for key in ("DB_PASSWORD", "DB_ROOT_PASSWORD", "ADMIN_PASSWORD"):
        assert content.secrets[key].encode() not in plain, key
    assert b"Ships in the harbour" in plain and b"harbour.png" in plain
    assert archive.stat().st_mode & 0o777 == 0o600


def test_round_trip_keeps_posts_pages_users_and_image_bytes(content, restored):
    with client() as http:
        post = http.get(f"{restored.url}{content.post}")
        page = http.get(f"{restored.url}{content.page}")
        image = http.get(f"{restored.url}{content.image}")
    assert post.status_code == 200 and "Ships in the harbour" in post.text
    assert f"{restored.url}{content.image}" in post.text  # its link now points at the new site
    assert content.site.url not in post.text
    assert page.status_code == 200 and "About the harbour" in page.text
    assert image.status_code == 200 and image.content == content.image_bytes
    assert logs_in(restored.url, EDITOR, EDITOR_PASSWORD)
    assert logs_in(restored.url, "admin", ADMIN_PASSWORD)


def damaged_copies(archive: Path, folder: Path) -> list[Path]:
    data = archive.read_bytes()
    with tarfile.open(archive) as tar:
        db = tar.getmember("database.sql.gz")
    flipped = bytearray(data)
    flipped[db.offset_data + db.size // 2] ^= 0x01
    (folder / "one-byte.tar").write_bytes(bytes(flipped))
    (folder / "truncated.tar").write_bytes(data[: len(data) // 2])
    return [folder / "one-byte.tar", folder / "truncated.tar"]


def test_damaged_archives_are_refused_and_the_site_still_serves(content, archive, restored, tmp_path):
    before = fingerprint(restored.folder)
    for bad in damaged_copies(archive, tmp_path):
        result = hb("restore", str(bad), "-C", str(restored.folder), cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(f"error: archive {bad} is damaged: "), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert get(f"{restored.url}{content.post}").status_code == 200
    assert fingerprint(restored.folder) == before


@pytest.mark.parametrize("step", ["restore-staged", "restore-swapped", "restore-rewritten"])
def test_a_restore_that_fails_leaves_the_running_site_exactly_as_it_was(content, archive, restored, step):
    wp = WordPressAdmin(restored.url)
    wp.post("posts", json={"title": f"Written after the backup {step}", "status": "publish"})
    wp.close()
    before = fingerprint(restored.folder)
    result = hb("restore", str(archive), "-C", str(restored.folder), cwd=restored.folder,
                env={"HAKOBUNE_FAILPOINT": step})
    assert result.returncode == 1
    assert f"stopped at step '{step}'" in result.stderr
    assert "Restore failed: putting the site back as it was" in result.stderr
    assert fingerprint(restored.folder) == before
    assert f"Written after the backup {step}" in get(f"{restored.url}/").text


def test_a_restore_over_the_running_site_puts_the_archive_back(content, archive, restored):
    wp = WordPressAdmin(restored.url)
    wp.post("posts", json={"title": "Not in the archive", "status": "publish"})
    wp.close()
    started = time.monotonic()
    out = ok(hb("restore", str(archive), "-C", str(restored.folder), cwd=restored.folder))
    print(f"\nrestore over the running site: {time.monotonic() - started:.1f} s")
    assert f"restored from the backup of {content.site.url}" in out
    front = get(f"{restored.url}/").text
    assert "Ships in the harbour" in front and "Not in the archive" not in front
    assert "Written after the backup" not in front
    assert get(f"{restored.url}{content.image}").content == content.image_bytes
    assert logs_in(restored.url, EDITOR, EDITOR_PASSWORD)
    databases = ok(hb("exec", "db", "--", "mariadb", "-N", "-e", "SHOW DATABASES", cwd=restored.folder))
    assert "hbrestore" not in databases  # the staged and old copies are gone
    staging = hb("exec", "php", "--", "test", "-e", "/srv/site/.hb-restore", cwd=restored.folder)
    assert staging.returncode == 1


def test_retention_and_listing_on_the_client_and_on_the_engine(restored, tmp_path):
    folder = tmp_path / "kept"
    for _ in range(3):
        ok(hb("backup", "--to", str(folder), "--keep", "2", cwd=restored.folder))
        time.sleep(1.1)  # archive names have one-second resolution
    listed = json.loads(ok(hb("backup", "list", "--to", str(folder), "--json", cwd=restored.folder)))
    assert [row["site"] for row in listed] == [restored.name] * 2
    assert sorted(p.name for p in folder.iterdir()) == sorted(Path(row["archive"]).name for row in listed)
    assert all(row["bytes"] > 100_000 and row["wordpress"].startswith("6.8.") for row in listed)

    for _ in range(2):
        out = ok(hb("backup", "--on-host", "--keep", "1", cwd=restored.folder))
        assert "on the engine, in the site's backups volume" in out
        time.sleep(1.1)
    kept = json.loads(ok(hb("backup", "list", "--on-host", "--json", cwd=restored.folder)))
    assert len(kept) == 1 and kept[0]["site"] == restored.name
    ok(hb("restore", kept[0]["archive"], "--on-host", cwd=restored.folder))
    assert get(f"{restored.url}/").status_code == 200
    missing = hb("restore", "nosuch_20260101T000000Z.tar", "--on-host", cwd=restored.folder)
    assert missing.returncode == 1 and "no archive at /srv/backups/nosuch_20260101T000000Z.tar" in missing.stderr


def test_a_clone_serves_under_its_own_name_and_the_original_is_untouched(content, restored, sites_dir):
    name, http_port, tls_port = site_name("bak-clone"), free_port(), free_port()
    before = fingerprint(restored.folder)
    out = ok(hb("clone", str(restored.folder), name, "--fqdn", "staging.example.test", "--http-port",
                str(http_port), "--tls-port", str(tls_port), cwd=sites_dir))
    assert f"Site {name} is a copy of {restored.name}: https://staging.example.test:{tls_port}/" in out
    try:
        assert fingerprint(restored.folder) == before  # read, never written
        copy_url = f"https://staging.example.test:{tls_port}"
        with client() as http:  # the copy's host name, sent to this machine's published port
            http.headers["Host"] = f"staging.example.test:{tls_port}"
            front = http.get(f"https://127.0.0.1:{tls_port}/",
                             extensions={"sni_hostname": "staging.example.test"})
        assert front.status_code == 200
        assert f"{copy_url}{content.post}" in front.text and restored.url not in front.text
        assert "noindex" in front.text  # blog_public = 0: search engines are told to stay away
        assert ok(hb("wp-option", "get", "blog_public", cwd=sites_dir / name)).strip() == "0"
        assert ok(hb("wp-option", "get", "blog_public", cwd=restored.folder)).strip() == "1"
        assert restored.url in get(f"{restored.url}/").text
    finally:
        ok(hb("remove", "-y", name, cwd=sites_dir))
    assert leftovers(name) == NOTHING


def backup_health(folder: Path) -> str:
    services = json.loads(ok(hb("status", "--json", cwd=folder)))["services"]
    return next(s["health"] for s in services if s["service"] == "backup")


def wait_for(check, what: str, seconds: float = 90):
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(1)
    return found


def test_scheduled_backups_run_in_the_stack_keep_n_and_show_failures(restored, archive):
    out = ok(hb("backup", "schedule", "hourly", "--keep", "2", cwd=restored.folder))
    assert re.search(r"hourly \(\d\d? \* \* \* \* UTC\), keeping the newest 2", out), out  # the site's minute
    assert backup_health(restored.folder) == "healthy"
    container = f"hb-{restored.name}-backup-1"

    def archives() -> list[dict]:
        return json.loads(ok(hb("backup", "list", "--on-host", "--json", cwd=restored.folder)))

    already = {a["archive"] for a in archives()}

    def now() -> None:  # SIGUSR1: run now, instead of waiting for the hour
        subprocess.run(["docker", "kill", "--signal", "USR1", container], check=True, capture_output=True)

    def written(count: int) -> None:
        wait_for(lambda: ok(hb("logs", "backup", cwd=restored.folder)).count("hakobune backup: written:") == count,
                 f"{count} scheduled backups")

    now()
    written(1)
    # A second "now" while a run is on is kept for after it (it was lost once, and the wait went on for the hour).
    now()
    time.sleep(0.5)
    now()
    written(3)
    kept = [a for a in archives() if a["archive"] not in already]
    assert len(archives()) == 2 and len(kept) == 2  # the older ones went, of this site only

    # A failed run is visible: the service turns unhealthy, and healthy again after a good run.
    subprocess.run(["docker", "stop", f"hb-{restored.name}-db-1"], check=True, capture_output=True)
    subprocess.run(["docker", "kill", "--signal", "USR1", container], check=True, capture_output=True)
    wait_for(lambda: backup_health(restored.folder) == "unhealthy", "the failure to show")
    assert "hakobune backup: FAILED: dumping the database failed" in ok(hb("logs", "backup", cwd=restored.folder))
    by_hand = hb("backup", "--to", str(restored.folder.parent / "never"), cwd=restored.folder)
    assert by_hand.returncode == 1
    error = by_hand.stderr.strip().splitlines()[-1]
    assert error.startswith("error: backup failed: dumping the database failed: "), by_hand.stderr
    assert error.endswith("(hint: the site's database is not running: 'hakobune start' first)")
    assert not (restored.folder.parent / "never").exists()
    refused = hb("restore", str(archive), cwd=restored.folder)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1] == (
        f"error: site {restored.name} is not running (its database is exited) (hint: start it with "
        "'hakobune start' first; nothing was changed)")
    ok(hb("start", cwd=restored.folder))
    subprocess.run(["docker", "kill", "--signal", "USR1", container], check=True, capture_output=True)
    wait_for(lambda: backup_health(restored.folder) == "healthy", "a good run")

    ok(hb("backup", "schedule", "off", cwd=restored.folder))
    assert "backup" not in [s["service"] for s in json.loads(ok(hb("status", "--json", cwd=restored.folder)))
                            ["services"]]
    assert subprocess.run(["docker", "inspect", container], capture_output=True).returncode != 0
    assert len(archives()) == 2  # what the service made stays
