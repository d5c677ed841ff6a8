"""How docker's failures become errors for people; and a network shared by the sites, made once."""

import json
import subprocess

import pytest

from hakobune.engine import Engine, EngineError, EngineUnavailable


def test_unreachable_engine():
    err = Engine()._failure(
        ["docker", "ps"], "Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon running?"
    )
    assert isinstance(err, EngineUnavailable)
    assert "no Docker engine answers" in err.message


def test_port_taken():
    err = Engine()._failure(
        ["docker", "compose", "up"],
        "Error response from daemon: driver failed programming external connectivity: "
        "Bind for 0.0.0.0:8443 failed: port is already allocated",
    )
    assert isinstance(err, EngineError)
    assert err.message.startswith("a port the site needs is already in use")


def test_summary_skips_warnings():
    err = Engine()._failure(["docker", "volume", "rm"], "real problem\nWARNING: noise\n")
    assert err.message == "docker volume rm failed: real problem"


def test_the_real_cause_not_docker_s_advice():
    err = Engine()._failure(["docker", "run", "--rm", "x"], "docker: Error response from daemon: network nosuchnet "
                            "not found\n\nRun 'docker run --help' for more information\n")
    assert err.message == "docker run failed: Error response from daemon: network nosuchnet not found"


def test_a_missing_context_is_named_as_such():
    for stderr in ('Failed to initialize: unable to resolve docker endpoint: context "prod": context not found: '
                   "open /root/.docker/contexts/meta/x/meta.json: no such file or directory",
                   'context "prod" does not exist'):
        err = Engine(context="prod")._failure(["docker", "ps"], stderr)
        assert isinstance(err, EngineUnavailable)
        assert err.message == "there is no Docker context named 'prod'"
        assert "docker context ls" in err.hint


def test_a_command_in_a_container_that_answered_is_not_taken_for_an_unreachable_engine():
    answer = '{"error":"certificate for a not obtained: dial tcp 127.0.0.1:8080: connect: connection refused"}\n'
    err = Engine()._failure(["docker", "compose", "exec"], "hakobune: dial tcp: connect: connection refused\n",
                            answer, "compose exec")
    assert not isinstance(err, EngineUnavailable)
    assert err.stdout == answer


class Engine2:
    """An engine's network and container commands, in memory: NETWORKS id -> (name, created); BUSY: how many
    times `container create` of the lock finds another client's lock first."""

    def __init__(self, networks: dict[str, tuple[str, str]], busy: int = 0) -> None:
        self.networks, self.busy = dict(networks), busy
        self.calls: list[tuple[str, ...]] = []

    def _named(self, refs) -> list[tuple[str, str]]:
        """Networks by id, or by name as `inspect` takes them."""
        return [(nid, name) for ref in refs for nid, (name, _) in self.networks.items() if ref in (nid, name)]

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        self.calls.append(args)
        out, err, code = "", "", 0
        if args[:2] == ("network", "ls"):
            out = "".join(f"{nid} {name}\n" for nid, (name, _) in self.networks.items())
        elif args[:2] == ("network", "inspect"):
            out = json.dumps([{"Id": nid, "Created": self.networks[nid][1],
                               "IPAM": {"Config": [{"Subnet": "172.30.0.0/16"}]}}
                              for nid, _ in self._named(args[2:])])
        elif args[:2] == ("network", "rm"):
            del self.networks[args[2]]
        elif args[:2] == ("network", "create"):
            self.networks[f"n{len(self.networks)}"] = (args[-1], "2026-12-07T05:00:00Z")
        elif args[:2] == ("container", "create"):
            if self.busy:
                self.busy -= 1
                err, code = 'Conflict. The container name "/x-making" is already in use by container "1"', 1
        elif args[:2] != ("container", "rm"):
            raise AssertionError(args)
        return subprocess.CompletedProcess(args, code, out, err)


