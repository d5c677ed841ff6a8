"""Failure paths on the real engine: one `error:` line, the right exit code, and nothing left behind."""

from __future__ import annotations

import signal
import socket
import subprocess
import time

import pytest

from tests.e2e.helpers import HAKOBUNE, NOTHING, docker, free_port, hb, interruptible, leftovers, site_name

pytestmark = pytest.mark.e2e


def provision_args(name: str, *extra: str) -> list[str]:
    return ["provision", "--fqdn", "localhost", "--http-port", str(free_port()), "--tls-port", str(free_port()),
            *extra, name]


def assert_clean_failure(result, sites_dir, name, code, message):
    assert result.returncode == code, (result.stdout, result.stderr)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert message in errors[0], errors[0]
    assert "Traceback" not in result.stderr
    assert not (sites_dir / name).exists()
    assert leftovers(name) == NOTHING


def test_port_in_use(images, sites_dir):
    name = site_name("busy")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("0.0.0.0", 0))  # noqa: S104
        taken.listen()
        port = taken.getsockname()[1]
        result = hb("provision", "--fqdn", "localhost", "--http-port", str(free_port()),
                    "--tls-port", str(port), name, cwd=sites_dir)
    assert_clean_failure(result, sites_dir, name, 1, f"port {port} is already in use")


def test_no_engine_reachable(sites_dir, tmp_path):
    name = site_name("noengine")
    result = hb(*provision_args(name), cwd=sites_dir,
                env={"DOCKER_HOST": f"unix://{tmp_path}/nothing.sock", "DOCKER_CONTEXT": ""})
    assert_clean_failure(result, sites_dir, name, 1, "no Docker engine answers")


def test_failure_after_install_rolls_everything_back(images, sites_dir):
    """All resources exist (containers, volumes, network, WordPress installed) when this failure strikes."""
    name = site_name("rollback")
    result = hb(*provision_args(name), cwd=sites_dir, env={"HAKOBUNE_FAILPOINT": "installed"})
    assert "Installing WordPress" in result.stderr  # it really got that far
    assert_clean_failure(result, sites_dir, name, 1, "stopped at step 'installed'")


def test_failure_while_starting_rolls_back(images, sites_dir):
    name = site_name("rollback")
    result = hb(*provision_args(name), cwd=sites_dir, env={"HAKOBUNE_FAILPOINT": "folder"})
    assert_clean_failure(result, sites_dir, name, 1, "stopped at step 'folder'")


def test_site_name_taken_on_the_engine(images, sites_dir):
    name = site_name("taken")
    volume = docker("volume", "create", "--label", f"io.hakobune.site={name}").strip()
    try:
        result = hb(*provision_args(name), cwd=sites_dir)
        assert result.returncode == 1
        assert f"error: a site named '{name}' already exists on this Docker engine" in result.stderr
        assert not (sites_dir / name).exists()
        assert leftovers(name)["volumes"] == [volume]  # someone else's: untouched
    finally:
        docker("volume", "rm", volume)


def test_unknown_language(images, sites_dir):
    name = site_name("lang")
    result = hb(*provision_args(name, "--wplang", "zz_ZZ"), cwd=sites_dir)
    assert_clean_failure(result, sites_dir, name, 2, "--wplang 'zz_ZZ' is not available")


def test_short_admin_password_and_bad_names(sites_dir):
    for args, message in [
        (provision_args("shortpw", "--admin-pass", "1234567"), "--admin-pass must be at least 8 characters"),
        (provision_args("../escape"), "must be a plain folder name"),
        (provision_args("a/b"), "must be a plain folder name"),
        (["provision", "--fqdn", "bad_host!", "badfqdn"], "--fqdn 'bad_host!' is not a valid host name"),
    ]:
        result = hb(*args, cwd=sites_dir)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(f"error: {message}") or message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in sites_dir.iterdir() if p.name in {"shortpw", "escape", "a", "badfqdn"}) == []


def test_existing_target(sites_dir):
    (sites_dir / "mine").mkdir()
    (sites_dir / "mine" / "index.php").write_text("<?php echo 'mine';")
    result = hb(*provision_args("mine"), cwd=sites_dir)
    assert result.returncode == 2
    assert "error: TARGET 'mine' already exists" in result.stderr
    assert [p.name for p in (sites_dir / "mine").iterdir()] == ["index.php"]


def test_interrupt_while_starting_rolls_back(images, sites_dir):
    """Ctrl-C (SIGINT to Hakobune alone, as a supervisor would send) while the containers are starting."""
    name = site_name("interrupt")
    proc = subprocess.Popen([str(HAKOBUNE), *provision_args(name)], cwd=sites_dir, preexec_fn=interruptible,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("• Starting web"):
            break
    time.sleep(2)  # mid-way through `docker compose up`
    assert leftovers(name) != NOTHING, "the interrupt should strike after resources exist"
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=600)
    result = subprocess.CompletedProcess(proc.args, proc.returncode, "", "".join(seen) + rest)
    assert_clean_failure(result, sites_dir, name, 130, "error: interrupted")
