"""What a failed provision, config change, restore and import undo, in which order, at each failpoint: with a fake
engine, in seconds. The e2e failpoint tests (test_failures.py, test_backup.py, test_import.py) show the same on
a real engine."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from hakobune.errors import HakobuneError
from hakobune.ops import config, domains, edge_move, import_site, provision
from hakobune.ops.certs import AcmeAccount
from hakobune.ops.restore import restore
from hakobune.ops.rollback import FAILPOINT_ENV
from hakobune.ops.sitedir import SiteDir
from hakobune.ops.stack import Stack
from hakobune.render.edge import SETTINGS_LABEL, EdgeSettings
from hakobune.site import Site, SiteSecrets
from hakobune.versions import image_refs, images_for
from tests.unit.fake_engine import FakeEngine

SITE = Site(name="shop", fqdn="shop.example.com", http_port=8080, tls_port=8443, images=images_for("nginx"),
            site_id="1" * 32)
SWEEP = f"sweep io.hakobune.site-id={'1' * 32}"
ARCHIVE = "shop_20261201T030000Z.tar"


@pytest.fixture
def removed(monkeypatch):
    """Site folders removed, in the log of the engine the test gives (not the scratch folders of an import)."""
    def watch(engine: FakeEngine) -> None:
        real = shutil.rmtree

        def rmtree(path: Path, *args: object, **kwargs: object) -> None:
            if not Path(path).name.startswith("hakobune-"):
                engine.log.append(f"rmtree {Path(path).name}")
            real(path, *args, **kwargs)  # type: ignore[arg-type]
        monkeypatch.setattr(shutil, "rmtree", rmtree)
    return watch


def _provision(engine: FakeEngine, tmp_path: Path, site: Site = SITE) -> None:
    provision.provision(engine.mock, site, SiteSecrets(), tmp_path, lambda line: None, password_generated=True)


# The scheduler starts last, once WordPress is installed (a second `up`).
PROVISION = ["task write-secrets", "up", "task db-setup", "task seed", "task install", "up"]


@pytest.mark.parametrize(("step", "done"), [("folder", 0), ("started", 2), ("installed", 5)])
def test_a_provision_that_fails_removes_containers_then_folder(tmp_path, monkeypatch, removed, step, done):
    monkeypatch.setenv(FAILPOINT_ENV, step)
    engine = FakeEngine()
    removed(engine)
    with pytest.raises(HakobuneError, match=f"stopped at step '{step}'"):
        _provision(engine, tmp_path)
    assert [line for line in engine.log if line != "ps"] == [*PROVISION[:done], SWEEP, "rmtree shop"]
    assert not (tmp_path / "shop").exists()


@pytest.mark.parametrize("failing", PROVISION)
def test_a_provision_whose_step_fails_is_undone_the_same_way(tmp_path, removed, failing):
    engine = FakeEngine(failing=failing)
    removed(engine)
    with pytest.raises(HakobuneError):
        _provision(engine, tmp_path)
    assert engine.log == [*PROVISION[:PROVISION.index(failing) + 1], SWEEP, "rmtree shop"]


def test_nothing_is_created_when_the_checks_before_fail(tmp_path):
    engine = FakeEngine()
    engine.mock.sites.return_value = {"shop"}
    with pytest.raises(HakobuneError, match="a site named 'shop' already exists on this Docker engine"):
        _provision(engine, tmp_path)
    assert engine.log == []
    assert list(tmp_path.iterdir()) == []


def _site_folder(tmp_path: Path, site: Site = SITE) -> Stack:
    sitedir = SiteDir(tmp_path / site.name)
    sitedir.create(site, SiteSecrets(settings={"PHP_SMTP_PASSWORD": "old-secret"}))
    return sitedir


@pytest.mark.parametrize(("step", "failing"), [("config-applied", None), (None, "up php")])
def test_a_config_change_that_fails_puts_secret_volumes_files_and_services_back(tmp_path, monkeypatch, step,
                                                                                 failing):
    if step:
        monkeypatch.setenv(FAILPOINT_ENV, step)
    sitedir = _site_folder(tmp_path)
    before = sitedir.snapshot()
    engine = FakeEngine(failing=failing)
    with pytest.raises(HakobuneError, match="settings not applied, the previous ones are back"):
        config.change(Stack.open(engine.mock, sitedir),
                      {"PHP_SMTP_PASSWORD": "new-secret", "PHP_MEMORY_LIMIT": "512M"}, lambda line: None)
    assert engine.log == [f"image {SITE.image('php')}", "task write-secrets", "up php",
                          "task write-secrets", "up php"]
    assert sitedir.snapshot() == before
    written = [call.kwargs["input"] for call in engine.mock.compose.call_args_list if "write-secrets" in call.args]
    assert "new-secret" in written[0] and "old-secret" in written[1]


def test_a_config_change_the_image_refuses_touches_nothing(tmp_path):
    from hakobune.engine import EngineError

    sitedir = _site_folder(tmp_path)
    before = sitedir.snapshot()
    engine = FakeEngine()
    refused = '{"error":"invalid PHP_MEMORY_LIMIT=900G: more than the container\'s 1G","hint":null}'
    engine.mock.run_image.side_effect = EngineError(
        "docker run failed", stderr="hakobune: invalid PHP_MEMORY_LIMIT=900G\n", stdout=f"{refused}\n")
    with pytest.raises(HakobuneError, match=r"^invalid PHP_MEMORY_LIMIT=900G"):
        config.change(Stack.open(engine.mock, sitedir), {"PHP_MEMORY_LIMIT": "900G"}, lambda line: None)
    assert engine.log == []
    assert sitedir.snapshot() == before


RESTORE = ["ps", "task restore:state", "task restore:stage", "task restore:swap", "task search-replace",
           "task restore:finish"]


@pytest.mark.parametrize(("step", "done", "undo"), [
    ("restore-staged", 3, ["task restore:finish"]),
    ("restore-swapped", 4, ["task restore:undo", "task restore:finish"]),
    ("restore-rewritten", 5, ["task restore:undo", "task restore:finish"]),
])
def test_a_restore_that_fails_puts_the_sites_own_data_back(tmp_path, monkeypatch, step, done, undo):
    monkeypatch.setenv(FAILPOINT_ENV, step)
    engine = FakeEngine(answers={"restore:stage": {"url": "https://old.example.com"}})
    with pytest.raises(HakobuneError, match=f"stopped at step '{step}'"):
        restore(Stack.open(engine.mock, _site_folder(tmp_path)), Path(ARCHIVE), lambda line: None, on_host=True)
    assert engine.log == [*RESTORE[:done], *undo]


def test_a_restore_that_works_empties_the_caches_last(tmp_path):
    engine = FakeEngine(answers={"restore:stage": {"url": "https://old.example.com"}})
    restore(Stack.open(engine.mock, _site_folder(tmp_path)), Path(ARCHIVE), lambda line: None, on_host=True)
    assert engine.log == [*RESTORE, "ps", "exec php hakobune-opcache-reset", "exec valkey valkey-cli flushall",
                          "exec web hakobune-cache refresh"]


def test_a_restore_into_a_stopped_site_touches_nothing(tmp_path):
    engine = FakeEngine(running=["web"])
    with pytest.raises(HakobuneError, match=r"site shop is not running \(its database is missing\)"):
        restore(Stack.open(engine.mock, _site_folder(tmp_path)), Path(ARCHIVE), lambda line: None, on_host=True)
    assert engine.log == ["ps"]


def test_an_import_that_fails_in_its_restore_undoes_the_restore_then_the_new_site(tmp_path, removed):
    source = tmp_path / "app"
    source.mkdir()
    (source / "index.php").write_text("<?php echo 'hello';\n")
    dump = tmp_path / "app.sql"
    dump.write_text("CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n")
    engine = FakeEngine(failing="task restore:swap")
    removed(engine)
    site = replace(SITE, profile="lamp", db_name="app", db_user="app", object_cache=False, page_cache=False)
    parent = tmp_path / "sites"
    parent.mkdir()
    with pytest.raises(HakobuneError, match="restore failed: task restore:swap broke"):
        import_site.import_site(engine.mock, site, parent, lambda line: None, from_dir=source, sql=dump, ssh=None)
    incoming = next(line for line in engine.log if line.startswith("run sh -c"))
    assert engine.log == ["task write-secrets", "up", "task db-setup", incoming,
                          "task restore:stage", "task restore:swap", "task restore:undo", "task restore:finish",
                          f"run rm -f {incoming.split()[-1]}", SWEEP, "rmtree shop"]
    assert list(parent.iterdir()) == []


# -- behind the shared edge: the site is taken off the edge before its containers and network go ---------------

EDGE_SITE = replace(SITE, edge=True, http_port=80, tls_port=443)
ACCOUNT = AcmeAccount("ops@example.com", "https://ca.test/dir")
EDGE_PROVISION = ["network create hb-shop-edge", "task write-secrets", "up", "network connect hb-shop-edge",
                  "exec proxy hakobune-edge set shop", "task db-setup", "task seed", "task install", "up",
                  "exec acme hakobune-acme configure shop"]
OFF_THE_EDGE = ["exec proxy hakobune-edge remove shop", "network disconnect hb-shop-edge"]


def changes(log: list[str]) -> list[str]:
    """What was done (what was only looked at left out)."""
    return [line for line in log if line != "ps" and not line.endswith((" list", " status"))]


def edge_engine(failing: str | None = None) -> FakeEngine:
    """A fake engine with a running edge: its settings label, its networks, its tools' answers."""
    engine = FakeEngine(failing=failing)
    label = EdgeSettings("hakobune/edge:0.5.0").to_json()
    engine.mock.labelled.side_effect = lambda kind, value, label_=None: ["acme-1"] if kind == "container" else []
    engine.mock.docker.side_effect = lambda *args, **kwargs: subprocess.CompletedProcess(
        list(args), 0, json.dumps([{"Config": {"Labels": {SETTINGS_LABEL: label}}}]), "")
    engine.mock.network_create.side_effect = \
        lambda name, labels, internal=False: engine._record(f"network create {name}") or "172.30.0.0/24"
    engine.mock.network_connect.side_effect = lambda network, _c: engine._record(f"network connect {network}")
    engine.mock.network_disconnect.side_effect = \
        lambda network, _c: engine._record(f"network disconnect {network}")
    engine.mock.network_remove.side_effect = lambda network: engine._record(f"network rm {network}")
    return engine


