"""The site model: settings, their defaults and their validation. Pure: no files, no Docker."""

from __future__ import annotations

import ipaddress
import re
import secrets
import string
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from hakobune.errors import InvalidInput
from hakobune.layout import DEFAULT_DB_PORT, WP_CRON_RUNNER
from hakobune.schedule import BACKUP_WORDS as BACKUP_WORD_EXPRESSIONS
from hakobune.schedule import MAX_JOBS, WORDPRESS_JOB, CronJob, backup_expression, check_expression

SITE_LABEL = "io.hakobune.site"
# Compose labels each container with its service (every one, a user's own too).
COMPOSE_SERVICE_LABEL = "com.docker.compose.service"
# What tells a site from another of the same name (another engine's, whose folder is at hand by mistake).
SITE_ID_LABEL = "io.hakobune.site-id"
SERVICE_LABEL = "io.hakobune.service"
URL_LABEL = "io.hakobune.url"
# The engine's monitoring network: each site's metrics service on it, labelled with the port it serves on, is
# what Prometheus scrapes (`hakobune monitor`). Internal: nothing on it reaches out.
MONITOR_NETWORK = "hakobune-monitor"
MONITOR_NETWORK_LABEL = "io.hakobune.monitor"
METRICS_PORT_LABEL = "io.hakobune.metrics-port"
# On an acme service (the edge's, a site's own): the port of its renewals' metrics (images/edge/acme.sh), which
# the monitoring stack reads as they come, labelled by the site each sample names.
ACME_METRICS_PORT_LABEL = "io.hakobune.acme-metrics-port"
ACME_METRICS_PORT = 9102
METRICS_PORT = 9100
IMAGE_NAMES = ("nginx", "httpd", "php", "mariadb", "valkey", "metrics", "ops", "edge", "monitor")
WEB_SERVERS = ("nginx", "httpd")
# Image settings of each web server start with its own prefix.
WEB_PREFIX = {"nginx": "NGINX_", "httpd": "HTTPD_"}
MIN_PASSWORD_LENGTH = 8
SALT_NAMES = (
    "AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY",
    "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT",
)

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_ADMIN_USER = re.compile(r"^[A-Za-z0-9._@-]{1,60}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_WPLANG = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?(_[a-z0-9]+)?$")
_DB_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
_DB_USER = re.compile(r"^[A-Za-z0-9_]{1,32}$")
_SITE_ID = re.compile(r"^([0-9a-f]{32})?$")
# Image settings (environment variables) by prefix -> the service whose container takes them.
SERVICES = ("web", "php", "db", "valkey")  # the long-running services of a site's stack
# Started for a job, never by `up`: ops (backups, restores, the database's setup) and wp (WordPress work).
ONE_SHOT_SERVICES = ("ops", "wp")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_IMAGE_REF = re.compile(r"^[a-z0-9][a-z0-9._/-]{0,200}(:[A-Za-z0-9._-]{1,128})?$")
PROFILES = ("wp", "lamp")
# `backup schedule`: off, a word (hourly, daily: in the 03:00 hour) at the site's own minute, or a cron expression
BACKUP_WORDS = ("off", *BACKUP_WORD_EXPRESSIONS)
MAX_KEEP = 1000  # a WordPress site, or a plain PHP application with a database
SETTING_SERVICES = {"NGINX_": "web", "HTTPD_": "web", "PHP_": "php", "MARIADB_": "db", "VALKEY_": "valkey"}
# Memory and process-count limits of each service's containers, so that one site cannot starve the host or its
# neighbours (a plugin's leak, a fork bomb, a cache that grows). php and db get their memory from the host when
# a site is made (ops/provision.py), the others these; PHP's, MariaDB's and valkey's own sizes follow the limit
# their container has (images/*/entrypoint.sh). `hakobune limits set` changes any of them.
LIMITED_SERVICES = (*SERVICES, "cron", "metrics", "backup", "acme", *ONE_SHOT_SERVICES)
DEFAULT_MEMORY = {"web": "256M", "php": "1G", "db": "1G", "valkey": "256M", "cron": "512M", "metrics": "256M",
                  "backup": "1G", "acme": "128M", "ops": "1G", "wp": "1G"}
