"""Rendering: the Compose document and the ops helpers' requests."""

import yaml

from hakobune.render.compose import SECRET_ENV, compose_document, compose_environment, compose_yaml
from hakobune.render.wordpress import db_setup_request, install_request, seed_request
from hakobune.site import SITE_LABEL, Site, SiteSecrets

SITE = Site(name="shop", fqdn="shop.example.com", http_port=8080, tls_port=8443, wplang="ja")
SECRETS = SiteSecrets(admin_password="admin-password-1", db_password="db-password-1",
                      db_root_password="root-password-1")


def test_services_images_and_profile():
    doc = compose_document(SITE)
    assert doc["name"] == "hb-shop"
    assert set(doc["services"]) == {"web", "php", "db", "ops"}
    assert doc["services"]["ops"]["profiles"] == ["ops"]
    for name, image in {"web": "nginx", "php": "php", "db": "mariadb", "ops": "ops"}.items():
        assert doc["services"][name]["image"] == f"hakobune/{image}:{SITE.image_version}"


def test_only_the_web_ports_are_published():
    services = compose_document(SITE)["services"]
    assert services["web"]["ports"] == ["8080:8080", "8443:8443"]
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
    assert doc["secrets"] == {name: {"environment": env} for name, env in SECRET_ENV.items()}
    assert doc["services"]["db"]["environment"] == {"MARIADB_ROOT_PASSWORD_FILE": "/run/secrets/db_root_password"}


def test_compose_environment_carries_the_secrets():
    env = compose_environment(SECRETS.to_env())
    assert env == {
        "HAKOBUNE_SECRET_DB_ROOT_PASSWORD": "root-password-1",
        "HAKOBUNE_SECRET_DB_PASSWORD": "db-password-1",
    }


def test_ops_requests():
    assert db_setup_request(SITE) == {"db_host": "db", "db_name": "wordpress", "db_user": "wordpress"}
    seed = seed_request(SITE, SECRETS)
    assert seed["url"] == "https://shop.example.com:8443"
    assert seed["salts"] == list(SECRETS.salts)
    assert "db-password-1" not in str(seed)  # wp-config reads it from the container's secret
    install = install_request(SITE, SECRETS)
    assert install["admin_password"] == "admin-password-1"
    assert install["lang"] == "ja"
    assert install["title"] == "shop.example.com"
