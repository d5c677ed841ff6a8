"""The images as built: tagged, non-root, with a healthcheck; and the base image made with debootstrap."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from hakobune.versions import image_refs
from tests.e2e.helpers import REPO, docker, hb

pytestmark = pytest.mark.e2e

USERS = {"nginx": "hbweb", "httpd": "hbweb", "php": "www-data", "mariadb": "mysql", "ops": "www-data",
         "edge": "hbedge"}


def test_build_lists_every_image_and_says_when_it_made_the_base(images):
    for name in USERS:
        ref = image_refs()[name]
        line = re.search(rf"{re.escape(ref)} +({re.escape(ref.split(':')[1])}-\d+) +\d+ MB +\d+s +"
                         r"(first build|same packages|\d+ packages? changed)", images.result.stdout)
        assert line, images.result.stdout
        # The numbered build is the image the version's tag names.
        build = f"{ref.split(':')[0]}:{line.group(1)}"
        assert docker("image", "inspect", "--format", "{{.Id}}", build) == \
            docker("image", "inspect", "--format", "{{.Id}}", ref)
    made_base = "creating it from a Debian mirror with debootstrap" in images.result.stderr
    assert made_base == images.base_was_missing


@pytest.mark.parametrize("name", sorted(USERS))
def test_image_is_tagged_non_root_with_a_healthcheck(images, name):
    (info,) = json.loads(docker("image", "inspect", image_refs()[name]))
    config = info["Config"]
    assert config["User"] == USERS[name]
    if name == "ops":  # run for a job, not a service
        assert config["Healthcheck"]["Test"] == ["NONE"]
    else:
        assert config["Healthcheck"]["Test"][0] == "CMD"


def test_php_image_carries_wordpress_core_theme_and_languages(images):
    out = docker("run", "--rm", "--entrypoint", "sh", image_refs()["php"], "-c",
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
        ("edge", "EDGE_MAXCONN=10", "invalid EDGE_MAXCONN='10': must be at least 100"),
        ("edge", "EDGE_BUFSIZE=4096", "invalid EDGE_BUFSIZE='4096': must be at least 16384"),
        # An alias that would end server_name (nginx) or ServerAlias (httpd) and add a directive of its own.
        ("nginx", "SITE_ALIASES=www.example.com; return 302 https://evil.test",
         "invalid SITE_ALIASES='www.example.com; return 302 https://evil.test': must be host names separated by "
         "spaces"),
        ("httpd", "SITE_ALIASES=www.example.com\" Redirect / https://evil.test",
         "invalid SITE_ALIASES='www.example.com\" Redirect / https://evil.test': must be host names separated by "
         "spaces"),
        # A redirected name that would add a directive, or a redirect of its own; a site's ACME switch.
        ("nginx", "SITE_REDIRECT_301=old.example.com; } server { listen 8080",
         "invalid SITE_REDIRECT_301='old.example.com; } server { listen 8080': must be host names separated by "
         "spaces"),
        ("httpd", "SITE_REDIRECT_301=a.example.com https://evil.test/",
         "invalid SITE_REDIRECT_301='a.example.com https://evil.test/': must be host names separated by spaces"),
        ("nginx", "SITE_ACME=yes", "invalid SITE_ACME='yes': must be one of: on off"),
        ("httpd", "SITE_ACME=on; Alias / /", "invalid SITE_ACME='on; Alias / /': must be one of: on off"),
        ("nginx", "SITE_REDIRECT_308=a.example.com/ https://evil.test",
         "invalid SITE_REDIRECT_308='a.example.com/ https://evil.test': must be host names separated by spaces"),
        ("httpd", "HTTPD_MAX_REQUEST_WORKERS=many", "invalid HTTPD_MAX_REQUEST_WORKERS='many': must be a whole number"),
        ("mariadb", "MARIADB_MAX_CONNECTIONS=many",
         "invalid MARIADB_MAX_CONNECTIONS='many': must be 'auto' or a whole number (at least 1)"),
        # A control character could add a directive to a rendered file: refused, and never echoed.
        ("nginx", "NGINX_CACHE_BYPASS=/cart/\r",
         "invalid NGINX_CACHE_BYPASS='(not shown)': must not contain control characters"),
        ("php", "PHP_SMTP_PASSWORD=pass\x1bword",
         "invalid PHP_SMTP_PASSWORD='(hidden)': must not contain control characters"),
    ],
)
def test_invalid_setting_stops_the_container_with_one_line(images, image, setting, message):
    proc = subprocess.run(["docker", "run", "--rm", "-e", setting, image_refs()[image]],
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


@pytest.mark.parametrize("name", sorted(USERS))
def test_each_image_has_a_valid_cyclonedx_sbom(images, name):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    written = (REPO / "build" / "sbom" / f"{name}.cdx.json").read_text()
    inside = docker("run", "--rm", "--entrypoint", "cat", image_refs()[name],
                    "/usr/share/hakobune/sbom.cdx.json")
    assert written == inside
    assert JsonStrictValidator(SchemaVersion.V1_5).validate_str(written) is None
    bom = json.loads(written)
    assert bom["metadata"]["component"]["name"] == f"hakobune/{name}"
    components = {c["name"]: c for c in bom["components"]}
    expected = {"nginx": "nginx", "httpd": "apache2", "php": "php8.4-fpm", "mariadb": "mariadb-server-core",
                "ops": "mariadb-client-core", "edge": "haproxy"}
    assert components[expected[name]]["purl"].startswith(f"pkg:deb/debian/{expected[name]}@")
    if name in ("php", "ops"):
        assert components["wordpress"]["version"].startswith("6.8.")
        assert components["mysqli"]["group"] == "php-extension"


def test_a_package_version_other_than_pinned_fails_the_build(engine, tmp_path):
    images_copy = tmp_path / "images"
    shutil.copytree(REPO / "images", images_copy)
    versions = images_copy / "versions.yaml"
    versions.write_text(versions.read_text().replace('packages: {nginx: "1.26."}', 'packages: {nginx: "9.99."}'))
    result = hb("images", "build", "nginx", cwd=tmp_path, env={"HAKOBUNE_IMAGES_DIR": str(images_copy)})
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: building hakobune/nginx:")
    assert "failed: nginx is '1.26." in last and "images/versions.yaml wants 9.99.*" in last


def build_check_in(image: str, env: dict[str, str], setup: str = "apt-get update -qq") -> subprocess.CompletedProcess:
    """Run the images' build check inside a container of IMAGE (a base image, as a build would)."""
    script = (REPO / "images" / "common" / "hakobune-build-check.sh").read_text()
    args = ["docker", "run", "--rm", "-i"]
    for key, value in env.items():
        args += ["-e", f"{key}={value}"]
    return subprocess.run([*args, "--entrypoint", "sh", image, "-c",
                           f"{setup} >/dev/null && cat > /check.sh && sh /check.sh test 0"],
                          input=script, capture_output=True, text=True, timeout=600, check=False)


