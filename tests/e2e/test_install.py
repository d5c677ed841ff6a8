"""Hakobune without a checkout: the wheel `python -m build` makes carries the image sources, and Hakobune
installed from it with pipx (as the README says) builds its images and provisions a site from any folder."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import hakobune
from tests.e2e.helpers import NOTHING, REPO, client, free_port, leftovers, site_name

pytestmark = pytest.mark.e2e


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def test_the_wheel_installs_builds_its_images_and_provisions_a_site_without_the_checkout(images, tmp_path):
    dist = tmp_path / "dist"
    built = run(sys.executable, "-m", "build", "--wheel", "--outdir", dist, REPO, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("hakobune-*.whl")
    assert wheel.name.startswith(f"hakobune-{hakobune.__version__}-")
    names = set(zipfile.ZipFile(wheel).namelist())
    # Every image's build context travels, and nothing of this machine's (built SBOMs, caches) does.
    for image in ("common", "nginx", "httpd", "php", "mariadb", "valkey", "ops", "edge"):
        assert any(name.startswith(f"hakobune/_images/{image}/") for name in names), image
    assert "hakobune/_images/versions.yaml" in names
    assert not [n for n in names if "__pycache__" in n or n.startswith(("build/", "hakobune/_images/build/"))]

    # pipx, with its home and its commands' folder here: the user's own are left alone.
    pipx = {"PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "bin"),
            "PIPX_MAN_DIR": str(tmp_path / "man")}
    installed = run(sys.executable, "-m", "pipx", "install", f"{wheel}[compose]", cwd=tmp_path,
                    env={**os.environ, **pipx}, timeout=600)
    assert installed.returncode == 0, installed.stderr
    venv = tmp_path / "pipx" / "venvs" / "hakobune"

    # Nothing of the checkout is on the way: not its virtual environment, not an images folder named outside.
    path = [p for p in os.environ["PATH"].split(os.pathsep) if not p.startswith(str(REPO))]
    env = {k: v for k, v in os.environ.items() if k not in ("HAKOBUNE_IMAGES_DIR", "PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join([pipx["PIPX_BIN_DIR"], *path])
    work = tmp_path / "work"
    work.mkdir()
    cli = Path(pipx["PIPX_BIN_DIR"]) / "hakobune"

    version = run(cli, "--version", cwd=work, env=env)
    assert version.returncode == 0 and hakobune.__version__ in version.stdout, version
    sources = run(venv / "bin" / "python", "-c", "from hakobune.catalogue import images_dir; print(images_dir())",
                  cwd=work, env=env)
    assert sources.stdout.strip().startswith(str(venv)), sources

    build = run(cli, "images", "build", cwd=work, env=env, timeout=2400)
    assert build.returncode == 0, build.stderr
    assert (work / "build" / "sbom" / "nginx.cdx.json").is_file()  # beside the user, not inside the install

    name, tls_port = site_name("wheel"), free_port()
    provision = run(cli, "provision", "--fqdn", "localhost", "--http-port", free_port(), "--tls-port", tls_port,
                    "--wp-title", "Installed from a wheel", name, cwd=work, env=env)
    try:
        assert provision.returncode == 0, provision.stderr
        with client() as http:
            page = http.get(f"https://localhost:{tls_port}/")
        assert page.status_code == 200 and "Installed from a wheel" in page.text
        assert page.http_version == "HTTP/2"
    finally:
        removed = run(cli, "remove", "-y", name, cwd=work, env=env)
    assert removed.returncode == 0, removed.stderr
    assert leftovers(name) == NOTHING
