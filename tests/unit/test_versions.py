"""images/versions.yaml and what is built from it; the scanner's 'nothing checked' answer."""

import pytest

from hakobune.cli import main
from hakobune.errors import InvalidInput
from hakobune.site import IMAGE_NAMES, Site
from hakobune.versions import image_refs, image_versions, images_for


def test_every_image_has_a_version_and_pinned_packages():
    versions = image_versions()
    assert set(versions) == set(IMAGE_NAMES)
    for name, version in versions.items():
        assert version.ref == f"hakobune/{name}:{version.version}"
        assert version.packages, name
    assert "php8.4-fpm=8.4." in versions["php"].expectations.split()
    assert "wordpress=6.8." in versions["php"].expectations.split()


def test_a_site_runs_exactly_its_images():
    site = Site(name="s", fqdn="localhost", images=images_for("nginx"))
    assert site.image("ops") == image_refs()["ops"]
    assert set(images_for("httpd")) == {"httpd", "php", "mariadb", "valkey", "metrics", "ops"}
    with pytest.raises(InvalidInput, match="a site runs the images"):
        Site(name="s", fqdn="localhost", images={"nginx": "hakobune/nginx:1"})
    with pytest.raises(InvalidInput, match="a site runs the images"):
        Site(name="s", fqdn="localhost", images=image_refs())


def test_scan_without_trivy_says_nothing_was_checked(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SystemExit) as exit_info:
        main(["images", "scan"])
    assert exit_info.value.code == 3
    err = capsys.readouterr().err
    assert err.startswith("error: no scanner available: trivy is not installed, so the images were NOT scanned")


@pytest.mark.parametrize("command", ["build", "scan"])
def test_unknown_image_name_is_refused_before_anything_runs(capsys, monkeypatch, tmp_path, command):
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker, no trivy: the name is checked first
    with pytest.raises(SystemExit) as exit_info:
        main(["images", command, "nginx", "ngnix"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == ("error: unknown image(s): ngnix (hint: images: nginx, httpd, php, mariadb, "
                                       "valkey, metrics, ops, edge, monitor)\n")


def test_scan_without_a_database_says_nothing_was_checked(capsys, monkeypatch, tmp_path):
    (tmp_path / "trivy").write_text("#!/bin/sh\nexit 0\n")
    (tmp_path / "trivy").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("TRIVY_CACHE_DIR", str(tmp_path / "cache"))
    with pytest.raises(SystemExit) as exit_info:
        main(["images", "scan"])
    assert exit_info.value.code == 3
    assert "trivy has no vulnerability database in" in capsys.readouterr().err


def test_hakobune_and_its_images_tell_one_story(capsys):
    """An image's version is the Hakobune release that last changed it: never newer than Hakobune itself;
    --version prints both."""
    from hakobune import __version__

    def parts(version: str) -> tuple[int, ...]:
        return tuple(int(p) for p in version.split("."))

    for name, version in image_versions().items():
        assert parts(version.version) <= parts(__version__), name
    with pytest.raises(SystemExit):
        main(["--version"])
    out = capsys.readouterr().out
    assert out.startswith(f"hakobune {__version__} (images: ")
    assert all(f"{name} {v.version}" in out for name, v in image_versions().items())
