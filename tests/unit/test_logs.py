"""`hakobune logs`: what is asked is checked first, containers are chosen by their labels, lines of many
containers merge in the order of time, and a web server's JSON access line reads back as its fields."""

from __future__ import annotations

import threading
from unittest.mock import create_autospec

import pytest

from hakobune.engine import Engine, EngineError, LogStream
from hakobune.errors import InvalidInput
from hakobune.ops import logs
from hakobune.site import COMPOSE_SERVICE_LABEL, SITE_LABEL

NGINX = ('{"time":"2026-12-06T17:00:00+00:00","host":"shop.example","method":"GET","path":"/?s=\\"x\\"",'
         '"protocol":"HTTP/2.0","status":200,"bytes":5120,"request_ms":12,"upstream_ms":11,"cache":"MISS",'
         '"client":"203.0.113.9","referer":"","user_agent":"curl/8"}')
HTTPD = ('{"time":"2026-12-06T17:00:00+0000","host":"blog.example","method":"GET","path":"/a\\x01b\\\\x41",'
         '"protocol":"HTTP/1.1","status":404,"bytes":0,"request_ms":3,"upstream_ms":null,"cache":"",'
         '"client":"203.0.113.9","referer":"-","user_agent":"-"}')


def container(site: str, service: str, number: str = "1") -> dict[str, object]:
    return {"Id": f"{site}-{service}-{number}",
            "Config": {"Labels": {SITE_LABEL: site, COMPOSE_SERVICE_LABEL: service,
                                  logs.NUMBER_LABEL: number}}}


class Stream:
    """What engine.container_logs gives: the lines, then (following) nothing more until closed."""

    def __init__(self, lines: list[tuple[str, str]], hold: bool = False) -> None:
        self.lines, self.closed = lines, threading.Event()
        self.hold = hold

    def __iter__(self):
        yield from self.lines
        if self.hold:
            self.closed.wait(10)

    def close(self) -> None:
        self.closed.set()


def engine_with(containers: list[dict[str, object]], lines: dict[str, list[tuple[str, str]]]):
    engine = create_autospec(Engine, instance=True)
    engine.site_containers.side_effect = lambda site=None: [
        c for c in containers if site is None or c["Config"]["Labels"][SITE_LABEL] == site]
    engine.container_logs.side_effect = lambda cid, **kw: Stream(lines.get(cid, []))
    return engine


@pytest.mark.parametrize(("since", "tail", "grep", "message"), [
    (None, "-1", None, "--tail '-1' must be a number of lines or 'all'"),
    ("yesterday", None, None, "--since 'yesterday' is not a time"),
    (None, None, "GET (", "--grep 'GET (' is not a regular expression: missing ), unterminated subpattern"),
])
def test_bad_filters_are_refused_before_anything_runs(since, tail, grep, message):
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        logs.Filter.of(since, tail, grep)


def test_good_filters():
    for since in ("10m", "1h30m", "2026-01-31", "2026-01-31T10:00:00", "2026-01-31T10:00:00Z", "1767225600"):
        assert logs.Filter.of(since, "all", None).since == since
    assert logs.Filter.of(None, "50", r"status\":5\d\d").keeps('{"status":502}')
    assert not logs.Filter.of(None, None, "POST").keeps("GET /")


def test_sources_are_chosen_by_label_every_site_or_one():
    engine = engine_with([container("b", "web"), container("a", "db"), container("a", "web", "2"),
                          container("a", "ops"), container("a", "backup")], {})
    every = logs.sources(engine, None, None)
    assert [(s.site, s.name) for s in every] == [("a", "backup-1"), ("a", "db-1"), ("a", "web-2"), ("b", "web-1")]
    assert [s.name for s in logs.sources(engine, "a", "web")] == ["web-2"]
    assert logs.label(every[0], True) == "a/backup-1" and logs.label(every[0], False) == "backup-1"
    assert logs.label_width(every, True) == len("a/backup-1")
    with pytest.raises(InvalidInput, match=r"unknown service 'wbe'.*did you mean web"):
        logs.sources(engine, None, "wbe")


