"""The site folder: files, modes, refusal to overwrite."""

import stat

import pytest

from hakobune.errors import HakobuneError, InvalidInput
from hakobune.ops.sitedir import SiteDir
from hakobune.site import Site, SiteSecrets
from hakobune.versions import images_for


def test_create_and_load(tmp_path):
    site, secrets = Site(name="blog", fqdn="localhost", images=images_for("nginx")), SiteSecrets()
    sitedir = SiteDir(tmp_path / "blog")
    sitedir.create(site, secrets)
    assert sorted(p.name for p in sitedir.path.iterdir()) == ["compose.yaml", "hakobune.yaml", "secrets.env"]
    assert stat.S_IMODE((sitedir.path / "secrets.env").stat().st_mode) == 0o600
    assert sitedir.load() == site
    assert sitedir.secrets() == secrets
    assert secrets.db_password not in (sitedir.path / "hakobune.yaml").read_text()
    assert SiteDir.find(sitedir.path).load() == site


def test_existing_folder_is_refused_and_untouched(tmp_path):
    (tmp_path / "blog").mkdir()
    (tmp_path / "blog" / "keep.txt").write_text("mine")
    with pytest.raises(InvalidInput, match="already exists"):
        site = Site(name="blog", fqdn="localhost", images=images_for("nginx"))
        SiteDir(tmp_path / "blog").create(site, SiteSecrets())
    assert [p.name for p in (tmp_path / "blog").iterdir()] == ["keep.txt"]


def test_find_refuses_a_folder_that_is_not_a_site(tmp_path):
    with pytest.raises(HakobuneError, match="is not a Hakobune site folder"):
        SiteDir.find(tmp_path)
    with pytest.raises(HakobuneError, match="does not exist"):
        SiteDir.find(tmp_path / "nope")


def test_the_format_a_folder_is_written_in(tmp_path):
    from hakobune.site_format import FORMAT

    sitedir = SiteDir(tmp_path / "shop")
    sitedir.create(Site(name="shop", fqdn="shop.example.com", images=images_for("nginx")), SiteSecrets())
    assert sitedir.format() == FORMAT
    (sitedir.path / "hakobune.yaml").write_text("format: 3\nsite: {name: shop}\n")
    assert sitedir.format() == 3
    for broken in ("format: true\n", "- a list\n", "format: [\n"):
        (sitedir.path / "hakobune.yaml").write_text(broken)
        assert sitedir.format() == 0
