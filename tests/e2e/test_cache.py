"""Speed without stale pages: nginx's page cache (HIT after MISS, the bypass rules, purges on every change the
owner makes), `hakobune cache`, WordPress's object cache in valkey (shared by PHP and the ops jobs, emptied
when the database changes behind WordPress's back, and never stale after an outage), PHP's OPcache emptied on
deploy, HTTP/3, and settings derived from the containers' memory limits. Functional checks only: nothing here
is timed."""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
import time
from io import BytesIO

import pytest

from hakobune.versions import image_refs
from tests.e2e.helpers import WordPressAdmin, client, hb, ok, provision_site

pytestmark = pytest.mark.e2e
CACHE = "x-hakobune-cache"


@pytest.fixture(scope="module")
def site(images, sites_dir):
    site = provision_site("nginx", sites_dir, prefix="cache")
    yield site
    hb("remove", "-y", str(site.folder), cwd=sites_dir)


@pytest.fixture(scope="module")
def admin(site):
    admin = WordPressAdmin(site.url)
    yield admin
    admin.close()


def visit(url: str, **kwargs: object) -> tuple[str, str]:
    """An anonymous visitor's GET: (the page cache's word on it, the page)."""
    with client() as http:
        response = http.get(url, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, (url, response.status_code)
    return response.headers.get(CACHE, ""), response.text


def warm(url: str) -> str:
    """Visit URL until the cache serves it; returns the cached page."""
    for _ in range(5):
        word, page = visit(url)
        if word == "HIT":
            return page
    raise AssertionError(f"{url} never came from the cache")


def test_a_page_is_a_miss_then_a_hit(site):
    ok(hb("cache", "clear", cwd=site.folder))
    assert visit(f"{site.url}/")[0] == "MISS"
    warm(f"{site.url}/")
    status = json.loads(ok(hb("cache", "status", "--json", cwd=site.folder)))
    assert status["on"] is True and status["pages"] >= 1 and status["bytes"] > 1000


@pytest.mark.parametrize(
    ("path", "cookies"),
    [
        ("/?s=hello", {}),  # a query string
        ("/wp-login.php", {}),
        ("/feed/", {}),
        ("/wp-sitemap.xml", {}),
        ("/wp-json/", {}),
        ("/cart/", {}),  # NGINX_CACHE_BYPASS's default paths
        ("/", {"comment_author_0123": "visitor"}),
        ("/", {"wp-postpass_0123": "secret"}),
    ],
)
def test_what_must_not_be_cached_bypasses_it(site, path, cookies):
    for _ in range(2):
        with client() as http:
            http.cookies.update(cookies)
            response = http.get(f"{site.url}{path}")
        assert response.headers.get(CACHE) == "BYPASS", (path, cookies, response.status_code)


def test_a_logged_in_user_bypasses_the_cache_and_posts_are_never_cached(site, admin):
    warm(f"{site.url}/")
    response = admin.http.get(f"{site.url}/")
    assert response.headers[CACHE] == "BYPASS" and 'id="wpadminbar"' in response.text
    with client() as http:
        assert http.post(f"{site.url}/", data={"a": "b"}).headers[CACHE] == "BYPASS"


def test_static_files_get_long_cache_headers_and_no_page_cache(site):
    with client() as http:
        response = http.get(f"{site.url}/wp-includes/css/dashicons.min.css")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "max-age=31536000"
    assert CACHE not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"  # the security headers stay


def test_publishing_a_post_shows_it_on_the_next_front_page(site, admin):
    warm(f"{site.url}/")
    post = admin.post("posts", json={"title": "Fresh from the press", "content": "News.", "status": "publish"})
    word, page = visit(f"{site.url}/")
    assert "Fresh from the press" in page and word == "MISS"
    assert "Fresh from the press" in warm(post["link"])


def test_editing_a_title_shows_on_its_page_its_archives_and_the_home_page_at_once(site, admin):
    category = admin.post("categories", json={"name": "Harbour news"})
    post = admin.post("posts", json={"title": "Ark sighted", "content": "Text.", "status": "publish",
                                     "categories": [category["id"]]})
    pages = [post["link"], f"{site.url}/", category["link"]]
    for url in pages:
        assert "Ark sighted" in warm(url)
    admin.post(f"posts/{post['id']}", json={"title": "Ark landed"})
    for url in pages:
        page = visit(url)[1]
        assert "Ark landed" in page and "Ark sighted" not in page, url


def test_a_non_ascii_address_is_purged_however_it_is_spelled(site, admin):
    post = admin.post("posts", json={"title": "箱舟", "slug": "箱舟", "content": "Text.", "status": "publish"})
    lower = post["link"]
    upper = re.sub(r"%[0-9a-f]{2}", lambda m: m.group(0).upper(), lower)
    assert lower != upper
    for url in (lower, upper):
        assert "箱舟" in warm(url)
    admin.post(f"posts/{post['id']}", json={"title": "方舟"})
    for url in (lower, upper):
        assert "方舟" in visit(url)[1], url


def test_trashing_a_post_removes_it_from_the_home_page(site, admin):
    post = admin.post("posts", json={"title": "Soon gone", "content": "Text.", "status": "publish"})
    assert "Soon gone" in warm(f"{site.url}/")
    response = admin.http.delete(f"{site.url}/wp-json/wp/v2/posts/{post['id']}")
    assert response.status_code == 200, response.text
    assert "Soon gone" not in visit(f"{site.url}/")[1]
    with client() as http:
        assert http.get(post["link"]).status_code == 404


def test_an_approved_comment_shows_at_once(site, admin):
    post = admin.post("posts", json={"title": "Open for comments", "content": "Text.", "status": "publish"})
    warm(post["link"])
    admin.post("comments", json={"post": post["id"], "content": "A first comment here.", "status": "approve"})
    assert "A first comment here." in visit(post["link"])[1]


def test_a_site_option_purges_every_page(site, admin):
    post = admin.post("posts", json={"title": "Any page", "content": "Text.", "status": "publish"})
    for url in (f"{site.url}/", post["link"]):
        warm(url)
    ok(hb("wp-option", "set", "blogname", "Renamed harbour", cwd=site.folder))
    for url in (f"{site.url}/", post["link"]):
        assert "Renamed harbour" in visit(url)[1], url


def test_the_site_editors_navigation_purges_every_page(site, admin):
    """Block themes keep their header menus in wp_navigation posts, which no visitor sees on their own."""
    post = admin.post("posts", json={"title": "Under the menu", "content": "Text.", "status": "publish"})
    for url in (f"{site.url}/", post["link"]):
        assert "Harbour map" not in warm(url)
    admin.post("navigation", json={"title": "Main", "status": "publish", "content":
               '<!-- wp:navigation-link {"label":"Harbour map","url":"/harbour-map/","kind":"custom"} /-->'})
    for url in (f"{site.url}/", post["link"]):
        assert "Harbour map" in visit(url)[1], url


def test_cache_clear_empties_it_and_off_sends_everything_to_php(site):
    warm(f"{site.url}/")
    ok(hb("cache", "clear", cwd=site.folder))
    assert json.loads(ok(hb("cache", "status", "--json", cwd=site.folder)))["pages"] == 0
    assert visit(f"{site.url}/")[0] == "MISS"

    assert "The page cache is off." in ok(hb("cache", "off", cwd=site.folder))
    assert "page_cache: false" in (site.folder / "hakobune.yaml").read_text()
    for _ in range(3):
        assert visit(f"{site.url}/")[0] == ""  # no cache, no header
    assert json.loads(ok(hb("cache", "status", "--json", cwd=site.folder)))["on"] is False
    assert "already off" in ok(hb("cache", "off", cwd=site.folder))

    assert "The page cache is on." in ok(hb("cache", "on", cwd=site.folder))
    assert visit(f"{site.url}/")[0] == "MISS"
    warm(f"{site.url}/")


def test_nginx_cache_is_changed_by_cache_on_off_not_config_set(site):
    result = hb("config", "set", "NGINX_CACHE=off", cwd=site.folder)
    assert result.returncode == 2
    assert "NGINX_CACHE is managed by Hakobune" in result.stderr and "hakobune cache on|off" in result.stderr


def valkey(site, *command: str) -> str:
    return ok(hb("exec", "valkey", "--", "valkey-cli", *command, cwd=site.folder)).strip()


def test_wordpress_keeps_its_objects_in_valkey(site):
    visit(f"{site.url}/?any=query")  # a query string: PHP renders it, whatever the page cache holds
    assert valkey(site, "exists", "wordpress:wp_:options:alloptions") == "1"
    assert int(valkey(site, "dbsize")) > 20
    dropin = ok(hb("exec", "php", "--", "head", "-c", "300", "/srv/site/public/wp-content/object-cache.php",
                   cwd=site.folder))
    assert "Hakobune object cache" in dropin
    objects = json.loads(ok(hb("cache", "status", "--json", cwd=site.folder)))["object_cache"]
    assert objects["keys"] > 20 and objects["bytes"] > 0 and objects["hits"] > 0
    assert re.search(r"object cache: \d+ keys, [\d.]+ MB, \d+% of \d+ lookups found",
                     ok(hb("cache", "status", cwd=site.folder)))


def test_a_change_made_while_valkey_was_unreachable_is_never_served_stale(site):
    """Valkey keeps its data but PHP and the ops jobs cannot reach it: the site works on the database alone,
    and once valkey is back, what it held from before is not served."""
    container = f"hb-{site.name}-valkey-1"
    network = f"hb-{site.name}_site"
    ok(hb("wp-option", "set", "blogname", "Before the outage", cwd=site.folder))
    assert "Before the outage" in visit(f"{site.url}/?outage=1")[1]
    subprocess.run(["docker", "network", "disconnect", network, container], check=True)
    try:
        assert "Before the outage" in visit(f"{site.url}/?outage=2")[1]  # still served, from the database
        ok(hb("wp-option", "set", "blogname", "During the outage", cwd=site.folder))
        assert "During the outage" in visit(f"{site.url}/?outage=3")[1]
    finally:
        subprocess.run(["docker", "network", "connect", "--alias", "valkey", network, container], check=True)
    # Valkey still holds the old name. PHP goes back to it after its retry interval (5 s), and empties it first.
    assert "Before the outage" in subprocess.run(
        ["docker", "exec", container, "valkey-cli", "get", "wordpress:wp_:options:alloptions"],
        capture_output=True, text=True, check=True).stdout
    time.sleep(6)
    for n in range(3):
        assert "During the outage" in visit(f"{site.url}/?outage=4{n}")[1]
    assert valkey(site, "exists", "wordpress:wp_:options:alloptions") == "1"  # in use again
    assert "During the outage" in visit(f"{site.url}/")[1]
    mark = hb("exec", "php", "--", "test", "-e", "/srv/site/.hakobune-object-cache-missed-writes", cwd=site.folder)
    assert mark.returncode == 1


def test_a_deploy_is_served_at_once_though_php_never_checks_files(site, tmp_path):
    """OPcache runs without file checks (PHP_OPCACHE_VALIDATE_TIMESTAMPS=0); a deploy empties it, and the
    object cache too (the new code may keep its objects differently)."""

    def release(number: int):
        archive = tmp_path / f"release{number}.tar"
        with tarfile.open(archive, "w") as tar:
            data = f"<?php echo 'release {number}';".encode()
            info = tarfile.TarInfo("release.php")
            info.size = len(data)
            tar.addfile(info, BytesIO(data))
        ok(hb("deploy-files", str(archive), cwd=site.folder))

    valkey(site, "set", "planted", "by the test")
    release(1)
    assert valkey(site, "exists", "planted") == "0"
    with client() as http:
        assert http.get(f"{site.url}/release.php").text == "release 1"
        release(2)
        assert http.get(f"{site.url}/release.php").text == "release 2"
    ini = ok(hb("exec", "php", "--", "cat", "/run/hakobune/php/99-hakobune.ini", cwd=site.folder))
    assert "opcache.validate_timestamps = 0" in ini


def test_http3_answers_on_the_published_udp_port_and_alt_svc_names_it(site):
    with client() as http:
        response = http.get(f"{site.url}/")
    assert response.http_version == "HTTP/2"
    assert response.headers["alt-svc"] == f'h3=":{site.tls_port}"; ma=86400'
    # Debian's curl speaks HTTP/3 (ngtcp2/nghttp3); it runs in a container sharing the host's network, so the
    # request goes to 127.0.0.1 through the published UDP port, as a browser's would.
    result = subprocess.run(
        ["docker", "run", "--rm", "--network", "host", "--entrypoint", "curl", image_refs()["nginx"],
         "-sk", "--http3-only", "-o", "/dev/null", "-D", "-", "-w", "%{http_version}", f"{site.url}/"],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("HTTP/3 200") and result.stdout.endswith("3")
    assert "x-hakobune-cache:" in result.stdout.lower()


def _rendered(image: str, memory: str, path: str) -> str:
    """The configuration IMAGE's entrypoint renders in a container limited to MEMORY."""
    return subprocess.run(
        ["docker", "run", "--rm", "--memory", memory, "--entrypoint", "sh", image_refs()[image], "-c",
         f"hakobune-entrypoint true >/dev/null 2>&1; cat {path}"],
        capture_output=True, text=True, timeout=120, check=True).stdout


def test_php_and_mariadb_settings_follow_the_memory_limit(images):
    cpus = int(subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout)
    fpm = _rendered("php", "1g", "/run/hakobune/php-fpm.conf")
    ini = _rendered("php", "1g", "/run/hakobune/php/99-hakobune.ini")
    assert "opcache.memory_consumption = 128" in ini  # an eighth of 1 GiB
    assert "opcache.jit = tracing" in ini and "opcache.jit_buffer_size = 64M" in ini
    children = min((1024 - 128 - 64 - 64) // 64, cpus * 8)  # after OPcache, the JIT's buffer and the master
    assert f"pm.max_children = {children}" in fpm
    small = _rendered("php", "256m", "/run/hakobune/php-fpm.conf")
    assert "pm.max_children = 2" in small
    cnf = _rendered("mariadb", "1g", "/run/hakobune/my.cnf")
    assert "innodb_buffer_pool_size = 512M" in cnf and "max_connections = 64" in cnf
    unlimited = subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "sh", image_refs()["mariadb"], "-c",
         "hakobune-entrypoint true >/dev/null 2>&1; cat /run/hakobune/my.cnf"],
        capture_output=True, text=True, timeout=120, check=True).stdout
    assert "innodb_buffer_pool_size = 128M" in unlimited and "max_connections = 151" in unlimited
    assert "maxmemory 805306368\n" in _rendered("valkey", "1g", "/run/hakobune/valkey.conf")  # three quarters
    unlimited = subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "sh", image_refs()["valkey"], "-c",
         "hakobune-entrypoint true >/dev/null 2>&1; cat /run/hakobune/valkey.conf"],
        capture_output=True, text=True, timeout=120, check=True).stdout
    assert "maxmemory 134217728\n" in unlimited and "maxmemory-policy allkeys-lru" in unlimited
