"""The site model: defaults, URL, and validation of every setting."""

import re

import pytest

from hakobune.errors import InvalidInput
from hakobune.site import (
    LIMITED_SERVICES,
    SALT_NAMES,
    WEB_SERVERS,
    Site,
    SiteSecrets,
    validate_fqdn,
    validate_name,
)
from hakobune.versions import images_for


@pytest.mark.parametrize("fqdn", ["localhost", "example.com", "www.example.co.jp", "a-b.example", "Example.COM."])
def test_valid_fqdns_are_normalised(fqdn):
    assert validate_fqdn(fqdn) == fqdn.lower().rstrip(".")


@pytest.mark.parametrize(
    "fqdn",
    ["", "exa mple.com", "-bad.com", "bad-.com", "under_score.com", "a..b", "x" * 64 + ".com", "1.2.3.4",
     "::1", "example.123", "ex/ample.com"],
)
def test_invalid_fqdns_are_refused(fqdn):
    with pytest.raises(InvalidInput, match="--fqdn"):
        validate_fqdn(fqdn)


@pytest.mark.parametrize("name", ["a/b", "../x", "..", "x..y", "/abs"])
def test_target_must_not_be_a_path(name):
    with pytest.raises(InvalidInput, match="plain folder name"):
        validate_name(name)


@pytest.mark.parametrize("name", ["Upper", "-dash", "sp ace", "x" * 41, ""])
def test_target_must_be_a_simple_name(name):
    with pytest.raises(InvalidInput, match="not a valid site name"):
        validate_name(name)


def test_defaults_and_url():
    site = Site(name="blog", fqdn="www.example.com")
    assert site.url == "https://www.example.com"
    assert site.title == "www.example.com"
    assert site.admin_email == "admin@www.example.com"
    assert site.project == "hb-blog"


def test_url_carries_a_non_default_tls_port():
    assert Site(name="b", fqdn="localhost", tls_port=8443).url == "https://localhost:8443"


def test_default_email_for_a_dotless_host_is_still_valid():
    assert Site(name="b", fqdn="localhost").admin_email == "admin@example.com"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("http_port", 0, "--http-port 0 is out of range"),
        ("tls_port", 70000, "--tls-port 70000 is out of range"),
        ("admin_user", "bad user!", "--admin-user"),
        ("admin_email", "nobody", "--admin-email"),
        ("wplang", "japanese", "--wplang"),
        ("db_name", "my-db", "--dbname"),
        ("db_user", "x" * 33, "--dbuser"),
        ("title", "two\nlines", "--wp-title"),
    ],
)
def test_invalid_settings_are_refused(field, value, message):
    with pytest.raises(InvalidInput, match=message.replace("-", r"\-")):
        Site(name="b", fqdn="localhost", **{field: value})


def test_same_http_and_tls_port_is_refused():
    with pytest.raises(InvalidInput, match="both 8443"):
        Site(name="b", fqdn="localhost", http_port=8443, tls_port=8443)


def test_round_trip_and_unknown_settings():
    site = Site(name="b", fqdn="localhost", wplang="ja")
    assert Site.from_dict(site.to_dict()) == site
    with pytest.raises(InvalidInput, match="unknown site settings: colour"):
        Site.from_dict({**site.to_dict(), "colour": "blue"})


def test_generated_secrets_are_strong_and_unique():
    one, two = SiteSecrets(), SiteSecrets()
    assert len(one.db_password) >= 24 and one.db_password.isalnum()
    assert one.db_password != two.db_password != one.db_root_password
    assert len(one.salts) == len(SALT_NAMES) == 8
    assert len(set(one.salts)) == 8 and all(len(s) == 64 for s in one.salts)


def test_short_admin_password_is_refused():
    with pytest.raises(InvalidInput, match="--admin-pass must be at least 8 characters"):
        SiteSecrets(admin_password="short")


def test_secrets_round_trip_through_env():
    secrets = SiteSecrets(admin_password="correct horse battery")
    assert SiteSecrets.from_env(secrets.to_env()) == secrets
    env = secrets.to_env()
    del env["WP_NONCE_SALT"]
    with pytest.raises(InvalidInput, match="lacks WP_NONCE_SALT"):
        SiteSecrets.from_env(env)


