"""End-to-end fixtures: the real CLI as a user runs it, a real Docker engine, real images.

These tests never skip: with no engine they fail, because CI must show them run. `make e2e` starts an engine
first (scripts/docker-engine.sh)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.helpers import BASE_IMAGE, REPO, docker, hb


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


@pytest.fixture(scope="session", autouse=True)
def nothing_left_behind(engine: str):
    """Beyond each test's own checks: the whole run leaves no container or unused volume it did not find."""
    before = strays()
    yield
    assert strays() - before == set()


@dataclass(frozen=True)
class Build:
    result: subprocess.CompletedProcess[str]
    base_was_missing: bool


@pytest.fixture(scope="session")
def images(engine: str) -> Build:
    """Build every image once per run, exactly as a user would (creating the base image when needed)."""
    base_was_missing = subprocess.run(["docker", "image", "inspect", BASE_IMAGE], capture_output=True,
                                      check=False).returncode != 0
    result = hb("images", "build", cwd=REPO, timeout=2400)
    assert result.returncode == 0, result.stderr
    print(f"\n{result.stdout}")  # sizes and build times, for the closing note
    return Build(result, base_was_missing)


@pytest.fixture(scope="session")
def sites_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sites")
