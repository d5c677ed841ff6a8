"""The Stack: how a site's services are brought up, listed, run and put back, without Docker."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from hakobune.errors import HakobuneError, InvalidInput
from hakobune.ops import lifecycle
from hakobune.ops.sitedir import SiteDir
from hakobune.ops.stack import Container, Stack
from hakobune.site import Site, SiteSecrets
from hakobune.versions import images_for
from tests.unit.fake_engine import FakeEngine

SITE = Site(name="shop", fqdn="shop.example.com", http_port=8080, tls_port=8443, images=images_for("nginx"),
            site_id="0" * 32)


def make_stack(tmp_path: Path, engine: FakeEngine, site: Site = SITE) -> Stack:
    tmp_path.mkdir(parents=True, exist_ok=True)
    sitedir = SiteDir(tmp_path / site.name)
    sitedir.create(site, SiteSecrets())
    return Stack.open(engine.mock, sitedir)


def test_the_engine_is_asked_once_and_only_when_needed(tmp_path):
    engine = FakeEngine()
    stack = make_stack(tmp_path, engine)
    with pytest.raises(InvalidInput):
        lifecycle.restart(stack, "wbe")  # input is checked before the engine is reached
    engine.mock.ping.assert_not_called()
    lifecycle.restart(stack, "php")
    stack.running()
    engine.mock.ping.assert_called_once_with()


def test_named_services_the_scheduler_and_metrics_are_waited_for_but_not_the_backup_service(tmp_path):
    engine = FakeEngine()
    stack = make_stack(tmp_path, engine, replace(SITE, backup_schedule="daily"))
    stack.up(stack.site.services)
    assert engine.log == ["up web php db valkey cron metrics", "up backup"]
    waited, started = (c.args[1:] for c in engine.mock.compose.call_args_list)
    assert "--wait" in waited and "--no-deps" in waited
    assert "--wait" not in started


def test_the_whole_stack_is_brought_up_and_waited_for_as_its_compose_file_has_it(tmp_path):
    engine = FakeEngine()
    stack = make_stack(tmp_path, engine, replace(SITE, backup_schedule="daily"))
    stack.up(orphans=True)
    assert engine.log == ["up --remove-orphans"]
    assert engine.mock.compose.call_args.args[1:] == ("up", "--detach", "--wait", "--wait-timeout", "240",
                                                      "--remove-orphans")


def test_start_keeps_containers_restart_recreates_them(tmp_path):
    engine = FakeEngine()
    stack = make_stack(tmp_path, engine)
    lifecycle.start(stack)
    lifecycle.restart(stack, None)
    lifecycle.restart(stack, "db")
    assert engine.log == ["up web php db valkey cron metrics --no-recreate",
                          "up web php db valkey cron metrics --force-recreate",
                          "up db --force-recreate"]


def test_what_runs_is_a_typed_view_of_compose_ps(tmp_path):
    engine = FakeEngine(running=["web", "php"])
    stack = make_stack(tmp_path, engine)
    web = stack.containers()[0]
    assert web == Container("web", "running", "healthy", "hakobune/web:1", ("8443->8443",))
    assert stack.running() == {"web", "php"}
    with pytest.raises(HakobuneError, match=r"site shop is not running \(hint: start it with: hakobune start\)"):
        stack.require_running()
    stack.require_running(["web"])


def test_commands_run_in_the_running_service_or_a_one_shot_container(tmp_path):
    engine = FakeEngine()
    stack = make_stack(tmp_path, engine)
    lifecycle.interact(stack, "php", ["php", "-v"], tty=False)
    lifecycle.interact(stack, "db", ["bash"], tty=True)
    lifecycle.interact(stack, "ops", ["bash"], tty=False)
    assert engine.log == ["exec -T php php -v", "exec db bash", "run --rm --no-deps -T ops bash"]
    with pytest.raises(InvalidInput, match="unknown service 'backup'"):
        lifecycle.interact(stack, "backup", ["bash"], tty=False)  # not scheduled: this site has none


def test_a_failed_task_says_which_task_and_the_helpers_own_words(tmp_path):
    engine = FakeEngine(failing="task install")
    stack = make_stack(tmp_path, engine)
    with pytest.raises(HakobuneError, match=r"^install failed: task install broke$"):
        stack.task("install", {})
    assert stack.task("option", {"name": "blogname"}) == {}


def test_a_helpers_failure_answer_is_raised_typed_with_its_hint_and_kind(tmp_path):
    from hakobune.engine import EngineError
    from hakobune.ops.contract import KIND_DB_UNREACHABLE, TaskFailed

    engine = FakeEngine()
    stack = make_stack(tmp_path, engine)
    answer = {"error": "dumping the database failed: no server", "hint": "start it", "kind": KIND_DB_UNREACHABLE}
    engine.mock.compose.side_effect = EngineError("docker compose run failed: exit status 1",
                                                  stdout="PHP Warning: noise\n" + json.dumps(answer) + "\n")
    with pytest.raises(TaskFailed) as failed:
        stack.task("backup", {})
    assert (failed.value.message, failed.value.hint, failed.value.kind) == (
        "backup failed: dumping the database failed: no server", "start it", KIND_DB_UNREACHABLE)
    with pytest.raises(TaskFailed, match=r"^dumping the database failed: no server"):
        stack.task("option", {}, within="")
    # A helper that died without answering (or a container that never ran): docker's own words, and no type.
    engine.mock.compose.side_effect = EngineError("docker compose run failed: no such image", stdout="")
    with pytest.raises(HakobuneError, match=r"^backup failed: docker compose run failed: no such image$") as died:
        stack.task("backup", {})
    assert not isinstance(died.value, TaskFailed)


def test_the_answer_is_the_last_json_object_line():
    from hakobune.ops.contract import answer, failure

    assert answer('Deprecated: x\n{"a": 1}\n{not json\n["a list"]\n') == {"a": 1}
    assert answer("nothing here\n") is None
    assert failure('{"ok": true}') is None
    assert failure('{"error": "no", "hint": 3, "kind": null}').hint is None
    assert failure('{"error": "no"}', "build").message == "build failed: no"


def test_a_failed_change_runs_its_own_undo_then_puts_the_files_back_then_the_services(tmp_path):
    engine = FakeEngine(failing="up php")
    stack = make_stack(tmp_path, engine)
    before = stack.sitedir.snapshot()
    with pytest.raises(HakobuneError, match="up php broke"), stack.changing(["php"]) as rollback:
        stack.save(replace(stack.site, settings={"PHP_MEMORY_LIMIT": "512M"}))
        rollback.on_failure("the change's own step", lambda: engine.log.append("own undo"))
        stack.up(["php"])
    assert engine.log == ["up php", "own undo", "up php"]
    assert stack.sitedir.snapshot() == before
    assert stack.site.settings == {}


def test_a_change_that_works_keeps_the_new_files(tmp_path):
    engine = FakeEngine()
    stack = make_stack(tmp_path, engine)
    with stack.changing(["php"]):
        stack.save(replace(stack.site, settings={"PHP_MEMORY_LIMIT": "512M"}))
        stack.up(["php"])
    assert engine.log == ["up php"]
    assert SiteDir(stack.path).load().settings == {"PHP_MEMORY_LIMIT": "512M"}


def test_removal_goes_by_the_site_id_or_for_older_sites_by_project_and_name(tmp_path):
    engine = FakeEngine()
    make_stack(tmp_path, engine).remove()
    older = make_stack(tmp_path / "old", engine, replace(SITE, site_id=""))
    older.remove()
    assert engine.log == [f"sweep io.hakobune.site-id={'0' * 32}",
                          "--profile ops --profile init down --volumes --remove-orphans --timeout 10",
                          "sweep io.hakobune.site=shop"]


def test_a_service_moves_beside_its_old_container_which_then_drains(tmp_path):
    engine = FakeEngine()
    stack = make_stack(tmp_path, engine)
    seen: list[list[str]] = []
    stack.beside("php", "SIGQUIT", ready=seen.append)
    assert engine.log == ["ps", "up php --no-recreate --scale php=2", "drain php-id SIGQUIT"]
    assert seen == [["php-id"]]


def test_a_new_container_that_fails_is_removed_and_the_old_one_keeps_running(tmp_path):
    engine = FakeEngine()
    stack = make_stack(tmp_path, engine)
    old, new = {"ID": "php-id", "Service": "php"}, {"ID": "new", "Service": "php"}
    listed = [[old], [old, new]]
    engine.mock.compose_ps.side_effect = lambda _dir: listed.pop(0)

    def not_reached(old: list[str]) -> None:
        raise HakobuneError("the edge did not start sending requests to the new web container within 60 s")
    with pytest.raises(HakobuneError, match="did not start sending"):
        stack.beside("php", "SIGQUIT", ready=not_reached)
    engine.mock.docker.assert_called_once_with("rm", "--force", "new", check=False, timeout=120)
    engine.mock.drain.assert_not_called()