@pytest.mark.parametrize(
    ("settings", "secret_settings", "message"),
    [
        ({}, ("NGINX_PASSWORD",), "NGINX_PASSWORD: the web server takes no secret settings"),
        ({"PHP_SMTP_PASSWORD": "x"}, ("PHP_SMTP_PASSWORD",), "PHP_SMTP_PASSWORD is both a plain and a secret setting"),
        ({}, ("SMTP_PASSWORD",), "'SMTP_PASSWORD' is not an image setting"),
    ],
)
def test_secret_setting_names_are_checked(settings, secret_settings, message):
    with pytest.raises(InvalidInput, match=re.escape(message)):
        Site(name="s", fqdn="localhost", settings=settings, secret_settings=secret_settings)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"db_host": "bad host"}, "--dbhost 'bad host' is not a host name or IPv4 address"),
        ({"db_host": "db.example.net", "db_port": 0}, "--dbport 0 is out of range"),
        ({"db_tls": True}, "--db-tls is for an external database"),
    ],
)
def test_external_database_settings_are_checked(fields, message):
    with pytest.raises(InvalidInput, match=re.escape(message)):
        Site(name="s", fqdn="localhost", **fields)


def test_the_page_cache_defaults_to_on_for_wordpress_on_nginx_only():
    assert Site(name="a", fqdn="localhost").page_cache is True
    assert Site(name="a", fqdn="localhost", profile="lamp").page_cache is False
    assert Site(name="a", fqdn="localhost", web="httpd").page_cache is False
    assert Site(name="a", fqdn="localhost", page_cache=False).page_cache is False
    with pytest.raises(InvalidInput, match="runs httpd, which has no page cache"):
        Site(name="a", fqdn="localhost", web="httpd", page_cache=True)


def test_the_object_cache_is_on_for_wordpress_sites():
    images = images_for("httpd")
    assert Site(name="a", fqdn="localhost", web="httpd", images=images).object_cache is True
    assert Site(name="a", fqdn="localhost", web="httpd", profile="lamp", images=images).object_cache is False
    assert Site(name="a", fqdn="localhost", web="httpd", images=images, object_cache=False).services == (
        "web", "php", "db", "cron", "metrics")
    # A site made before valkey was one of the images (site_format migrates it to object_cache False).
    older = {name: ref for name, ref in images.items() if name != "valkey"}
    assert Site(name="a", fqdn="localhost", web="httpd", images=older, object_cache=False).services == (
        "web", "php", "db", "cron", "metrics")
    with pytest.raises(InvalidInput, match="names no valkey image for its object cache"):
        Site(name="a", fqdn="localhost", web="httpd", images=older, object_cache=True)
    with pytest.raises(InvalidInput, match="not a WordPress site: the object cache is WordPress's"):
        Site(name="a", fqdn="localhost", web="httpd", profile="lamp", images=images, object_cache=True)
    with pytest.raises(InvalidInput, match="a site runs the images"):
        Site(name="a", fqdn="localhost", web="httpd", images={**older, "nginx": "hakobune/nginx:1"})


def test_nginx_reaches_php_fpm_on_a_socket_unless_told_otherwise():
    assert Site(name="a", fqdn="localhost").fpm_socket is True
    assert Site(name="a", fqdn="localhost", fpm_socket=False).fpm_socket is False
    assert Site(name="a", fqdn="localhost", web="httpd").fpm_socket is False
    with pytest.raises(InvalidInput, match="runs httpd, which reaches PHP-FPM over TCP"):
        Site(name="a", fqdn="localhost", web="httpd", fpm_socket=True)


CONTROL = ["line\nbreak", "carriage\rreturn", "nul\0", "escape\x1b[31m", "tab\there", "form\x0cfeed",
           "next\x85line", "unicode\u2028separator", "delete\x7f"]


@pytest.mark.parametrize("bad", CONTROL)
def test_control_characters_never_reach_the_secrets_or_compose_files(bad):
    """One value per line in secrets.env, compose.yaml and the entrypoints, whatever the value."""
    with pytest.raises(InvalidInput, match="must be one line, without control characters"):
        SiteSecrets(admin_password=f"long-enough-{bad}")
    with pytest.raises(InvalidInput, match="must be one line, without control characters"):
        SiteSecrets(db_password=f"long-enough-{bad}")
    salts = [f"salt-{n}" for n in range(len(SALT_NAMES))]
    with pytest.raises(InvalidInput, match=f"WordPress salt {SALT_NAMES[3]} must be one line"):
        SiteSecrets(salts=tuple([*salts[:3], f"imported-{bad}", *salts[4:]]))
    with pytest.raises(InvalidInput, match="secret setting PHP_SMTP_PASSWORD must be one line"):
        SiteSecrets(settings={"PHP_SMTP_PASSWORD": f"pw{bad}"})
    with pytest.raises(InvalidInput, match="setting PHP_TIMEZONE must be one line"):
        Site(name="blog", fqdn="localhost", settings={"PHP_TIMEZONE": f"UTC{bad}"})
    with pytest.raises(InvalidInput, match="--wp-title must be one line"):
        Site(name="blog", fqdn="localhost", title=f"My {bad} blog")