@pytest.mark.parametrize("failing", EDGE_PROVISION)
def test_a_provision_behind_the_edge_that_fails_is_taken_off_the_edge_first(tmp_path, removed, failing):
    engine = edge_engine(failing)
    removed(engine)
    with pytest.raises(HakobuneError):
        provision.provision(engine.mock, EDGE_SITE, SiteSecrets(), tmp_path, lambda line: None,
                            password_generated=True, acme=ACCOUNT)
    done = EDGE_PROVISION[:EDGE_PROVISION.index(failing) + 1]
    undo = [] if failing.startswith("network create") else OFF_THE_EDGE  # no network: nothing to leave
    assert changes(engine.log) == [*done, *undo, SWEEP, "rmtree shop"]
    assert not (tmp_path / "shop").exists()


def test_a_ca_that_says_no_leaves_the_site_up_and_says_why(tmp_path):
    engine = edge_engine("exec acme hakobune-acme issue shop")
    done = provision.provision(engine.mock, EDGE_SITE, SiteSecrets(), tmp_path, lambda line: None,
                               password_generated=True, acme=ACCOUNT)
    assert done.certificate_error and "hakobune-acme issue shop broke" in done.certificate_error
    assert changes(engine.log) == [*EDGE_PROVISION, "exec acme hakobune-acme issue shop"]
    assert (tmp_path / "shop" / "hakobune.yaml").exists()


