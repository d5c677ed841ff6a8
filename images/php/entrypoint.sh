#!/bin/sh
# Turn the environment into php.ini settings and a PHP-FPM pool, then run PHP-FPM in the foreground.
set -eu
# shellcheck source=images/common/hakobune-lib.sh
. /usr/local/lib/hakobune/hakobune-lib.sh

# WordPress itself asks for 40M (WP_MEMORY_LIMIT); below 64M its admin fails.
hb_size PHP_MEMORY_LIMIT 256M 64M
hb_size PHP_UPLOAD_MAX_FILESIZE 64M
hb_size PHP_POST_MAX_SIZE 64M
hb_uint PHP_MAX_EXECUTION_TIME 300 1
hb_match PHP_TIMEZONE UTC '^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$' "must be a time zone name such as UTC or Asia/Tokyo"
[ -f "/usr/share/zoneinfo/$PHP_TIMEZONE" ] || [ "$PHP_TIMEZONE" = UTC ] \
    || hb_invalid PHP_TIMEZONE "$PHP_TIMEZONE" "is not a known time zone"
hb_enum PHP_OPCACHE_ENABLE 1 1 0
hb_match PHP_OPCACHE_MEMORY auto '^(auto|[1-9][0-9]*)$' "must be 'auto' or a size in MB (at least 8)"
hb_enum PHP_OPCACHE_VALIDATE_TIMESTAMPS 0 0 1
hb_enum PHP_OPCACHE_JIT tracing off tracing function
hb_uint PHP_OPCACHE_JIT_BUFFER 64 1 4096
hb_enum PHP_FPM_PM dynamic dynamic static ondemand
hb_match PHP_FPM_LISTEN 9000 '^([1-9][0-9]{0,4}|/run/hakobune-fpm/[A-Za-z0-9._-]+[.]sock)$' "must be a port, or /run/hakobune-fpm/NAME.sock"
hb_match PHP_FPM_MAX_CHILDREN auto '^(auto|[1-9][0-9]*)$' "must be 'auto' or a whole number (at least 1)"
hb_match PHP_FPM_START_SERVERS auto '^(auto|[1-9][0-9]*)$' "must be 'auto' or a whole number (at least 1)"
hb_match PHP_FPM_MIN_SPARE_SERVERS auto '^(auto|[1-9][0-9]*)$' "must be 'auto' or a whole number (at least 1)"
hb_match PHP_FPM_MAX_SPARE_SERVERS auto '^(auto|[1-9][0-9]*)$' "must be 'auto' or a whole number (at least 1)"
hb_uint PHP_FPM_MAX_REQUESTS 500 0
hb_match PHP_SMTP_HOST "" '^([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)?$' "must be a host name, or empty for no mail relay"
hb_uint PHP_SMTP_PORT 587 1 65535
hb_enum PHP_SMTP_TLS starttls starttls tls off
hb_match PHP_SMTP_USER "" '^[A-Za-z0-9._@+=-]*$' "must be a user name (letters, digits and . _ @ + = -)"
hb_match PHP_SMTP_FROM "" '^([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+)?$' "must be an e-mail address, or empty to keep the sender's"
hb_secret PHP_SMTP_PASSWORD
hb_enum PHP_WP_UPDATES on on off
[ "$PHP_OPCACHE_MEMORY" = auto ] || [ "$PHP_OPCACHE_MEMORY" -ge 8 ] \
    || hb_invalid PHP_OPCACHE_MEMORY "$PHP_OPCACHE_MEMORY" "must be 'auto' or a size in MB (at least 8)"

# 'auto': from the container's memory limit. OPcache gets an eighth (64-256 MB); each PHP process is reckoned
# at 64 MB (WordPress pages typically take 30-60), after OPcache, the JIT's buffer and 64 MB for the master;
# and no more than 8 processes per CPU, as PHP's work is mostly CPU. Without a limit: 128 MB and 10 processes.
memory=$(hb_memory_limit_mb)
cpus=$(nproc)
jit_buffer=$(if [ "$PHP_OPCACHE_JIT" = off ]; then echo 0; else echo "$PHP_OPCACHE_JIT_BUFFER"; fi)
if [ -n "$memory" ]; then
    opcache_auto=$(hb_clamp $((memory / 8)) 64 256)
    [ "$PHP_OPCACHE_MEMORY" = auto ] && PHP_OPCACHE_MEMORY=$opcache_auto
    children_auto=$(hb_clamp $(((memory - PHP_OPCACHE_MEMORY - jit_buffer - 64) / 64)) 2 $((cpus * 8)))
else
    [ "$PHP_OPCACHE_MEMORY" = auto ] && PHP_OPCACHE_MEMORY=128
    children_auto=10