MIN_MEMORY = {"web": "64M", "php": "256M", "db": "256M", "valkey": "32M", "cron": "128M", "metrics": "64M",
              "backup": "128M", "acme": "64M", "ops": "128M", "wp": "128M"}
DEFAULT_PIDS = {"web": 2048, "php": 512, "db": 2048, "valkey": 128, "cron": 256, "metrics": 128, "backup": 256,
                "acme": 64, "ops": 256, "wp": 256}
MIN_PIDS = 32
HOST_SHARE = ("php", "db")  # a quarter of the engine's memory each, between 512M and 4G
NGINX_CACHE_MAX_SIZE = "256M"  # the nginx image's default; its page cache lives in the web container's memory
SIZE = re.compile(r"^([0-9]+)([kKmMgG]?)$")
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_SECRET_ALPHABET = string.ascii_letters + string.digits
_SALT_ALPHABET = string.ascii_letters + string.digits + "!#$%()*+,-./:;<=>?@[]^_{|}~"


def size_bytes(value: str) -> int:
    match = SIZE.fullmatch(value)
    if not match:
        raise ValueError(value)
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def _limits(limits: object) -> dict[str, dict[str, str | int]]:
    """LIMITS as the model keeps them ({service: {memory: SIZE, pids: N}}), each checked."""
    if not isinstance(limits, dict):
        raise InvalidInput("limits must be a mapping of services")
    checked: dict[str, dict[str, str | int]] = {}
    for service, entry in limits.items():
        if service not in LIMITED_SERVICES:
            raise InvalidInput(f"'{service}' has no limits", f"services: {', '.join(LIMITED_SERVICES)}")
        if not isinstance(entry, dict) or set(entry) - {"memory", "pids"}:
            raise InvalidInput(f"the limits of {service} are memory and pids")
        kept: dict[str, str | int] = {}
        if "memory" in entry:
            kept["memory"] = validate_memory(service, str(entry["memory"]))
        if "pids" in entry:
            kept["pids"] = validate_pids(service, entry["pids"])
        if kept:
            checked[str(service)] = kept
    return checked


def validate_memory(service: str, value: str) -> str:
    if not SIZE.fullmatch(value) or size_bytes(value) < size_bytes(MIN_MEMORY[service]):
        raise InvalidInput(f"{service}.memory '{value}' is not a size of at least {MIN_MEMORY[service]}",
                           "e.g. 512M or 2G")
    return value


def validate_pids(service: str, value: object) -> int:
    if isinstance(value, bool) or not str(value).isdigit() or int(str(value)) < MIN_PIDS:
        raise InvalidInput(f"{service}.pids '{value}' is not a number of processes of at least {MIN_PIDS}")
    return int(str(value))


def validate_name(name: str) -> str:
    if "/" in name or ".." in name or "\\" in name:
        raise InvalidInput(
            f"TARGET '{name}' must be a plain folder name, not a path",
            "the site folder is created in the current directory",
        )
    if not _NAME.match(name):
        raise InvalidInput(
            f"TARGET '{name}' is not a valid site name",
            "use 1-40 lowercase letters, digits, '-' or '_', starting with a letter or digit",
        )
    return name