# -- moving a site behind the edge and back (edge attach|detach) ----------------------------------------------

REFRESH = ["exec php hakobune-opcache-reset", "exec valkey valkey-cli flushall", "exec web hakobune-cache refresh"]
# The site's own acme service, if it has one, goes with the move (--remove-orphans).
ATTACH = ["network create hb-shop-edge", "up --remove-orphans", "network connect hb-shop-edge",
          "exec proxy hakobune-edge set shop", "task site-url", "task search-replace", *REFRESH]


@pytest.mark.parametrize("failing", ["network create", "up", "exec proxy hakobune-edge set", "task site-url",
                                     "task search-replace", "exec web hakobune-cache refresh"])
def test_a_move_behind_the_edge_that_fails_is_undone_newest_step_first(tmp_path, failing):
    engine = edge_engine(failing)
    stack = Stack.open(engine.mock, _site_folder(tmp_path))
    before = (tmp_path / "shop" / "hakobune.yaml").read_text()
    with pytest.raises(HakobuneError):
        edge_move.attach(stack, lambda line: None)
    done = ATTACH[:next(i for i, line in enumerate(ATTACH) if line.startswith(failing)) + 1]
    undo = []
    if "task site-url" in done:  # the URLs back (also after a rewrite that failed part of the way)
        undo += ["task site-url", "task search-replace", *REFRESH]
    if "exec proxy hakobune-edge set shop" in done:
        undo += ["exec proxy hakobune-edge remove shop", "network disconnect hb-shop-edge"]
    if failing != "network create":
        undo += ["up", "network rm hb-shop-edge"]  # the site as it was, then its network to the edge goes
    assert changes(engine.log) == [*done, *undo]
    assert (tmp_path / "shop" / "hakobune.yaml").read_text() == before


