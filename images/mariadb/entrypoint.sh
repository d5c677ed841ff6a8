#!/bin/sh
# Render my.cnf from the environment; on the first start initialise the data directory and
# create the network root account from MARIADB_ROOT_PASSWORD(_FILE); then run mariadbd.
set -eu
# shellcheck source=images/common/hakobune-lib.sh
. /usr/local/lib/hakobune/hakobune-lib.sh

hb_size MARIADB_INNODB_BUFFER_POOL_SIZE 128M 8M
hb_size MARIADB_INNODB_LOG_FILE_SIZE 96M 4M
hb_uint MARIADB_MAX_CONNECTIONS 151 1 100000
hb_enum MARIADB_SLOW_QUERY_LOG 0 0 1
hb_uint MARIADB_LONG_QUERY_TIME 2 0
hb_secret MARIADB_ROOT_PASSWORD
hb_checked

hb_prepare_run_dir
cnf="$HB_RUN_DIR/my.cnf"
cat >"$cnf" <<CNF
# Rendered by the entrypoint from environment variables at every start.
[client-server]
socket = /run/mysqld/mysqld.sock

[mariadbd]
datadir = /var/lib/mysql
tmpdir = /tmp
bind-address = 0.0.0.0
port = 3306
skip-name-resolve
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
innodb_buffer_pool_size = $MARIADB_INNODB_BUFFER_POOL_SIZE
innodb_log_file_size = $MARIADB_INNODB_LOG_FILE_SIZE
max_connections = $MARIADB_MAX_CONNECTIONS
slow_query_log = $MARIADB_SLOW_QUERY_LOG
slow_query_log_file = /dev/stderr
long_query_time = $MARIADB_LONG_QUERY_TIME
log_error = /dev/stderr
CNF

# SQL string literal: double every backslash and single quote.
sql_quote() {
    printf "'%s'" "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/''/g")"
}

if [ ! -d /var/lib/mysql/mysql ]; then
    [ -n "${MARIADB_ROOT_PASSWORD:-}" ] \
        || hb_invalid MARIADB_ROOT_PASSWORD "" "must be set (or MARIADB_ROOT_PASSWORD_FILE) to initialise a new database"
    hb_log "initialising a new data directory"
    mariadb-install-db --defaults-file="$cnf" --user=mysql --skip-test-db --auth-root-authentication-method=socket >/dev/null
    # A private server without networking, so nobody reaches it before the root account exists.
    mariadbd --defaults-file="$cnf" --skip-networking --socket=/run/mysqld/init.sock &
    pid=$!
    i=0
    until mariadb --socket=/run/mysqld/init.sock -e 'SELECT 1' >/dev/null 2>&1; do
        i=$((i + 1))
        [ "$i" -lt 60 ] || { hb_log "the database server did not start"; exit 1; }
        sleep 1
    done
    mariadb --socket=/run/mysqld/init.sock <<SQL
CREATE USER 'root'@'%' IDENTIFIED BY $(sql_quote "$MARIADB_ROOT_PASSWORD");
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SHUTDOWN;
SQL
    wait "$pid" || true
    hb_log "data directory ready"
fi

if [ "$#" -eq 0 ]; then
    set -- mariadbd --defaults-file="$cnf"
fi
exec "$@"
