#!/bin/sh
# Shared by every Hakobune entrypoint: read settings from the environment, check them,
# and stop the container with one clear line when a value is wrong. Sourced, never run.

HB_RUN_DIR=${HB_RUN_DIR:-/run/hakobune}

# The TLS policy of every web server: Mozilla "intermediate" (TLS 1.2 and 1.3, ECDHE with AEAD suites only).
HB_TLS_CIPHERS=ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305
HB_TLS_CURVES=X25519:prime256v1:secp384r1
# What the web servers compress (gzip, brotli): text, never images that are compressed already.
HB_COMPRESS_TYPES="text/css text/plain text/xml application/javascript application/json application/xml application/rss+xml image/svg+xml"
export HB_TLS_CIPHERS HB_TLS_CURVES HB_COMPRESS_TYPES

hb_log() {
    echo "hakobune: $*" >&2
}

# One line naming the variable and the value, then stop: a wrong setting must never be ignored. A client that
# asked (HAKOBUNE_CHECK_ONLY=1) gets it as its answer too, one JSON line on stdout (src/hakobune/ops/contract.py).
hb_invalid() {
    name=$1; value=$2; want=$3
    hb_log "invalid ${name}='${value}': ${want}"
    if [ "${HAKOBUNE_CHECK_ONLY:-}" = 1 ]; then
        hb_json_failure "invalid ${name}='${value}': ${want}"
    fi
    exit 64
}

# hb_json_failure MESSAGE: the failure answer of ops/contract.py. Control characters are dropped (no value may
# hold one; a JSON string may not either), backslashes and quotes escaped.
hb_json_failure() {
    printf '{"error":"%s","hint":null,"kind":null}\n' "$(hb_json_text "$1")"
}

# hb_fail MESSAGE: a tool run with `docker exec` (hakobune-edge, hakobune-acme) stops: the line is logged and
# answered as ops/contract.py reads it, exit 1.
hb_fail() {
    hb_log "$1"
    hb_json_failure "$1"
    exit 1
}

# hb_json_text TEXT: TEXT inside a JSON string's quotes (control characters dropped).
hb_json_text() {
    printf '%s' "$1" | tr -d '\000-\037\177' | sed 's/\\/\\\\/g; s/"/\\"/g'
}

# hb_read_bundle FILE: standard input (at most 256 KiB) into FILE, readable by its owner alone; false, and no
# FILE, unless it holds a PEM certificate and the private key of its first certificate.
hb_read_bundle() {
    (umask 077; head -c 262144 >"$1")
    if openssl x509 -in "$1" -noout 2>/dev/null && hb_key_matches "$1" "$1"; then
        return 0
    fi
    rm -f "$1"
    return 1
}

# hb_key_matches CERT KEY: KEY (a PEM file) holds the private key of CERT's first certificate.
hb_key_matches() {
    _hb_public=$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null) || return 1
    [ -n "$_hb_public" ] && [ "$_hb_public" = "$(openssl pkey -in "$2" -pubout 2>/dev/null)" ]
}

# hb_certificate_json PEM: the first certificate in PEM as ops/certs.py reads it ({"issuer", "subject", "names",
# "serial", "not_after"}); null when there is none.
hb_certificate_json() {
    if ! openssl x509 -in "$1" -noout 2>/dev/null; then
        printf 'null'
        return 0
    fi
    printf '{"issuer":"%s","subject":"%s","names":"%s","serial":"%s","not_after":%s}' \
        "$(hb_json_text "$(openssl x509 -in "$1" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')")" \
        "$(hb_json_text "$(openssl x509 -in "$1" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')")" \
        "$(openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | sed -n 's/ *DNS://gp' | tr -d ' ' | tr ',' ' ')" \
        "$(openssl x509 -in "$1" -noout -serial | sed 's/^serial=//')" \
        "$(date -d "$(openssl x509 -in "$1" -noout -enddate | sed 's/^notAfter=//')" +%s)"
}

# hb_value FILE KEY: KEY's value in a file of KEY=VALUE lines (empty when the file or the key is missing).
hb_value() {
    sed -n "s/^$2=//p" "$1" 2>/dev/null | head -n 1
}

_hb_nl='
'

