"""The settings catalogue, read from the images' entrypoints; and docs/images.md kept true to it."""

import re
from pathlib import Path

import pytest

from hakobune.catalogue import MANAGED, catalogue, check, lookup
from hakobune.errors import InvalidInput
from hakobune.ops.config import parse_assignments
from hakobune.site import service_of

DOCS = Path(__file__).resolve().parents[2] / "docs" / "images.md"


def test_catalogue_reads_every_image():
    settings = catalogue()
    assert {s.service for s in settings.values()} == {"web", "php", "db", "valkey"}
    assert settings["PHP_MEMORY_LIMIT"].default == "256M"
    assert settings["NGINX_GZIP"].rule == ("on", "off")
    assert not MANAGED & set(settings)


def test_match_rules_mean_the_same_to_grep_and_python():
    for setting in catalogue().values():
        if setting.kind == "match":
            assert "[:" not in setting.rule[0], f"{setting.name}: POSIX classes differ between grep -E and Python"
            re.compile(setting.rule[0])


def test_prefix_and_image_agree_on_the_service():
    for setting in catalogue().values():
        assert service_of(setting.name) == setting.service, setting.name


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PHP_MEMORY_LIMIT", "lots", "must be a size like 512k, 64M or 1G"),
        ("PHP_MEMORY_LIMIT", "32M", "must be at least 64M"),
        ("NGINX_GZIP", "maybe", "must be one of: on off"),
        ("MARIADB_MAX_CONNECTIONS", "many", "must be 'auto' or a whole number (at least 1)"),
        ("MARIADB_MAX_CONNECTIONS", "0", "must be 'auto' or a whole number (at least 1)"),
        ("NGINX_CACHE_TTL", "soon", "must be a time like 30s, 10m, 1h or 1d"),
        ("NGINX_CACHE_BYPASS", "cart", "must be paths starting with /"),
        ("PHP_OPCACHE_JIT", "on", "must be one of: off tracing function"),
        ("NGINX_KEEPALIVE_TIMEOUT", "99999", "must be at most 3600"),
        ("NGINX_WORKER_PROCESSES", "two", "must be 'auto' or a whole number"),
        ("PHP_TIMEZONE", "Asia/Tokyo\nX", "must be a single line"),
        ("PHP_MEMORY_LIMIT", "64M\n", "must be a single line"),
        ("PHP_SMTP_HOST", "bad host", "must be a host name, or empty for no mail relay"),
    ],
)
def test_invalid_values_are_refused_with_the_entrypoints_words(name, value, message):
    with pytest.raises(InvalidInput, match=re.escape(message)):
        check(name, value)


@pytest.mark.parametrize(("name", "value"), [("PHP_MEMORY_LIMIT", "1G"), ("NGINX_WORKER_PROCESSES", "auto"),
                                             ("PHP_TIMEZONE", "Asia/Tokyo"), ("PHP_FPM_PM", "static")])
def test_valid_values(name, value):
    assert check(name, value).name == name


def test_unknown_setting_suggests_the_nearest():
    with pytest.raises(InvalidInput) as error:
        lookup("PHP_UPLAOD_MAX_FILESIZE")
    assert str(error.value) == "unknown setting 'PHP_UPLAOD_MAX_FILESIZE' (hint: did you mean PHP_UPLOAD_MAX_FILESIZE?)"


def test_managed_settings_cannot_be_set():
    with pytest.raises(InvalidInput, match="managed by Hakobune"):
        lookup("SITE_FQDN")


def test_secret_settings_are_known_checked_and_never_echoed():
    settings = catalogue()
    assert settings["PHP_SMTP_PASSWORD"].secret
    assert "MARIADB_ROOT_PASSWORD" not in settings  # Hakobune's own: managed
    assert check("PHP_SMTP_PASSWORD", "hunter2 with spaces").service == "php"
    for bad in ("", "two\nlines", "x" * 257, "bell\a"):
        with pytest.raises(InvalidInput) as error:
            check("PHP_SMTP_PASSWORD", bad)
        assert str(error.value).startswith("invalid PHP_SMTP_PASSWORD (value hidden): must ")
        assert bad not in str(error.value) or not bad
    with pytest.raises(InvalidInput, match="managed by Hakobune"):
        lookup("MARIADB_ROOT_PASSWORD")


def test_every_secret_declaration_is_a_secret_or_managed_setting():
    images = Path(__file__).resolve().parents[2] / "images"
    declared = set(re.findall(r"^hb_secret (\w+)", "\n".join(
        (images / name / "entrypoint.sh").read_text() for name in ("nginx", "httpd", "php", "mariadb")), re.M))
    secrets = {name for name, s in catalogue().items() if s.secret}
    assert declared == secrets | (declared & MANAGED)
    assert secrets


def test_assignments():
    assert parse_assignments(["A=1", "B=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}
    with pytest.raises(InvalidInput, match="'PHP_MEMORY_LIMIT' is not KEY=VALUE"):
        parse_assignments(["PHP_MEMORY_LIMIT"])


def test_docs_list_every_setting_with_its_default():
    documented = dict(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \| `([^`]*)` \|", DOCS.read_text(), re.MULTILINE))
    for setting in catalogue().values():
        assert documented.get(setting.name) == setting.default, f"{setting.name} in docs/images.md"


@pytest.mark.parametrize("value", ["UTC\x1b[0m", "UTC\tX", "Asia/Tokyo\x00"])
def test_control_characters_in_a_setting_are_refused(value):
    with pytest.raises(InvalidInput, match="must not contain control characters") as refused:
        check("PHP_TIMEZONE", value)
    assert refused.value.message == "invalid PHP_TIMEZONE (value hidden): must not contain control characters"
