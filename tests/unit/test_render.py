"""Rendering: the Compose document and the ops helpers' requests."""

import json
from dataclasses import replace

import yaml

from hakobune import site_format
from hakobune.ops.edge import route_request
from hakobune.ops.stack import service_for
from hakobune.render.compose import RUNTIMES, compose_document, compose_yaml
from hakobune.render.requests import (
    backup_request,
    db_check_request,
    db_request,
    db_setup_request,
    install_request,
    restore_request,
    secrets_request,
    seed_lamp_request,
    seed_request,
)
from hakobune.site import SITE_LABEL, Site, SiteSecrets
from hakobune.versions import image_refs, images_for

SITE = Site(name="shop", fqdn="shop.example.com", http_port=8080, tls_port=8443, wplang="ja",
            images=images_for("nginx"))
SECRETS = SiteSecrets(admin_password="admin-password-1", db_password="db-password-1",
                      db_root_password="root-password-1")


def test_services_images_and_profile():
    doc = compose_document(SITE)
    assert doc["name"] == "hb-shop"
    assert set(doc["services"]) == {"web", "php", "db", "valkey", "cron", "metrics", "ops", "wp", "secrets"}
    assert doc["services"]["ops"]["profiles"] == ["ops"]
    assert doc["services"]["secrets"]["profiles"] == ["init"]
    for name, image in {"web": "nginx", "php": "php", "db": "mariadb", "valkey": "valkey", "metrics": "metrics",
                        "ops": "ops", "wp": "ops", "secrets": "ops"}.items():
        assert doc["services"][name]["image"] == image_refs()[image]


def test_only_the_web_ports_are_published():
    services = compose_document(SITE)["services"]
    # HTTP/3 is the TLS port's UDP twin
    assert services["web"]["ports"] == ["8080:8080", "8443:8443", "8443:8443/udp"]
    assert [n for n, s in services.items() if "ports" in s] == ["web"]
    assert services["web"]["environment"]["NGINX_PUBLIC_TLS_PORT"] == "8443"


def test_every_resource_is_labelled_with_the_site():
    doc = compose_document(SITE)
    for service in doc["services"].values():
        assert service["labels"][SITE_LABEL] == "shop"
    for volume in doc["volumes"].values():
        assert volume["labels"][SITE_LABEL] == "shop"
    assert doc["networks"]["site"]["labels"][SITE_LABEL] == "shop"


def test_start_order_waits_for_health():
    services = compose_document(SITE)["services"]
    assert services["web"]["depends_on"] == {"php": {"condition": "service_healthy"}}
    assert services["php"]["depends_on"] == {"db": {"condition": "service_healthy"}}