def validate_fqdn(fqdn: str, option: str = "--fqdn") -> str:
    host = fqdn.strip().rstrip(".").lower()
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        raise InvalidInput(f"{option} '{fqdn}' is an IP address", "give the site's host name, e.g. example.com")
    labels = host.split(".")
    if (
        not host
        or len(host) > 253
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise InvalidInput(f"{option} '{fqdn}' is not a valid host name", "e.g. www.example.com or localhost")
    return host


ALIAS_MODES = ("serve", "301", "308")  # an alias is served as the site, or redirected with this status
MAX_NAMES = 100  # names in one certificate: Let's Encrypt's limit


def _aliases(aliases: object, fqdn: str) -> dict[str, str]:
    """ALIASES as the model keeps them ({name: mode}, in the order given), each checked."""
    if not isinstance(aliases, dict):
        raise InvalidInput("aliases must be a mapping of host names to serve, 301 or 308")
    checked: dict[str, str] = {}
    for name, mode in aliases.items():
        host = validate_fqdn(str(name), "alias")
        if str(mode) not in ALIAS_MODES:
            raise InvalidInput(f"alias {host}: '{mode}' is not one of {', '.join(ALIAS_MODES)}")
        if host == fqdn or host in checked:
            raise InvalidInput(f"{host} is a name of the site already")
        checked[host] = str(mode)
    if len(checked) + 1 > MAX_NAMES:
        raise InvalidInput(f"a site has at most {MAX_NAMES} names (one certificate covers them all)")
    return checked


def validate_port(option: str, port: int) -> int:
    if not 1 <= port <= 65535:
        raise InvalidInput(f"{option} {port} is out of range", "ports are 1-65535")
    return port


# What ends a line somewhere (a file read line by line, an env file, YAML, a shell): never inside one value.
_LINE_BREAKS = "\x85\u2028\u2029"


def has_control_characters(value: str) -> bool:
    """ASCII's control characters, line breaks among them, as the entrypoints' [[:cntrl:]] sees them."""
    return any(ch < " " or ch == "\x7f" for ch in value)


def validate_line(what: str, value: str) -> str:
    """VALUE is one line of printable text: it reaches secrets.env, compose.yaml or an entrypoint, where a line
    break or another control character would start a second value (or a directive)."""
    if has_control_characters(value) or any(ch in _LINE_BREAKS for ch in value):
        raise InvalidInput(f"{what} must be one line, without control characters")
    return value


def validate_password(option: str, password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"{option} must be at least {MIN_PASSWORD_LENGTH} characters long")
    return validate_line(option, password)


def validate_keep(keep: int) -> int:
    if not 1 <= keep <= MAX_KEEP:
        raise InvalidInput(f"--keep {keep} must be 1 to {MAX_KEEP}", "it is how many archives of the site to keep")
    return keep


def validate_login(option: str, login: str) -> str:
    return _check(_ADMIN_USER, option, login, "use letters, digits and . _ @ - (at most 60)")


def validate_email(option: str, email: str) -> str:
    return _check(_EMAIL, option, email, "e.g. admin@example.com")


def _check(pattern: re.Pattern[str], option: str, value: str, hint: str) -> str:
    if not pattern.match(value):
        raise InvalidInput(f"{option} '{value}' is not valid", hint)
    return value


_SETTING_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


def validate_setting_name(name: str) -> str:
    """An image setting's name (an environment variable); returns its service."""
    if not isinstance(name, str) or not _SETTING_NAME.match(name):
        raise InvalidInput(f"'{name}' is not an image setting's name", "capital letters, digits and _")
    return service_of(name)


def service_of(setting: str) -> str:
    for prefix, service in SETTING_SERVICES.items():
        if setting.startswith(prefix):
            return service
    raise InvalidInput(f"'{setting}' is not an image setting",
                       "settings start with NGINX_, HTTPD_, PHP_, MARIADB_ or VALKEY_")


# Service -> the secret volume that holds its secret settings (the web server takes none).
SECRET_SETTINGS_VOLUME = {"php": "secrets-app", "db": "secrets-db"}


def secret_setting_file(name: str) -> tuple[str, str]:
    """(volume, file name) of a secret setting; the service reads it from the image's NAME_FILE."""
    return SECRET_SETTINGS_VOLUME[service_of(name)], name.lower()


def site_image_names(web: str) -> tuple[str, ...]:
    """The images a site runs: its web server's, PHP's, MariaDB's, valkey's, the metrics image and the ops image."""
    return (web, "php", "mariadb", "valkey", "metrics", "ops")


def new_site_id() -> str:
    return secrets.token_hex(16)


def generate_password(length: int = 24) -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(length))


def generate_salt() -> str:
    return "".join(secrets.choice(_SALT_ALPHABET) for _ in range(64))


