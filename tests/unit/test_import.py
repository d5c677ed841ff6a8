"""`hakobune import` without Docker: what a source must be, what a dump must be, and what is refused."""

from __future__ import annotations

import gzip

import pytest

from hakobune.errors import InvalidInput
from hakobune.ops.import_site import Ssh, _db_client_args, _gzip_dump, check_sql
from tests.unit.test_cli import run

FQDN = ["--fqdn", "new.example.com"]


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("hello")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "index.php").write_text("<?php echo 1;")
    (tmp_path / "dump.sql").write_text("-- MariaDB dump 10.19\nCREATE TABLE t (id INT);\n")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\0\0JFIF\0" * 10)
    (tmp_path / "prose.sql").write_text("Dear reader, this is a letter.\n")
    return tmp_path


@pytest.mark.parametrize(("args", "message"), [
    (["--from-dir", "notes", "--sql", "dump.sql"], "error: --from-dir 'notes' is not a site: it holds no PHP files"),
    (["--from-dir", "app", "--sql", "dump.sql"],
     "error: --from-dir 'app' holds no WordPress (wp-includes/version.php and wp-config.php) (hint: import "
     "another PHP application with --lamp)"),
    (["--from-dir", "nowhere", "--sql", "dump.sql"], "error: --from-dir 'nowhere' is not a folder"),
    (["--lamp", "--from-dir", "app", "--sql", "photo.jpg"], "error: --sql 'photo.jpg' is not a SQL dump"),
    (["--lamp", "--from-dir", "app", "--sql", "prose.sql"], "error: --sql 'prose.sql' is not a SQL dump"),
    (["--lamp", "--from-dir", "app", "--sql", "none.sql"], "error: --sql 'none.sql' does not exist"),
    (["--from-dir", "app"], "error: --from-dir needs --sql DUMP"),
    (["--sql", "dump.sql"], "error: give one source"),
    (["--from-dir", "app", "--from-ssh", "root@old:/var/www", "--sql", "dump.sql"], "error: give one source"),
    (["--from-ssh", "old.example.com:/var/www"], "error: --from-ssh 'old.example.com:/var/www' is not USER@HOST:/PATH"),
    (["--from-ssh", "root@old.example.com:www"], "error: --from-ssh 'root@old.example.com:www' is not USER@HOST"),
    (["--from-ssh", "root@old:/var/www", "--sql", "dump.sql"], "error: --sql is for --from-dir or --lamp"),
    (["--lamp", "--from-ssh", "root@old:/var/www"], "error: --from-ssh --lamp needs --sql DUMP"),
    (["--ssh-port", "2222", "--from-dir", "app", "--sql", "dump.sql"], "error: --ssh-port is for --from-ssh"),
])
def test_bad_sources_are_refused_before_anything_is_made(capsys, in_tmp, args, message):
    before = sorted(p.name for p in in_tmp.iterdir())
    code, _, err = run(capsys, "import", "site", *FQDN, *args)
    assert code == 2, err
    assert err.startswith(message), err
    assert len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in in_tmp.iterdir()) == before


def test_a_gzip_dump_is_sql_too_and_other_databases_are_left_out(tmp_path):
    dump = tmp_path / "all.sql.gz"
    dump.write_bytes(gzip.compress(b"-- MySQL dump 10.13\nCREATE DATABASE /*!32312 IF NOT EXISTS*/ `old` ;\n"
                                   b"USE `old`;\nCREATE TABLE t (id INT);\nINSERT INTO t VALUES (1);\n"))
    check_sql(dump)
    out = tmp_path / "clean.sql.gz"
    _gzip_dump(dump, out)
    assert gzip.decompress(out.read_bytes()) == (b"-- MySQL dump 10.13\nCREATE TABLE t (id INT);\n"
                                                 b"INSERT INTO t VALUES (1);\n")


def test_an_empty_file_is_not_a_dump(tmp_path):
    (tmp_path / "empty.sql").write_text("")
    with pytest.raises(InvalidInput, match="is not a SQL dump"):
        check_sql(tmp_path / "empty.sql")


@pytest.mark.parametrize(("host", "args"), [
    (None, ["--host=localhost"]),
    ("localhost", ["--host=localhost"]),
    ("db.internal:3307", ["--host=db.internal", "--port=3307"]),
    ("localhost:/run/mysqld/mysqld.sock", ["--socket=/run/mysqld/mysqld.sock"]),
])
def test_wp_configs_db_host_becomes_client_options(host, args):
    assert _db_client_args(host, "wp", "blog") == [*args, "--user=wp", "blog"]


def test_an_ssh_source_is_user_host_and_absolute_path():
    ssh = Ssh.parse("deploy@old.example.com:/var/www/html/", 2222)
    assert (ssh.user, ssh.host, ssh.path, ssh.where) == ("deploy", "old.example.com", "/var/www/html",
                                                         "deploy@old.example.com (port 2222)")


def test_files_with_database_settings_are_found_in_a_folder_or_a_tar(tmp_path):
    import tarfile

    from hakobune.ops.import_site import _db_settings_files

    app = tmp_path / "shop"
    (app / "inc").mkdir(parents=True)
    (app / "inc" / "db.inc").write_text("<?php $pdo = new PDO('mysql:host=localhost;dbname=shop');")
    (app / ".env").write_text("DB_HOST=localhost\n")
    (app / "index.php").write_text("<?php echo 'hi';")
    (app / "notes.txt").write_text("DB_HOST is in inc/db.inc\n")
    assert _db_settings_files(app) == (".env", "inc/db.inc")
    with tarfile.open(tmp_path / "shop.tar", "w") as tar:
        tar.add(app, arcname=".")
    assert _db_settings_files(tmp_path / "shop.tar") == (".env", "inc/db.inc")
