#!/bin/sh
# Render my.cnf from the environment; on the first start initialise the data directory and
# create the network root account from MARIADB_ROOT_PASSWORD(_FILE); then run mariadbd.
set -eu
# shellcheck source=images/common/hakobune-lib.sh
. /usr/local/lib/hakobune/hakobune-lib.sh

hb_match MARIADB_INNODB_BUFFER_POOL_SIZE auto '^(auto|[0-9]+[kKmMgG]?)$' "must be 'auto' or a size like 128M or 1G"
hb_size MARIADB_INNODB_LOG_FILE_SIZE 96M 4M
hb_match MARIADB_MAX_CONNECTIONS auto '^(auto|[1-9][0-9]*)$' "must be 'auto' or a whole number (at least 1)"
hb_enum MARIADB_SLOW_QUERY_LOG 0 0 1
hb_uint MARIADB_LONG_QUERY_TIME 2 0
hb_secret MARIADB_ROOT_PASSWORD
[ "$MARIADB_INNODB_BUFFER_POOL_SIZE" = auto ] \
    || [ "$(hb_bytes "$MARIADB_INNODB_BUFFER_POOL_SIZE")" -ge "$(hb_bytes 8M)" ] \
    || hb_invalid MARIADB_INNODB_BUFFER_POOL_SIZE "$MARIADB_INNODB_BUFFER_POOL_SIZE" "must be at least 8M"
[ "$MARIADB_MAX_CONNECTIONS" = auto ] || [ "$MARIADB_MAX_CONNECTIONS" -le 100000 ] \
    || hb_invalid MARIADB_MAX_CONNECTIONS "$MARIADB_MAX_CONNECTIONS" "must be at most 100000"
hb_checked

# 'auto': from the container's memory limit. InnoDB's buffer pool gets half of it (at least 64M), and each
# connection is reckoned at 8 MB of the rest (20-1000). Without a limit: MariaDB's defaults, 128M and 151.
memory=$(hb_memory_limit_mb)
if [ "$MARIADB_INNODB_BUFFER_POOL_SIZE" = auto ]; then
    if [ -n "$memory" ]; then
        MARIADB_INNODB_BUFFER_POOL_SIZE="$(hb_clamp $((memory / 2)) 64 1048576)M"
    else
        MARIADB_INNODB_BUFFER_POOL_SIZE=128M
    fi
fi
if [ "$MARIADB_MAX_CONNECTIONS" = auto ]; then
    if [ -n "$memory" ]; then
        MARIADB_MAX_CONNECTIONS=$(hb_clamp $((memory / 2 / 8)) 20 1000)
    else
        MARIADB_MAX_CONNECTIONS=151
    fi
fi

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
# No client may hand the server a file of its own (LOAD DATA LOCAL): a dump from elsewhere, loaded in the ops
# container, could otherwise send that container's secrets into a table.
local_infile = 0
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