fi
[ "$PHP_FPM_MAX_CHILDREN" = auto ] && PHP_FPM_MAX_CHILDREN=$children_auto
[ "$PHP_FPM_MIN_SPARE_SERVERS" = auto ] && PHP_FPM_MIN_SPARE_SERVERS=1
start_most=$PHP_FPM_MAX_CHILDREN
[ "$PHP_FPM_MAX_SPARE_SERVERS" = auto ] || start_most=$(hb_clamp "$PHP_FPM_MAX_SPARE_SERVERS" 1 "$start_most")
[ "$PHP_FPM_START_SERVERS" = auto ] \
    && PHP_FPM_START_SERVERS=$(hb_clamp "$cpus" "$PHP_FPM_MIN_SPARE_SERVERS" "$start_most")
[ "$PHP_FPM_MAX_SPARE_SERVERS" = auto ] \
    && PHP_FPM_MAX_SPARE_SERVERS=$(hb_clamp $((cpus * 2)) "$PHP_FPM_START_SERVERS" "$PHP_FPM_MAX_CHILDREN")
# PHP-FPM refuses to start unless min spare <= start <= max spare <= max children.
if [ "$PHP_FPM_PM" = dynamic ]; then
    [ "$PHP_FPM_MIN_SPARE_SERVERS" -le "$PHP_FPM_MAX_CHILDREN" ] || hb_invalid PHP_FPM_MIN_SPARE_SERVERS \
        "$PHP_FPM_MIN_SPARE_SERVERS" "must not exceed PHP_FPM_MAX_CHILDREN ($PHP_FPM_MAX_CHILDREN)"
    [ "$PHP_FPM_START_SERVERS" -le "$PHP_FPM_MAX_CHILDREN" ] || hb_invalid PHP_FPM_START_SERVERS \
        "$PHP_FPM_START_SERVERS" "must not exceed PHP_FPM_MAX_CHILDREN ($PHP_FPM_MAX_CHILDREN)"
    [ "$PHP_FPM_MAX_SPARE_SERVERS" -le "$PHP_FPM_MAX_CHILDREN" ] || hb_invalid PHP_FPM_MAX_SPARE_SERVERS \
        "$PHP_FPM_MAX_SPARE_SERVERS" "must not exceed PHP_FPM_MAX_CHILDREN ($PHP_FPM_MAX_CHILDREN)"
    [ "$PHP_FPM_MIN_SPARE_SERVERS" -le "$PHP_FPM_MAX_SPARE_SERVERS" ] || hb_invalid PHP_FPM_MIN_SPARE_SERVERS \
        "$PHP_FPM_MIN_SPARE_SERVERS" "must not exceed PHP_FPM_MAX_SPARE_SERVERS ($PHP_FPM_MAX_SPARE_SERVERS)"
    [ "$PHP_FPM_START_SERVERS" -ge "$PHP_FPM_MIN_SPARE_SERVERS" ] \
        && [ "$PHP_FPM_START_SERVERS" -le "$PHP_FPM_MAX_SPARE_SERVERS" ] || hb_invalid PHP_FPM_START_SERVERS \
        "$PHP_FPM_START_SERVERS" "must be between PHP_FPM_MIN_SPARE_SERVERS and PHP_FPM_MAX_SPARE_SERVERS"
fi
[ "$(hb_bytes "$PHP_POST_MAX_SIZE")" -ge "$(hb_bytes "$PHP_UPLOAD_MAX_FILESIZE")" ] || hb_invalid PHP_POST_MAX_SIZE \
    "$PHP_POST_MAX_SIZE" "must be at least PHP_UPLOAD_MAX_FILESIZE ($PHP_UPLOAD_MAX_FILESIZE), or uploads fail"
hb_checked

hb_prepare_run_dir
mkdir -p "$HB_RUN_DIR/php"
cat >"$HB_RUN_DIR/php/99-hakobune.ini" <<INI
; Rendered by the entrypoint from environment variables at every start.
memory_limit = $PHP_MEMORY_LIMIT
upload_max_filesize = $PHP_UPLOAD_MAX_FILESIZE
post_max_size = $PHP_POST_MAX_SIZE
max_execution_time = $PHP_MAX_EXECUTION_TIME
date.timezone = $PHP_TIMEZONE
expose_php = Off
opcache.enable = $PHP_OPCACHE_ENABLE
opcache.enable_cli = 0
opcache.memory_consumption = $PHP_OPCACHE_MEMORY
opcache.interned_strings_buffer = 16
opcache.max_accelerated_files = 20000
; 0 (production): compiled files are never checked against the disk; deploys and restores empty the cache.
opcache.validate_timestamps = $PHP_OPCACHE_VALIDATE_TIMESTAMPS
opcache.revalidate_freq = 0
opcache.jit = $(if [ "$PHP_OPCACHE_JIT" = off ]; then echo disable; else echo "$PHP_OPCACHE_JIT"; fi)
opcache.jit_buffer_size = ${jit_buffer}M
; The root filesystem is read-only: sessions and uploads in progress go to the /tmp tmpfs.
session.save_path = /tmp
upload_tmp_dir = /tmp
sys_temp_dir = /tmp
INI