def test_nothing_is_bind_mounted_from_the_client():
    for service in compose_document(SITE)["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert not source.startswith(("/", ".", "~")), volume


def test_secrets_never_appear_in_the_compose_file():
    text = compose_yaml(SITE)
    for value in SECRETS.to_env().values():
        assert value not in text
    doc = yaml.safe_load(text)
    assert "secrets" not in doc
    assert doc["services"]["db"]["environment"] == {"MARIADB_ROOT_PASSWORD_FILE": "/run/secrets/db/db_root_password"}


def test_each_service_mounts_only_the_secrets_it_needs_read_only():
    services = compose_document(SITE)["services"]
    secret_mounts = {
        name: sorted(v for v in service.get("volumes", []) if v.startswith("secrets-"))
        for name, service in services.items()
    }
    assert secret_mounts["web"] == []
    assert secret_mounts["php"] == ["secrets-app:/run/secrets/app:ro"]
    assert secret_mounts["db"] == ["secrets-db:/run/secrets/db:ro"]
    assert secret_mounts["ops"] == ["secrets-app:/run/secrets/app:ro", "secrets-db:/run/secrets/db:ro"]
    assert secret_mounts["wp"] == ["secrets-app:/run/secrets/app:ro"]


def test_the_site_code_container_has_what_php_has_and_no_more():
    """WordPress work loads plugins: it must not find the root password or the backups volume."""
    services = compose_document(SITE)["services"]
    assert services["wp"]["volumes"] == ["site:/srv/site", "secrets-app:/run/secrets/app:ro"]
    assert not any("backups" in v for v in services["wp"]["volumes"])
    assert {task: service_for(task) for task in ("option", "plugin", "core-verify", "deploy", "install",
                                                 "search-replace", "backup", "restore", "db-setup")} == {
        "option": "wp", "plugin": "wp", "core-verify": "ops", "deploy": "wp", "install": "wp",
        "search-replace": "wp", "backup": "ops", "restore": "ops", "db-setup": "ops"}


def test_every_container_is_hardened():
    services = compose_document(SITE)["services"]
    for name, service in services.items():
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert service["security_opt"] == ["no-new-privileges:true"], name
    for name in ("web", "php", "db", "ops", "wp"):
        assert "cap_add" not in services[name] and "user" not in services[name], name
        runtime = RUNTIMES[name]
        assert [t.split(":")[0] for t in services[name]["tmpfs"]] == list(runtime.writable)
    # Only the one-shot secrets writer runs as root, with no network and just enough to hand files over.
    assert services["secrets"]["user"] == "root"
    assert services["secrets"]["cap_add"] == ["CHOWN"]
    assert services["secrets"]["network_mode"] == "none"


def test_database_is_only_on_the_site_network():
    db = compose_document(SITE)["services"]["db"]
    assert db["networks"] == ["site"]
    assert "ports" not in db


def test_secret_files_go_to_their_readers():
    files = {f["path"]: f for f in secrets_request(SECRETS)["files"]}
    assert files["/srv/secrets-app/db_password"]["content"] == "db-password-1"
    assert files["/srv/secrets-app/db_password"]["owner"] == "33:33"
    assert files["/srv/secrets-db/db_root_password"]["owner"] == "999:33"
    assert {f["mode"] for f in files.values()} <= {"0400", "0440"}


def test_secret_settings_reach_their_service_as_files_only():
    site = Site(name="shop", fqdn="shop.example.com", images=images_for("nginx"), settings={"PHP_SMTP_USER": "u"},
                secret_settings=("PHP_SMTP_PASSWORD",))
    secrets = SiteSecrets(admin_password="admin-password-1", db_password="db-password-1",
                          db_root_password="root-password-1", settings={"PHP_SMTP_PASSWORD": "smtp pass \"1\""})
    text = compose_yaml(site)
    assert "smtp pass" not in text
    services = yaml.safe_load(text)["services"]
    assert services["php"]["environment"]["PHP_SMTP_PASSWORD_FILE"] == "/run/secrets/app/php_smtp_password"
    assert "PHP_SMTP_PASSWORD" not in services["php"]["environment"]
    assert not any("PHP_SMTP_PASSWORD" in key for key in services["web"]["environment"])
    files = {f["path"]: f for f in secrets_request(secrets, removed=("PHP_OLD_SECRET",))["files"]}
    assert files["/srv/secrets-app/php_smtp_password"] == {
        "path": "/srv/secrets-app/php_smtp_password", "owner": "33:33", "mode": "0400",
        "content": 'smtp pass "1"'}
    assert files["/srv/secrets-app/php_old_secret"]["remove"] is True
    assert "content" not in files["/srv/secrets-app/php_old_secret"]
    assert SiteSecrets.from_env(secrets.to_env()) == secrets
    assert Site.from_dict(yaml.safe_load(yaml.safe_dump(site.to_dict()))) == site


def test_every_request_describes_the_database_one_way():
    """db_request is the one description: each request that reaches the database carries it whole, under "db"."""
    external = replace(SITE, db_host="db.example.net", db_port=3307, db_tls=True)
    for site in (SITE, external):
        requests = [db_setup_request(site), db_check_request(site, SECRETS), seed_request(site, SECRETS),
                    seed_lamp_request(replace(site, profile="lamp", page_cache=False, object_cache=False)),
                    restore_request(site, SECRETS, "stage"), backup_request(site)]
        for request in requests:
            assert request["db"] == db_request(site)
            assert not [key for key in request if key.startswith("db_")]


def test_ops_requests():
    own = {"host": "db", "port": 3306, "name": "wordpress", "user": "wordpress", "tls": False, "own": True}
    assert db_setup_request(SITE) == {"db": own}
    seed = seed_request(SITE, SECRETS)
    assert seed["db"] == own
    assert seed["url"] == "https://shop.example.com:8443"
    assert seed["salts"] == list(SECRETS.salts)
    assert "db-password-1" not in str(seed)  # wp-config reads it from the container's secret
    install = install_request(SITE, SECRETS)
    assert install["admin_password"] == "admin-password-1"
    assert install["lang"] == "ja"
    assert install["title"] == "shop.example.com"


def test_settings_go_to_their_service_only():
    settings = {"PHP_MEMORY_LIMIT": "512M", "NGINX_GZIP": "off", "MARIADB_MAX_CONNECTIONS": "50"}
    site = Site(name="s", fqdn="localhost", images=images_for("nginx"), settings=settings)
    services = compose_document(site)["services"]
    assert services["php"]["environment"] == {"PHP_MEMORY_LIMIT": "512M", "HAKOBUNE_CACHE_PURGE": "http://web:8081",
                                              "HAKOBUNE_OBJECT_CACHE": "valkey:6379", "HAKOBUNE_CRON": "service",
                                              "PHP_FPM_LISTEN": "/run/hakobune-fpm/php.sock"}
    assert services["web"]["environment"]["NGINX_GZIP"] == "off"
    assert services["db"]["environment"]["MARIADB_MAX_CONNECTIONS"] == "50"
    assert "PHP_MEMORY_LIMIT" not in services["web"]["environment"]


def test_httpd_site_runs_the_httpd_image_with_its_own_settings():
    site = Site(name="h", fqdn="localhost", web="httpd", images=images_for("httpd"), tls_port=8443,
                settings={"HTTPD_GZIP": "off"})
    web = compose_document(site)["services"]["web"]
    assert web["image"] == image_refs()["httpd"]
    assert web["environment"]["HTTPD_PUBLIC_TLS_PORT"] == "8443"
    assert web["environment"]["HTTPD_GZIP"] == "off"
    assert "NGINX_PUBLIC_TLS_PORT" not in web["environment"]


def test_a_setting_of_the_other_web_server_is_refused():
    import pytest

    from hakobune.errors import InvalidInput

    with pytest.raises(InvalidInput, match="NGINX_GZIP is a setting of another web server"):
        Site(name="h", fqdn="localhost", web="httpd", settings={"NGINX_GZIP": "off"})


def test_an_external_database_has_no_db_service_and_reaches_the_docker_host():
    site = Site(name="ext", fqdn="ext.example.com", images=images_for("nginx"), db_host="db.example.net",
                db_port=3307, db_tls=True, db_name="extwp", db_user="extuser")
    doc = compose_document(site)
    assert set(doc["services"]) == {"web", "php", "valkey", "cron", "metrics", "ops", "wp", "secrets"}
    assert "db" not in doc["volumes"]
    assert "depends_on" not in doc["services"]["php"]
    assert doc["services"]["php"]["extra_hosts"] == ["host.docker.internal:host-gateway"]
    assert not any("secrets-db" in v for v in doc["services"]["ops"]["volumes"])
    assert site.services == ("web", "php", "valkey", "cron", "metrics") and site.db_address == "db.example.net:3307"
    metrics = doc["services"]["metrics"]
    assert metrics["extra_hosts"] == ["host.docker.internal:host-gateway"]
    assert (metrics["environment"]["METRICS_DB"], metrics["environment"]["METRICS_DB_TLS"]) == \
        ("db.example.net:3307", "1")
    seed = seed_request(site, SECRETS)
    assert seed["db"] == {"host": "db.example.net", "port": 3307, "name": "extwp", "user": "extuser",
                          "tls": True, "own": False}
    assert SITE.db_address == "db" and SITE.services == ("web", "php", "db", "valkey", "cron", "metrics")


def test_a_backup_schedule_adds_a_hardened_service_that_only_reads_the_site():
    from dataclasses import replace

    site = replace(SITE, backup_schedule="hourly", backup_keep=24, title="Costs $5, not ${HOME}")
    assert site.services == ("web", "php", "db", "valkey", "cron", "metrics", "backup")
    doc = compose_document(site)
    backup = doc["services"]["backup"]
    assert backup["image"] == image_refs()["ops"] and "profiles" not in backup
    assert backup["volumes"] == ["site:/srv/site:ro", "backups:/srv/backups", "secrets-app:/run/secrets/app:ro"]
    assert backup["read_only"] is True and backup["cap_drop"] == ["ALL"] and "user" not in backup
    env = backup["environment"]
    # hourly, at the site's own minute
    assert (env["HB_SCHEDULE"], env["HB_KEEP"], env["HB_SITE"]) == ("47 * * * *", "24", "shop")
    request = json.loads(env["HB_BACKUP_REQUEST"].replace("$$", "$"))
    assert request["db"] == {"host": "db", "port": 3306, "name": "wordpress", "user": "wordpress", "tls": False,
                             "own": True}
    assert "Costs $5, not ${HOME}" in request["settings"]  # carried whole: `$` is escaped for Compose
    assert "Costs $$5, not $${HOME}" in env["HB_BACKUP_REQUEST"]
    assert str(SECRETS.db_password) not in compose_yaml(site)
    assert "backups" in doc["volumes"]
    assert "backup" not in compose_document(SITE)["services"]


def test_restore_requests_keep_the_target_sites_own_secrets_and_database():
    from hakobune.render.requests import restore_request

    request = restore_request(SITE, SECRETS, "stage", "/srv/backups/.incoming.tar")
    assert request["db"]["own"] is True and request["profile"] == "wp"
    assert request["url"] == "https://shop.example.com:8443" and request["db"]["host"] == "db"
    assert request["salts"] == list(SECRETS.salts) and "db-password-1" not in str(request)
    from dataclasses import replace

    external = replace(SITE, db_host="db.example.net", db_port=3307, db_tls=True)
    request = restore_request(external, SECRETS, "swap")
    assert request["db"] == {"host": "db.example.net", "port": 3307, "name": "wordpress", "user": "wordpress",
                             "tls": True, "own": False}


def test_the_page_cache_is_on_for_wordpress_on_nginx_and_php_knows_where_to_purge():
    services = compose_document(SITE)["services"]
    assert services["web"]["environment"]["NGINX_CACHE"] == "on"
    for service in ("php", "ops"):
        assert services[service]["environment"]["HAKOBUNE_CACHE_PURGE"] == "http://web:8081"
    assert "8081" not in json.dumps(services["web"]["ports"])  # the purge port is never published
    off = compose_document(Site(name="s", fqdn="localhost", images=images_for("nginx"), page_cache=False))
    assert off["services"]["web"]["environment"]["NGINX_CACHE"] == "off"
    lamp = compose_document(Site(name="s", fqdn="localhost", profile="lamp", images=images_for("nginx")))
    assert lamp["services"]["web"]["environment"]["NGINX_CACHE"] == "off"  # any PHP app: no cache by default
    httpd = compose_document(Site(name="h", fqdn="localhost", web="httpd", images=images_for("httpd")))
    assert "NGINX_CACHE" not in httpd["services"]["web"]["environment"]
    assert "HAKOBUNE_CACHE_PURGE" not in httpd["services"]["php"]["environment"]
    assert httpd["services"]["web"]["ports"] == ["80:8080", "443:8443"]


def test_the_object_cache_is_a_private_hardened_service_that_php_and_ops_know():
    services = compose_document(SITE)["services"]
    valkey = services["valkey"]
    assert "ports" not in valkey and valkey["networks"] == ["site"]
    assert valkey["read_only"] is True and valkey["cap_drop"] == ["ALL"]
    assert valkey["tmpfs"] == ["/run/hakobune:uid=990,gid=990,mode=0750"]
    assert "volumes" not in valkey  # memory only: nothing of it is kept or backed up
    for service in ("php", "ops"):
        assert services[service]["environment"]["HAKOBUNE_OBJECT_CACHE"] == "valkey:6379"
    assert "valkey" not in json.dumps(services["php"].get("depends_on", {}))  # PHP works without it
    tuned = compose_document(replace(SITE, settings={"VALKEY_MAXMEMORY": "256M"}))["services"]
    assert tuned["valkey"]["environment"] == {"VALKEY_MAXMEMORY": "256M"}
    lamp = compose_document(Site(name="s", fqdn="localhost", profile="lamp", images=images_for("nginx")))
    assert "valkey" not in lamp["services"]
    assert "HAKOBUNE_OBJECT_CACHE" not in lamp["services"]["php"]["environment"]


def test_nginx_reaches_php_fpm_on_a_socket_in_a_shared_volume_and_httpd_on_tcp():
    doc = compose_document(SITE)
    web, php = doc["services"]["web"], doc["services"]["php"]
    assert web["environment"]["PHP_FPM_ADDRESS"] == "unix:/run/hakobune-fpm/php.sock"
    assert php["environment"]["PHP_FPM_LISTEN"] == "/run/hakobune-fpm/php.sock"
    assert "fpm:/run/hakobune-fpm:ro" in web["volumes"] and "fpm:/run/hakobune-fpm:rw" in php["volumes"]
    assert "fpm" in doc["volumes"]
    httpd = compose_document(Site(name="h", fqdn="localhost", web="httpd", images=images_for("httpd")))
    assert httpd["services"]["web"]["environment"]["PHP_FPM_ADDRESS"] == "php:9000"
    assert "PHP_FPM_LISTEN" not in httpd["services"]["php"]["environment"]
    assert "fpm" not in httpd["volumes"] and not any("fpm" in v for v in httpd["services"]["php"]["volumes"])


def test_a_site_made_before_the_04_images_keeps_tcp_and_has_no_object_cache():
    """Its older images take neither a socket nor valkey: rendering it again must not break it."""
    older = {name: ref for name, ref in images_for("nginx").items() if name != "valkey"}
    site = Site.from_dict(site_format.current({"format": 1, "site": {"name": "old", "fqdn": "localhost",
                                                                    "images": older}}, "test"))
    doc = compose_document(site)
    assert doc["services"]["web"]["environment"]["PHP_FPM_ADDRESS"] == "php:9000"
    assert "PHP_FPM_LISTEN" not in doc["services"]["php"]["environment"]
    assert "HAKOBUNE_OBJECT_CACHE" not in doc["services"]["php"]["environment"]
    assert "valkey" not in doc["services"] and "fpm" not in doc["volumes"]


def test_a_site_behind_the_edge_publishes_nothing_and_believes_only_the_edges_network():
    site = replace(SITE, edge=True, edge_subnet="172.30.7.0/24", settings={"NGINX_TRUSTED_PROXIES": "10.0.0.1"})
    doc = compose_document(site)
    web = doc["services"]["web"]
    assert web["ports"] == []
    assert web["networks"] == {"site": {}, "edge": {"aliases": [f"hb-{site.name}-web"]}}
    assert doc["networks"]["edge"] == {"name": f"hb-{site.name}-edge", "external": True}
    # The edge's range first, then what the user trusts besides.
    assert web["environment"]["NGINX_TRUSTED_PROXIES"] == "172.30.7.0/24 10.0.0.1"
    assert site.edge_upstream == f"hb-{site.name}-web:8080"
    for name, service in doc["services"].items():  # the edge's network is the web container's alone
        if name != "web":
            assert "edge" not in service.get("networks", [])


def test_a_standalone_site_has_no_edge_network():
    doc = compose_document(SITE)
    assert "edge" not in doc["networks"] and doc["services"]["web"]["networks"] == ["site"]


def test_the_web_server_answers_to_the_aliases_served_and_leaves_redirects_to_the_edge():
    site = replace(SITE, edge=True, edge_subnet="172.30.7.0/24",
                   aliases={"www.example.com": "serve", "old.example.com": "301", "b.example.com": "serve"})
    assert compose_document(site)["services"]["web"]["environment"]["SITE_ALIASES"] == \
        "www.example.com b.example.com"
    assert "SITE_ALIASES" not in compose_document(replace(site, aliases={"x.example.com": "308"})) \
        ["services"]["web"]["environment"]
    assert route_request(site, ("new.example.com",)) == (
        f"HOSTS={site.fqdn} www.example.com old.example.com b.example.com\nREDIRECT301=old.example.com\n"
        f"REDIRECT308=\nPENDING=new.example.com\nUPSTREAM=hb-{site.name}-web:8080\n")


def test_a_site_certified_by_its_own_acme_service_shares_only_the_challenges_and_its_certificate():
    site = replace(SITE, acme_image="hakobune/edge:0.5.0")
    doc = compose_document(site)
    acme, web = doc["services"]["acme"], doc["services"]["web"]
    assert acme["image"] == "hakobune/edge:0.5.0" and acme["entrypoint"] == ["hakobune-acme", "daemon"]
    # Hardened like the rest, as the web server's user (it writes the certificate that user reads), no ports.
    assert acme["read_only"] is True and acme["cap_drop"] == ["ALL"] and acme["user"] == "101"
    assert "ports" not in acme and acme["networks"] == ["site", "monitor"]  # its renewals are read there
    assert acme["labels"]["io.hakobune.acme-metrics-port"] == "9102"
    assert acme["environment"]["ACME_SITE"] == "shop" and acme["environment"]["ACME_SITE_HOSTS"] == "shop.example.com"
    assert acme["volumes"] == ["acme:/var/lib/hakobune/acme", "tls:/var/lib/hakobune/tls",
                               "acme-challenge:/srv/acme-challenge"]
    # The web server answers the challenges (read-only) and never sees the account and its state.
    assert web["environment"]["SITE_ACME"] == "on" and web["environment"]["NGINX_HSTS_MAX_AGE"] == "63072000"
    mine = compose_document(replace(site, settings={"NGINX_HSTS_MAX_AGE": "300"}))["services"]["web"]
    assert mine["environment"]["NGINX_HSTS_MAX_AGE"] == "300"  # the user's setting wins
    assert "acme-challenge:/srv/acme-challenge:ro" in web["volumes"]
    assert not any(v.startswith("acme:") for v in web["volumes"])
    assert doc["volumes"]["acme-challenge"]["driver_opts"]["type"] == "tmpfs"
    assert "driver_opts" not in doc["volumes"]["acme"]
    plain = compose_document(SITE)
    assert "acme" not in plain["services"] and "SITE_ACME" not in plain["services"]["web"]["environment"]
    assert "acme" not in plain["volumes"] and "acme-challenge" not in plain["volumes"]


def test_a_site_with_ports_of_its_own_redirects_its_aliases_itself_and_behind_the_edge_the_edge_does():
    aliases = {"www.shop.example.com": "serve", "old.example.com": "301", "a.example.com": "308",
               "b.example.com": "308"}
    web = compose_document(replace(SITE, aliases=aliases))["services"]["web"]["environment"]
    assert (web["SITE_ALIASES"], web["SITE_REDIRECT_301"], web["SITE_REDIRECT_308"]) == \
        ("www.shop.example.com", "old.example.com", "a.example.com b.example.com")
    routed = replace(SITE, aliases=aliases, edge=True, edge_subnet="172.30.0.0/24")
    web = compose_document(routed)["services"]["web"]["environment"]
    assert web["SITE_ALIASES"] == "www.shop.example.com" and not any(k.startswith("SITE_REDIRECT") for k in web)
