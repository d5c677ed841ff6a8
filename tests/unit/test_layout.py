"""Paths, accounts and archive names are written once per language: src/hakobune/layout.py, the PHP helpers'
lib/layout.php and the Dockerfiles. These tests hold the three equal, and the code of each to its own copy."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hakobune import layout
from hakobune.ops import contract
from hakobune.render.compose import RUNTIMES

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "images"
HELPERS = IMAGES / "ops" / "helpers"


def php_constants(path: Path) -> dict[str, object]:
    """The `const NAME = literal;` lines of a PHP file, as Python values (arrays as lists or dicts)."""
    found = {}
    for name, value in re.findall(r"^const (\w+) = (.+?);", path.read_text(), re.MULTILINE | re.DOTALL):
        if "=>" in value:
            value = value.replace("[", "{").replace("]", "}").replace("=>", ":")
        found[name] = ast.literal_eval(value)
    return found


def test_php_and_python_say_the_same():
    php = php_constants(HELPERS / "lib" / "layout.php")
    assert php, "lib/layout.php holds no constants"
    for name, value in php.items():
        ours = getattr(layout, name)
        assert (list(ours) if isinstance(ours, tuple) else ours) == value, name
    assert php["ARCHIVE_PARTS"] == [php["ARCHIVE_SETTINGS"], php["ARCHIVE_DATABASE"], php["ARCHIVE_FILES"]]


def test_the_contracts_kinds_are_the_same_in_php():
    php = php_constants(HELPERS / "lib" / "contract.php")
    assert sorted(v for k, v in php.items() if k.startswith("KIND_")) == sorted(contract.KINDS)


def test_the_helpers_write_no_shared_value_but_in_layout_php():
    """A path or name of lib/layout.php written again elsewhere would drift from it."""
    values = [v for v in php_constants(HELPERS / "lib" / "layout.php").values() if isinstance(v, str)]
    for path in HELPERS.rglob("*.php"):
        if path.name == "layout.php":
            continue
        text = path.read_text()
        for value in values:
            assert f"'{value}'" not in text and f'"{value}"' not in text, f"{path.name} writes {value}"


def test_the_client_writes_no_shared_value_but_in_layout_py():
    shared = [v for k, v in vars(layout).items() if k.isupper() and isinstance(v, str)]
    for path in (REPO / "src" / "hakobune").rglob("*.py"):
        if path.name == "layout.py":
            continue
        text = path.read_text()
        for value in shared:
            assert f'"{value}"' not in text, f"{path.relative_to(REPO)} writes {value}"


def _users() -> dict[str, int]:
    """User name -> id, as the Dockerfiles create them."""
    users = {}
    for dockerfile in IMAGES.glob("*/Dockerfile"):
        for name, uid in re.findall(r"hakobune-user\.sh (\S+) (\d+)", dockerfile.read_text()):
            users[name] = int(uid)
    return users


def test_the_images_users_have_the_ids_the_compose_file_runs_them_as():
    users = _users()
    assert users == {name: uid for name, uid in layout.UIDS.items() if name != "www-data"}  # Debian's own
    assert {runtime.uid for runtime in RUNTIMES.values()} <= set(layout.UIDS.values())


@pytest.mark.parametrize(
    ("image", "names"),
    [
        ("php", ["SITE_DIR", "DOCROOT", "FPM_SOCKET_DIR", "CORE_DIR", "LANG_DIR"]),
        ("nginx", ["SITE_DIR", "DOCROOT", "FPM_SOCKET_DIR"]),
        ("httpd", ["SITE_DIR", "DOCROOT"]),
        ("ops", ["BACKUP_DIR", "SITE_DIR"]),
    ],
)
def test_the_dockerfiles_make_the_paths_the_code_uses(image, names):
    dockerfile = (IMAGES / image / "Dockerfile").read_text()
    for name in names:
        assert re.search(rf"{re.escape(getattr(layout, name))}(\s|$|\"|/|;)", dockerfile), f"{image}: {name}"


def test_the_helper_is_where_the_ops_image_copies_it():
    dockerfile = (IMAGES / "ops" / "Dockerfile").read_text()
    folder = layout.HELPER.rsplit("/", 1)[0]
    assert re.search(rf"^COPY ops/helpers {re.escape(folder)}$", dockerfile, re.MULTILINE)
    assert (HELPERS / layout.HELPER.rsplit("/", 1)[1]).is_file()


def test_php_fpm_takes_a_socket_where_the_compose_file_puts_it():
    entrypoint = (IMAGES / "php" / "entrypoint.sh").read_text()
    assert f"{layout.FPM_SOCKET_DIR}/" in entrypoint
    assert layout.FPM_SOCKET.startswith(f"{layout.FPM_SOCKET_DIR}/") and layout.FPM_SOCKET.endswith(".sock")


def test_every_dockerfile_has_the_current_preamble():
    """scripts/apply-templates.py writes the shared part of each Dockerfile; `--check` says whether it is current."""
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "apply-templates.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    preamble = (IMAGES / "common" / "Dockerfile.preamble").read_text()
    for dockerfile in IMAGES.glob("*/Dockerfile"):
        assert preamble in dockerfile.read_text(), dockerfile


def test_the_entrypoints_render_into_the_run_folder_the_compose_file_makes_writable():
    lib = (IMAGES / "common" / "hakobune-lib.sh").read_text()
    assert f"HB_RUN_DIR=${{HB_RUN_DIR:-{layout.RUN_DIR}}}" in lib
    assert all(layout.RUN_DIR in RUNTIMES[service].writable for service in ("web", "php", "db", "valkey"))