@pytest.mark.parametrize("name", ["PHP_X\nY", "php_memory_limit", "PHP MEMORY", "=PHP"])
def test_setting_names_are_environment_variable_names(name):
    with pytest.raises(InvalidInput, match="is not an image setting's name"):
        Site(name="blog", fqdn="localhost", settings={name: "1"})


def test_an_empty_imported_salt_is_refused():
    with pytest.raises(InvalidInput, match="WordPress salt AUTH_KEY is empty"):
        SiteSecrets(salts=("", *tuple("s" for _ in SALT_NAMES[1:])))


def test_site_ids_are_32_hex_digits_or_absent():
    assert Site(name="blog", fqdn="localhost").site_id == ""
    assert Site(name="blog", fqdn="localhost", site_id="ab" * 16).site_id == "ab" * 16
    with pytest.raises(InvalidInput, match="site id 'nope' is not 32 hexadecimal digits"):
        Site(name="blog", fqdn="localhost", site_id="nope")


def test_every_service_runs_one_of_the_sites_images():
    for web in WEB_SERVERS:
        site = Site(name="a", fqdn="localhost", web=web, images=images_for(web))
        for service in LIMITED_SERVICES:
            if service != "acme":  # the edge's image, named by acme_image
                assert site.image_name(service) in site.images, (web, service)
    assert Site(name="a", fqdn="localhost", web="httpd").image_name("web") == "httpd"


def test_aliases_are_names_served_or_redirected_at_the_edge():
    site = Site(name="s", fqdn="example.com", edge=True, aliases={"WWW.Example.com.": "serve", "example.org": 308})
    assert site.aliases == {"www.example.com": "serve", "example.org": "308"}
    assert site.hosts == ("example.com", "www.example.com", "example.org")
    assert site.served_aliases == ("www.example.com",) and site.redirected("308") == ("example.org",)
    assert Site.from_dict(site.to_dict()) == site


@pytest.mark.parametrize(("aliases", "edge", "message"), [
    ({"example.com": "serve"}, True, "example.com is a name of the site already"),
    ({"www.example.com": "302"}, True, "alias www.example.com: '302' is not one of serve, 301, 308"),
    ({"bad_name": "serve"}, True, "alias 'bad_name' is not a valid host name"),
    ({"*.example.com": "serve"}, True, "alias '*.example.com' is not a valid host name"),
    ({"www.example.com:8443": "serve"}, True, "alias 'www.example.com:8443' is not a valid host name"),
    ({"192.0.2.1": "serve"}, True, "192.0.2.1"),
    (["www.example.com"], True, "aliases must be a mapping"),
    ({f"n{i}.example.com": "serve" for i in range(100)}, True, "a site has at most 100 names"),
])
def test_bad_aliases_are_refused(aliases, edge, message):
    with pytest.raises(InvalidInput, match=re.escape(message)):
        Site(name="s", fqdn="example.com", edge=edge, aliases=aliases)


def test_an_acme_service_of_its_own_is_for_a_site_with_ports_of_its_own():
    site = Site(name="s", fqdn="example.com", acme_image="hakobune/edge:0.5.0")
    assert site.services[-1] == "acme" and site.memory("acme") == "128M" and site.pids("acme") == 64
    assert "acme" not in Site(name="s", fqdn="example.com").services
    with pytest.raises(InvalidInput, match="site s is behind the edge, whose acme service gets its certificates"):
        Site(name="s", fqdn="example.com", edge=True, acme_image="hakobune/edge:0.5.0")
    with pytest.raises(InvalidInput, match="acme_image 'Evil Image;' is not an image reference"):
        Site(name="s", fqdn="example.com", acme_image="Evil Image;")


def test_a_site_with_ports_of_its_own_has_aliases_too():
    site = Site(name="s", fqdn="example.com", aliases={"www.example.com": "serve", "example.org": "301"})
    assert site.hosts == ("example.com", "www.example.com", "example.org") and not site.edge
