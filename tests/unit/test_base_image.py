"""Finding a Debian mirror and the suite for debootstrap."""

import pytest

from hakobune.errors import InvalidInput
from hakobune.ops.base_image import detect_mirror, suite_of


def test_suite_from_tag():
    assert suite_of("debian:trixie-slim") == "trixie"
    assert suite_of("debian:bookworm") == "bookworm"
    with pytest.raises(InvalidInput):
        suite_of("debian:13.2")


def test_mirror_from_deb822_sources(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.invalid/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb\nURIs: http://mirror.invalid/debian/\nSuites: bookworm\n"
    )
    assert detect_mirror(tmp_path) == "http://mirror.invalid/debian"


def test_mirror_from_one_line_sources(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text(
        "# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://mirror.invalid/debian bookworm main\n"
    )
    assert detect_mirror(tmp_path) == "http://mirror.invalid/debian"


def test_no_mirror(tmp_path):
    assert detect_mirror(tmp_path) is None
