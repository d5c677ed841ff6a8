"""Everyday operations on a running site: status, list, info, start/stop/restart, logs, shell, exec, and the
user's own compose.override.yaml."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from hakobune.versions import image_refs
from tests.e2e.conftest import client, docker, hb, provision_site

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
    assert images == {"web": image_refs()["nginx"], "php": image_refs()["php"], "db": image_refs()["mariadb"]}
    assert {svc["health"] for svc in result["services"]} == {"healthy"}


def test_list_finds_the_site_by_label_from_any_folder(site, tmp_path):
    listed = {s["site"]: s for s in json.loads(hb("list", "--json", cwd=tmp_path).stdout)}
    assert listed[site.name] == {"site": site.name, "url": site.url, "folder": str(site.folder), "running": 3,
                                 "healthy": 3, "services": 3}
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
    assert shown["images"]["php"] == image_refs()["php"]


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
    assert states == {"web": "exited", "php": "exited", "db": "exited"}
    listed = {s["site"]: s for s in json.loads(hb("list", "--json", cwd=tmp_path).stdout)}
    assert listed[site.name]["running"] == 0
    assert not serves(site)
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
    line = next(line for line in result.stdout.splitlines() if "GET /?logged=1" in line)
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", line)
    every = hb("logs", "--tail", "5", cwd=site.folder).stdout
    assert {"web-1", "php-1", "db-1"} <= {line.split()[0] for line in every.splitlines() if line.strip()}


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
        (["logs", "mysql"], 2, "error: unknown service 'mysql' (hint: services: web, php, db)"),
        (["exec", "redis", "--", "true"], 2, "error: unknown service 'redis' (hint: services: web, php, db, ops)"),
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
