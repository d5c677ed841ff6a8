"""`hakobune upgrade` with a fake engine: the plan, the order of the switch, and what a failure at each step puts
back (tests/e2e/test_upgrade.py shows the same on a real engine)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from hakobune.errors import HakobuneError
from hakobune.ops import provision, upgrade
from hakobune.ops.rollback import FAILPOINT_ENV
from hakobune.ops.sitedir import SiteDir
from hakobune.ops.stack import Stack
from hakobune.site import Site, SiteSecrets
from hakobune.site_format import FORMAT
from hakobune.versions import image_refs, image_versions, images_for
from tests.unit.fake_engine import FakeEngine

NAMES = {"web": "nginx", "php": "php", "db": "mariadb", "valkey": "valkey"}
OLD = {name: f"hakobune/{name}:0.0.1" for name in ("nginx", "php", "mariadb", "valkey", "ops")}
# The images after an upgrade: a site from before Hakobune 0.7 gets the metrics image too.
NEW_NAMES = (*OLD, "metrics")
SITE = Site(name="shop", fqdn="shop.example.com", http_port=8080, tls_port=8443, images=OLD, site_id="1" * 32,
            metrics=False)
ANSWERS = {"option": {"value": "Shop"}, "smoke": {"checked": ["front page", "login page"]}}


def old_id(name: str) -> str:
    return f"sha256:old-{name}"


def new_id(name: str) -> str:
    return f"sha256:new-{name}"


def engine_with(*, moved_tag: bool = False, **fake: object) -> FakeEngine:
    """A site running OLD's builds; the newest build of each image is VERSION-2. MOVED_TAG: the site's tag
    0.0.1 names another build now, and the one its containers run has no other name."""
    engine = FakeEngine(answers=ANSWERS, **fake)  # type: ignore[arg-type]
    engine.mock.site_containers.return_value = [
        {"Image": old_id(name), "State": {"Running": True},
         "Config": {"Image": OLD[name], "Labels": {"io.hakobune.site": "shop", "com.docker.compose.service": service}}}
        for service, name in NAMES.items()]

    def listing(reference: str, full_ids: bool = False) -> list[dict[str, str]]:
        name = reference.removeprefix("hakobune/")
        version = image_versions()[name].version
        old = [] if moved_tag else [("0.0.1-1", old_id(name))]
        tags = [(version, new_id(name)), (f"{version}-2", new_id(name)), ("0.0.1", "sha256:other" if moved_tag
                                                                         else old_id(name)), *old]
        return [{"Repository": reference, "Tag": tag, "ID": image} for tag, image in tags]
    engine.mock.images.side_effect = listing
    return engine


def site_folder(tmp_path: Path) -> SiteDir:
    sitedir = SiteDir(tmp_path / "shop")
    sitedir.create(SITE, SiteSecrets())
    return sitedir


def newest(name: str) -> str:
    return f"hakobune/{name}:{image_versions()[name].version}-2"


def test_the_plan_moves_each_service_in_order_to_the_newest_numbered_build(tmp_path):
    engine = engine_with()
    planned = upgrade.plan(Stack.open(engine.mock, site_folder(tmp_path)))
    assert [(m.service, m.running, m.target) for m in planned.moves] == [
        ("db", "hakobune/mariadb:0.0.1-1", newest("mariadb")), ("valkey", "hakobune/valkey:0.0.1-1", newest("valkey")),
        ("web", "hakobune/nginx:0.0.1-1", newest("nginx")), ("php", "hakobune/php:0.0.1-1", newest("php"))]
    assert planned.images == {name: newest(name) for name in NEW_NAMES}
    assert planned.previous == OLD and planned.pins == {} and planned.database
    assert planned.format == (FORMAT, FORMAT)
    lines = planned.lines()
    assert "mariadb-upgrade" in lines[2] and lines[1].startswith("  a backup first")
    # With ports of its own, the web server is restarted; PHP on nginx's socket moves beside the old one.
    assert lines[4].startswith("  web: ") and lines[4].endswith("(restarted: down meanwhile)")
    assert lines[5].startswith("  php: ") and "beside the running one" in lines[5]
    # A site from before Hakobune 0.7 gets a metrics service.
    assert planned.added == {"metrics": newest("metrics")}
    assert lines[7] == f"  metrics: {newest('metrics')} (new: its service starts with the new builds)"
    assert engine.log == ["ps"]  # asked, nothing changed


def test_a_build_whose_tag_moved_is_named_for_the_way_back_and_a_dry_run_tags_nothing(tmp_path):
    engine = engine_with(moved_tag=True)
    planned = upgrade.plan(Stack.open(engine.mock, site_folder(tmp_path)))
    assert planned.previous["nginx"] == "hakobune/nginx:0.0.1-was-old-nginx"
    assert planned.pins["hakobune/nginx:0.0.1-was-old-nginx"] == old_id("nginx")
    engine.mock.tag.assert_not_called()


def test_an_older_folder_format_is_planned_and_a_current_site_is_left_alone(tmp_path):
    sitedir = site_folder(tmp_path)
    document = yaml.safe_load((sitedir.path / "hakobune.yaml").read_text())
    document["format"] = 4
    (sitedir.path / "hakobune.yaml").write_text(yaml.safe_dump(document))
    assert upgrade.plan(Stack.open(engine_with().mock, sitedir)).format == (4, FORMAT)

    current = replace(SITE, images={name: newest(name) for name in NEW_NAMES}, metrics=True)
    sitedir = SiteDir(tmp_path / "current")
    sitedir.create(replace(current, name="current"), SiteSecrets())
    engine = engine_with()
    for container in engine.mock.site_containers.return_value:
        name = NAMES[container["Config"]["Labels"]["com.docker.compose.service"]]
        container["Image"] = new_id(name)
    planned = upgrade.plan(Stack.open(engine.mock, sitedir))
    assert planned.nothing and "current" in planned.lines()[0]
    done = upgrade.upgrade(Stack.open(engine.mock, sitedir), backup=False, to=None, report=lambda line: None)
    assert done.plan.nothing and engine.log == ["ps", "ps"]


def test_an_older_ops_image_alone_is_planned_and_saved_though_no_container_runs_it(tmp_path):
    sitedir = SiteDir(tmp_path / "shop")
    images = {**{name: newest(name) for name in NEW_NAMES}, "ops": OLD["ops"]}
    sitedir.create(replace(SITE, images=images, metrics=True), SiteSecrets())
    engine = engine_with()
    for container in engine.mock.site_containers.return_value:
        container["Image"] = new_id(NAMES[container["Config"]["Labels"]["com.docker.compose.service"]])
    planned = upgrade.plan(Stack.open(engine.mock, sitedir))
    assert not planned.nothing and planned.moves == [] and planned.one_shot == {"ops": newest("ops")}
    assert planned.lines()[-2] == (f"  ops: {OLD['ops']} -> {newest('ops')} "
                                   "(no container runs it: the next task uses it)")
    upgrade.upgrade(Stack.open(engine.mock, sitedir), backup=False, to=None, report=lambda line: None)
    assert sitedir.load().images["ops"] == newest("ops") and engine.log[-2:] == ["up", "task smoke"]


def test_a_site_that_is_not_running_is_refused_before_anything(tmp_path):
    engine = engine_with()
    engine.running = ["web"]
    with pytest.raises(HakobuneError, match="site shop is not running"):
        upgrade.plan(Stack.open(engine.mock, site_folder(tmp_path)))


def test_an_image_not_built_is_refused_before_anything(tmp_path):
    engine = engine_with()
    engine.mock.images.side_effect = lambda reference, full_ids=False: []
    with pytest.raises(HakobuneError, match="image not built: hakobune/"):
        upgrade.plan(Stack.open(engine.mock, site_folder(tmp_path)))


# PHP on nginx's socket moves beside the old one (a site with ports of its own: its web server is replaced).
SWITCH = ["ps", "task option", "task core-keep", "up db",
          "exec db mariadb-upgrade --user=mysql --socket=/run/mysqld/mysqld.sock", "up valkey", "up web", "ps",
          "up php --no-recreate --scale php=2", "drain php-id SIGQUIT", "up", "task smoke"]


def test_the_switch_goes_service_by_service_then_checks_the_site(tmp_path):
    engine = engine_with()
    sitedir = site_folder(tmp_path)
    done = upgrade.upgrade(Stack.open(engine.mock, sitedir), backup=False, to=None, report=lambda line: None)
    assert engine.log == SWITCH
    assert done.checked == ["front page", "login page"] and done.database_seconds is not None
    assert sitedir.load().images == {name: newest(name) for name in NEW_NAMES} and sitedir.load().metrics
    smoke = next(c.kwargs["input"] for c in engine.mock.compose.call_args_list if "smoke" in c.args)
    assert '"title": "Shop"' in smoke and '"page_cache": true' in smoke


@pytest.mark.parametrize("failing", [step for step in SWITCH[3:] if step not in ("up", "ps")])
def test_a_failure_anywhere_in_the_switch_brings_the_previous_builds_and_files_back(tmp_path, failing):
    engine = engine_with(failing=failing, moved_tag=True)
    sitedir = site_folder(tmp_path)
    before = sitedir.snapshot()
    with pytest.raises(HakobuneError, match=r"the upgrade of shop failed and was rolled back: .*broke"):
        upgrade.upgrade(Stack.open(engine.mock, sitedir), backup=False, to=None, report=lambda line: None)
    # A new container that did not come up is looked for, and removed, before the rollback.
    looked = ["ps"] if "--scale" in failing else []
    # ... and the stack brought back, a service the switch brought removed
    assert engine.log == [*SWITCH[:SWITCH.index(failing) + 1], *looked, "up --remove-orphans"]
    # The files as they were, but naming the build that ran by a name that still names it.
    assert sitedir.load().images == {**OLD, **{name: f"{OLD[name]}-was-old-{name}" for name in NAMES.values()}}
    assert sitedir.snapshot()["secrets.env"] == before["secrets.env"]
    engine.mock.tag.assert_any_call(old_id("nginx"), "hakobune/nginx:0.0.1-was-old-nginx")


@pytest.mark.parametrize("step", ["upgrade-db", "upgrade-web", "upgrade-switched"])
def test_a_failpoint_rolls_back_to_the_very_files(tmp_path, monkeypatch, step):
    monkeypatch.setenv(FAILPOINT_ENV, step)
    engine = engine_with()
    sitedir = site_folder(tmp_path)
    before = sitedir.snapshot()
    with pytest.raises(HakobuneError, match=f"rolled back: stopped at step '{step}'"):
        upgrade.upgrade(Stack.open(engine.mock, sitedir), backup=False, to=None, report=lambda line: None)
    assert sitedir.snapshot() == before and engine.log[-1] == "up --remove-orphans"


def test_the_backup_comes_first_and_its_path_is_in_the_failure(tmp_path, monkeypatch):
    engine = engine_with(failing="up db")
    made = []

    def backup(stack, to, keep, on_host, report):
        made.append(list(engine.log))
        return type("Made", (), {"where": "/backups/shop.tar"})()
    monkeypatch.setattr(upgrade.backups, "backup", backup)
    with pytest.raises(HakobuneError) as failed:
        upgrade.upgrade(Stack.open(engine.mock, site_folder(tmp_path)), backup=True, to=None,
                        report=lambda line: None)
    assert made == [["ps", "task option"]] and failed.value.hint == "the backup made first: /backups/shop.tar"


def test_all_sites_go_by_name_and_the_first_failure_stops_the_rest(tmp_path):
    engine = engine_with()
    running = engine.mock.site_containers.return_value
    sites = [{"Config": {"Labels": {"io.hakobune.site": name, "com.docker.compose.project.working_dir": f"/s/{name}"}}}
             for name in ("c", "a", "b")]
    engine.mock.site_containers.side_effect = lambda site=None: running if site else sites
    opened: list[str] = []

    def open_stack(folder: str) -> Stack:
        opened.append(folder)
        if folder == "/s/b":
            raise HakobuneError("site b is not running")
        (tmp_path / folder.strip("/").replace("/", "-")).mkdir()
        return Stack.open(engine.mock, site_folder(tmp_path / folder.strip("/").replace("/", "-")))
    seen: list[object] = []
    with pytest.raises(HakobuneError) as failed:
        upgrade.upgrade_all(engine.mock, open_stack, dry_run=True, backup=True, to=None, report=lambda line: None,
                            done=seen.append)
    assert opened == ["/s/a", "/s/b"] and len(seen) == 1
    assert failed.value.message == ("b: site b is not running; the sites after it were not touched "
                                    "(upgraded before it: a)")


def test_an_ops_image_that_cannot_keep_core_checksums_does_not_stop_the_upgrade(tmp_path):
    engine = engine_with(failing="task core-keep")
    said: list[str] = []
    upgrade.upgrade(Stack.open(engine.mock, site_folder(tmp_path)), backup=False, to=None, report=said.append)
    assert engine.log == SWITCH and any("could not be kept" in line for line in said)


def test_a_new_site_names_the_numbered_builds_its_versions_name_now(tmp_path):
    """So that a later `images build` (the version's tag moves) reaches the site only through `upgrade`."""
    engine = engine_with()
    site = replace(SITE, name="fresh", images=images_for("nginx"), acme_image=image_refs()["edge"])
    provision.provision(engine.mock, site, SiteSecrets(), tmp_path, lambda line: None, password_generated=True)
    recorded = SiteDir(tmp_path / "fresh").load()
    assert recorded.images == {name: newest(name) for name in NEW_NAMES}
    assert recorded.acme_image == newest("edge")


def test_an_image_without_a_numbered_build_keeps_its_tag():
    engine = engine_with()
    engine.mock.images.side_effect = lambda reference, full_ids=False: [
        {"Repository": reference, "Tag": "0.0.1", "ID": "sha256:x"}]
    assert provision.pinned(engine.mock, SITE) == SITE


def folder_of_format_5(tmp_path: Path) -> SiteDir:
    """A site folder as Hakobune 0.6 wrote it: no jobs, images without the scheduler."""
    sitedir = site_folder(tmp_path)
    document = yaml.safe_load((sitedir.path / "hakobune.yaml").read_text())
    document["format"] = 5
    del document["site"]["cron_jobs"], document["site"]["scheduler"]
    (sitedir.path / "hakobune.yaml").write_text(yaml.safe_dump(document))
    return sitedir


def test_a_site_from_before_the_scheduler_gets_its_cron_service_with_the_new_images(tmp_path):
    sitedir = folder_of_format_5(tmp_path)
    assert sitedir.load().scheduler is False and "cron" not in sitedir.load().services
    engine = engine_with()
    upgrade.upgrade(Stack.open(engine.mock, sitedir), backup=False, to=None, report=lambda line: None)
    assert engine.log == SWITCH  # the last `up` brings the whole stack, the cron service with it
    assert sitedir.load().scheduler is True and "cron" in sitedir.load().services
    assert "hakobune-cron" in (sitedir.path / "compose.yaml").read_text()


def test_an_upgrade_that_fails_leaves_such_a_site_without_the_service(tmp_path):
    sitedir = folder_of_format_5(tmp_path)
    before = sitedir.snapshot()
    engine = engine_with(failing="task smoke")
    with pytest.raises(HakobuneError, match="rolled back"):
        upgrade.upgrade(Stack.open(engine.mock, sitedir), backup=False, to=None, report=lambda line: None)
    assert engine.log[-1] == "up --remove-orphans"  # the cron service the switch started goes again
    assert sitedir.load().scheduler is False and "hakobune-cron" not in (sitedir.path / "compose.yaml").read_text()
    assert sitedir.snapshot()["hakobune.yaml"] == before["hakobune.yaml"]
