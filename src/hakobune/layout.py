"""Paths, accounts and the archive's names that the images use too. The PHP helpers say the same in
images/ops/helpers/lib/layout.php, the Dockerfiles in their own words; tests/unit/test_layout.py holds the three
equal."""

from __future__ import annotations

SITE_DIR = "/srv/site"  # the site volume, in the php, wp and ops containers (the web server's: read-only)
DOCROOT = "/srv/site/public"
BACKUP_DIR = "/srv/backups"  # the backups volume, in the ops container: archives kept on the engine
STAGING = "/srv/site/.hb-restore"  # a restore's staged copy, in the site volume so the swap is a rename
CORE_DIR = "/opt/hakobune/wordpress"  # the images' WordPress, which new sites get
LANG_DIR = "/opt/hakobune/wordpress-languages"
HELPER = "/opt/hakobune/helpers/hakobune.php"  # the PHP helpers' entry point, in the ops image
WP_CRON_RUNNER = "/opt/hakobune/wp-cron.php"  # WordPress's due events, run by the cron service (php image)
SECRETS_DIR = "/run/secrets"  # where services mount the secret volumes
# Where the one-shot `secrets` service mounts the secret volumes to write them: /srv/VOLUME.
SECRET_VOLUMES_MOUNT = "/srv"  # noqa: S105 - a folder, not a password
SECRET_FILES = {
    "db_password": "/run/secrets/app/db_password",
    "db_root_password": "/run/secrets/db/db_root_password",
}
RUN_DIR = "/run/hakobune"  # each image's rendered configuration, on a tmpfs
# nginx reaches PHP-FPM on a unix socket in a volume the two share (measured faster than TCP, see
# docs/performance.md); httpd on TCP.
FPM_SOCKET_DIR = "/run/hakobune-fpm"
FPM_SOCKET = "/run/hakobune-fpm/php.sock"
DEFAULT_DB_PORT = 3306

# The images' users, by name: their ids are what the Compose file runs each service as.
UIDS = {"hbweb": 101, "hbedge": 102, "www-data": 33, "mysql": 999, "valkey": 990, "hbmon": 103}

ARCHIVE_FORMAT = 1
ARCHIVE_MANIFEST = "manifest.json"
ARCHIVE_CHECKSUM = "manifest.sha256"
ARCHIVE_SETTINGS = "site.yaml"
ARCHIVE_DATABASE = "database.sql.gz"
ARCHIVE_FILES = "files.tar.gz"
ARCHIVE_PARTS = (ARCHIVE_SETTINGS, ARCHIVE_DATABASE, ARCHIVE_FILES)
