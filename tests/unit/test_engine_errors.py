"""How docker's failures become errors for people."""

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


class TwoNetworks:
    """An engine on which two commands made the network at once: two networks of one name (and one whose name
    only contains it)."""

    def __init__(self) -> None:
        self.networks = {"bbb": ("hakobune-monitor", "2026-12-07T04:05:01.2Z"),
                         "aaa": ("hakobune-monitor", "2026-12-07T04:05:01.1Z"),
                         "ccc": ("hakobune-monitor-old", "2026-01-01T00:00:00Z")}
        self.calls: list[tuple[str, ...]] = []

    def docker(self, *args: str, check: bool = True):
        import json
        import subprocess

        self.calls.append(args)
        if args[:2] == ("network", "ls"):
            out = "".join(f"{nid} {name}\n" for nid, (name, _) in self.networks.items())
        elif args[:2] == ("network", "inspect"):
            out = json.dumps([{"Id": nid, "Created": self.networks[nid][1]} for nid in args[2:]])
        elif args[:2] == ("network", "rm"):
            del self.networks[args[2]]
            out = ""
        else:
            raise AssertionError(args)
        return subprocess.CompletedProcess(args, 0, out, "")


def test_a_network_made_twice_at_once_is_kept_once_the_oldest():
    fake = TwoNetworks()
    engine = Engine()
    engine.docker = fake.docker  # type: ignore[method-assign]
    engine.network_ensure("hakobune-monitor", {"io.hakobune.monitor": "1"}, internal=True)
    assert not any(call[:2] == ("network", "create") for call in fake.calls)
    assert sorted(fake.networks) == ["aaa", "ccc"]  # the oldest of the two kept; a longer name left alone
