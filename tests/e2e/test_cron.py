"""The scheduler: WordPress's due events run every minute from the site's cron service with no request reaching
PHP (a post scheduled ahead is published on time), a plain PHP site runs its own jobs, failures and overlaps are
logged, backups run on a cron expression, and hostile job definitions are refused before anything changes."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.e2e.helpers import docker, free_port, hb, leftovers, ok, provision_site, site_name

pytestmark = pytest.mark.e2e

NOTHING = {"containers": [], "volumes": [], "networks": []}
# The PHP run in the php container: WordPress loaded as for a request, a post scheduled SECONDS ahead.
FUTURE_POST = """
$_SERVER['HTTP_HOST'] = 'localhost'; $_SERVER['HTTPS'] = 'on';
require '/srv/site/public/wp-load.php';
$when = time() + (int) $argv[1];
$id = wp_insert_post(['post_title' => 'Scheduled ' . $when, 'post_status' => 'future', 'post_content' => 'later',
    'post_date' => gmdate('Y-m-d H:i:s', $when), 'post_date_gmt' => gmdate('Y-m-d H:i:s', $when)]);
echo json_encode(['id' => $id, 'status' => get_post_status($id), 'when' => $when,
    'page_load_cron_off' => defined('DISABLE_WP_CRON') && DISABLE_WP_CRON]);