def _engine(fake: Engine2, monkeypatch) -> Engine:
    engine = Engine()
    monkeypatch.setattr(engine, "docker", fake.docker)
    monkeypatch.setattr("hakobune.engine.time.sleep", lambda _: None)
    return engine


def test_a_shared_network_is_made_under_a_lock_every_client_sees(monkeypatch):
    fake = Engine2({"x": ("hakobune-monitor-old", "2026-01-01T00:00:00Z")}, busy=2)
    _engine(fake, monkeypatch).network_ensure("hakobune-monitor", {"io.hakobune.monitor": "1"}, "img",
                                              internal=True)
    verbs = [c[:2] for c in fake.calls if c[:2] != ("network", "ls")]
    # Twice another client held the lock; then this one took it, made the network and let the lock go.
    assert verbs == [("container", "create")] * 3 + [("network", "create"), ("network", "inspect"),
                                                     ("container", "rm")]
    made = next(c for c in fake.calls if c[:2] == ("network", "create"))
    assert made == ("network", "create", "--label", "io.hakobune.monitor=1", "--internal", "hakobune-monitor")
    assert fake.calls[1][-1] == "img" and "hakobune-monitor-making" in fake.calls[1]
    assert sorted(name for name, _ in fake.networks.values()) == ["hakobune-monitor", "hakobune-monitor-old"]


def test_two_networks_of_one_name_are_made_one_the_oldest(monkeypatch):
    fake = Engine2({"bbb": ("hakobune-monitor", "2026-12-07T04:05:01.2Z"),
                    "aaa": ("hakobune-monitor", "2026-12-07T04:05:01.1Z"),
                    "ccc": ("hakobune-monitor-old", "2026-01-01T00:00:00Z")})
    _engine(fake, monkeypatch).network_ensure("hakobune-monitor", {}, "img", internal=True)
    assert not any(c[:2] in (("network", "create"), ("container", "create")) for c in fake.calls)
    assert sorted(fake.networks) == ["aaa", "ccc"]  # the oldest of the two kept; a longer name left alone


def test_a_lock_that_cannot_be_taken_for_another_reason_is_an_error(monkeypatch):
    fake = Engine2({})
    fake.docker = lambda *args, check=True: subprocess.CompletedProcess(  # type: ignore[method-assign]
        args, 1 if args[:2] == ("container", "create") else 0, "",
        "Unable to find image 'img:latest' locally" if args[:2] == ("container", "create") else "")
    with pytest.raises(EngineError, match="the network hakobune-monitor could not be made: Unable to find"):
        _engine(fake, monkeypatch).network_ensure("hakobune-monitor", {}, "img")


class Refusing:
    """`network rm` refused REFUSALS times (a busy engine), then done; `rm` of a missing network answers as the
    engine does."""

    def __init__(self, refusals: int, missing: bool = False) -> None:
        self.refusals, self.missing, self.tries = refusals, missing, 0

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert args[:2] == ("network", "rm") and not check
        self.tries += 1
        if self.missing:
            return subprocess.CompletedProcess(args, 1, "", f"Error: No such network: {args[2]}\n")
        if self.refusals:
            self.refusals -= 1
            return subprocess.CompletedProcess(args, 1, "", "Error response from daemon: error while removing "
                                               f"network: network {args[2]} has active endpoints\n")
        return subprocess.CompletedProcess(args, 0, args[2] + "\n", "")


def test_a_network_the_engine_refuses_for_a_moment_is_removed_at_a_later_try(monkeypatch):
    fake = Refusing(refusals=3)
    _engine(fake, monkeypatch).network_remove("hb-blog_site")
    assert fake.tries == 4


def test_a_network_already_gone_is_not_an_error(monkeypatch):
    fake = Refusing(refusals=0, missing=True)
    _engine(fake, monkeypatch).network_remove("hb-blog_site")
    assert fake.tries == 1