# hb_default NAME DEFAULT: give NAME its default when unset or empty. Every setting is one line of printable
# characters: a line break (or another control character) could smuggle directives into a rendered
# configuration file.
hb_default() {
    eval "_hb_v=\${$1:-}"
    case "$_hb_v" in
        *"$_hb_nl"*) hb_invalid "$1" "$_hb_v" "must be a single line" ;;
        *[[:cntrl:]]*) hb_invalid "$1" "(not shown)" "must not contain control characters" ;;
    esac
    if [ -z "$_hb_v" ]; then
        eval "$1=\$2"
    fi
    # shellcheck disable=SC2163 # NAME is the variable to export, by design
    export "$1"
}

# hb_uint NAME DEFAULT [MIN [MAX]]: a whole number within bounds.
hb_uint() {
    hb_default "$1" "$2"
    eval "_hb_v=\$$1"
    case "$_hb_v" in
        ''|*[!0-9]*) hb_invalid "$1" "$_hb_v" "must be a whole number" ;;
    esac
    if [ -n "${3:-}" ] && [ "$_hb_v" -lt "$3" ]; then
        hb_invalid "$1" "$_hb_v" "must be at least $3"
    fi
    if [ -n "${4:-}" ] && [ "$_hb_v" -gt "$4" ]; then
        hb_invalid "$1" "$_hb_v" "must be at most $4"
    fi
}

# hb_size NAME DEFAULT [MIN]: a size such as 64M, 1G or 512k (the form nginx, PHP and MariaDB all accept),
# at least MIN when given.
hb_size() {
    hb_default "$1" "$2"
    eval "_hb_v=\$$1"
    if ! printf '%s\n' "$_hb_v" | grep -Eq '^[0-9]+[kKmMgG]?$'; then
        hb_invalid "$1" "$_hb_v" "must be a size like 512k, 64M or 1G"
    fi
    if [ -n "${3:-}" ] && [ "$(hb_bytes "$_hb_v")" -lt "$(hb_bytes "$3")" ]; then
        hb_invalid "$1" "$_hb_v" "must be at least $3"
    fi
}

hb_bytes() {
    _hb_n=${1%[kKmMgG]}
    case "$1" in
        *[kK]) echo $((_hb_n * 1024)) ;;
        *[mM]) echo $((_hb_n * 1048576)) ;;
        *[gG]) echo $((_hb_n * 1073741824)) ;;
        *) echo "$_hb_n" ;;
    esac
}

# hb_enum NAME DEFAULT VALUE...: one of the listed values.
hb_enum() {
    _hb_name=$1
    hb_default "$1" "$2"
    eval "_hb_v=\$$1"
    shift 2
    for _hb_ok in "$@"; do
        [ "$_hb_v" = "$_hb_ok" ] && return 0
    done
    hb_invalid "$_hb_name" "$_hb_v" "must be one of: $*"
}

# hb_match NAME DEFAULT REGEX DESCRIPTION: free text that must match an extended regex.
hb_match() {
    hb_default "$1" "$2"
    eval "_hb_v=\$$1"
    if ! printf '%s\n' "$_hb_v" | grep -Eq "$3"; then
        hb_invalid "$1" "$_hb_v" "$4"
    fi
}

# hb_secret NAME: load NAME from the file named by NAME_FILE (Docker secrets), the official images' convention.
hb_secret() {
    eval "_hb_f=\${$1_FILE:-}"
    if [ -n "$_hb_f" ]; then
        [ -r "$_hb_f" ] || hb_invalid "$1_FILE" "$_hb_f" "file is missing or unreadable"
        eval "$1=\$(cat \"\$_hb_f\")"
    fi
    # Like every setting, one line of printable characters; the value itself never goes to the log.
    eval "_hb_v=\${$1:-}"
    case "$_hb_v" in
        *"$_hb_nl"*) hb_invalid "$1" "(hidden)" "must be a single line" ;;
        *[[:cntrl:]]*) hb_invalid "$1" "(hidden)" "must not contain control characters" ;;
    esac
}

# hb_render TEMPLATE OUTPUT VAR...: substitute only the listed variables, so nginx's own $variables survive.
hb_render() {
    _hb_tpl=$1; _hb_out=$2; shift 2
    _hb_list=""
    for _hb_name in "$@"; do
        _hb_list="$_hb_list \${$_hb_name}"
    done
    envsubst "$_hb_list" <"$_hb_tpl" >"$_hb_out"
}

