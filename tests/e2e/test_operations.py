"""Everyday operations on a running site: status, list, info, start/stop/restart, logs, shell, exec, and the
user's own compose.override.yaml."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time

import httpx
import pytest

from hakobune.versions import image_refs
from tests.e2e.helpers import (
    ADMIN_PASSWORD,
    HAKOBUNE,
    client,
    docker,
    hb,
    interruptible,
    logs_in,
    ok,
    pinned,
    provision_site,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def site(images, sites_dir):
    site = provision_site("nginx", sites_dir, prefix="ops")
    yield site
    hb("remove", "-y", str(site.folder), cwd=sites_dir)


def started_at(site, service: str) -> str:
    return json.loads(docker("inspect", f"hb-{site.name}-{service}-1"))[0]["State"]["StartedAt"]


def serves(site) -> bool:
    try:
        with client() as http:
            return http.get(f"{site.url}/").status_code == 200
    except httpx.TransportError:
        return False


def test_status_shows_urls_states_and_images(site):
    result = json.loads(hb("status", "--json", cwd=site.folder).stdout)
    assert result["url"] == site.url and result["admin_url"] == f"{site.url}/wp-admin/"
    images = {svc["service"]: svc["image"] for svc in result["services"]}
    named = {"web": "nginx", "php": "php", "db": "mariadb", "valkey": "valkey", "cron": "php", "metrics": "metrics"}
    # Each names the numbered build of this Hakobune's version.
    assert pinned({named[service]: ref for service, ref in images.items()}) == \
        {name: image_refs()[name] for name in named.values()}
    assert {svc["health"] for svc in result["services"]} == {"healthy"}
    # Each service runs the newest build of its image.
    assert result["images"] == "current"
    assert {b["service"]: b["state"] for b in result["builds"]} == dict.fromkeys(images, "current")


def test_list_finds_the_site_by_label_from_any_folder(site, tmp_path):
    listed = {s["site"]: s for s in json.loads(hb("list", "--json", cwd=tmp_path).stdout)}
    # Ports of its own: the certificate its web server serves.
    assert listed[site.name].pop("certificate").startswith("self-signed: CN=localhost, ")
    assert listed[site.name] == {"site": site.name, "url": site.url, "folder": str(site.folder), "running": 6,
                                 "healthy": 6, "services": 6, "state": "healthy", "warnings": [],
                                 "images": "current"}
    table = hb("list", cwd=tmp_path).stdout
    assert re.search(rf"^ ?{site.name} +healthy +{re.escape(site.url)} ", table, re.M), table


def test_info_shows_secrets_only_when_asked(site):
    secrets = dict(line.split("=", 1) for line in (site.folder / "secrets.env").read_text().splitlines()
                   if "=" in line and not line.startswith("#"))
    plain = hb("info", cwd=site.folder)
    assert plain.returncode == 0, plain.stderr
    assert "fqdn: localhost" in plain.stdout and f"url: {site.url}" in plain.stdout
    assert not any(value in plain.stdout for value in secrets.values())
    shown = json.loads(hb("info", "--json", "--show-secrets", cwd=site.folder).stdout)
    assert shown["secrets"]["DB_PASSWORD"] == secrets["DB_PASSWORD"]
    assert pinned(shown["images"])["php"] == image_refs()["php"]


def test_restart_of_one_service_restarts_only_it(site):
    before = {service: started_at(site, service) for service in ("web", "php", "db")}
    result = hb("restart", "php", cwd=site.folder)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Restarted: php"
    after = {service: started_at(site, service) for service in ("web", "php", "db")}
    assert after["php"] != before["php"]
    assert (after["web"], after["db"]) == (before["web"], before["db"])
    assert serves(site)


def test_stop_then_start(site, tmp_path):
    result = hb("stop", "-C", str(site.folder), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    states = {svc["service"]: svc["state"] for svc in json.loads(hb("status", "--json", cwd=site.folder).stdout)
              ["services"]}
    assert states == {"web": "exited", "php": "exited", "db": "exited", "valkey": "exited", "cron": "exited",
                      "metrics": "exited"}
    listed = {s["site"]: s for s in json.loads(hb("list", "--json", cwd=tmp_path).stdout)}
    assert listed[site.name]["running"] == 0
    assert not serves(site)
    stopped = hb("wp-option", "get", "blogname", cwd=site.folder)
    assert stopped.returncode == 1
    assert stopped.stderr.strip() == f"error: site {site.name} is not running (hint: start it with: hakobune start)"
    result = hb("start", "-C", str(site.folder), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"is up: {site.url}/" in result.stdout
    assert serves(site)


def test_exec_gives_the_commands_output_and_exit_code(site):
    result = hb("exec", "php", "--", "php", "-r", "echo PHP_VERSION; exit(3);", cwd=site.folder)
    assert result.returncode == 3
    assert result.stdout.startswith("8.4.")
    result = hb("exec", "db", "--", "mariadb", "-N", "-e", "SELECT COUNT(*) FROM wordpress.wp_users",
                cwd=site.folder)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"


def test_shell_runs_what_it_is_given(site):
    result = hb("shell", cwd=site.folder, input="id -un; ls /srv/site\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "www-data"
    assert "wp-config.php" in result.stdout
    # ops is started for the job and removed after it
    result = hb("shell", "ops", cwd=site.folder, input="command -v mariadb\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "/usr/bin/mariadb"
    assert docker("ps", "-a", "-q", "--filter", f"label=com.docker.compose.project=hb-{site.name}",
                  "--filter", "label=com.docker.compose.service=ops") == ""


def test_logs_show_requests_with_timestamps(site):
    with client() as http:
        http.get(f"{site.url}/?logged=1")
    result = hb("logs", "web", "--tail", "20", "--since", "10m", cwd=site.folder)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if '"path":"/?logged=1"' in line)
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", line)
    every = hb("logs", "--tail", "5", cwd=site.folder).stdout
    assert {"web-1", "php-1", "db-1"} <= {line.split()[0] for line in every.splitlines() if line.strip()}


def test_logs_follow_until_ctrl_c(site):
    proc = subprocess.Popen([str(HAKOBUNE), "logs", "web", "-f", "--tail", "0"], cwd=site.folder,
                            preexec_fn=interruptible,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3)  # compose attaches to the log stream
        with client() as http:
            http.get(f"{site.url}/?followed=1")
        deadline = time.monotonic() + 60
        line = ""
        while '"path":"/?followed=1"' not in line:
            assert time.monotonic() < deadline, "the request never showed in the followed log"
            line = proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
    assert code == 0, proc.stderr.read()


def test_a_users_compose_override_is_applied_and_kept(site):
    override = site.folder / "compose.override.yaml"
    text = "# mine\nservices:\n  php:\n    environment:\n      MY_OWN_SETTING: kept\n"
    override.write_text(text)
    try:
        result = hb("config", "set", "PHP_MAX_EXECUTION_TIME=90", cwd=site.folder)  # regenerates compose.yaml
        assert result.returncode == 0, result.stderr
        assert override.read_text() == text
        assert "MY_OWN_SETTING" not in (site.folder / "compose.yaml").read_text()
        shown = hb("exec", "php", "--", "printenv", "MY_OWN_SETTING", cwd=site.folder)
        assert shown.stdout.strip() == "kept"
    finally:
        override.unlink()
        hb("config", "unset", "PHP_MAX_EXECUTION_TIME", cwd=site.folder)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["restart", "phpp"], 2, "error: unknown service 'phpp' (hint: did you mean php?)"),
        (["logs", "mysql"], 2,
         "error: unknown service 'mysql' (hint: services: web, php, db, valkey, cron, metrics, backup, acme)"),
        (["exec", "redis", "--", "true"], 2,
         "error: unknown service 'redis' (hint: services: web, php, db, valkey, cron, metrics, ops, wp)"),
        (["shell", "dbb"], 2, "error: unknown service 'dbb' (hint: did you mean db?)"),
        (["exec", "php", "--"], 2, "error: exec needs a command (hint: e.g. hakobune exec php -- php -v)"),
        (["logs", "--tail", "many"], 2, "error: --tail 'many' must be a number of lines or 'all'"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(site, args, code, message):
    before = {service: started_at(site, service) for service in ("web", "php", "db")}
    result = hb(*args, cwd=site.folder)
    assert result.returncode == code, result.stderr
    assert result.stderr.strip().splitlines() == [message]
    assert {service: started_at(site, service) for service in ("web", "php", "db")} == before


@pytest.mark.parametrize("command", [["start"], ["stop"], ["restart"], ["status"], ["logs"], ["info"],
                                     ["exec", "php", "--", "true"]])
def test_a_folder_that_is_not_a_site_is_refused(tmp_path, command):
    result = hb(command[0], "-C", str(tmp_path / "nowhere"), *command[1:], cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"error: site folder '{tmp_path / 'nowhere'}' does not exist"]


@pytest.mark.parametrize("command", [["list"], ["stop"], ["restart", "php"], ["logs"], ["exec", "php", "--", "true"]])
def test_an_unreachable_engine_is_one_line(site, command):
    result = hb(*command, cwd=site.folder, env={"DOCKER_HOST": "tcp://127.0.0.1:1", "DOCKER_CONTEXT": ""})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no Docker engine answers at tcp://127.0.0.1:1"), lines


def test_output_plain_quiet_and_debug(site):
    """Not on a terminal: plain step lines on stderr, the result on stdout; --quiet keeps only the result;
    --debug shows every docker command run."""
    plain = hb("config", "set", "PHP_MAX_EXECUTION_TIME=45", cwd=site.folder)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.strip() == "Applied; restarted: php"
    assert "• Recreating php with the new settings" in plain.stderr.splitlines()
    assert "\x1b[" not in plain.stderr + plain.stdout
    quiet = hb("--quiet", "config", "set", "PHP_MAX_EXECUTION_TIME=46", cwd=site.folder)
    assert (quiet.returncode, quiet.stdout.strip(), quiet.stderr) == (0, "Applied; restarted: php", "")
    debug = hb("--debug", "config", "unset", "PHP_MAX_EXECUTION_TIME", cwd=site.folder)
    assert debug.returncode == 0, debug.stderr
    commands = [line for line in debug.stderr.splitlines() if line.startswith("+ ")]
    assert any(" up --detach --wait " in line and line.rstrip().endswith(" php") for line in commands), commands
    assert any(line.startswith("+ docker run --rm -i --network none") for line in commands), commands


# -- WordPress work through the ops container ---------------------------------------------------------------


def test_options_are_read_set_and_deleted(site):
    ok(hb("wp-option", "set", "blogname", "Renamed by Hakobune", cwd=site.folder))
    assert ok(hb("wp-option", "get", "blogname", cwd=site.folder)).strip() == "Renamed by Hakobune"
    with client() as http:
        assert "<title>Renamed by Hakobune" in http.get(f"{site.url}/").text
    ok(hb("wp-option", "set", "hb_test_list", '{"a": [1, 2], "b": "x"}', "--json-value", cwd=site.folder))
    assert json.loads(ok(hb("wp-option", "get", "hb_test_list", cwd=site.folder))) == {"a": [1, 2], "b": "x"}
    ok(hb("wp-option", "delete", "hb_test_list", cwd=site.folder))
    gone = hb("wp-option", "get", "hb_test_list", cwd=site.folder)
    assert (gone.returncode, gone.stderr.strip()) == (1, "error: no option 'hb_test_list'")


def test_users_are_created_can_log_in_and_are_deleted(site):
    created = ok(hb("wp-user", "create", "editor1", "editor1@example.com", "--role", "editor", cwd=site.folder))
    password = re.search(r"password: (\S+)", created).group(1)
    assert logs_in(site.url, "editor1", password)
    users = {u["login"]: u for u in json.loads(ok(hb("wp-user", "list", "--json", cwd=site.folder)))}
    assert users["editor1"]["roles"] == ["editor"] and users["admin"]["roles"] == ["administrator"]
    ok(hb("wp-user", "set-password", "editor1", "--password", "a-new-Pass-123", cwd=site.folder))
    assert logs_in(site.url, "editor1", "a-new-Pass-123") and not logs_in(site.url, "editor1", password)
    ok(hb("wp-user", "delete", "editor1", "--reassign", "admin", "-y", cwd=site.folder))
    users = {u["login"] for u in json.loads(ok(hb("wp-user", "list", "--json", cwd=site.folder)))}
    assert users == {"admin"}
    assert logs_in(site.url, "admin", ADMIN_PASSWORD)


def test_plugins_and_themes_are_listed_and_switched(site):
    ok(hb("wp-plugin", "activate", "akismet", cwd=site.folder))
    plugins = {p["name"]: p for p in json.loads(ok(hb("wp-plugin", "list", "--json", cwd=site.folder)))}
    assert plugins["akismet"]["active"] is True
    ok(hb("wp-plugin", "deactivate", "akismet", cwd=site.folder))
    plugins = {p["name"]: p for p in json.loads(ok(hb("wp-plugin", "list", "--json", cwd=site.folder)))}
    assert plugins["akismet"]["active"] is False
    themes = {t["name"]: t for t in json.loads(ok(hb("wp-theme", "list", "--json", cwd=site.folder)))}
    assert themes["twentytwentyfive"]["active"] is True
    ok(hb("wp-theme", "activate", "twentytwentyfive", cwd=site.folder))


def test_search_replace_keeps_serialised_data_valid_and_reports_rows(site):
    ok(hb("wp-option", "set", "hb_test_nested", '{"url": "https://marker.example/x", "list": ["marker.example"]}',
          "--json-value", cwd=site.folder))
    ok(hb("wp-option", "set", "blogdescription", "Tagline at marker.example", cwd=site.folder))
    dry = json.loads(ok(hb("search-replace", "marker.example", "replaced.example.org", "--dry-run", "--json",
                           cwd=site.folder)))
    assert dry["dry_run"] is True and dry["tables"] == {"wp_options": 2} and dry["rows"] == 2
    assert ok(hb("wp-option", "get", "blogdescription", cwd=site.folder)).strip() == "Tagline at marker.example"
    done = ok(hb("search-replace", "marker.example", "replaced.example.org", cwd=site.folder))
    assert re.search(r"^ ?wp_options +2 *$", done, re.M) and "2 rows changed." in done
    # A longer string inside a serialised array: the lengths were rewritten, so WordPress still reads it.
    assert json.loads(ok(hb("wp-option", "get", "hb_test_nested", cwd=site.folder))) == {
        "url": "https://replaced.example.org/x", "list": ["replaced.example.org"]}
    with client() as http:
        assert "Tagline at replaced.example.org" in http.get(f"{site.url}/").text
    ok(hb("wp-option", "delete", "hb_test_nested", cwd=site.folder))


def test_cache_flush_and_core_version(site):
    assert ok(hb("cache", "flush", cwd=site.folder)).strip() == "Object cache flushed."
    version = json.loads(ok(hb("wp-core", "version", "--json", cwd=site.folder)))
    assert version["wordpress"] == version["image_wordpress"] and version["wordpress"].startswith("6.8")
    assert version["db_version"] == version["db_version_expected"]
    assert version["php"].startswith("8.4.")


def test_core_verify_finds_changed_and_added_core_files(site):
    assert "core files match" in ok(hb("core", "verify", cwd=site.folder))  # the command's name before 0.6
    version = ok(hb("wp-core", "version", cwd=site.folder)).strip()
    ok(hb("exec", "php", "--", "sh", "-c", "echo '// changed' >> /srv/site/public/wp-includes/version.php && "
          "echo '<?php' > /srv/site/public/wp-includes/backdoor.php", cwd=site.folder))
    try:
        result = hb("wp-core", "verify", cwd=site.folder)
        assert result.returncode == 1
        assert "modified: wp-includes/version.php" in result.stdout
        assert "added: wp-includes/backdoor.php" in result.stdout
        assert result.stderr.strip().splitlines()[-1] == \
            f"error: core files differ from WordPress {version}'s: 2 files"
    finally:
        ok(hb("exec", "php", "--", "sh", "-c", "cp /opt/hakobune/wordpress/wp-includes/version.php "
              "/srv/site/public/wp-includes/version.php && rm /srv/site/public/wp-includes/backdoor.php",
              cwd=site.folder))
    assert "core files match" in ok(hb("core", "verify", cwd=site.folder))


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["search-replace", "", "x"], 2, "error: search-replace needs a non-empty OLD (hint: e.g. hakobune "
                                         "search-replace https://old.example.com https://new.example.com)"),
        (["search-replace", "same", "same"], 2, "error: OLD and NEW are the same: nothing would change"),
        (["wp-user", "create", "bob", "not-an-email"], 2, "error: EMAIL 'not-an-email' is not valid (hint: e.g. "
                                                          "admin@example.com)"),
        (["wp-user", "create", "bob", "bob@example.com", "--password", "short"], 2,
         "error: --password must be at least 8 characters long"),
        (["wp-user", "delete", "nobody", "-y"], 1, "error: no user 'nobody'"),
        (["wp-plugin", "activate", "nosuch"], 1, "error: no plugin 'nosuch'; plugins: akismet"),
        (["wp-theme", "activate", "nosuch"], 1, "error: no theme 'nosuch'; themes: twentytwentyfive"),
        (["wp-option", "set", "x", "{", "--json-value"], 2, "error: VALUE is not JSON: Expecting property name "
                                                            "enclosed in double quotes: line 1 column 2 (char 1)"),
        (["wp", "--", "plugin", "list"], 1, "error: wp-cli is not in the ops image (it cannot be fetched where the "
                                            "images are built) (hint: use hakobune wp-plugin "
                                            "list|install|update|activate|deactivate|delete)"),
    ],
)
def test_bad_wordpress_input_is_one_line_and_changes_nothing(site, args, code, message):
    users = ok(hb("wp-user", "list", "--json", cwd=site.folder))
    result = hb(*args, cwd=site.folder)
    assert result.returncode == code, result.stderr
    assert result.stderr.strip().splitlines()[-1] == message
    assert ok(hb("wp-user", "list", "--json", cwd=site.folder)) == users


@pytest.mark.parametrize("command", [["list"], ["status"], ["exec", "php", "--", "true"]])
def test_a_missing_docker_context_is_named_not_blamed_on_docker(site, command):
    result = hb("--context", "no-such-context", *command, cwd=site.folder)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: there is no Docker context named 'no-such-context' (hint: list them with 'docker context ls'; "
        "make one with 'docker context create')"]


def test_a_missing_image_is_named_not_a_registry_error(site):
    """The image a setting is checked against is gone: the error names it (docker alone would try to pull it
    and say only that no registry answers, then "Run 'docker run --help'")."""
    settings = site.folder / "hakobune.yaml"
    saved = settings.read_text()
    settings.write_text(saved.replace("hakobune/php:", "hakobune/php-gone:"))
    try:
        result = hb("config", "set", "PHP_MEMORY_LIMIT=300M", cwd=site.folder)
    finally:
        settings.write_text(saved)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: image hakobune/php-gone:") and "is not on this Docker engine" in line, line
    assert "--help" not in line


def test_every_service_runs_within_its_limits_and_php_follows_a_change(site):
    from hakobune.site import size_bytes

    found = {limit["service"]: limit for limit in json.loads(ok(hb("limits", "--json", cwd=site.folder)))}
    assert found["php"]["changed"] == [] and found["php"]["memory"].endswith("M")  # the host's share
    for service in ("web", "php", "db", "valkey", "cron", "metrics"):
        limits = json.loads(docker("inspect", f"hb-{site.name}-{service}-1"))[0]["HostConfig"]
        assert limits["Memory"] == size_bytes(found[service]["memory"]), service
        assert limits["PidsLimit"] == found[service]["pids"], service
    cpus = int(docker("exec", f"hb-{site.name}-php-1", "nproc").strip())
    out = ok(hb("limits", "set", "php.memory=512M", "php.pids=256", cwd=site.folder))
    assert "recreated: php" in out
    try:
        fpm = docker("exec", f"hb-{site.name}-php-1", "cat", "/run/hakobune/php-fpm.conf")
        assert f"pm.max_children = {min((512 - 64 - 64 - 64) // 64, cpus * 8)}" in fpm  # PHP follows its limit
        limits = json.loads(docker("inspect", f"hb-{site.name}-php-1"))[0]["HostConfig"]
        assert (limits["Memory"], limits["PidsLimit"]) == (512 * 2**20, 256)
        # A setting is checked by the image within the limit its service has: 6 children do not fit in 512M.
        too_many = hb("config", "set", "PHP_FPM_START_SERVERS=6", cwd=site.folder)
        assert too_many.returncode == 2
        assert too_many.stderr.strip() == ("error: invalid PHP_FPM_START_SERVERS='6': must not exceed "
                                           "PHP_FPM_MAX_CHILDREN (5)")
        refused = hb("limits", "set", "php.memory=100M", cwd=site.folder)
        assert refused.returncode == 2
        assert refused.stderr.strip() == ("error: php.memory '100M' is not a size of at least 256M "
                                          "(hint: e.g. 512M or 2G)")
    finally:
        ok(hb("limits", "unset", "php.memory", "php.pids", cwd=site.folder))
    again = {limit["service"]: limit for limit in json.loads(ok(hb("limits", "--json", cwd=site.folder)))}
    assert again["php"] == found["php"]