def test_a_network_that_stays_is_said_not_swallowed(monkeypatch):
    fake = Refusing(refusals=10**6)
    with pytest.raises(EngineError) as caught:
        _engine(fake, monkeypatch).network_remove("hb-blog_site", patience=0)
    assert caught.value.message == ("the network hb-blog_site could not be removed: Error response from daemon: "
                                    "error while removing network: network hb-blog_site has active endpoints")
    assert "docker network inspect hb-blog_site" in caught.value.hint


def test_what_is_still_labelled_after_a_sweep_is_said(monkeypatch):
    engine = Engine()
    made_meanwhile = {"container": [[], []], "volume": [[], []], "network": [["n1"], ["n2"]]}
    monkeypatch.setattr(engine, "labelled", lambda kind, value, label: made_meanwhile[kind].pop(0))
    monkeypatch.setattr(engine, "network_remove", lambda network: None)
    monkeypatch.setattr(engine, "_disconnect_all", lambda containers: None)
    with pytest.raises(EngineError) as caught:
        engine.sweep("blog")
    assert caught.value.message == "still on the engine after removing what carries io.hakobune.site=blog: network n2"


def test_containers_leave_their_networks_one_at_a_time_before_they_are_removed(monkeypatch):
    engine, calls = Engine(), []

    def docker(*args, check=True):
        calls.append(" ".join(args))
        out = 'c1 {"hb-blog_site":{},"hakobune-monitor":{}}\nc2 {"hb-blog_site":{}}\n' if args[0] == "inspect" else ""
        return subprocess.CompletedProcess(args, 0, out, "")

    monkeypatch.setattr(engine, "docker", docker)
    monkeypatch.setattr(engine, "labelled", lambda kind, value, label: ["c1", "c2"] if kind == "container" and
                        not calls[1:] else [])
    engine.sweep("blog")
    assert calls[1:] == ["network disconnect --force hb-blog_site c1", "network disconnect --force hakobune-monitor c1",
                         "network disconnect --force hb-blog_site c2", "rm -f -v c1 c2"]


HICCUP = ("OCI runtime exec failed: exec failed: unable to start container process: waiting for init preliminary "
          "setup: read init-p: connection reset by peer: unknown")


def compose_answering(monkeypatch, *answers: tuple[int, str]) -> list[dict]:
    """An engine whose compose commands end as ANSWERS say, in turn: (exit code, stderr). The calls are kept."""
    calls: list[dict] = []
    left = list(answers)

    def run(argv, **io):
        calls.append(io)
        code, stderr = left.pop(0)
        return subprocess.CompletedProcess(argv, code, "done" if code == 0 else "", stderr)

    monkeypatch.setattr(Engine, "_run", lambda self, argv, **io: run(argv, **io))
    monkeypatch.setattr(Engine, "_compose_argv", lambda self, folder, args: ["docker", "compose", *args])
    return calls


def test_a_process_the_runtime_failed_to_start_is_started_once_more(monkeypatch, tmp_path):
    calls = compose_answering(monkeypatch, (1, HICCUP), (0, ""))
    assert Engine().compose(tmp_path, "exec", "-T", "web", "purge", input="x").stdout == "done"
    assert [c["input"] for c in calls] == ["x", "x"]


def test_only_once(monkeypatch, tmp_path):
    compose_answering(monkeypatch, (1, HICCUP), (1, HICCUP))
    with pytest.raises(EngineError, match=r"^docker compose exec failed: .*read init-p"):
        Engine().compose(tmp_path, "exec", "-T", "web", "purge")


def test_not_when_a_stream_was_read_or_the_failure_is_another(monkeypatch, tmp_path):
    calls = compose_answering(monkeypatch, (1, HICCUP))
    with pytest.raises(EngineError):
        Engine().compose(tmp_path, "run", "--rm", "-T", "ops", "restore", stdin=subprocess.PIPE)
    assert len(calls) == 1
    calls = compose_answering(monkeypatch, (1, "no such service: web"))
    assert Engine().compose(tmp_path, "exec", "web", "x", check=False).returncode == 1
    assert len(calls) == 1
