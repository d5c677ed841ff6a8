<?php
// Paths, accounts and the archive's names that the client (src/hakobune/layout.py) and the Dockerfiles use too.
// Literal values only: tests/unit/test_layout.py reads them from here and holds the three equal.

const SITE_DIR = '/srv/site';
const DOCROOT = '/srv/site/public';
const BACKUP_DIR = '/srv/backups';
const STAGING = '/srv/site/.hb-restore';  // a restore's staged copy, in the site volume so the swap is a rename
const CORE_DIR = '/opt/hakobune/wordpress';
const LANG_DIR = '/opt/hakobune/wordpress-languages';
const SECRET_FILES = [
    'db_password' => '/run/secrets/app/db_password',
    'db_root_password' => '/run/secrets/db/db_root_password',
];
const SECRET_VOLUMES_MOUNT = '/srv';  // where the one-shot `secrets` service mounts them, to write them
const DEFAULT_DB_PORT = 3306;
const ARCHIVE_FORMAT = 1;
const ARCHIVE_MANIFEST = 'manifest.json';
const ARCHIVE_CHECKSUM = 'manifest.sha256';
const ARCHIVE_SETTINGS = 'site.yaml';
const ARCHIVE_DATABASE = 'database.sql.gz';
const ARCHIVE_FILES = 'files.tar.gz';
const ARCHIVE_PARTS = ['site.yaml', 'database.sql.gz', 'files.tar.gz'];  // the three above, in this order
