"""The CLI without Docker: help, and bad input answered with one line, the right exit code, nothing left."""

import pytest

from hakobune.cli import main

GOOD = ["provision", "--fqdn", "localhost", "--http-port", "18080", "--tls-port", "18443"]


def run(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # No engine may be reached by these tests: point at one that cannot exist.
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    return tmp_path


@pytest.mark.parametrize("command", [[], ["provision"], ["remove"], ["status"], ["images", "build"],
                                     ["images", "bootstrap-base"]])
def test_help(capsys, command):
    code, out, _ = run(capsys, *command, "--help")
    assert code == 0
    assert "Usage:" in out


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("hakobune ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["provision", "--fqdn", "not a host", "site"], "error: --fqdn 'not a host' is not a valid host name"),
        ([*GOOD, "--admin-pass", "short", "site"], "error: --admin-pass must be at least 8 characters long"),
        ([*GOOD, "a/b"], "error: TARGET 'a/b' must be a plain folder name"),
        ([*GOOD, ".."], "error: TARGET '..' must be a plain folder name"),
        ([*GOOD, "--tls-port", "99999", "site"], "error: --tls-port 99999 is out of range"),
        (["provision", "site"], "error: Missing option '--fqdn'"),
        (["provision", "--fqdn", "localhost", "--http-port", "eighty", "site"],
         "error: Invalid value for '--http-port'"),
        (["nonsense"], "error: No such command 'nonsense'"),
        ([*GOOD, "--nginx", "--httpd", "site"], "error: --nginx and --httpd cannot be used together"),
        ([*GOOD, "--wp", "--lamp", "site"], "error: --wp and --lamp cannot be used together"),
        ([*GOOD, "--dbhost", "db.example.net", "--dbname", "x", "site"],
         "error: an external database (--dbhost) needs --dbuser, --dbpass"),
        ([*GOOD, "--db-tls", "site"], "error: --db-tls is for an external database"),
        # The monitoring stack's options are checked before the engine is asked anything.
        (["monitor", "up", "--retention", "15"], "error: --retention '15' is not a duration"),
        (["monitor", "up", "--webhook", "file:///etc/passwd"], "error: --webhook 'file:///etc/passwd' is not an"),
        (["monitor", "up", "--email", "ops@example.com"], "error: --email needs an SMTP server"),
        (["monitor", "up", "--port", "9093"], "error: --port and --alertmanager-port are both 9093"),
        (["monitor", "up", "--smtp-host", "a.example", "--smtp-password-file", "no-such-file"],
         "error: --smtp-password-file no-such-file cannot be read"),
        (["top", "--json"], "error: --json goes with --once"),
        (["top", "--interval", "0"], "error: --interval 0.0 is out of range"),
    ],
)
def test_bad_input_is_a_usage_error(capsys, in_tmp, args, message):
    code, _, err = run(capsys, *args)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(message)
    assert list(in_tmp.iterdir()) == []


def test_existing_target_is_refused_untouched(capsys, in_tmp):
    (in_tmp / "site").mkdir()
    (in_tmp / "site" / "mine.txt").write_text("keep")
    code, _, err = run(capsys, *GOOD, "site")
    assert code == 2
    assert err.strip() == "error: TARGET 'site' already exists in " f"{in_tmp} (hint: choose another name)"
    assert [p.name for p in (in_tmp / "site").iterdir()] == ["mine.txt"]


def test_no_engine_is_a_runtime_error(capsys, in_tmp):
    code, _, err = run(capsys, *GOOD, "site")
    assert code == 1
    assert err.startswith("error: no Docker engine answers at unix://")
    assert len(err.strip().splitlines()) == 1
    assert list(in_tmp.iterdir()) == []


def test_status_outside_a_site(capsys):
    code, _, err = run(capsys, "status")
    assert code == 1
    assert "is not a Hakobune site folder" in err


def test_remove_without_yes_off_a_terminal(capsys, in_tmp):
    (in_tmp / "blog").mkdir()
    (in_tmp / "blog" / "hakobune.yaml").write_text("format: 1\nsite: {name: blog, fqdn: localhost}\n")
    code, _, err = run(capsys, "remove", "blog")
    assert code == 2
    assert "pass -y" in err
    assert (in_tmp / "blog" / "hakobune.yaml").exists()


