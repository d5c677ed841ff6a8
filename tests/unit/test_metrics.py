"""A site's metrics service: what it is given, how it is hardened and reached, and how a site from before it
gets one (tests/e2e/test_metrics.py reads its numbers from a real stack)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from hakobune.errors import InvalidInput
from hakobune.ops.stack import Stack
from hakobune.render.compose import compose_document
from hakobune.schedule import longest_gap
from hakobune.site import METRICS_PORT_LABEL, MONITOR_NETWORK, Site
from hakobune.site_format import MIGRATIONS
from hakobune.versions import images_for
from tests.unit.fake_engine import FakeEngine
from tests.unit.test_rollback_order import _site_folder

SITE = Site(name="shop", fqdn="shop.example.com", http_port=8080, tls_port=8443, images=images_for("nginx"))


def test_every_new_site_has_a_metrics_service_on_the_monitoring_network_and_never_published():
    doc = compose_document(SITE)
    metrics = doc["services"]["metrics"]
    assert "metrics" in SITE.services and "ports" not in metrics
    assert metrics["networks"] == ["site", "monitor"]
    assert doc["networks"]["monitor"] == {"name": MONITOR_NETWORK, "external": True}
    assert metrics["labels"][METRICS_PORT_LABEL] == "9100"
    assert (metrics["read_only"], metrics["cap_drop"], metrics["security_opt"]) == (
        True, ["ALL"], ["no-new-privileges:true"])
    assert metrics["mem_limit"] == "256M" and metrics["pids_limit"] == 128
    # It reads the backups and the database user's password, and writes nothing of the site's.
    assert metrics["volumes"] == ["backups:/srv/backups:ro", "metrics-socket:/run/hakobune-metrics",
                                  "secrets-app:/run/secrets/app:ro"]
    env = metrics["environment"]
    assert (env["METRICS_WEB"], env["METRICS_WEB_STATUS"], env["METRICS_FPM"]) == (
        "nginx", "http://web:8081/status", "php:9001")
    assert (env["METRICS_DB"], env["METRICS_DB_USER"], env["METRICS_VALKEY"]) == ("db:3306", "wordpress", "valkey:6379")
    assert (env["METRICS_TLS"], env["METRICS_TLS_NAME"]) == ("web:8443", "shop.example.com")
    assert "METRICS_BACKUP_INTERVAL" not in env  # no schedule: no backup is late


def test_the_web_server_sends_its_access_lines_to_a_socket_only_the_two_share():
    doc = compose_document(SITE)
    web = doc["services"]["web"]
    assert web["environment"]["SITE_METRICS"] == "on"
    assert "metrics-socket:/run/hakobune-metrics:ro" in web["volumes"]
    users = [name for name, service in doc["services"].items()
             if any(v.startswith("metrics-socket:") for v in service.get("volumes", []))]
    assert users == ["web", "metrics"]
    assert doc["volumes"]["metrics-socket"]["driver_opts"]["o"] == "uid=33,gid=33,mode=0711,size=1m"


def test_httpd_and_a_lamp_site_without_valkey_are_watched_for_what_they_have():
    site = Site(name="lamp", fqdn="lamp.example.com", web="httpd", profile="lamp", images=images_for("httpd"))
    env = compose_document(site)["services"]["metrics"]["environment"]
    assert (env["METRICS_WEB"], env["METRICS_WEB_STATUS"]) == ("httpd", "http://web:8081/status?auto")
    assert "METRICS_VALKEY" not in env


def test_a_backup_schedule_tells_the_metrics_service_how_often_a_backup_is_due():
    env = compose_document(replace(SITE, backup_schedule="daily"))["services"]["metrics"]["environment"]
    assert env["METRICS_BACKUP_INTERVAL"] == "86400"
    env = compose_document(replace(SITE, backup_schedule="0 3 * * 1-5"))["services"]["metrics"]["environment"]
    assert env["METRICS_BACKUP_INTERVAL"] == str(3 * 86400)  # Friday to Monday


@pytest.mark.parametrize(("expression", "gap"), [
    ("* * * * *", 60), ("7 * * * *", 3600), ("7 3 * * *", 86400), ("0 3 * * 1-5", 3 * 86400),
    ("0 3 1 * *", 31 * 86400), ("0 3 29 2 *", 366 * 86400), ("*/5 9-17 * * 1-5", 227100),
])
def test_the_longest_gap_of_a_schedule(expression, gap):
    assert longest_gap(expression, datetime(2026, 12, 2, tzinfo=UTC)) == gap


def test_a_site_from_before_metrics_runs_without_until_upgraded():
    settings = MIGRATIONS[5]({"name": "old", "fqdn": "old.example.com"})
    assert settings["metrics"] is False
    old_images = {k: v for k, v in images_for("nginx").items() if k != "metrics"}
    old = Site(name="old", fqdn="old.example.com", images=old_images, metrics=False)
    assert "metrics" not in old.services
    doc = compose_document(old)
    assert "metrics" not in doc["services"] and "monitor" not in doc["networks"]
    assert "SITE_METRICS" not in doc["services"]["web"]["environment"]
    with pytest.raises(InvalidInput, match="site old names no metrics image"):
        Site(name="old", fqdn="old.example.com", images=old_images)


def test_up_makes_the_monitoring_network_first_for_a_site_with_metrics(tmp_path):
    engine = FakeEngine()
    Stack.open(engine.mock, _site_folder(tmp_path, SITE)).up()
    engine.mock.monitor_network.assert_called_once_with(SITE.images["metrics"])
    old_images = {k: v for k, v in images_for("nginx").items() if k != "metrics"}
    engine = FakeEngine()
    old = replace(SITE, name="old", images=old_images, metrics=False)
    Stack.open(engine.mock, _site_folder(tmp_path, old)).up()
    engine.mock.monitor_network.assert_not_called()


def test_behind_the_edge_the_web_servers_own_certificate_is_not_the_one_measured():
    edge = replace(SITE, edge=True, http_port=80, tls_port=443)
    env = compose_document(edge)["services"]["metrics"]["environment"]
    assert "METRICS_TLS" not in env and "METRICS_TLS_NAME" not in env