def test_a_move_back_to_own_ports_that_fails_routes_the_site_through_the_edge_again(tmp_path):
    engine = edge_engine("up")
    stack = Stack.open(engine.mock, _site_folder(tmp_path, replace(EDGE_SITE, edge_subnet="172.30.0.0/24")))
    with pytest.raises(HakobuneError):
        edge_move.detach(stack, 8080, 8443, lambda line: None)
    assert changes(engine.log) == ["exec proxy hakobune-edge remove shop", "network disconnect hb-shop-edge", "up",
                                   "network connect hb-shop-edge", "exec proxy hakobune-edge set shop", "up"]
    assert stack.sitedir.load().edge is True


def test_a_site_is_moved_only_the_way_it_is_not(tmp_path):
    engine = edge_engine()
    on_edge = Stack.open(engine.mock, _site_folder(tmp_path, replace(EDGE_SITE, edge_subnet="172.30.0.0/24")))
    with pytest.raises(HakobuneError, match="site shop is behind the edge already"):
        edge_move.attach(on_edge, lambda line: None)
    with pytest.raises(HakobuneError, match="--http-port and --tls-port are both 8443"):
        edge_move.detach(on_edge, 8443, 8443, lambda line: None)
    assert engine.log == []


# -- a site's names (domain add|remove|primary): the certificate first, undone newest step first ---------------

def answering(engine: FakeEngine, answer: Callable[[], dict[str, object]]) -> FakeEngine:
    """ENGINE, whose services answer every command with what ANSWER says at that moment."""
    real = engine._compose

    def compose(folder: object, *args: str, **io: object) -> subprocess.CompletedProcess[str]:
        engine.answers[""] = answer()
        return real(folder, *args, **io)
    engine.mock.compose.side_effect = compose
    return engine


ROUTED = replace(EDGE_SITE, edge_subnet="172.30.0.0/24")


def names_engine(source: str, failing: str | None = None) -> FakeEngine:
    """An edge whose certificate for shop covers its names, from SOURCE (acme, own); an ACME request makes it
    cover www.shop.example.com and shop.example.org too."""
    engine = edge_engine(failing)
    issued = "shop.example.com www.shop.example.com shop.example.org"

    def answer() -> dict[str, object]:
        names = issued if "exec acme hakobune-acme issue shop" in engine.log else "shop.example.com"
        cert = {"issuer": "CN=CA", "subject": "CN=shop.example.com", "names": names, "not_after": 4102444800}
        acme = {"email": "ops@example.com", "directory": "https://ca.test/dir"} if source == "acme" else None
        return {"certificates": [{"site": "shop", "hosts": "shop.example.com", "certificate": cert, "acme": acme}],
                "routes": [{"site": "blog", "hosts": "blog.example.com", "upstream": "hb-blog-web:8080",
                            "certificate": {"issuer": "", "not_after": ""}}]}
    return answering(engine, answer)


ADD = ["exec proxy hakobune-edge set shop", "exec acme hakobune-acme issue shop", "up",
       "exec proxy hakobune-edge set shop"]