def test_lines_of_every_container_merge_in_the_order_of_time_and_are_filtered():
    engine = engine_with([container("a", "web"), container("b", "web")], {
        "a-web-1": [("2026-12-06T17:00:01.000000000Z", "a first"), ("2026-12-06T17:00:03.000000000Z", "a POST")],
        "b-web-1": [("2026-12-06T17:00:02.000000000Z", "b first"), ("2026-12-06T17:00:03.000000000Z", "b POST")],
    })
    found = logs.sources(engine, None, None)
    assert [line.text for line in logs.collect(engine, found, logs.Filter.of(None, None, None))] == [
        "a first", "b first", "a POST", "b POST"]
    assert [line.text for line in logs.collect(engine, found, logs.Filter.of("5m", "10", "POST"))] == [
        "a POST", "b POST"]
    engine.container_logs.assert_any_call("a-web-1", since="5m", tail="10", follow=False)


def test_following_prints_each_line_and_ends_on_ctrl_c():
    streams = {"a-web-1": Stream([("2026-12-06T17:00:01.000000000Z", "one")], hold=True)}
    engine = engine_with([container("a", "web")], {})
    engine.container_logs.side_effect = lambda cid, **kw: streams[cid]
    seen = []

    def emit(line):
        seen.append(line.text)
        raise KeyboardInterrupt  # as Ctrl-C does while waiting for the next line

    logs.follow(engine, logs.sources(engine, None, None), logs.Filter.of(None, "0", None), emit)
    assert seen == ["one"]
    assert streams["a-web-1"].closed.is_set()  # its docker logs is ended, not left behind


def test_a_failing_stream_is_raised_after_following_ends():
    engine = engine_with([container("a", "web")], {})

    def broken(cid, **kw):
        class Broken(Stream):
            def __iter__(self):
                raise EngineError("docker logs failed: boom")
        return Broken([])

    engine.container_logs.side_effect = broken
    with pytest.raises(EngineError, match="boom"):
        logs.follow(engine, logs.sources(engine, None, None), logs.Filter(), lambda line: None)


def test_access_lines_of_both_web_servers_read_back_as_fields():
    web = logs.Source("shop", "web-1", "x")
    nginx = logs.Line("t", web, NGINX).request()
    assert nginx["path"] == '/?s="x"' and nginx["status"] == 200 and nginx["cache"] == "MISS"
    httpd = logs.Line("t", web, HTTPD).request()
    assert httpd["path"] == "/a\x01b\\x41"  # httpd's \x01 is the byte; an escaped backslash stays a backslash
    assert httpd["upstream_ms"] is None
    assert logs.Line("t", logs.Source("shop", "php-1", "x"), NGINX).request() is None  # only the web server's
    assert logs.Line("t", web, "2026/12/06 [warn] upstream slow").request() is None
    assert logs.Line("t", web, "{not json").request() is None
    assert logs.Line("t", web, HTTPD).to_dict()["request"]["status"] == 404
    assert "request" not in logs.Line("t", web, "plain").to_dict()


def test_a_log_stream_gives_stamped_lines_and_docker_s_own_failure():
    engine = Engine()
    ok = LogStream(engine, ["sh", "-c", "printf '2026-12-06T17:00:00.123456789Z hello world\\n"
                                        "2026-12-06T17:00:01.000000000Z  spaced\\n'"])
    assert list(ok) == [("2026-12-06T17:00:00.123456789Z", "hello world"),
                        ("2026-12-06T17:00:01.000000000Z", " spaced")]
    gone = LogStream(engine, ["sh", "-c", "echo 'Error response from daemon: No such container: x' >&2; exit 1"])
    assert list(gone) == []  # removed meanwhile: nothing more to say
    broken = LogStream(engine, ["sh", "-c", "echo 'Error response from daemon: permission denied' >&2; exit 1"])
    with pytest.raises(EngineError, match="permission denied"):
        list(broken)
