"""End-to-end fixtures: the real CLI as a user runs it, a real Docker engine, real images.

These tests never skip: with no engine they fail, because CI must show them run. `make e2e` starts an engine
first (scripts/docker-engine.sh)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.helpers import BASE_IMAGE, REPO, docker, hb

STRAYS = pytest.StashKey[set[str]]()


@pytest.fixture(scope="session", autouse=True)
def engine() -> str:
    result = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, f"no Docker engine answers (run the tests with `make e2e`): {result.stderr}"
    return result.stdout.strip()


def strays() -> set[str]:
    """Containers of any state, and volumes no container uses: what a run must not leave behind."""
    containers = docker("ps", "-a", "--format", "container {{.Names}} ({{.Image}})").splitlines()
    volumes = docker("volume", "ls", "-q", "--filter", "dangling=true").splitlines()
    return set(containers) | {f"volume {name}" for name in volumes}


def _controller(config: pytest.Config) -> bool:
    """The process that runs the session: pytest itself, or xdist's controller (whose workers run the tests)."""
    return not hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    # No engine: nothing to record; the `engine` fixture fails every test, saying so.
    if _controller(session.config):
        with contextlib.suppress(subprocess.CalledProcessError, FileNotFoundError):
            session.config.stash[STRAYS] = strays()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Beyond each test's own checks: the whole run (every worker's tests) leaves no container or unused volume
    it did not find."""
    before = session.config.stash.get(STRAYS, None)
    if before is None:
        return
    left = strays() - before
    if left:
        session.config.get_terminal_writer().line(f"error: the run left behind: {', '.join(sorted(left))}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@dataclass(frozen=True)
class Build:
    result: subprocess.CompletedProcess[str]
    base_was_missing: bool


@pytest.fixture(scope="session")
def images(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Build:
    """Build every image once per run, exactly as a user would (creating the base image when needed). With
    several workers (xdist), the first builds under a lock and the others read what it recorded."""
    shared = tmp_path_factory.getbasetemp().parent
    record = shared / "images-build.json"
    with (shared / "images-build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            base_was_missing = subprocess.run(["docker", "image", "inspect", BASE_IMAGE], capture_output=True,
                                              check=False).returncode != 0
            result = hb("images", "build", cwd=REPO, timeout=2400)
            record.write_text(json.dumps({"returncode": result.returncode, "stdout": result.stdout,
                                          "stderr": result.stderr, "base_was_missing": base_was_missing}))
            print(f"\n{result.stdout}")  # sizes and build times, for the closing note
        built = json.loads(record.read_text())
    assert built["returncode"] == 0, built["stderr"]
    result = subprocess.CompletedProcess(["hakobune", "images", "build"], built["returncode"], built["stdout"],
                                         built["stderr"])
    return Build(result, built["base_was_missing"])


@pytest.fixture(scope="session")
def sites_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sites")