@pytest.mark.parametrize("failing", range(len(ADD)))
def test_an_alias_is_certified_before_it_is_served_and_a_failure_puts_the_route_back(tmp_path, failing):
    engine = names_engine("acme", ADD[failing] if failing != 3 else None)
    if failing == 3:  # the second route change
        engine.failing = None
    stack = Stack.open(engine.mock, _site_folder(tmp_path, ROUTED))
    before = (tmp_path / "shop" / "hakobune.yaml").read_text()
    if failing == 3:
        done = domains.add(stack, "www.shop.example.com", None, lambda line: None)
        assert done.aliases == {"www.shop.example.com": "serve"}
        assert changes(engine.log) == ["network connect hb-shop-edge", *ADD[:2], "up",
                                       "network connect hb-shop-edge", ADD[3]]
        assert stack.sitedir.load().aliases == {"www.shop.example.com": "serve"}
        return
    with pytest.raises(HakobuneError):
        domains.add(stack, "www.shop.example.com", None, lambda line: None)
    done = ADD[:failing + 1]
    # The route as it was, the files put back, the services up as they were.
    assert [line for line in changes(engine.log) if not line.startswith("network connect")] == \
        [*done, "exec proxy hakobune-edge set shop", "up"]
    assert (tmp_path / "shop" / "hakobune.yaml").read_text() == before


def test_a_new_primary_name_gets_the_certificate_then_the_urls_then_the_route(tmp_path):
    engine = names_engine("acme", "task search-replace")
    stack = Stack.open(engine.mock, _site_folder(tmp_path, ROUTED))
    before = (tmp_path / "shop" / "hakobune.yaml").read_text()
    with pytest.raises(HakobuneError):
        domains.primary(stack, "shop.example.org", lambda line: None)
    assert [line for line in changes(engine.log) if not line.startswith("network connect")] == [
        "exec proxy hakobune-edge set shop", "exec acme hakobune-acme issue shop", "up",
        "task site-url", "task search-replace",  # the new URLs, failing part of the way
        "task site-url", "task search-replace", *REFRESH,  # the old ones back
        "exec proxy hakobune-edge set shop", "up"]
    assert (tmp_path / "shop" / "hakobune.yaml").read_text() == before


def test_a_new_primary_name_keeps_the_old_one_as_a_redirect(tmp_path):
    engine = names_engine("acme")
    stack = Stack.open(engine.mock, _site_folder(tmp_path, ROUTED))
    done = domains.primary(stack, "shop.example.org", lambda line: None)
    assert (done.fqdn, done.aliases) == ("shop.example.org", {"shop.example.com": "301"})
    assert stack.sitedir.load() == done


@pytest.mark.parametrize(("site", "call", "message"), [
    (ROUTED, lambda s: domains.add(s, "blog.example.com", None, print), "blog.example.com is served by site blog"),
    (ROUTED, lambda s: domains.add(s, "www.shop.example.com", "302", print), "--redirect '302' is not one of"),
    (ROUTED, lambda s: domains.add(s, "shop.example.com", None, print), "is the primary name of site shop"),
    (ROUTED, lambda s: domains.add(s, "10.0.0.1", None, print), "NAME '10.0.0.1' is an IP address"),
    (ROUTED, lambda s: domains.remove(s, "shop.example.com", print), "is the primary name of site shop"),
    (ROUTED, lambda s: domains.remove(s, "www.shop.example.com", print), "is not a name of site shop"),
    (ROUTED, lambda s: domains.primary(s, "shop.example.com", print), "is the primary name of site shop already"),
])
def test_a_name_change_that_cannot_work_is_refused_before_anything_changes(tmp_path, site, call, message):
    engine = names_engine("acme")
    stack = Stack.open(engine.mock, _site_folder(tmp_path, site))
    with pytest.raises(HakobuneError, match=re.escape(message)):
        call(stack)
    assert changes(engine.log) == []


def test_a_name_the_sites_own_certificate_does_not_cover_is_refused(tmp_path):
    engine = names_engine("own")
    stack = Stack.open(engine.mock, _site_folder(tmp_path, ROUTED))
    refused = re.escape("the site's own certificate does not cover www.shop.example.com")
    with pytest.raises(HakobuneError, match=refused):
        domains.add(stack, "www.shop.example.com", "301", lambda line: None)
    assert changes(engine.log) == []


# -- a site with ports of its own and a certificate from a CA: its own acme service -----------------------------

OWN_ACME_PROVISION = [*PROVISION, "exec acme hakobune-acme configure shop"]