# hb_option NAME CHOICE VAR...: an option of the web server's configuration, shipped as one snippet per choice
# (/etc/hakobune/options/NAME.CHOICE.conf, a template of VARs): the chosen one is rendered into
# $HB_RUN_DIR/options/NAME.conf, which the configuration includes.
hb_option() {
    _hb_option=$1; _hb_choice=$2; shift 2
    mkdir -p "$HB_RUN_DIR/options"
    hb_render "/etc/hakobune/options/$_hb_option.$_hb_choice.conf" "$HB_RUN_DIR/options/$_hb_option.conf" "$@"
}

# hb_on_off NUMBER: "on" when NUMBER is above 0, else "off" (options whose number 0 turns them off).
hb_on_off() {
    if [ "$1" -gt 0 ]; then echo on; else echo off; fi
}

# hb_given LIST: "on" when LIST (words separated by spaces) has a word, else "off".
hb_given() {
    case "$1" in *[![:space:]]*) echo on ;; *) echo off ;; esac
}

# After the checks: with HAKOBUNE_CHECK_ONLY=1 stop here, so a client can ask the image itself whether
# settings are valid before it changes a running site.
hb_checked() {
    if [ "${HAKOBUNE_CHECK_ONLY:-}" = 1 ]; then
        hb_log "settings are valid"
        exit 0
    fi
}

hb_prepare_run_dir() {
    mkdir -p "$HB_RUN_DIR"
}

# hb_self_signed_certificate FQDN [NAME...]: the web servers' certificate until the site gets a real one, for
# its primary name FQDN and its other NAMEs. Made on first start and kept in the tls volume; made again when it
# does not cover every name or has less than 30 days left (Mozilla: at most 366 days). ECDSA P-256. A
# certificate a CA signed (hakobune-tls install, a site's acme service) is the owner's: kept as it is (`hakobune
# cert status` warns before it expires).
hb_self_signed_certificate() {
    _hb_tls=/var/lib/hakobune/tls
    if [ -s "$_hb_tls/key.pem" ] && [ -s "$_hb_tls/cert.pem" ] \
        && [ "$(openssl x509 -in "$_hb_tls/cert.pem" -noout -issuer 2>/dev/null | sed 's/^issuer=//')" != \
             "$(openssl x509 -in "$_hb_tls/cert.pem" -noout -subject 2>/dev/null | sed 's/^subject=//')" ]; then
        return 0
    fi
    _hb_fresh=1
    if [ ! -s "$_hb_tls/cert.pem" ] || [ ! -s "$_hb_tls/key.pem" ] \
        || ! openssl x509 -in "$_hb_tls/cert.pem" -noout -checkend 2592000 >/dev/null 2>&1; then
        _hb_fresh=0
    fi
    _hb_names=""
    for _hb_name in "$@"; do
        _hb_names="$_hb_names${_hb_names:+,}DNS:$_hb_name"
        if ! openssl x509 -in "$_hb_tls/cert.pem" -noout -checkhost "$_hb_name" 2>/dev/null | grep -q 'does match'
        then
            _hb_fresh=0
        fi
    done
    if [ "$_hb_fresh" = 0 ]; then
        hb_log "creating a self-signed certificate for $*"
        (
            umask 077
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
                -subj "/CN=$1" -addext "subjectAltName=$_hb_names" -addext "basicConstraints=critical,CA:FALSE" \
                -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=serverAuth" \
                -keyout "$_hb_tls/key.pem.new" -out "$_hb_tls/cert.pem.new" 2>/dev/null
            mv "$_hb_tls/key.pem.new" "$_hb_tls/key.pem"
            mv "$_hb_tls/cert.pem.new" "$_hb_tls/cert.pem"
        )
    fi
}

