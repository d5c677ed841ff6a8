"""Cron schedules and the scheduler's model: expressions checked, each site's own minute, its jobs, what the cron
service is given, and how `hakobune cron` changes a stack (and undoes a change that fails), without Docker."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hakobune.errors import HakobuneError, InvalidInput
from hakobune.ops import cron
from hakobune.ops.sitedir import SiteDir
from hakobune.ops.stack import Stack
from hakobune.render.compose import compose_document
from hakobune.schedule import MAX_JOBS, CronJob, backup_expression, check_expression, next_run, spread_minute
from hakobune.site import Site, SiteSecrets
from hakobune.site_format import MIGRATIONS
from hakobune.versions import images_for
from tests.unit.fake_engine import FakeEngine

WORDPRESS = Site(name="shop", fqdn="shop.example.com", http_port=8080, tls_port=8443, images=images_for("nginx"),
                 site_id="0" * 32)
LAMP = Site(name="app", fqdn="app.example.com", http_port=8080, tls_port=8443, profile="lamp", web="httpd",
           images=images_for("httpd"), site_id="1" * 32)
JOB = {"id": "feeds", "schedule": "*/15 * * * *", "command": ["php", "/srv/site/public/feeds.php"]}


@pytest.mark.parametrize(("given", "normal"), [
    ("*/5 * * * *", "*/5 * * * *"),
    ("  30   2 * *   1-5 ", "30 2 * * 1-5"),  # the fields kept, the spaces made single
    ("0 9 * JAN,JUL MON", "0 9 * JAN,JUL MON"),
])
def test_cron_expressions_are_checked_and_kept_in_one_spelling(given, normal):
    assert check_expression(given) == normal


@pytest.mark.parametrize(("given", "message"), [
    ("* * * *", "schedule '* * * *' is not a cron expression"),
    ("* * * * * *", "is not a cron expression"),  # six fields: seconds are not cron's
    ("61 * * * *", "schedule '61 * * * *' is not a cron expression: bad minute"),
    ("* 24 * * *", "bad hour"),
    ("@reboot", "is not a cron expression"),
    ("* * * * *; rm -rf /", "is not a cron expression"),
    ("* * * * $(id)", "is not a cron expression"),
    ("", "is not a cron expression"),
])
def test_what_is_not_a_cron_expression_is_refused_with_a_hint(given, message):
    with pytest.raises(InvalidInput, match="not a cron expression") as caught:
        check_expression(given)
    assert message in caught.value.message
    assert "five fields" in (caught.value.hint or "")


def test_the_next_run_is_in_utc_and_on_the_minute():
    after = datetime(2026, 12, 6, 21, 13, 30, tzinfo=UTC)
    assert next_run("*/15 * * * *", after) == datetime(2026, 12, 6, 21, 15, tzinfo=UTC)
    assert next_run("30 2 * * *", after) == datetime(2026, 12, 7, 2, 30, tzinfo=UTC)


def test_each_site_has_a_minute_of_its_own_the_same_every_time_and_spread_over_the_hour():
    minutes = [spread_minute(f"{n:032x}") for n in range(600)]
    assert minutes == [spread_minute(f"{n:032x}") for n in range(600)]
    assert set(minutes) == set(range(60))  # every minute taken by some site
    assert max(minutes.count(m) for m in range(60)) < 30  # none taken by many (10 on average)


def test_backup_words_run_at_the_sites_minute_and_an_expression_as_given():
    minute = spread_minute("0" * 32)
    assert backup_expression("hourly", "0" * 32) == f"{minute} * * * *"
    assert backup_expression("daily", "0" * 32) == f"{minute} 3 * * *"
    assert backup_expression("30  2 * * *", "0" * 32) == "30 2 * * *"
    with pytest.raises(InvalidInput, match="backup schedule 'weekly' is not a cron expression"):
        backup_expression("weekly", "0" * 32)


@pytest.mark.parametrize(("job_id", "schedule", "command", "message"), [
    ("Bad Id", "* * * * *", ["true"], "job id 'Bad Id' is not valid"),
    ("wordpress", "* * * * *", ["true"], "job id 'wordpress' is not valid"),
    ("a" * 33, "* * * * *", ["true"], "is not valid"),
    ("ok", "* * * *", ["true"], "is not a cron expression"),
    ("ok", "* * * * *", [], "a job needs a command"),
    ("ok", "* * * * *", "rm -rf /", "a job needs a command"),  # a string is not a list of arguments
    ("ok", "* * * * *", ["echo", "a\nb"], "must be text on one line"),
    ("ok", "* * * * *", ["echo", "a\0b"], "must be text on one line"),
    ("ok", "* * * * *", ["echo", 3], "must be text on one line"),
    ("ok", "* * * * *", ["x" * 5000], "longer than 4096 bytes"),
])
def test_a_job_is_checked_whole(job_id, schedule, command, message):
    with pytest.raises(InvalidInput, match=message):
        CronJob.checked(job_id, schedule, command)


def test_a_wordpress_site_runs_its_events_every_minute_then_its_own_jobs():
    site = replace(WORDPRESS, cron_jobs=[JOB])
    assert [(job.id, job.schedule) for job in site.jobs] == [("wordpress", "* * * * *"), ("feeds", "*/15 * * * *")]
    assert site.services == ("web", "php", "db", "valkey", "cron", "metrics")
    assert LAMP.jobs == () and "cron" not in LAMP.services  # a plain PHP site: the service comes with a job
    assert "cron" in replace(LAMP, cron_jobs=[JOB]).services


@pytest.mark.parametrize(("jobs", "message"), [
    ("feeds", "cron_jobs must be a list of jobs"),
    ([JOB, JOB], "two jobs have the same id"),
    ([{**JOB, "id": f"j{n}"} for n in range(MAX_JOBS + 1)], f"at most {MAX_JOBS} jobs"),
    ([{**JOB, "schedule": "every minute"}], "is not a cron expression"),
    ([{**JOB, "command": "php x.php"}], "a job needs a command"),
])
def test_a_sites_jobs_are_checked_when_it_is_read(jobs, message):
    with pytest.raises(InvalidInput, match=message):
        replace(WORDPRESS, cron_jobs=jobs)


def test_the_cron_service_is_the_php_image_with_what_php_has_and_the_jobs_as_json():
    doc = compose_document(replace(WORDPRESS, cron_jobs=[JOB], settings={"PHP_MEMORY_LIMIT": "512M"}))
    cron_service, php = doc["services"]["cron"], doc["services"]["php"]
    assert cron_service["image"] == php["image"] and cron_service["command"] == ["hakobune-cron"]
    assert cron_service["read_only"] is True and cron_service["cap_drop"] == ["ALL"]
    assert "ports" not in cron_service and cron_service["depends_on"] == {"db": {"condition": "service_healthy"}}
    env = cron_service["environment"]
    assert json.loads(env["HB_CRON_JOBS"]) == [
        {"id": "wordpress", "schedule": "* * * * *", "command": ["php", "/opt/hakobune/wp-cron.php"]}, JOB]
    assert env["HB_SITE_URL"] == "https://shop.example.com:8443" and env["PHP_MEMORY_LIMIT"] == "512M"
    # WordPress's trigger on page loads is off where the service runs its events
    assert env["HAKOBUNE_CRON"] == php["environment"]["HAKOBUNE_CRON"] == "service"
    assert "HAKOBUNE_CRON" not in compose_document(replace(LAMP, cron_jobs=[JOB]))["services"]["php"].get(
        "environment", {})


def test_a_site_from_before_the_scheduler_runs_as_it_did_until_it_is_upgraded():
    older = Site(**{**MIGRATIONS[5]({}), "name": "old", "fqdn": "old.example.com", "images": images_for("nginx"),
                    "backup_schedule": "daily"})
    assert older.scheduler is False and older.cron_jobs == []
    assert "cron" not in older.services and older.jobs == ()
    assert older.backup_cron == "daily"  # the word its ops image knows
    assert "cron" not in compose_document(older)["services"]
    assert "HAKOBUNE_CRON" not in compose_document(older)["services"]["php"]["environment"]
    for change in ({"cron_jobs": [JOB]}, {"backup_schedule": "30 2 * * *"}):
        with pytest.raises(InvalidInput, match="runs images from before cron schedules") as caught:
            replace(older, **change)
        assert caught.value.hint == "upgrade it first: hakobune upgrade"


def make_stack(tmp_path: Path, engine: FakeEngine, site: Site) -> Stack:
    sitedir = SiteDir(tmp_path / site.name)
    sitedir.create(site, SiteSecrets())
    return Stack.open(engine.mock, sitedir)


def test_adding_and_removing_jobs_brings_the_stack_to_its_new_compose_file(tmp_path):
    engine = FakeEngine(running=("web", "php", "db"))
    stack = make_stack(tmp_path, engine, LAMP)
    job = cron.add(stack, "*/15 * * * *", ["php", "feeds.php"], None, lambda line: None)
    assert (job.id, stack.sitedir.load().cron_jobs) == ("1", [job.to_dict()])
    assert "cron" in compose_document(stack.sitedir.load())["services"]
    cron.add(stack, "0 4 * * 1", ["true"], "weekly", lambda line: None)
    cron.remove(stack, "1", lambda line: None)
    assert [j["id"] for j in stack.sitedir.load().cron_jobs] == ["weekly"]
    cron.remove(stack, "weekly", lambda line: None)
    assert "cron" not in stack.sitedir.load().services
    assert engine.log == ["up --remove-orphans"] * 4  # the whole stack, a service no longer named removed


def test_a_change_that_does_not_come_up_is_undone(tmp_path):
    engine = FakeEngine(failing="up")
    stack = make_stack(tmp_path, engine, WORDPRESS)
    before = (tmp_path / "shop" / "hakobune.yaml").read_text()
    with pytest.raises(HakobuneError, match="up --remove-orphans broke"):
        cron.add(stack, "* * * * *", ["true"], "ok", lambda line: None)
    assert (tmp_path / "shop" / "hakobune.yaml").read_text() == before
    assert engine.log == ["up --remove-orphans", "up --remove-orphans"]  # the failed change, then the old stack


@pytest.mark.parametrize(("action", "message"), [
    (lambda stack: cron.add(stack, "* * * * *", ["true"], "backup", print), "has a job 'backup' already"),
    (lambda stack: cron.add(stack, "* * * * *", ["true"], "feeds", print), "has a job 'feeds' already"),
    (lambda stack: cron.remove(stack, "wordpress", print), "cannot be removed"),
    (lambda stack: cron.remove(stack, "backup", print), "hakobune backup schedule off"),
    (lambda stack: cron.remove(stack, "nope", print), "has no job 'nope'"),
])
def test_refused_changes_reach_no_engine(tmp_path, action, message):
    engine = FakeEngine()
    stack = make_stack(tmp_path, engine, replace(WORDPRESS, cron_jobs=[JOB]))
    with pytest.raises(InvalidInput, match=message):
        action(stack)
    assert engine.log == []


def test_the_fiftieth_job_is_the_last(tmp_path):
    jobs = [{**JOB, "id": f"j{n}"} for n in range(MAX_JOBS)]
    stack = make_stack(tmp_path, FakeEngine(), replace(LAMP, cron_jobs=jobs))
    with pytest.raises(InvalidInput, match=f"has {MAX_JOBS} jobs, the most a site has"):
        cron.add(stack, "* * * * *", ["true"], None, print)


def test_the_list_has_wordpress_the_jobs_and_the_backup_each_with_its_next_run():
    site = replace(WORDPRESS, cron_jobs=[JOB], backup_schedule="daily", backup_keep=3)
    now = datetime(2026, 12, 6, 21, 13, 30, tzinfo=UTC)
    listed = [job.to_dict() for job in cron.listed(site, now)]
    minute = spread_minute(site.site_id)
    assert listed == [
        {"id": "wordpress", "schedule": "* * * * *", "command": "php /opt/hakobune/wp-cron.php",
         "next_run": "2026-12-06T21:14:00+00:00", "kind": "wordpress"},
        {"id": "feeds", "schedule": "*/15 * * * *", "command": "php /srv/site/public/feeds.php",
         "next_run": "2026-12-06T21:15:00+00:00", "kind": "job"},
        {"id": "backup", "schedule": f"{minute} 3 * * *", "command": "backup, keeping 3",
         "next_run": f"2026-12-07T03:{minute:02d}:00+00:00", "kind": "backup"},
    ]


def test_held_jobs_stop_the_service_and_keep_wordpress_off_its_page_load_trigger(tmp_path):
    engine = FakeEngine()
    stack = make_stack(tmp_path, engine, replace(WORDPRESS, cron_jobs=[JOB]))
    assert cron.hold(stack, True, print) is True
    site = stack.sitedir.load()
    assert site.cron_held and "cron" not in site.services
    doc = compose_document(site)
    assert "cron" not in doc["services"] and doc["services"]["php"]["environment"]["HAKOBUNE_CRON"] == "service"
    assert [job.next_run for job in cron.listed(site)] == [None, None]
    assert cron.hold(stack, True, print) is False  # so already: nothing is done
    assert cron.hold(stack, False, print) is True and "cron" in stack.sitedir.load().services
    assert engine.log == ["up --remove-orphans", "up --remove-orphans"]


def test_a_site_from_before_the_scheduler_cannot_hold_what_it_does_not_run(tmp_path):
    engine = FakeEngine()
    stack = make_stack(tmp_path, engine, replace(WORDPRESS, scheduler=False))
    with pytest.raises(InvalidInput, match="runs images from before cron schedules"):
        cron.hold(stack, True, print)
    assert engine.log == []
