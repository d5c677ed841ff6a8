"""Memory and process-count limits: every service has them, the host decides php's and db's, a user may change
any of them, and bad ones are refused before anything is touched."""

from dataclasses import replace

import pytest

from hakobune.errors import InvalidInput
from hakobune.ops.limits import parse, with_host_memory
from hakobune.render.compose import compose_document
from hakobune.site import Site
from hakobune.versions import images_for

SITE = Site(name="blog", fqdn="blog.example.com", images=images_for("nginx"))
GIB = 2**30


def test_every_service_has_a_memory_and_a_process_limit():
    services = compose_document(SITE)["services"]
    for name, service in services.items():
        assert service["mem_limit"], name
        assert service["pids_limit"] >= 32, name
    assert services["php"]["mem_limit"] == "1G" and services["php"]["pids_limit"] == 512
    # nginx keeps its page cache in memory: its limit makes room for the cache's largest size.
    assert services["web"]["mem_limit"] == "512M"
    bigger = replace(SITE, settings={"NGINX_CACHE_MAX_SIZE": "1G"})
    assert compose_document(bigger)["services"]["web"]["mem_limit"] == "1280M"
    assert compose_document(replace(SITE, page_cache=False))["services"]["web"]["mem_limit"] == "256M"


@pytest.mark.parametrize(("total", "each"), [(2 * GIB, "512M"), (8 * GIB, "2048M"), (64 * GIB, "4096M")])
def test_php_and_the_database_get_a_quarter_of_the_host_within_bounds(total, each):
    site = with_host_memory(SITE, total)
    assert (site.memory("php"), site.memory("db")) == (each, each)
    kept = with_host_memory(replace(SITE, limits={"php": {"memory": "3G"}}), total)
    assert kept.memory("php") == "3G"  # what the site says wins
    assert with_host_memory(site, 1).host_memory == total  # made once, with the site
    assert SITE.memory("php") == "1G"  # a site made before: the fixed default


def test_limits_set_and_unset_are_parsed_and_checked():
    assert parse(["php.memory=2G", "db.pids=4096"], values=True) == {("php", "memory"): "2G", ("db", "pids"): "4096"}
    assert parse(["php.memory"], values=False) == {("php", "memory"): None}


@pytest.mark.parametrize(
    ("pairs", "values", "message"),
    [
        (["php.memory=lots"], True, "php.memory 'lots' is not a size of at least 256M"),
        (["db.memory=64M"], True, "db.memory '64M' is not a size of at least 256M"),
        (["php.pids=8"], True, "php.pids '8' is not a number of processes of at least 32"),
        (["mysql.memory=1G"], True, "'mysql' is not a service with limits"),
        (["php.cpu=2"], True, "'php.cpu=2' is not SERVICE.memory=SIZE or SERVICE.pids=N"),
        (["php.memory"], True, "'php.memory' is not SERVICE.memory=SIZE or SERVICE.pids=N"),
        (["php.memory=1G"], False, "'php.memory=1G' is not SERVICE.memory or SERVICE.pids"),
    ],
)
def test_bad_limits_are_refused(pairs, values, message):
    with pytest.raises(InvalidInput, match=message):
        parse(pairs, values)


def test_limits_in_the_settings_file_are_checked_too():
    with pytest.raises(InvalidInput, match="'secrets' has no limits"):
        Site.from_dict({**SITE.to_dict(), "limits": {"secrets": {"memory": "1G"}}})
    with pytest.raises(InvalidInput, match="the limits of php are memory and pids"):
        Site.from_dict({**SITE.to_dict(), "limits": {"php": {"swap": "1G"}}})
