"""The images as built: tagged, non-root, with a healthcheck; and the base image made with debootstrap."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from hakobune import __version__
from tests.e2e.conftest import REPO, docker, hb

pytestmark = pytest.mark.e2e

USERS = {"nginx": "hbweb", "php": "www-data", "mariadb": "mysql", "ops": "www-data"}


def test_build_lists_every_image_and_says_when_it_made_the_base(images):
    for name in USERS:
        assert re.search(rf"hakobune/{name}:{re.escape(__version__)} +\d+ MB +\d+s", images.result.stdout)
    made_base = "creating it from a Debian mirror with debootstrap" in images.result.stderr
    assert made_base == images.base_was_missing


@pytest.mark.parametrize("name", sorted(USERS))
def test_image_is_tagged_non_root_with_a_healthcheck(images, name):
    (info,) = json.loads(docker("image", "inspect", f"hakobune/{name}:{__version__}"))
    config = info["Config"]
    assert config["User"] == USERS[name]
    if name == "ops":  # run for a job, not a service
        assert config["Healthcheck"]["Test"] == ["NONE"]
    else:
        assert config["Healthcheck"]["Test"][0] == "CMD"


def test_php_image_carries_wordpress_core_theme_and_languages(images):
    out = docker("run", "--rm", "--entrypoint", "sh", f"hakobune/php:{__version__}", "-c",
                 "cat /opt/hakobune/wordpress-version; ls /opt/hakobune/wordpress/wp-content/themes; "
                 "ls /opt/hakobune/wordpress-languages | grep -c '\\.mo$'; "
                 "find /opt/hakobune/wordpress -type l | wc -l; php -m")
    version, theme, languages, links, *modules = out.split()
    assert version.startswith("6.")
    assert theme == "twentytwentyfive"
    assert int(languages) > 50
    assert links == "0"  # Debian's symlinks are resolved
    for module in ("mysqli", "curl", "gd", "intl", "mbstring", "xml", "zip", "exif", "Zend OPcache"):
        assert module.split()[0] in modules, module


@pytest.mark.parametrize(
    ("image", "setting", "message"),
    [
        ("php", "PHP_MEMORY_LIMIT=lots", "invalid PHP_MEMORY_LIMIT='lots': must be a size like 512k, 64M or 1G"),
        ("nginx", "NGINX_GZIP=maybe", "invalid NGINX_GZIP='maybe': must be one of: on off"),
        ("mariadb", "MARIADB_MAX_CONNECTIONS=many", "invalid MARIADB_MAX_CONNECTIONS='many': must be a whole number"),
    ],
)
def test_invalid_setting_stops_the_container_with_one_line(images, image, setting, message):
    proc = subprocess.run(["docker", "run", "--rm", "-e", setting, f"hakobune/{image}:{__version__}"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 64, proc
    assert proc.stderr.strip().splitlines() == [f"hakobune: {message}"]


def test_bootstrap_base_creates_a_debian_image(engine, tmp_path):
    tag = "hakobune-test/base:trixie"
    result = hb("images", "bootstrap-base", "--tag", tag, cwd=REPO, timeout=1200)
    try:
        assert result.returncode == 0, result.stderr
        assert f"Creating {tag} with debootstrap" in result.stderr
        out = docker("run", "--rm", tag, "sh", "-c",
                     "cat /etc/debian_version; ls /usr/share/man 2>/dev/null | wc -l; "
                     "find /var/cache/apt -name '*.deb' | wc -l; "
                     "cat /etc/apt/sources.list.d/debian.sources | grep -c '^Suites: trixie trixie-updates'")
        debian_version, man_pages, debs, sources = out.split()
        assert debian_version.startswith("13")
        assert man_pages == "0"
        assert debs == "0"
        assert sources == "1"
    finally:
        docker("image", "rm", "-f", tag)