# hb_redirects TEMPLATE OUT VAR...: OUT holds TEMPLATE (of VARs) once for each of SITE_REDIRECT_301 and
# SITE_REDIRECT_308 that has names, with HB_REDIRECT_CODE, HB_REDIRECT_NAMES and HB_REDIRECT_FIRST set; empty
# when neither has.
hb_redirects() {
    _hb_rtpl=$1; _hb_rout=$2; shift 2
    : >"$_hb_rout"
    for HB_REDIRECT_CODE in 301 308; do
        eval "HB_REDIRECT_NAMES=\$SITE_REDIRECT_$HB_REDIRECT_CODE"
        HB_REDIRECT_NAMES=$(printf '%s' "$HB_REDIRECT_NAMES" | tr -s ' ' | sed 's/^ //; s/ $//')
        [ -n "$HB_REDIRECT_NAMES" ] || continue
        HB_REDIRECT_FIRST=${HB_REDIRECT_NAMES%% *}
        export HB_REDIRECT_CODE HB_REDIRECT_NAMES HB_REDIRECT_FIRST
        hb_render "$_hb_rtpl" "$_hb_rout.part" HB_REDIRECT_CODE HB_REDIRECT_NAMES HB_REDIRECT_FIRST "$@"
        cat "$_hb_rout.part" >>"$_hb_rout"
        rm -f "$_hb_rout.part"
    done
}

# hb_public_port_suffix PORT: "" for 443, ":PORT" otherwise, as URLs write it.
hb_public_port_suffix() {
    if [ "$1" = 443 ]; then echo ""; else echo ":$1"; fi
}

# hb_memory_limit_mb: the memory limit given to this container, in MiB; empty when it has none. Settings left
# at 'auto' are derived from it (with no limit, the images keep fixed, modest defaults).
hb_memory_limit_mb() {
    _hb_limit=""
    if [ -r /sys/fs/cgroup/memory.max ]; then
        _hb_limit=$(cat /sys/fs/cgroup/memory.max)
    elif [ -r /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
        _hb_limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)
    fi
    case "$_hb_limit" in
        ''|max|*[!0-9]*) return 0 ;;
    esac
    # cgroup v1 writes "no limit" as a huge number (about 2^63).
    [ "${#_hb_limit}" -lt 16 ] || return 0
    echo $((_hb_limit / 1048576))
}

# PHP-FPM on a socket has two: PHP_FPM_LISTEN, and a spare beside it. During an upgrade a new php container
# starts while the old one still listens (hakobune upgrade): the new one takes the free socket, nginx falls back
# to the spare while the socket does not answer, and once the old one is gone the socket is made a link to the
# spare (hb_fpm_settle, from the healthcheck), so nginx's first choice answers again.

# hb_fpm_spare SOCKET: the spare of SOCKET (php.sock: php-2.sock).
hb_fpm_spare() {
    echo "${1%.sock}-2.sock"
}

# hb_fpm_answers WHERE: PHP-FPM answers its ping on WHERE (a socket, or HOST:PORT).
hb_fpm_answers() {
    case "$(SCRIPT_NAME=/.hakobune/ping SCRIPT_FILENAME=/.hakobune/ping REQUEST_METHOD=GET \
        cgi-fcgi -bind -connect "$1" 2>/dev/null)" in
        *pong*) return 0 ;;
    esac
    return 1
}

# hb_fpm_connect: where PHP-FPM's own tools (healthcheck, OPcache reset) reach it in its container: the socket
# its entrypoint chose, or its port.
hb_fpm_connect() {
    if [ -s "$HB_RUN_DIR/fpm-listen" ]; then
        cat "$HB_RUN_DIR/fpm-listen"
        return 0
    fi
    case "${PHP_FPM_LISTEN:-9000}" in
        /*) echo "$PHP_FPM_LISTEN" ;;
        *) echo "127.0.0.1:${PHP_FPM_LISTEN:-9000}" ;;
    esac
}

# hb_fpm_settle: PHP-FPM listens on the spare and nothing answers on the socket any more (the container it
# replaced is gone): the socket becomes a link to the spare.
hb_fpm_settle() {
    _hb_socket=${PHP_FPM_LISTEN:-}
    case "$_hb_socket" in /*) ;; *) return 0 ;; esac
    _hb_spare=$(hb_fpm_spare "$_hb_socket")
    [ "$(hb_fpm_connect)" = "$_hb_spare" ] || return 0
    [ "$(readlink "$_hb_socket" 2>/dev/null)" != "${_hb_spare##*/}" ] || return 0
    hb_fpm_answers "$_hb_socket" && return 0
    ln -sfn "${_hb_spare##*/}" "$_hb_socket.link" && mv -f "$_hb_socket.link" "$_hb_socket"
}

# hb_clamp VALUE MIN MAX
hb_clamp() {
    if [ "$1" -lt "$2" ]; then echo "$2"; elif [ "$1" -gt "$3" ]; then echo "$3"; else echo "$1"; fi
}