def test_remove_asks_on_a_terminal_and_no_keeps_everything(in_tmp):
    """A real terminal (a pty): the question is asked, 'n' aborts, nothing is touched, no engine is needed."""
    import os
    import pty
    import sys

    (in_tmp / "blog").mkdir()
    (in_tmp / "blog" / "hakobune.yaml").write_text("format: 1\nsite: {name: blog, fqdn: localhost}\n")
    pid, fd = pty.fork()
    if pid == 0:  # the child: hakobune on the pty
        os.execv(sys.executable, [sys.executable, "-m", "hakobune", "remove", "blog"])  # noqa: S606
    output = b""
    while b"[y/N]" not in output:
        output += os.read(fd, 1024)
    os.write(fd, b"n\n")
    try:
        while chunk := os.read(fd, 1024):
            output += chunk
    except OSError:  # the child closed the pty
        pass
    _, status = os.waitpid(pid, 0)
    text = output.decode()
    assert "Remove site blog and ALL its data" in text
    assert os.waitstatus_to_exitcode(status) == 1
    assert "error: aborted" in text
    assert (in_tmp / "blog" / "hakobune.yaml").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["restore", "none.tar", "--new", "copy", "--fqdn", "copy.example.com"],
         "error: archive 'none.tar' does not exist"),
        (["restore", "a.tar", "--new", "copy"], "error: --new needs --fqdn"),
        (["restore", "a.tar", "--fqdn", "copy.example.com", "-C", "site"], "error: --fqdn is for a new site"),
        (["restore", "a.tar", "-C", "site", "--new", "copy", "--fqdn", "c.example.com"],
         "error: -C and --new cannot be used together"),
        (["restore", "a.tar", "--on-host", "--new", "copy", "--fqdn", "c.example.com"],
         "error: --on-host restores into the site that keeps the archive"),
        (["restore", "a.tar", "--new", "Bad Name", "--fqdn", "c.example.com"],
         "error: the archive's settings do not make a valid site: TARGET 'Bad Name' is not a valid site name"),
        (["restore", "a.tar", "--new", "site", "--fqdn", "c.example.com"], "error: TARGET 'site' already exists"),
        (["restore", "newer.tar", "--new", "copy", "--fqdn", "c.example.com"],
         "error: archive newer.tar has format 2, newer than this Hakobune reads (1)"),
        (["restore", "backups/a.tar", "-C", "site", "--on-host"], "error: --on-host takes an archive's name"),
        (["backup", "-C", "site", "--keep", "0"], "error: --keep 0 must be 1 to 1000"),
        (["backup", "-C", "site", "--to", "a.tar"], "error: --to 'a.tar' is not a folder"),
        (["backup", "-C", "site", "--to", "x", "--on-host"], "error: --to and --on-host cannot be used together"),
        (["clone", "site", "site", "--fqdn", "c.example.com"], "error: TARGET 'site' already exists"),
        (["upgrade", "-C", "site", "--all"], "error: -C and --all cannot be used together"),
        (["clone", "site", "copy", "--fqdn", "not a host"], "error: --fqdn 'not a host' is not a valid host name"),
    ],
)
def test_bad_backup_and_restore_input_changes_nothing(capsys, in_tmp, args, message):
    from hakobune.ops.sitedir import SiteDir
    from hakobune.site import SiteSecrets
    from tests.unit.test_archive import make_archive

    make_archive(in_tmp / "a.tar")
    make_archive(in_tmp / "newer.tar", fmt=2)
    (in_tmp / "site").mkdir()
    (in_tmp / "site" / "hakobune.yaml").write_text("format: 1\nsite: {name: site, fqdn: localhost}\n")
    SiteDir(in_tmp / "site").write_secrets(SiteSecrets())
    before = sorted((p.relative_to(in_tmp), p.stat().st_mtime_ns) for p in in_tmp.rglob("*"))
    code, _, err = run(capsys, *args)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(message), err
    assert sorted((p.relative_to(in_tmp), p.stat().st_mtime_ns) for p in in_tmp.rglob("*")) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cache", "on", "-C", "apache"], "error: site apache runs httpd, which has no page cache"),
        (["cache", "clear", "-C", "apache"], "error: site apache runs httpd, which has no page cache"),
        (["cache", "status", "-C", "apache"], "error: site apache runs httpd, which has no page cache"),
        (["cache", "sometimes", "-C", "apache"], "error: No such command 'sometimes'"),
        (["config", "set", "NGINX_CACHE=off", "-C", "blog"],
         "error: NGINX_CACHE is managed by Hakobune from the site's settings and cannot be set"),
    ],
)
def test_bad_cache_input_changes_nothing(capsys, in_tmp, args, message):
    from hakobune.ops.sitedir import SiteDir
    from hakobune.site import SiteSecrets

    for name, web in (("apache", "httpd"), ("blog", "nginx")):
        (in_tmp / name).mkdir()
        settings = f"format: 1\nsite: {{name: {name}, fqdn: localhost, web: {web}}}\n"
        (in_tmp / name / "hakobune.yaml").write_text(settings)
        SiteDir(in_tmp / name).write_secrets(SiteSecrets())
    before = sorted((p.relative_to(in_tmp), p.stat().st_mtime_ns) for p in in_tmp.rglob("*"))
    code, _, err = run(capsys, *args)
    assert code == 2, err
    assert err.startswith(message), err
    assert sorted((p.relative_to(in_tmp), p.stat().st_mtime_ns) for p in in_tmp.rglob("*")) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["wp-user", "create", "bob", "bob@example.com", "--role", "Editor; DROP"],
         "error: --role 'Editor; DROP' is not a role name"),
        (["wp-user", "create", "bob", "not-an-email"], "error: EMAIL 'not-an-email' is not valid"),
        (["wp-user", "create", "bob", "bob@example.com", "--password", "short"],
         "error: --password must be at least 8 characters long"),
        (["wp-user", "create", "bob", "bob@example.com", "--password", "x" * 9, "--password-file", "-"],
         "error: --password and --password-file cannot be used together"),
        (["wp-user", "delete", "bad login!", "-y"], "error: LOGIN 'bad login!' is not valid"),
        (["wp-user", "delete", "bob", "--reassign", "no one", "-y"], "error: --reassign 'no one' is not valid"),
        (["wp-user", "set-password", "bob", "--password-file", "missing.txt"],
         "error: --password-file 'missing.txt' cannot be read"),
        (["wp-option", "get", ""], "error: '' is not an option name"),
        (["wp-option", "set", "x" * 200, "v"], "error: '" + "x" * 200 + "' is not an option name"),
        (["wp-plugin", "activate", "../../etc"], "error: '../../etc' is not a plugin's folder name"),
        (["wp-theme", "activate", "a/b"], "error: 'a/b' is not a theme's folder name"),
        (["search-replace", "", "x"], "error: search-replace needs a non-empty OLD"),
        (["logs", "--since", "yesterday"], "error: --since 'yesterday' is not a time"),
        (["logs", "--tail", "-5"], "error: --tail '-5' must be a number of lines or 'all'"),
        (["restart", "mysql"], "error: unknown service 'mysql'"),
        (["backup", "schedule", "weekly"], "error: 'weekly' is not a schedule"),
        (["clone", ".", "copy", "--fqdn", "copy.example.com", "--tls-port", "70000"],
         "error: --tls-port 70000 is out of range"),
        (["import", "new", "--fqdn", "localhost", "--from-ssh", "u@h:/srv", "--ssh-port", "0"],
         "error: --ssh-port 0 is out of range"),
        (["restore", "--interrupted", "maybe"], "error: --interrupted 'maybe' is not undo or finish"),
        (["restore", "a.tar", "--interrupted", "undo"], "error: --interrupted ends an earlier restore"),
        (["restore"], "error: restore needs SOURCE, the archive"),
        (["remove", "."], "error: remove asks for confirmation on a terminal"),
    ],
)
def test_every_option_is_checked_before_the_engine_is_called(capsys, in_tmp, monkeypatch, args, message):
    """Each of these would reach a site's containers; with no engine to reach (DOCKER_HOST points nowhere),
    the answer is still the usage error, so the check came first."""
    from hakobune.ops.sitedir import SiteDir
    from hakobune.site import SiteSecrets
    from hakobune.versions import images_for

    site = in_tmp / "site"
    site.mkdir()
    images = ", ".join(f"{k}: '{v}'" for k, v in images_for("nginx").items())
    (site / "hakobune.yaml").write_text(f"format: 1\nsite: {{name: site, fqdn: localhost, images: {{{images}}}}}\n")
    SiteDir(site).write_secrets(SiteSecrets())
    monkeypatch.chdir(site)  # commands work on the site in the current folder
    before = sorted((p.relative_to(in_tmp), p.stat().st_mtime_ns) for p in in_tmp.rglob("*"))
    code, _, err = run(capsys, *args)
    assert code == 2, err
    assert err.startswith(message), err
    assert len(err.strip().splitlines()) == 1, err
    assert sorted((p.relative_to(in_tmp), p.stat().st_mtime_ns) for p in in_tmp.rglob("*")) == before


@pytest.mark.parametrize("command", [["wp-plugin", "activate"], ["wp-plugin", "deactivate"], ["wp-theme", "activate"]])
def test_help_shows_no_internal_option(capsys, command):
    code, out, _ = run(capsys, *command, "--help")
    assert code == 0
    assert "--verb" not in out and "folder name" in out


def test_help_texts_are_each_commands_own(capsys):
    _, out, _ = run(capsys, "backup", "list", "--help")
    assert "Keep the archive" not in out  # backup's own words, once copied here
    _, out, _ = run(capsys, "images", "build", "--help")
    assert "httpd" in out and "valkey" in out  # every image, not the four there were once


def test_tables_written_to_a_pipe_are_never_cut_short(capsys):
    """Off a terminal (a pipe, a file, a script), a row is printed whole, however long: no ellipsis."""
    from rich.table import Table

    from hakobune.cli.output import Output

    url, folder = "https://a-long-host-name.example.com:18443", "/srv/sites/" + "deep/" * 20 + "blog"
    table = Table("site", "state", "url", "folder", box=None)
    table.add_row("blog-1", "4/4 running, 3 healthy", url, folder)
    Output().out.print(table)
    printed = capsys.readouterr().out
    assert url in printed and folder in printed and "…" not in printed