# Outgoing mail: PHP's mail() hands messages to msmtp, which relays them to PHP_SMTP_HOST. Without a relay
# mail() fails (and WordPress says so) instead of losing messages silently.
if [ -n "$PHP_SMTP_HOST" ]; then
    (
        umask 077
        {
            echo "# Rendered by the entrypoint from environment variables at every start."
            echo "account default"
            echo "host $PHP_SMTP_HOST"
            # shellcheck disable=SC2153 # set by hb_uint above
            echo "port $PHP_SMTP_PORT"
            echo "logfile -"
            echo "syslog off"
            case "$PHP_SMTP_TLS" in
                starttls) printf 'tls on\ntls_starttls on\n' ;;
                tls) printf 'tls on\ntls_starttls off\n' ;;
                off) echo "tls off" ;;
            esac
            echo "tls_trust_file /etc/ssl/certs/ca-certificates.crt"
            if [ -n "$PHP_SMTP_USER" ]; then
                # msmtp reads the password from a file of its own (this tmpfs, mode 0600): any printable
                # password works as given, with no quoting rules of msmtprc to get wrong.
                printf '%s' "${PHP_SMTP_PASSWORD:-}" >"$HB_RUN_DIR/smtp-password"
                printf 'auth on\nuser %s\npasswordeval "cat %s/smtp-password"\n' "$PHP_SMTP_USER" "$HB_RUN_DIR"
            fi
            if [ -n "$PHP_SMTP_FROM" ]; then echo "from $PHP_SMTP_FROM"; fi
        } >"$HB_RUN_DIR/msmtprc"
    )
    from_flag="--read-envelope-from"
    [ -n "$PHP_SMTP_FROM" ] && from_flag=""
    echo "sendmail_path = \"/usr/bin/msmtp -C $HB_RUN_DIR/msmtprc $from_flag -t\"" >>"$HB_RUN_DIR/php/99-hakobune.ini"
else
    echo "sendmail_path = /bin/false" >>"$HB_RUN_DIR/php/99-hakobune.ini"
fi

# A socket another php container still answers on (an upgrade starts the new one beside it) is left to it:
# this one takes the spare (hb_fpm_spare in hakobune-lib.sh). A socket that is a link to the spare was left by
# the previous upgrade: it is taken back.
listen=$PHP_FPM_LISTEN
case "$PHP_FPM_LISTEN" in
    /*)
        [ ! -L "$PHP_FPM_LISTEN" ] || rm -f "$PHP_FPM_LISTEN"
        if hb_fpm_answers "$PHP_FPM_LISTEN"; then
            listen=$(hb_fpm_spare "$PHP_FPM_LISTEN")
            if hb_fpm_answers "$listen"; then
                hb_log "PHP-FPM already answers on $PHP_FPM_LISTEN and on $listen: two php containers run"
                exit 1
            fi
            hb_log "$PHP_FPM_LISTEN is still served by the container this one replaces: listening on $listen"
        fi
        printf '%s\n' "$listen" >"$HB_RUN_DIR/fpm-listen"
        ;;
esac

cat >"$HB_RUN_DIR/php-fpm.conf" <<CONF
; Rendered by the entrypoint from environment variables at every start.
[global]
pid = $HB_RUN_DIR/php-fpm.pid
error_log = /proc/self/fd/2
log_limit = 8192
daemonize = no

[www]
listen = $listen
$(case "$listen" in /*) echo "listen.mode = 0666" ;; esac)
pm = $PHP_FPM_PM
pm.max_children = $PHP_FPM_MAX_CHILDREN
pm.start_servers = $PHP_FPM_START_SERVERS
pm.min_spare_servers = $PHP_FPM_MIN_SPARE_SERVERS
pm.max_spare_servers = $PHP_FPM_MAX_SPARE_SERVERS
pm.max_requests = $PHP_FPM_MAX_REQUESTS
ping.path = /.hakobune/ping
ping.response = pong
; The pool's numbers, for the site's metrics service, on a listener of their own (never the site's): a
; busy pool still answers them.
pm.status_path = /.hakobune/status
pm.status_listen = 9001
catch_workers_output = yes
decorate_workers_output = no
clear_env = no
CONF

# Hakobune's must-use plugins follow the image: a site gets the image's own at every start, an upgraded one too.
# Only PHP-FPM's container puts them there: the cron service runs this image too, with a command.
mu_plugins=/srv/site/public/wp-content/mu-plugins
if [ "$#" -eq 0 ] && [ -d "$mu_plugins" ] && [ ! -L "$mu_plugins" ] && [ -w "$mu_plugins" ]; then
    for plugin in /opt/hakobune/mu-plugins/*.php; do
        cp "$plugin" "$mu_plugins/.hb-new" && mv -f "$mu_plugins/.hb-new" "$mu_plugins/${plugin##*/}"
    done
fi

if [ "$#" -eq 0 ]; then
    set -- php-fpm8.4 --nodaemonize --fpm-config "$HB_RUN_DIR/php-fpm.conf"
fi
exec "$@"