def test_build_check_needs_the_security_suite(images):
    result = build_check_in("debian:trixie-slim", {},
                            setup="sed -i '/^$/,$d' /etc/apt/sources.list.d/debian.sources && apt-get update -qq")
    assert result.returncode == 1
    assert "security suite is not in the apt sources" in result.stderr


def test_build_check_fails_on_pending_security_updates_unless_allowed(images):
    """The base image as debootstrap made it has had no update applied. If the security suite has updates for
    it, the check must fail, and pass with the override; if it has none, the check must pass."""
    pending = subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "sh", "debian:trixie-slim", "-c",
         "apt-get update -qq >/dev/null && apt-get -s upgrade | grep '^Inst ' | grep -ci security || true"],
        capture_output=True, text=True, timeout=600, check=True).stdout.strip()
    strict = build_check_in("debian:trixie-slim", {})
    if int(pending or 0) > 0:
        assert strict.returncode == 1
        assert "pending security updates" in strict.stderr
        allowed = build_check_in("debian:trixie-slim", {"HAKOBUNE_ALLOW_PENDING_SECURITY": "1"})
        assert allowed.returncode == 0, allowed.stderr
        assert "WARNING: security updates pending" in allowed.stderr
    else:
        assert strict.returncode == 0, strict.stderr


def test_the_demo_gets_debootstrap_when_docker_already_runs(images, tmp_path):
    """A machine where Docker runs but debootstrap is missing: the engine script still asks for debootstrap when
    the base image is not there (it used to ask only when it started the engine itself)."""
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    shutil.copy(REPO / "scripts" / "docker-engine.sh", scripts)
    asked = tmp_path / "asked"
    (scripts / "apt-install.sh").write_text(f"#!/bin/sh\necho \"$@\" >> {asked}\n")
    (scripts / "apt-install.sh").chmod(0o755)
    bin_dir = tmp_path / "bin"  # docker, and no debootstrap
    bin_dir.mkdir()
    (bin_dir / "docker").symlink_to(shutil.which("docker"))
    env = {"PATH": f"{bin_dir}:/bin", "HAKOBUNE_BASE_IMAGE": "hakobune-test/no-such-base:1"}
    result = subprocess.run(["bash", str(scripts / "docker-engine.sh"), "ensure"], env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert asked.read_text().split() == ["debootstrap"]
    # With the base image there, debootstrap is not needed.
    asked.unlink()
    env["HAKOBUNE_BASE_IMAGE"] = "debian:trixie-slim"
    result = subprocess.run(["bash", str(scripts / "docker-engine.sh"), "ensure"], env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0 and not asked.exists(), result.stderr