@pytest.mark.parametrize("failing", OWN_ACME_PROVISION)
def test_a_provision_with_an_acme_service_of_its_own_that_fails_is_undone(tmp_path, removed, failing):
    engine = FakeEngine(failing=failing)
    removed(engine)
    with pytest.raises(HakobuneError):
        provision.provision(engine.mock, SITE, SiteSecrets(), tmp_path, lambda line: None, password_generated=True,
                            acme=ACCOUNT)
    assert changes(engine.log) == [*OWN_ACME_PROVISION[:OWN_ACME_PROVISION.index(failing) + 1], SWEEP,
                                   "rmtree shop"]


def test_a_ca_that_says_no_leaves_a_site_with_ports_of_its_own_up_with_its_acme_service(tmp_path):
    engine = FakeEngine(failing="exec acme hakobune-acme issue shop")
    done = provision.provision(engine.mock, SITE, SiteSecrets(), tmp_path, lambda line: None,
                               password_generated=True, acme=ACCOUNT)
    assert done.certificate_error and "hakobune-acme issue shop broke" in done.certificate_error
    assert changes(engine.log) == [*OWN_ACME_PROVISION, "exec acme hakobune-acme issue shop"]
    saved = SiteDir(tmp_path / "shop").load()
    assert saved.acme_image == image_refs()["edge"] and "acme" in saved.services


# -- a site with ports of its own: its names too, the certificate first -----------------------------------------

OWN_ACME = replace(SITE, acme_image="hakobune/edge:0.5.0")
OWN_ADD = ["exec acme hakobune-acme issue shop www.shop.example.com", "up", "exec web hakobune-tls refresh"]


def own_names_engine(source: str, failing: str | None = None) -> FakeEngine:
    """A site with ports of its own whose certificate covers its name, from SOURCE (acme: its acme service; own:
    its web server); an ACME request makes it cover www.shop.example.com too."""
    engine = FakeEngine(failing=failing, running=("web", "php", "db", "valkey", "cron", "metrics", "acme"))

    def answer() -> dict[str, object]:
        issued = any(line.startswith("exec acme hakobune-acme issue shop") for line in engine.log)
        cert = {"issuer": "CN=CA", "subject": "CN=shop.example.com", "not_after": 4102444800,
                "names": "shop.example.com www.shop.example.com" if issued else "shop.example.com"}
        acme = {"email": "ops@example.com", "directory": "https://ca.test/dir"} if source == "acme" else None
        return {"certificates": [{"site": "shop", "hosts": "shop.example.com", "certificate": cert, "acme": acme}],
                "certificate": cert}
    return answering(engine, answer)


@pytest.mark.parametrize("failing", OWN_ADD)
def test_an_alias_of_a_site_with_ports_of_its_own_is_certified_first_and_a_failure_undone(tmp_path, failing):
    engine = own_names_engine("acme", failing)
    stack = Stack.open(engine.mock, _site_folder(tmp_path, OWN_ACME))
    before = (tmp_path / "shop" / "hakobune.yaml").read_text()
    with pytest.raises(HakobuneError):
        domains.add(stack, "www.shop.example.com", None, lambda line: None)
    assert changes(engine.log) == [*OWN_ADD[:OWN_ADD.index(failing) + 1], "up"]
    assert (tmp_path / "shop" / "hakobune.yaml").read_text() == before


def test_an_alias_of_a_site_with_ports_of_its_own_is_served_by_its_web_server(tmp_path):
    engine = own_names_engine("acme")
    stack = Stack.open(engine.mock, _site_folder(tmp_path, OWN_ACME))
    site = domains.add(stack, "www.shop.example.com", "308", lambda line: None)
    assert changes(engine.log) == OWN_ADD
    assert site.redirected("308") == ("www.shop.example.com",)
    assert SiteDir(tmp_path / "shop").load() == site


def test_a_name_the_own_certificate_of_a_site_with_ports_of_its_own_does_not_cover_is_refused(tmp_path):
    engine = own_names_engine("own")
    stack = Stack.open(engine.mock, _site_folder(tmp_path, SITE))
    refused = re.escape("the site's own certificate does not cover www.shop.example.com")
    with pytest.raises(HakobuneError, match=refused):
        domains.add(stack, "www.shop.example.com", None, lambda line: None)
    assert changes(engine.log) == []
