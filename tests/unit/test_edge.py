"""The shared edge's Compose document and settings (render/edge.py): hardened, published where asked, its
settings kept on the engine as a label and read back equal."""

from __future__ import annotations

import json
import socket
import subprocess

import pytest

from hakobune.errors import HakobuneError, InvalidInput
from hakobune.layout import RUN_DIR, UIDS
from hakobune.ops.edge import Edge
from hakobune.render.edge import EDGE_LABEL, SETTINGS_LABEL, EdgeSettings, edge_document, validate_options
from tests.unit.fake_engine import FakeEngine

IMAGE = "hakobune/edge:0.5.0"


def test_the_edge_runs_hardened_and_publishes_tcp_and_udp_for_http3():
    doc = edge_document(EdgeSettings(IMAGE))
    proxy, acme = doc["services"]["proxy"], doc["services"]["acme"]
    assert doc["name"] == "hakobune-edge"
    for service in (proxy, acme):
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"] and "cap_add" not in service
        assert service["security_opt"] == ["no-new-privileges:true"]
        assert service["mem_limit"] and service["pids_limit"]
        # Both see the routes and certificates, and HAProxy's files and master socket (in memory).
        assert service["volumes"] == ["state:/var/lib/hakobune/edge", f"run:{RUN_DIR}"]
        assert service["labels"][EDGE_LABEL] == "1"
    uid = UIDS["hbedge"]
    assert doc["volumes"]["run"]["driver_opts"] == {"type": "tmpfs", "device": "tmpfs",
                                                     "o": f"uid={uid},gid={uid},mode=0750"}
    assert proxy["ports"] == ["80:8080", "443:8443", "443:8443/udp"]
    assert "ports" not in acme  # reached by the proxy alone, for the CA's challenges
    assert proxy["environment"] == {"EDGE_PUBLIC_TLS_PORT": "443"}
    assert acme["entrypoint"] == ["hakobune-acme", "daemon"]
    assert acme["environment"] == {"ACME_RENEW_DAYS": "30", "ACME_RENEW_EVERY": "3600", "ACME_METRICS_PORT": "9102"}
    assert acme["healthcheck"]["test"] == ["CMD", "hakobune-acme", "health"]
    for labels in (doc["networks"]["edge"]["labels"], doc["volumes"]["state"]["labels"]):
        assert labels[EDGE_LABEL] == "1"


def test_the_acme_service_alone_is_on_the_monitoring_network_where_its_renewals_are_read():
    doc = edge_document(EdgeSettings(IMAGE))
    proxy, acme = doc["services"]["proxy"], doc["services"]["acme"]
    assert acme["networks"] == ["edge", "monitor"] and proxy["networks"] == ["edge"]
    assert doc["networks"]["monitor"] == {"name": "hakobune-monitor", "external": True}
    assert acme["labels"]["io.hakobune.acme-metrics-port"] == "9102"
    assert "io.hakobune.acme-metrics-port" not in proxy["labels"]


def test_bind_address_and_ports_are_published_as_given():
    proxy = edge_document(EdgeSettings(IMAGE, bind="127.0.0.1", http_port=8080, tls_port=8443))["services"]["proxy"]
    assert proxy["ports"] == ["127.0.0.1:8080:8080", "127.0.0.1:8443:8443", "127.0.0.1:8443:8443/udp"]
    assert proxy["environment"]["EDGE_PUBLIC_TLS_PORT"] == "8443"  # what Alt-Svc and redirects name
    v6 = edge_document(EdgeSettings(IMAGE, bind="::1"))["services"]["proxy"]
    assert v6["ports"][0] == "[::1]:80:8080"


def test_settings_travel_in_a_label_and_read_back_equal():
    settings = EdgeSettings(IMAGE, bind="127.0.0.1", http_port=18080, tls_port=18443)
    doc = edge_document(settings)
    assert SETTINGS_LABEL not in doc["services"]["proxy"]["labels"]  # a new schedule leaves the proxy alone
    label = doc["services"]["acme"]["labels"][SETTINGS_LABEL]
    assert json.loads(label)["tls_port"] == 18443
    assert EdgeSettings.from_json(label) == settings
    with pytest.raises(InvalidInput, match="the edge's settings label cannot be read"):
        EdgeSettings.from_json('{"image": "x"}')


@pytest.mark.parametrize(("options", "message"), [
    (("localhost", None, None), "--bind 'localhost' is not an IP address"),
    (("", 0, None), "--http-port 0 is out of range"),
    (("", None, 70000), "--tls-port 70000 is out of range"),
    (("", None, None, 0), "--renew-days 0 is out of range"),
    (("", None, None, None, 5), "--renew-every 5 is out of range"),
])
def test_bad_options_are_refused(options, message):
    with pytest.raises(InvalidInput, match=message):
        validate_options(*options)


def test_one_port_for_both_is_refused():
    with pytest.raises(InvalidInput, match="--http-port and --tls-port are both 8443"):
        EdgeSettings(IMAGE, http_port=8443, tls_port=8443)


def _engine_with_edge(settings: EdgeSettings | None) -> FakeEngine:
    engine = FakeEngine(running=("proxy", "acme"))
    engine.mock.is_local.return_value = True
    engine.mock.labelled.side_effect = lambda kind, *_: ["acme-1"] if settings and kind == "container" else []
    labels = {SETTINGS_LABEL: settings.to_json()} if settings else {}
    engine.mock.docker.side_effect = lambda *args, **kwargs: subprocess.CompletedProcess(
        list(args), 0, json.dumps([{"Config": {"Labels": labels}}]), "")
    return engine


def test_a_port_taken_on_this_machine_is_said_before_the_edge_starts():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))  # a wildcard bind of the same port fails as well
        taken.listen()
        port = taken.getsockname()[1]
        engine = _engine_with_edge(None)
        with pytest.raises(HakobuneError, match=f"port {port} is already in use on this machine") as refused:
            Edge(engine.mock).up(EdgeSettings(IMAGE, http_port=port, tls_port=_free()))
        assert "hakobune edge up --http-port N --tls-port N" in str(refused.value.hint)
        assert [line for line in engine.log if line.startswith("up")] == []
        # The running edge's own ports are not in the way of bringing it up again.
        running = EdgeSettings(IMAGE, http_port=port, tls_port=_free())
        engine = _engine_with_edge(running)
        Edge(engine.mock).up(running)
        assert any(line.startswith("up") for line in engine.log)


def _free() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