@dataclass(frozen=True)
class Site:
    """A site's settings: everything needed to render its stack, and nothing secret."""

    name: str
    fqdn: str
    http_port: int = 80
    tls_port: int = 443
    profile: str = "wp"
    web: str = "nginx"
    title: str = ""
    admin_user: str = "admin"
    admin_email: str = ""
    wplang: str = "en_US"
    db_name: str = "wordpress"
    db_user: str = "wordpress"
    db_host: str = ""  # an external database server (DBaaS); empty: the stack's own MariaDB
    db_port: int = DEFAULT_DB_PORT
    db_tls: bool = False  # encrypt the connection to the external server
    images: dict[str, str] = field(default_factory=dict)  # image name -> the exact image the site runs
    settings: dict[str, str] = field(default_factory=dict)  # image settings the user changed (config set)
    secret_settings: tuple[str, ...] = ()  # secret image settings the user set: names only, values in the secrets
    backup_schedule: str = "off"  # backups by the stack's own `backup` service: off, a word or a cron expression
    backup_keep: int = 7  # how many of its archives that service keeps
    page_cache: bool | None = None  # nginx's page cache; None: on for WordPress on nginx, off otherwise
    object_cache: bool | None = None  # WordPress's object cache in the stack's valkey; None: on for WordPress
    fpm_socket: bool | None = None  # nginx reaches PHP-FPM on a unix socket; None: on for nginx
    # Made once, when the site is created, and carried by every resource it has on the engine: removal goes by
    # it. Empty for sites made before Hakobune 0.5 (those go by name).
    site_id: str = ""
    limits: dict[str, dict[str, str | int]] = field(default_factory=dict)  # what `limits set` changed
    host_memory: int = 0  # the engine's memory when the site was made, in bytes: php's and db's share of it
    # Behind the engine's shared edge (ports 80/443 for every site) instead of ports of its own. The edge reaches
    # the web container on a network of the site's own that holds just the two; its address range is the one
    # the web server believes forwarded headers from. http_port and tls_port are then the edge's.
    edge: bool = False
    edge_subnet: str = ""
    # The site's other names, with the certificate of its primary name (fqdn): each either served as the site
    # ("serve") or sent to the primary name with a 301 or 308 (by the edge; with ports of its own, by the site's
    # web server).
    aliases: dict[str, str] = field(default_factory=dict)
    # A site with ports of its own whose certificate comes from an ACME CA has an acme service of its own, which
    # runs the edge's image (lego): this is that image; empty: no such service. Behind the edge, the edge's acme
    # service gets the site's certificates.
    acme_image: str = ""
    # The site's own jobs (`hakobune cron add`), run by its cron service: CronJob.to_dict() of each.
    cron_jobs: list[dict[str, Any]] = field(default_factory=list)
    # Its images take cron schedules: the php image runs the cron service, the ops image backs up on a cron
    # expression (Hakobune 0.7 on). False for a site made before, until `upgrade` brings it such images.
    scheduler: bool = True
    # `cron hold`: no job runs, WordPress's events included (its page-load trigger stays off), until `cron release`.
    cron_held: bool = False
    # A metrics service (images/metrics) on the engine's monitoring network: Hakobune 0.7 on. False for a site made
    # before, until `upgrade` brings it the metrics image.
    metrics: bool = True

    def __post_init__(self) -> None:
        validate_name(self.name)
        object.__setattr__(self, "limits", _limits(self.limits))
        if isinstance(self.host_memory, bool) or not isinstance(self.host_memory, int) or self.host_memory < 0:
            raise InvalidInput(f"host_memory '{self.host_memory}' is not a number of bytes")
        if not isinstance(self.site_id, str) or not _SITE_ID.match(self.site_id):
            raise InvalidInput(f"site id '{self.site_id}' is not 32 hexadecimal digits")
        object.__setattr__(self, "fqdn", validate_fqdn(self.fqdn))
        validate_port("--http-port", self.http_port)
        validate_port("--tls-port", self.tls_port)
        if self.edge_subnet:
            try:
                ipaddress.ip_network(self.edge_subnet)
            except ValueError:
                raise InvalidInput(f"edge_subnet '{self.edge_subnet}' is not an address range") from None
        object.__setattr__(self, "aliases", _aliases(self.aliases, self.fqdn))
        if not isinstance(self.acme_image, str) or (self.acme_image and not _IMAGE_REF.match(self.acme_image)):
            raise InvalidInput(f"acme_image '{self.acme_image}' is not an image reference")
        if self.acme_image and self.edge:
            raise InvalidInput(f"site {self.name} is behind the edge, whose acme service gets its certificates",
                               "leave acme_image empty")
        if self.http_port == self.tls_port:
            raise InvalidInput(f"--http-port and --tls-port are both {self.tls_port}", "give two different ports")
        if self.profile not in PROFILES:
            raise InvalidInput(f"profile '{self.profile}' is not supported", "use --wp or --lamp")
        if self.web not in WEB_SERVERS:
            raise InvalidInput(f"web server '{self.web}' is not supported", "use --nginx or --httpd")
        if not self.title:
            object.__setattr__(self, "title", self.fqdn)
        if len(self.title) > 200:
            raise InvalidInput("--wp-title must be one line of at most 200 characters")
        validate_line("--wp-title", self.title)
        validate_login("--admin-user", self.admin_user)
        if not self.admin_email:
            domain = self.fqdn if "." in self.fqdn else "example.com"
            object.__setattr__(self, "admin_email", f"admin@{domain}")
        validate_email("--admin-email", self.admin_email)
        _check(_WPLANG, "--wplang", self.wplang, "a WordPress locale such as en_US, ja or de_DE")
        _check(_DB_NAME, "--dbname", self.db_name, "use letters, digits and _ (at most 64)")
        _check(_DB_USER, "--dbuser", self.db_user, "use letters, digits and _ (at most 32)")
        if self.db_host and not _HOST.match(self.db_host):
            raise InvalidInput(f"--dbhost '{self.db_host}' is not a host name or IPv4 address")
        validate_port("--dbport", self.db_port)
        if self.db_tls and not self.db_host:
            raise InvalidInput("--db-tls is for an external database", "give --dbhost too")
        needed = site_image_names(self.web)
        optional = {"valkey", "metrics"}  # sites made before the object cache, or before metrics
        if self.images and not set(needed) - optional <= set(self.images) <= set(needed):
            raise InvalidInput(f"a site runs the images {', '.join(needed)}; got {', '.join(sorted(self.images))}")
        other_web = [prefix for web, prefix in WEB_PREFIX.items() if web != self.web]
        for key, value in self.settings.items():
            validate_setting_name(key)
            if key.startswith(tuple(other_web)):
                raise InvalidInput(f"{key} is a setting of another web server; site {self.name} runs {self.web}")
            if not isinstance(value, str):
                raise InvalidInput(f"setting {key} must be text, not {type(value).__name__}")
            validate_line(f"setting {key}", value)
        if self.backup_schedule not in BACKUP_WORDS:
            object.__setattr__(self, "backup_schedule", check_expression(self.backup_schedule, "backup schedule"))
        object.__setattr__(self, "cron_jobs", [job.to_dict() for job in _jobs(self.cron_jobs)])
        if not self.scheduler and (self.cron_jobs or self.backup_schedule not in BACKUP_WORDS):
            raise InvalidInput(f"site {self.name} runs images from before cron schedules",
                               "upgrade it first: hakobune upgrade")
        validate_keep(self.backup_keep)
        if self.page_cache is None:
            object.__setattr__(self, "page_cache", self.wordpress and self.web == "nginx")
        if self.page_cache and self.web != "nginx":
            raise InvalidInput(f"site {self.name} runs {self.web}, which has no page cache",
                               "the page cache is nginx's")
        if self.object_cache is None:
            object.__setattr__(self, "object_cache", self.wordpress)
        if self.object_cache and not self.wordpress:
            raise InvalidInput(f"site {self.name} is not a WordPress site: the object cache is WordPress's")
        if self.object_cache and self.images and "valkey" not in self.images:
            raise InvalidInput(f"site {self.name} names no valkey image for its object cache",
                               "sites made before Hakobune 0.4 run without one")
        if self.metrics and self.images and "metrics" not in self.images:
            raise InvalidInput(f"site {self.name} names no metrics image", "sites made before Hakobune 0.7 run "
                               "without one until they are upgraded: hakobune upgrade")
        if self.fpm_socket is None:
            object.__setattr__(self, "fpm_socket", self.web == "nginx")
        if self.fpm_socket and self.web != "nginx":
            raise InvalidInput(f"site {self.name} runs {self.web}, which reaches PHP-FPM over TCP")
        object.__setattr__(self, "secret_settings", tuple(sorted(self.secret_settings)))
        for key in self.secret_settings:
            if validate_setting_name(key) == "web":  # the web server has no secret volume
                raise InvalidInput(f"{key}: the web server takes no secret settings")
            if key in self.settings:
                raise InvalidInput(f"{key} is both a plain and a secret setting")

    @property
    def external_db(self) -> bool:
        return bool(self.db_host)

    @property
    def services(self) -> tuple[str, ...]:
        """The services this site runs: no db when its database is external, no valkey without the object cache;
        cron for WordPress's due events and the site's own jobs; metrics; backup when scheduled; acme when it gets its
        certificate from a CA by itself."""
        running = tuple(s for s in SERVICES if not (s == "db" and self.external_db)
                        and not (s == "valkey" and not self.object_cache))
        scheduled = self.scheduler and not self.cron_held and (self.wordpress or self.cron_jobs)
        return (*running, *(("cron",) if scheduled else ()),
                *(("metrics",) if self.metrics else ()),
                *(("backup",) if self.backup_schedule != "off" else ()),
                *(("acme",) if self.acme_image else ()))

    @property
    def jobs(self) -> tuple[CronJob, ...]:
        """What the cron service runs: WordPress's due events every minute, then the site's own jobs."""
        if not self.scheduler:
            return ()
        wordpress = (CronJob(WORDPRESS_JOB, "* * * * *", ("php", WP_CRON_RUNNER)),) if self.wordpress else ()
        return (*wordpress, *_jobs(self.cron_jobs))

    @property
    def backup_cron(self) -> str:
        """When the backup service runs: a cron expression, or for older images their word."""
        if not self.scheduler:
            return self.backup_schedule
        return backup_expression(self.backup_schedule, self.site_id or self.name)

    @property
    def db_address(self) -> str:
        """Where PHP reaches the database, as WordPress's DB_HOST takes it."""
        if not self.external_db:
            return "db"
        return self.db_host if self.db_port == DEFAULT_DB_PORT else f"{self.db_host}:{self.db_port}"

    @property
    def wordpress(self) -> bool:
        return self.profile == "wp"

    @property
    def project(self) -> str:
        """The Compose project name: prefixed so a site never collides with the user's own projects."""
        return f"hb-{self.name}"

    @property
    def url(self) -> str:
        port = "" if self.tls_port == 443 else f":{self.tls_port}"
        return f"https://{self.fqdn}{port}"

    @property
    def hosts(self) -> tuple[str, ...]:
        """Every name of the site, its primary name first: the names its certificate covers."""
        return (self.fqdn, *self.aliases)

    @property
    def served_aliases(self) -> tuple[str, ...]:
        """The aliases the web server answers to as the site (the others are redirected)."""
        return tuple(name for name, mode in self.aliases.items() if mode == "serve")

    def redirected(self, code: str) -> tuple[str, ...]:
        """The aliases sent to the primary name with CODE."""
        return tuple(name for name, mode in self.aliases.items() if mode == code)

    @property
    def edge_network(self) -> str:
        """The network the edge reaches the web container on."""
        return f"{self.project}-edge"

    @property
    def edge_upstream(self) -> str:
        """The web container's name on that network, and its plain HTTP port."""
        return f"{self.project}-web:8080"

    def memory(self, service: str) -> str:
        """The memory limit of SERVICE's containers. nginx keeps its page cache in memory: its default makes room
        for the cache's largest size."""
        if "memory" in self.limits.get(service, {}):
            return str(self.limits[service]["memory"])
        if service in HOST_SHARE and self.host_memory:
            return f"{min(max(self.host_memory // 4, 512 * 2**20), 4 * 2**30) // 2**20}M"
        if service == "web" and self.page_cache:
            cache = size_bytes(self.settings.get("NGINX_CACHE_MAX_SIZE", NGINX_CACHE_MAX_SIZE))
            return f"{(size_bytes(DEFAULT_MEMORY['web']) + cache) // 2**20}M"
        return DEFAULT_MEMORY[service]

    def image_name(self, service: str) -> str:
        """The image SERVICE runs: the web server's, or the one named after the service's software."""
        names = {"web": self.web, "db": "mariadb", "cron": "php", "backup": "ops", "wp": "ops"}
        return names.get(service, service)

    def pids(self, service: str) -> int:
        return int(self.limits.get(service, {}).get("pids", DEFAULT_PIDS[service]))

    def image(self, name: str) -> str:
        try:
            return self.images[name]
        except KeyError:
            raise InvalidInput(f"site {self.name} names no {name} image") from None

    def settings_for(self, service: str) -> dict[str, str]:
        return {key: value for key, value in sorted(self.settings.items()) if service_of(key) == service}

    def secret_settings_for(self, service: str) -> tuple[str, ...]:
        return tuple(key for key in self.secret_settings if service_of(key) == service)

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "secret_settings": list(self.secret_settings)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Site:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput(f"unknown site settings: {', '.join(unknown)}")
        return cls(**data)


