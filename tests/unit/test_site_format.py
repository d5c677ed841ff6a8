"""The settings document's format: every migration step, and the refusals, without Docker."""

import re

import pytest
import yaml

from hakobune import site_format
from hakobune.errors import HakobuneError, InvalidInput
from hakobune.layout import FPM_SOCKET
from hakobune.ops.sitedir import SiteDir
from hakobune.render.compose import compose_document
from hakobune.site import Site
from hakobune.site_format import FORMAT, MIGRATIONS, current, read_settings, settings_yaml
from hakobune.versions import images_for

NEWER = images_for("nginx")
OLDER = {name: ref for name, ref in NEWER.items() if name != "valkey"}  # a site made before Hakobune 0.4

# hakobune.yaml as Hakobune 0.5 wrote it (format 1): no object_cache decided, no fpm_socket.
FORMAT_1 = """\
# Hakobune site settings. Change them with hakobune commands, not by hand.
format: 1
site:
  name: blog
  fqdn: blog.example.com
  http_port: 80
  tls_port: 443
  profile: wp
  web: nginx
  title: blog.example.com
  images: {images}
  settings: {{}}
  secret_settings: []
  backup_schedule: 'off'
  backup_keep: 7
  page_cache: true
  object_cache: null
  site_id: 0123456789abcdef0123456789abcdef
  limits: {{}}
  host_memory: 0
"""


def format_1(images: dict[str, str]) -> str:
    return FORMAT_1.format(images=yaml.safe_dump(images, default_flow_style=True).strip())


def test_every_older_format_has_a_step_to_the_next():
    assert sorted(MIGRATIONS) == list(range(1, FORMAT))


@pytest.mark.parametrize(
    ("site", "object_cache", "fpm_socket"),
    [
        ({"web": "nginx", "images": NEWER}, True, True),
        ({"web": "httpd", "images": images_for("httpd")}, True, False),
        ({"profile": "lamp", "images": NEWER}, False, True),
        ({"images": NEWER, "object_cache": False}, False, True),  # switched off by the user: stays off
        ({"images": OLDER}, False, False),  # older images take neither the socket nor valkey
        ({"web": "httpd", "images": {**OLDER, "httpd": "hakobune/httpd:0.3.0"}}, False, False),
        ({}, False, False),  # format 1 decided by the images: none named, nothing on
    ],
)
def test_format_1_to_2_decides_what_the_images_meant(site, object_cache, fpm_socket):
    migrated = MIGRATIONS[1]({"name": "s", "fqdn": "localhost", **site})
    assert (migrated["object_cache"], migrated["fpm_socket"]) == (object_cache, fpm_socket)
    assert {k: v for k, v in migrated.items() if k not in ("object_cache", "fpm_socket")} == {
        "name": "s", "fqdn": "localhost", **{k: v for k, v in site.items() if k != "object_cache"}}


def test_a_folder_of_format_1_loads_renders_as_before_and_is_saved_in_the_current_format(tmp_path):
    for images, newer in ((NEWER, True), (OLDER, False)):
        folder = tmp_path / ("newer" if newer else "older")
        folder.mkdir()
        (folder / "hakobune.yaml").write_text(format_1(images))
        site = SiteDir(folder).load()
        assert (site.object_cache, site.fpm_socket, site.page_cache) == (newer, newer, True)
        doc = compose_document(site)
        assert ("valkey" in doc["services"]) is newer
        assert doc["services"]["web"]["environment"]["PHP_FPM_ADDRESS"] == (
            f"unix:{FPM_SOCKET}" if newer else "php:9000")
        SiteDir(folder).save(site)
        saved = yaml.safe_load((folder / "hakobune.yaml").read_text())
        assert saved["format"] == FORMAT and saved["site"]["fpm_socket"] is newer
        assert SiteDir(folder).load() == site


def test_the_current_format_reads_back_what_it_wrote():
    site = Site(name="s", fqdn="localhost", web="httpd", images=images_for("httpd"), object_cache=False)
    assert read_settings(settings_yaml(site), "test") == site
    assert yaml.safe_load(settings_yaml(site))["format"] == FORMAT


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"format": FORMAT + 1, "site": {"name": "s"}},
         f"x has format {FORMAT + 1}, newer than this Hakobune reads ({FORMAT}) (hint: upgrade Hakobune"),
        ({"site": {"name": "s"}}, "x has no valid format number (got None)"),
        ({"format": "2", "site": {"name": "s"}}, "x has no valid format number (got '2')"),
        ({"format": True, "site": {"name": "s"}}, "x has no valid format number (got True)"),
        ({"format": 0, "site": {"name": "s"}}, "x has no valid format number (got 0)"),
        ({"format": 1}, "x holds no site settings"),
        ({"format": 1, "site": ["name"]}, "x holds no site settings"),
        ("format: 1", "x holds no site settings"),
    ],
)
def test_documents_that_are_not_a_known_format_are_refused_in_one_line(document, message):
    with pytest.raises(InvalidInput, match=re.escape(message)):
        current(document, "x")


def test_a_newer_site_folder_is_refused_and_left_as_it_is(tmp_path):
    text = format_1(NEWER).replace("format: 1", f"format: {FORMAT + 1}")
    (tmp_path / "hakobune.yaml").write_text(text)
    with pytest.raises(InvalidInput, match="newer than this Hakobune reads"):
        SiteDir(tmp_path).load()
    assert (tmp_path / "hakobune.yaml").read_text() == text


def test_a_settings_file_that_is_not_yaml_is_refused():
    with pytest.raises(HakobuneError, match="cannot read x: "):
        site_format.read_settings("site: [", "x")


def test_format_2_sites_had_ports_of_their_own():
    assert MIGRATIONS[2]({"name": "s", "edge": True})["edge"] is False


def test_an_edge_subnet_must_be_an_address_range():
    with pytest.raises(InvalidInput, match="edge_subnet 'nope' is not an address range"):
        Site(name="s", fqdn="localhost", edge=True, edge_subnet="nope")


def test_format_3_sites_had_one_name():
    assert MIGRATIONS[3]({"name": "s", "edge": True})["aliases"] == {}


def test_format_4_sites_had_no_acme_service_of_their_own():
    assert MIGRATIONS[4]({"name": "s"})["acme_image"] == ""
