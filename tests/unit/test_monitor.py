"""The monitoring stack without Docker: its Compose document (hardened, published on the loopback, the engine's
socket reachable by the proxy alone and read-only), its settings and their checks, and the configuration its image
writes (images/monitor/monitor.py). tests/e2e/test_monitor.py runs it."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from hakobune.errors import HakobuneError, InvalidInput
from hakobune.ops.monitor import Monitor
from hakobune.ops.top import QUERIES, sites_now
from hakobune.render.monitor import SETTINGS_LABEL, STACK_LABEL, UID, MonitorSettings, environment, monitor_document
from hakobune.site import MONITOR_NETWORK
from tests.unit.fake_engine import FakeEngine

IMAGES = Path(__file__).resolve().parents[2] / "images"
IMAGE = "hakobune/monitor:0.7.0"
PARTS = ("docker-proxy", "containers", "node", "prometheus", "alertmanager")


def image_program():
    spec = importlib.util.spec_from_file_location("hakobune_monitor", IMAGES / "monitor" / "monitor.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_part_runs_hardened_from_one_image():
    doc = monitor_document(MonitorSettings(IMAGE))
    assert doc["name"] == "hakobune-monitoring" and set(doc["services"]) == set(PARTS)
    for name, part in doc["services"].items():
        assert part["image"] == IMAGE and part["command"] == [name]
        assert part["read_only"] is True and part["cap_drop"] == ["ALL"] and "cap_add" not in part
        assert part["security_opt"] == ["no-new-privileges:true"] and "privileged" not in part
        assert part["mem_limit"] and part["pids_limit"] and part["restart"] == "unless-stopped"
        assert part["logging"]["options"] == {"max-size": "10m", "max-file": "3"}
        assert part["healthcheck"]["test"] == ["CMD", "hakobune-monitor", "health", name]
        assert part["labels"][STACK_LABEL] == "1"
        assert part["user"] == ("0:0" if name == "docker-proxy" else f"{UID}:{UID}")


def test_only_the_proxy_sees_the_engines_socket_and_only_read_only():
    services = monitor_document(MonitorSettings(IMAGE))["services"]
    holders = {name for name, part in services.items() if "docker.sock" in json.dumps(part.get("volumes", []))}
    assert holders == {"docker-proxy"}
    assert services["docker-proxy"]["volumes"] == ["/var/run/docker.sock:/var/run/docker.sock:ro"]
    assert services["docker-proxy"]["networks"] == ["inner"]  # reached by the stack alone
    assert services["node"]["volumes"] == [{"type": "bind", "source": "/", "target": "/host", "read_only": True}]


def test_the_pages_are_published_on_the_loopback_unless_asked_and_the_rest_never():
    doc = monitor_document(MonitorSettings(IMAGE))
    published = {name: part["ports"] for name, part in doc["services"].items() if "ports" in part}
    assert published == {"prometheus": ["127.0.0.1:9090:9090"], "alertmanager": ["127.0.0.1:9093:9093"]}
    wide = monitor_document(MonitorSettings(IMAGE, bind="", port=19090, alertmanager_port=19093))
    assert wide["services"]["prometheus"]["ports"] == ["19090:9090"]
    v6 = monitor_document(MonitorSettings(IMAGE, bind="::1"))
    assert v6["services"]["alertmanager"]["ports"] == ["[::1]:9093:9093"]
    assert doc["networks"]["inner"]["internal"] is True
    assert doc["networks"]["monitor"] == {"name": MONITOR_NETWORK, "external": True}
    # Prometheus reaches the sites' metrics on the monitoring network; Alertmanager sends out through "outside".
    assert doc["services"]["prometheus"]["networks"] == ["inner", "monitor", "outside"]


def test_the_settings_are_kept_on_prometheus_and_read_back_equal_but_never_a_password():
    settings = MonitorSettings(IMAGE, retention="30d", webhook_url="https://hooks.example.com/a?b=c",
                               email_to="ops@example.com", smtp_host="smtp.example.com", smtp_user="alerts")
    label = monitor_document(settings)["services"]["prometheus"]["labels"][SETTINGS_LABEL]
    assert MonitorSettings.from_json(label) == settings
    assert "password" not in label.replace("smtp_password", "")
    env = environment(settings)
    assert env["MONITOR_RETENTION"] == "30d"
    assert env["MONITOR_SMTP_PASSWORD_FILE"] == "/var/lib/hakobune/alertmanager/smtp-password"
    with pytest.raises(InvalidInput, match="cannot be read"):
        MonitorSettings.from_json("{not json")


@pytest.mark.parametrize(("change", "message"), [
    ({"retention": "15"}, "--retention '15' is not a duration"),
    ({"retention": "15d; rm -rf /"}, "is not a duration"),
    ({"scrape_interval": "0s"}, "--scrape-interval '0s' is not a duration"),
    ({"scrape_interval": "1s"}, "--scrape-interval '1s' is too short"),
    ({"window": "5 m"}, "--alert-window"),
    ({"hold": "-1m"}, "--alert-hold '-1m'"),
    ({"port": 0}, "--port"),
    ({"alertmanager_port": 70000}, "--alertmanager-port"),
    ({"port": 9093}, "--port and --alertmanager-port are both 9093"),
    ({"bind": "localhost"}, "--bind 'localhost' is not an IP address"),
    ({"webhook_url": "ftp://example.com/x"}, "is not an http or https URL"),
    ({"webhook_url": "https://"}, "is not an http or https URL"),
    ({"webhook_url": "https://example.com/a\"b"}, "is not an http or https URL"),
    ({"email_to": "ops"}, "--email 'ops' is not an e-mail address"),
    ({"email_to": "ops@example.com"}, "--email needs an SMTP server"),
    ({"smtp_host": "smtp.example.com;x", "email_to": "a@b.c"}, "is not a host name"),
    ({"smtp_from": "a@b.c\nBcc: x@y.z"}, "--smtp-from"),
    ({"smtp_user": "a\nb"}, "--smtp-user has a line break"),
])
def test_hostile_settings_are_refused(change, message):
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace("?", r"\?")):
        dataclasses.replace(MonitorSettings(IMAGE), **change)


def test_prometheus_finds_sites_by_label_on_the_monitoring_network_and_names_them():
    program = image_program()
    config = program.prometheus_config({"MONITOR_NETWORK": MONITOR_NETWORK, "MONITOR_SCRAPE_INTERVAL": "5s"})
    assert config["global"]["scrape_interval"] == "5s" and config["global"]["evaluation_interval"] == "5s"
    sites = config["scrape_configs"][0]
    assert sites["job_name"] == "hakobune-sites"
    discovery = sites["docker_sd_configs"][0]
    assert discovery["host"] == "http://docker-proxy:2375"  # the proxy, never the socket
    assert discovery["filters"] == [{"name": "label", "values": ["io.hakobune.metrics-port"]}]
    keep, address, site, named, _ = sites["relabel_configs"]
    assert (named["source_labels"], named["action"]) == (["site"], "keep")
    assert re.fullmatch(named["regex"], "shop-2") and not re.fullmatch(named["regex"], "<script>")
    assert (keep["regex"], keep["action"]) == (MONITOR_NETWORK, "keep")
    assert address["target_label"] == "__address__"
    assert site == {"source_labels": ["__meta_docker_container_label_io_hakobune_site"], "target_label": "site"}
    with pytest.raises(SystemExit, match="not a duration"):
        program.prometheus_config({"MONITOR_SCRAPE_INTERVAL": "fast"})


def test_every_acme_service_is_read_for_its_renewals_with_the_sites_its_samples_name():
    config = image_program().prometheus_config({"MONITOR_NETWORK": MONITOR_NETWORK})
    acme = next(job for job in config["scrape_configs"] if job["job_name"] == "hakobune-acme")
    assert acme["honor_labels"] is True  # the edge's samples name many sites
    assert acme["docker_sd_configs"][0]["host"] == "http://docker-proxy:2375"
    assert acme["docker_sd_configs"][0]["filters"] == [{"name": "label", "values": ["io.hakobune.acme-metrics-port"]}]
    keep, address, _ = acme["relabel_configs"]
    assert (keep["regex"], keep["action"]) == (MONITOR_NETWORK, "keep")
    assert address["source_labels"][1] == "__meta_docker_container_label_io_hakobune_acme_metrics_port"


def test_the_rules_are_written_with_every_duration_put_in():
    program = image_program()
    program.SHARE = IMAGES / "monitor"
    for env in ({}, {"MONITOR_WINDOW": "30s", "MONITOR_HOLD": "20s", "MONITOR_HOLD_SHORT": "10s"}):
        text = program.rules(env)
        assert "${" not in text
        groups = yaml.safe_load(text)["groups"]
        names = {rule["alert"] for group in groups for rule in group["rules"]}
        assert names == {"SiteDown", "ServerErrors", "PhpFpmSaturated", "SlowResponses", "ContainerRestarting",
                         "DiskFilling", "CertificateExpiring", "CertificateRenewalFailing", "BackupFailed",
                         "BackupLate", "DatabaseDown"}
    short = yaml.safe_load(program.rules({"MONITOR_WINDOW": "30s", "MONITOR_HOLD_SHORT": "10s"}))["groups"][0]
    down = next(rule for rule in short["rules"] if rule["alert"] == "SiteDown")
    assert down["for"] == "10s"
    # promtool's tests cover every shipped alert.
    tested = yaml.safe_load((IMAGES / "monitor" / "alerts-test.yml").read_text())["tests"]
    assert {case["alertname"] for test in tested for case in test["alert_rule_test"]} == names


def test_alertmanager_sends_to_the_webhook_and_by_mail_with_the_password_from_a_file():
    program = image_program()
    assert program.alertmanager_config({})["receivers"] == [{"name": "hakobune"}]
    config = program.alertmanager_config({
        "MONITOR_WEBHOOK_URL": "http://hook:8000/alerts", "MONITOR_EMAIL_TO": "ops@example.com",
        "MONITOR_SMTP_HOST": "smtp.example.com", "MONITOR_SMTP_USER": "alerts",
        "MONITOR_SMTP_PASSWORD_FILE": "/run/secrets/smtp-password", "MONITOR_GROUP_WAIT": "5s"})
    receiver = config["receivers"][0]
    assert receiver["webhook_configs"] == [{"url": "http://hook:8000/alerts", "send_resolved": True}]
    email = receiver["email_configs"][0]
    assert (email["to"], email["smarthost"], email["auth_username"], email["require_tls"]) == (
        "ops@example.com", "smtp.example.com:587", "alerts", True)
    assert email["auth_password_file"] == "/run/secrets/smtp-password" and "auth_password" not in email
    assert config["route"]["group_wait"] == "5s" and config["route"]["group_by"] == ["alertname", "site"]


class FakeMonitor:
    """Answers `queries` as Prometheus would, from SERIES: query key -> {site: value}."""

    def __init__(self, series: dict[str, dict[str, float]]) -> None:
        self.series = series

    def queries(self, *exprs: str) -> list[list[dict[str, object]]]:
        keys = {expr: key for key, expr in QUERIES.items()}
        return [[{"metric": {"site": site}, "value": [0, str(value)]}
                 for site, value in self.series.get(keys[expr], {}).items()] for expr in exprs]


def test_top_puts_each_sites_numbers_together_and_leaves_unknowns_blank():
    rows = sites_now(FakeMonitor({  # type: ignore[arg-type]
        "read": {"shop": 1, "blog": 1, "new": 0}, "answers": {"shop": 1, "blog": 0},
        "requests": {"shop": 10.0, "blog": 0.0}, "hits": {"shop": 7.5, "blog": 0.0},
        "cpu": {"shop": 0.25}, "memory": {"shop": 300 * 2**20}, "busy": {"shop": 2}, "children": {"shop": 5}}))
    assert [row.site for row in rows] == ["blog", "new", "shop"]
    blog, new, shop = rows
    assert (shop.up, shop.requests_per_second, shop.cache_hit_ratio, shop.php_busy, shop.php_children) == (
        True, 10.0, 0.75, 2, 5)
    assert blog.up is False and blog.cache_hit_ratio is None  # no request: no ratio, not 0%
    assert new.up is False and new.requests_per_second is None and new.memory_bytes is None
    assert set(shop.to_dict()) == {"site", "up", "requests_per_second", "cache_hit_ratio", "cpu_cores",
                                   "memory_bytes", "php_busy", "php_children"}


def _engine_with_stack(settings: MonitorSettings | None, running: tuple[str, ...] = PARTS) -> FakeEngine:
    engine = FakeEngine(running=running)
    engine.mock.labelled.side_effect = lambda kind, *_: ["prometheus-1"] if settings and kind == "container" else []
    labels = {SETTINGS_LABEL: settings.to_json()} if settings else {}
    engine.mock.docker.side_effect = lambda *args, **kwargs: subprocess.CompletedProcess(
        list(args), 0, json.dumps([{"Config": {"Labels": labels}}]), "")
    return engine


def test_up_makes_the_monitoring_network_and_writes_the_smtp_password_before_anything_starts():
    engine = _engine_with_stack(None)
    Monitor(engine.mock).up(MonitorSettings(IMAGE, smtp_host="smtp.example.com"), "s3cret")
    engine.mock.monitor_network.assert_called_once_with(IMAGE)
    assert [line.split(" ")[0] for line in engine.log] == ["run", "up"]
    assert "cat > /var/lib/hakobune/alertmanager/smtp-password" in engine.log[0]
    # The password goes on standard input, never into a command line or a label.
    password_call = engine.mock.compose.call_args_list[0]
    assert password_call.kwargs["input"] == "s3cret\n" and "s3cret" not in " ".join(password_call.args[1:])


def test_up_refuses_an_image_not_built_and_starts_nothing():
    engine = _engine_with_stack(None)
    engine.mock.image_exists.return_value = False
    with pytest.raises(HakobuneError, match=f"image not built: {IMAGE}"):
        Monitor(engine.mock).up(MonitorSettings(IMAGE))
    assert engine.log == [] and not engine.mock.network_ensure.called


def test_down_and_status_without_a_stack_say_so():
    engine = _engine_with_stack(None)
    monitor = Monitor(engine.mock)
    assert monitor.down() is False and monitor.status().settings is None
    assert monitor.down(purge=True) is False
    assert engine.log == ["sweep io.hakobune.monitoring=1"]
    with pytest.raises(HakobuneError, match="not running"):
        monitor.query("up")


def test_a_stopped_prometheus_is_shown_without_asking_it():
    settings = MonitorSettings(IMAGE)
    status = Monitor(_engine_with_stack(settings, running=("alertmanager",)).mock).status()
    assert status.settings == settings and status.targets == [] and status.to_dict()["running"] is False