@dataclass(frozen=True)
class SiteSecrets:
    """Generated strong unless the user gives them; kept apart from the settings (mode 0600 on disk)."""

    db_root_password: str = field(default_factory=generate_password)
    db_password: str = field(default_factory=generate_password)
    admin_password: str = field(default_factory=generate_password)
    salts: tuple[str, ...] = field(default_factory=lambda: tuple(generate_salt() for _ in SALT_NAMES))
    settings: dict[str, str] = field(default_factory=dict)  # secret image settings (config set), by name

    def __post_init__(self) -> None:
        validate_password("--admin-pass", self.admin_password)
        validate_password("--dbpass", self.db_password)
        validate_password("database root password", self.db_root_password)
        if len(self.salts) != len(SALT_NAMES):
            raise InvalidInput(f"expected {len(SALT_NAMES)} WordPress salts, got {len(self.salts)}")
        for name, salt in zip(SALT_NAMES, self.salts, strict=True):
            if not isinstance(salt, str) or not salt:
                raise InvalidInput(f"WordPress salt {name} is empty")
            validate_line(f"WordPress salt {name}", salt)
        for key, value in self.settings.items():
            validate_setting_name(key)
            validate_line(f"secret setting {key}", value)

    def to_env(self) -> dict[str, str]:
        env = {
            "DB_ROOT_PASSWORD": self.db_root_password,
            "DB_PASSWORD": self.db_password,
            "ADMIN_PASSWORD": self.admin_password,
        }
        env.update({f"WP_{name}": salt for name, salt in zip(SALT_NAMES, self.salts, strict=True)})
        env.update(sorted(self.settings.items()))
        return env

    @classmethod
    def from_env(cls, env: dict[str, str]) -> SiteSecrets:
        try:
            return cls(
                db_root_password=env["DB_ROOT_PASSWORD"],
                db_password=env["DB_PASSWORD"],
                admin_password=env["ADMIN_PASSWORD"],
                salts=tuple(env[f"WP_{name}"] for name in SALT_NAMES),
                settings={key: value for key, value in env.items() if key.startswith(tuple(SETTING_SERVICES))},
            )
        except KeyError as missing:
            raise InvalidInput(f"the secrets file lacks {missing.args[0]}") from None


def _jobs(found: object) -> tuple[CronJob, ...]:
    """The site's own jobs, each checked; their ids are unique."""
    if not isinstance(found, list) or not all(isinstance(job, dict) for job in found):
        raise InvalidInput("cron_jobs must be a list of jobs")
    if len(found) > MAX_JOBS:
        raise InvalidInput(f"a site has at most {MAX_JOBS} jobs")
    jobs = tuple(CronJob.checked(str(job.get("id", "")), str(job.get("schedule", "")), job.get("command") or [])
                 for job in found)
    ids = [job.id for job in jobs]
    if len(set(ids)) != len(ids):
        raise InvalidInput("two jobs have the same id")
    return jobs