"""


def wait_for(check, what: str, seconds: float):
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(2)
    return found


def started_at(name: str, service: str) -> str:
    return json.loads(docker("inspect", f"hb-{name}-{service}-1"))[0]["State"]["StartedAt"]


@pytest.fixture(scope="module")
def wordpress(images, sites_dir):
    site = provision_site("nginx", sites_dir, prefix="cron")
    yield site
    ok(hb("remove", "-y", str(site.folder), cwd=sites_dir))
    assert leftovers(site.name) == NOTHING


@pytest.fixture(scope="module")
def lamp(images, sites_dir):
    name = site_name("cron-lamp")
    made = hb("provision", "--lamp", "--httpd", "--fqdn", "localhost", "--http-port", str(free_port()),
              "--tls-port", str(free_port()), name, cwd=sites_dir)
    assert made.returncode == 0, made.stderr
    yield sites_dir / name
    ok(hb("remove", "-y", name, cwd=sites_dir))
    assert leftovers(name) == NOTHING


def test_a_scheduled_post_is_published_on_time_with_no_request_to_the_site(wordpress):
    jobs = json.loads(ok(hb("cron", "list", "--json", cwd=wordpress.folder)))
    assert [(j["id"], j["schedule"], j["kind"]) for j in jobs] == [("wordpress", "* * * * *", "wordpress")]
    status = json.loads(ok(hb("status", "--json", cwd=wordpress.folder)))
    assert {s["service"]: s["health"] for s in status["services"]}["cron"] == "healthy"

    made = json.loads(ok(hb("exec", "php", "--", "php", "-r", FUTURE_POST, "75", cwd=wordpress.folder)))
    assert made["status"] == "future"
    assert made["page_load_cron_off"] is True  # WordPress's own trigger on page loads is off

    def published() -> float | None:
        query = f"SELECT post_status FROM wordpress.wp_posts WHERE ID = {int(made['id'])}"  # noqa: S608 - a number
        found = ok(hb("exec", "db", "--", "mariadb", "-N", "-e", query, cwd=wordpress.folder)).strip()
        return time.time() if found == "publish" else None

    # No request reaches the site meanwhile: only the database is asked, from inside.
    try:
        at = wait_for(published, "the scheduled post to be published", 75 + 150)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the cron service's log:\n{ok(hb('logs', 'cron', cwd=wordpress.folder))}") \
            from None
    late = at - made["when"]
    print(f"\npublished {late:.0f} s after its time")
    assert late < 60 + 15  # within the minute after its time, give or take the polling
    text = ok(hb("logs", "cron", cwd=wordpress.folder))
    assert "hakobune cron: [wordpress] done in" in text and "FAILED" not in text


def test_a_plain_php_site_runs_its_own_jobs_and_logs_failures_and_overlaps(lamp):
    assert json.loads(ok(hb("cron", "list", "--json", cwd=lamp))) == []
    services = {s["service"] for s in json.loads(ok(hb("status", "--json", cwd=lamp)))["services"]}
    assert "cron" not in services  # no jobs, no cron service
    added = ok(hb("cron", "add", "* * * * *", "--", "sh", "-c", "date +%s >> /srv/site/cron-ran; echo wrote",
                  cwd=lamp))
    assert added.strip() == "Job 1 added: * * * * *: sh -c date +%s >> /srv/site/cron-ran; echo wrote"
    ok(hb("cron", "add", "--id", "slow", "* * * * *", "--", "sleep", "75", cwd=lamp))
    ok(hb("cron", "add", "--id", "broken", "*/1 * * * *", "--", "sh", "-c", "echo broke >&2; exit 3", cwd=lamp))
    # its output closed seconds before it ends: its end is still seen
    ok(hb("cron", "add", "--id", "quiet", "* * * * *", "--", "sh", "-c", "exec >/dev/null 2>&1; sleep 3", cwd=lamp))
    ok(hb("backup", "schedule", "* * * * *", "--keep", "1", cwd=lamp))
    listed = json.loads(ok(hb("cron", "list", "--json", cwd=lamp)))
    assert [(j["id"], j["kind"]) for j in listed] == [("1", "job"), ("slow", "job"), ("broken", "job"),
                                                       ("quiet", "job"), ("backup", "backup")]
    assert all(j["next_run"].endswith(":00+00:00") for j in listed)

    def logged(needle: str):
        return lambda: needle in ok(hb("logs", cwd=lamp))

    wait_for(logged("hakobune cron: [1] wrote"), "the job to run", 150)
    wait_for(logged("hakobune cron: [broken] FAILED: exit code 3 after"), "the failure to be logged", 30)
    assert "hakobune cron: [broken] broke" in ok(hb("logs", "cron", cwd=lamp))
    # Ended once its process did (3 s after it closed its output; more on a busy machine), not when the next
    # minute came.
    ended = wait_for(lambda: re.search(r"hakobune cron: \[quiet\] done in (\d+\.\d) s", ok(hb("logs", cwd=lamp))),
                     "the job with its output closed to end", 60)
    assert 3 <= float(ended[1]) < 30, ended[0]
    wait_for(logged("hakobune cron: [slow] skipped: still running since"), "the overlap to be skipped", 150)
    assert "[quiet] skipped" not in ok(hb("logs", "cron", cwd=lamp))
    wait_for(logged("hakobune backup: written:"), "the scheduled backup", 150)
    ran = ok(hb("exec", "php", "--", "cat", "/srv/site/cron-ran", cwd=lamp)).split()
    assert len(ran) >= 2 and all(int(t) % 60 < 10 for t in ran)  # on the minute, once a minute

    for job in ("1", "slow", "broken", "quiet"):
        ok(hb("cron", "remove", job, cwd=lamp))
    ok(hb("backup", "schedule", "off", cwd=lamp))
    assert json.loads(ok(hb("cron", "list", "--json", cwd=lamp))) == []
    assert docker("ps", "-a", "-q", "--filter", f"name=hb-{lamp.name}-cron") == ""  # the service went


@pytest.mark.parametrize(("args", "message"), [
    (["add", "* * * *", "--", "true"],
     "error: schedule '* * * *' is not a cron expression (hint: five fields: minute hour day-of-month month "
     "day-of-week, e.g. '*/5 * * * *' (times in UTC))"),
    (["add", "61 * * * *", "--", "true"], "error: schedule '61 * * * *' is not a cron expression: bad minute"),
    (["add", "* * * * *; rm -rf /", "--", "true"], "error: schedule '* * * * *; rm -rf /' is not a cron expression"),
    (["add", "@reboot", "--", "true"], "error: schedule '@reboot' is not a cron expression"),
    (["add", "* * * * *"], "error: a job needs a command"),
    (["add", "* * * * *", "--", "echo", "a\nb"], "error: a job's command must be text on one line"),
    (["add", "--id", "Bad Id", "* * * * *", "--", "true"], "error: job id 'Bad Id' is not valid"),
    (["add", "--id", "wordpress", "* * * * *", "--", "true"], "error: job id 'wordpress' is not valid"),
    (["add", "* * * * *", "--", "x" * 5000], "error: a job's command is longer than 4096 bytes"),
    (["remove", "wordpress"], "error: the wordpress job is WordPress's own scheduled events; it cannot be removed"),
    (["remove", "nope"], "error: site {name} has no job 'nope' (hint: it has none of its own)"),
    (["remove", "backup"], "error: backups are scheduled with: hakobune backup schedule off"),
])
def test_hostile_jobs_are_refused_and_change_nothing(wordpress, args, message):
    before = (wordpress.folder / "hakobune.yaml").read_text(), started_at(wordpress.name, "cron")
    result = hb("cron", *args, cwd=wordpress.folder)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message.format(name=wordpress.name)), lines
    assert ((wordpress.folder / "hakobune.yaml").read_text(), started_at(wordpress.name, "cron")) == before


def test_a_bad_backup_schedule_is_refused(wordpress):
    result = hb("backup", "schedule", "every day", cwd=wordpress.folder)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: 'every day' is not a schedule (hint: hourly, daily, off, or a cron expression such as '30 2 * * *' "
        "(minute hour day month weekday, in UTC))")
    assert "backup" not in {s["service"] for s in json.loads(ok(hb("status", "--json", cwd=wordpress.folder)))[
        "services"]}


def test_held_jobs_do_not_run_until_they_are_released(wordpress):
    php = started_at(wordpress.name, "php")
    assert ok(hb("cron", "hold", cwd=wordpress.folder)).strip() == f"The jobs of {wordpress.name} are held."
    assert docker("ps", "-a", "-q", "--filter", f"name=hb-{wordpress.name}-cron") == ""  # no service, no run
    assert [j["next_run"] for j in json.loads(ok(hb("cron", "list", "--json", cwd=wordpress.folder)))] == [None]
    assert "held" in ok(hb("cron", "list", cwd=wordpress.folder))
    # PHP is left as it is: WordPress's trigger on page loads stays off, so nothing runs its events meanwhile
    env = docker("inspect", "--format", "{{json .Config.Env}}", f"hb-{wordpress.name}-php-1")
    assert "HAKOBUNE_CRON=service" in env and started_at(wordpress.name, "php") == php
    again = ok(hb("cron", "hold", cwd=wordpress.folder))
    assert again.strip() == f"The jobs of {wordpress.name} are held already."

    assert ok(hb("cron", "release", cwd=wordpress.folder)).strip() == f"The jobs of {wordpress.name} are running."
    status = json.loads(ok(hb("status", "--json", cwd=wordpress.folder)))
    assert {s["service"]: s["health"] for s in status["services"]}["cron"] == "healthy"
