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
