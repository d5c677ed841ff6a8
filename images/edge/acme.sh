#!/bin/sh
# hakobune-acme: certificates from an ACME CA, with lego, for the sites behind the edge (in the edge's acme
# service) or for one site with ports of its own (in that site's acme service, ACME_SITE set).
#
# Behind the edge, lego answers the CA's HTTP-01 challenges on port 8402 of the edge's acme container, where the
# edge sends /.well-known/acme-challenge/ of the names it serves; a certificate obtained is put beside the route's
# and the edge reloads (hakobune-edge reload). Everything stays in the edge's volume, on the engine: account keys,
# certificate keys, the state of renewals.
#
# For a site with ports of its own, lego writes the challenges as files into a volume the site's web server
# answers them from on its plain port (SITE_ACME=on), and the certificate into the web server's tls volume, which
# the web server loads by itself within seconds (hakobune-tls refresh, from its healthcheck). Its account and
# renewal state stay in the service's own volume, which the web server never sees.
#
#   hakobune-acme configure SITE       SITE's CA from standard input (EMAIL=, DIRECTORY=, CA_CERT_B64=)
#   hakobune-acme issue SITE [NAME...] a certificate for the route's names now (a site's own service: and NAMEs
#                                      about to be added)
#   hakobune-acme renew SITE|--all [--force]
#                                      renew what is due (ACME_RENEW_DAYS before expiry, not while backing off
#                                      after a failure); --force: now
#   hakobune-acme forget SITE          drop SITE's CA settings, account and renewal state
#   hakobune-acme status               every route's certificate and renewal state, one JSON line
#   hakobune-acme daemon               renew what is due every ACME_RENEW_EVERY seconds, from a random offset
#   hakobune-acme health               the daemon has looked at the certificates lately
#   hakobune-acme metrics              every ACME site's renewals, in Prometheus's text format; the daemon serves
#                                      them on ACME_METRICS_PORT (when set) to the monitoring network
#
# A failure keeps the certificate that is served, is written down (status) and answers with one JSON line on
# stdout (src/hakobune/ops/contract.py), exit non-zero.
set -eu
# shellcheck source=images/common/hakobune-lib.sh
. /usr/local/lib/hakobune/hakobune-lib.sh

SITE_NAME='^[a-z0-9][a-z0-9_-]{0,39}$'
HOST_NAMES='^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?( [A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)*$'
ACME_SITE=${ACME_SITE:-}
if [ -z "$ACME_SITE" ]; then
    STATE=/var/lib/hakobune/edge
else
    STATE=/var/lib/hakobune/acme
    TLS=/var/lib/hakobune/tls
    WEBROOT=/srv/acme-challenge
fi
ROUTES=$STATE/routes
CERTS=$STATE/certs
ACME=$STATE/acme
CHALLENGE_PORT=8402
HEARTBEAT=$HB_RUN_DIR/acme.heartbeat
EMAIL='^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$'
DIRECTORY='^https://[A-Za-z0-9._:-]+(/[A-Za-z0-9._~/-]*)?$'
ACME_RENEW_DAYS=${ACME_RENEW_DAYS:-30}
ACME_RENEW_EVERY=${ACME_RENEW_EVERY:-3600}

now() {
    date +%s
}

# A site's own service has one route: its names, from the environment (the client sets them).
if [ -n "$ACME_SITE" ]; then
    printf '%s\n' "$ACME_SITE" | grep -Eq "$SITE_NAME" || hb_fail "ACME_SITE must be a site's name"
    printf '%s\n' "${ACME_SITE_HOSTS:-}" | grep -Eq "$HOST_NAMES" || hb_fail "ACME_SITE_HOSTS must be host names"
    mkdir -p "$ROUTES"
    printf 'HOSTS=%s\n' "$ACME_SITE_HOSTS" >"$ROUTES/$ACME_SITE.route.new"
    mv "$ROUTES/$ACME_SITE.route.new" "$ROUTES/$ACME_SITE.route"
fi

# served SITE: the certificate served for SITE.
served() {
    if [ -n "$ACME_SITE" ]; then echo "$TLS/cert.pem"; else echo "$CERTS/$1.pem"; fi
}

# serve SITE CRT KEY: serve the certificate CRT with KEY for SITE from now on; what was served before stays when
# that fails (and why is said on stdout).
serve() {
    if [ -n "$ACME_SITE" ]; then
        # The web server reloads once both are in place and match (hakobune-tls refresh).
        (umask 077; cp "$3" "$TLS/key.pem.new" && cp "$2" "$TLS/cert.pem.new") || return 1
        mv "$TLS/key.pem.new" "$TLS/key.pem"
        mv "$TLS/cert.pem.new" "$TLS/cert.pem"
        return 0
    fi
    pem=$CERTS/$1.pem
    [ -e "$pem" ] && cp -p "$pem" "$pem.previous"
    (umask 077; cat "$2" "$3" >"$pem.new")
    mv "$pem.new" "$pem"
    if ! out=$(hakobune-edge reload); then
        [ -e "$pem.previous" ] && mv "$pem.previous" "$pem"
        echo "the edge refused the new certificate: $(printf '%s' "$out" | cut -c1-300)"
        return 1
    fi
    rm -f "$pem.previous"
}

# challenge_options: how lego answers the CA's challenges: on the port the edge sends them to, or as files the
# site's web server serves.
challenge_options() {
    if [ -n "$ACME_SITE" ]; then echo "--http.webroot $WEBROOT"; else echo "--http.port :$CHALLENGE_PORT"; fi
}

configure() {
    site=$1
    [ -e "$ROUTES/$site.route" ] || hb_fail "no site $site is served here"
    email=""; directory=""; ca=""
    while IFS= read -r line; do
        case "$line" in
            EMAIL=*) email=${line#EMAIL=} ;;
            DIRECTORY=*) directory=${line#DIRECTORY=} ;;
            CA_CERT_B64=*) ca=${line#CA_CERT_B64=} ;;
            *) hb_fail "unknown ACME setting: $(printf '%s' "$line" | cut -c1-40)" ;;
        esac
    done
    printf '%s\n' "$email" | grep -Eq "$EMAIL" || hb_fail "EMAIL must be an e-mail address"
    printf '%s\n' "$directory" | grep -Eq "$DIRECTORY" || hb_fail "DIRECTORY must be an https:// URL"
    dir=$ACME/$site
    mkdir -p "$dir"
    if [ -n "$ca" ]; then
        if ! { printf '%s\n' "$ca" | base64 -d >"$dir/ca.pem.new" 2>/dev/null \
            && openssl x509 -in "$dir/ca.pem.new" -noout 2>/dev/null; }; then
            rm -f "$dir/ca.pem.new"
            hb_fail "CA_CERT_B64 is not a PEM certificate"
        fi
        mv "$dir/ca.pem.new" "$dir/ca.pem"
    else
        rm -f "$dir/ca.pem"
    fi
    # Another CA or address is another account: lego keeps accounts per CA and address in its folder.
    printf 'EMAIL=%s\nDIRECTORY=%s\n' "$email" "$directory" >"$dir/acme.conf.new"
    mv "$dir/acme.conf.new" "$dir/acme.conf"
    echo '{}'
}

# record SITE KEY=VALUE...: the renewal state of SITE, changed.
record() {
    file=$ACME/$1/state
    shift
    touch "$file"
    for pair in "$@"; do
        sed -i "/^${pair%%=*}=/d" "$file"
        printf '%s\n' "$pair" >>"$file"
    done
}

# one_line TEXT: lego's report cut to its last line, which says what went wrong (the CA's error for a name, or
# why the CA was not reached), without its timestamp.
one_line() {
    printf '%s\n' "$1" | grep -v '^[[:space:]]*$' | tail -n 1 \
        | sed 's#^[0-9]\{4\}/[0-9/]* [0-9:]* ##' | tr -s '\t ' '  ' | cut -c1-400
}

# obtain SITE: a certificate for every name of SITE's route, served once it is in place. Serialised: lego's
# challenge server takes the one port the edge sends challenges to.
obtain() {
    site=$1
    dir=$ACME/$site
    [ -s "$dir/acme.conf" ] || hb_fail "site $site has no ACME settings (hakobune cert issue --email ...)"
    hosts=$(hb_value "$ROUTES/$site.route" HOSTS)
    [ -n "$hosts" ] || hb_fail "no site $site is served here"
    # Names about to be added (hakobune domain): in the certificate too. Such a request failing leaves the
    # certificate served and its renewals as they were: it is not written down as a renewal's failure.
    pending=$(hb_value "$ROUTES/$site.route" PENDING)
    set --
    for host in $hosts $pending; do set -- "$@" -d "$host"; done
    primary=${hosts%% *}
    exec 8>"$ACME/.lock"
    flock -w 600 8 || hb_fail "another certificate request did not end within 10 minutes"
    [ -n "$pending" ] || record "$site" "LAST_ATTEMPT=$(now)"
    # shellcheck disable=SC2046 # challenge_options is two words, option and value
    if ! out=$(LEGO_CA_CERTIFICATES=$([ -s "$dir/ca.pem" ] && echo "$dir/ca.pem") \
        lego --accept-tos --email "$(hb_value "$dir/acme.conf" EMAIL)" --server "$(hb_value "$dir/acme.conf" DIRECTORY)" \
            --path "$dir/lego" --key-type ec256 --http $(challenge_options) --http-timeout 30 \
            --cert.timeout 60 "$@" run 2>&1); then
        failed "$site" "$(one_line "$out")"
    fi
    crt=$dir/lego/certificates/$primary.crt
    key=$dir/lego/certificates/$primary.key
    hb_key_matches "$crt" "$key" || failed "$site" "the CA's certificate does not match its key"
    out=$(serve "$site" "$crt" "$key") || failed "$site" "${out:-the certificate could not be put in place}"
    record "$site" "LAST_SUCCESS=$(now)" "FAILURES=0" "NEXT_TRY=0" "ERROR="
    hb_log "certificate for $hosts obtained from $(hb_value "$dir/acme.conf" DIRECTORY)"
}

# failed SITE MESSAGE: written down, the next try put off (5 minutes, doubling, at most 12 hours), reported.
# A request for names about to be added is only reported.
failed() {
    [ -z "$pending" ] || hb_fail "certificate for $1 not obtained: $2"
    failures=$(( $(hb_value "$ACME/$1/state" FAILURES || true) + 1 ))
    wait=$(( 300 << (failures > 8 ? 8 : failures - 1) ))
    [ "$wait" -le 43200 ] || wait=43200
    record "$1" "FAILURES=$failures" "NEXT_TRY=$(( $(now) + wait ))" "ERROR=$(printf '%s' "$2" | tr -d '\000-\037')"
    hb_fail "certificate for $1 not obtained: $2"
}

# due SITE: SITE's certificate is not from its CA yet, or has less than ACME_RENEW_DAYS left, or does not cover
# the route's names; and no back-off after a failure is running.
due() {
    next=$(hb_value "$ACME/$1/state" NEXT_TRY)
    [ "${next:-0}" -le "$(now)" ] || return 1
    [ -n "$(hb_value "$ACME/$1/state" LAST_SUCCESS)" ] || return 0
    pem=$(served "$1")
    openssl x509 -in "$pem" -noout -checkend $((ACME_RENEW_DAYS * 86400)) >/dev/null 2>&1 || return 0
    for host in $(hb_value "$ROUTES/$1.route" HOSTS); do
        openssl x509 -in "$pem" -noout -checkhost "$host" 2>/dev/null | grep -q 'does match' || return 0
    done
    return 1
}

renew() {
    site=$1; force=$2
    if [ "$force" = 1 ] || due "$site"; then
        obtain "$site"
    fi
}

# renew_all: every ACME site that is due, each in its own process (one failure does not stop the others).
renew_all() {
    status=0
    for conf in "$ACME"/*/acme.conf; do
        [ -e "$conf" ] || continue
        site=$(basename "$(dirname "$conf")")
        [ -e "$ROUTES/$site.route" ] || continue
        if due "$site"; then
            ( obtain "$site" ) >/dev/null || status=1
        fi
    done
    return "$status"
}

forget() {
    rm -rf "${ACME:?}/$1"
    echo '{}'
}

# status: {"certificates": [{"site", "hosts", "certificate": {...}, "acme": {...} | null}]}
status() {
    printf '{"certificates":['
    sep=""
    for route in "$ROUTES"/*.route; do
        [ -e "$route" ] || continue
        site=$(basename "$route" .route)
        pem=$(served "$site")
        printf '%s{"site":"%s","hosts":"%s","certificate":' "$sep" "$site" "$(hb_value "$route" HOSTS)"
        hb_certificate_json "$pem"
        conf=$ACME/$site/acme.conf
        if [ -s "$conf" ]; then
            st=$ACME/$site/state
            printf ',"acme":{"email":"%s","directory":"%s","last_attempt":%s,"last_success":%s,"failures":%s,"next_try":%s,"error":"%s"}' \
                "$(hb_json_text "$(hb_value "$conf" EMAIL)")" "$(hb_json_text "$(hb_value "$conf" DIRECTORY)")" \
                "$(hb_value "$st" LAST_ATTEMPT | grep . || echo null)" "$(hb_value "$st" LAST_SUCCESS | grep . || echo null)" \
                "$(hb_value "$st" FAILURES | grep . || echo 0)" "$(hb_value "$st" NEXT_TRY | grep . || echo 0)" \
                "$(hb_json_text "$(hb_value "$st" ERROR)")"
        else
            printf ',"acme":null'
        fi
        printf '}'
        sep=","
    done
    printf '],"renew_days":%s}\n' "$ACME_RENEW_DAYS"
}

# metrics: per ACME site, the renewals that failed in a row and when one was last tried and last succeeded; the
# edge's: per site, when its certificate expires (site and host names were checked when they were set). Read by
# the monitoring stack (docs/monitoring.md).
metrics() {
    printf '# HELP hakobune_certificate_renewal_failures renewals of the certificate that failed in a row\n'
    printf '# TYPE hakobune_certificate_renewal_failures gauge\n'
    printf '# HELP hakobune_certificate_renewal_last_attempt_timestamp_seconds when a renewal was last tried\n'
    printf '# TYPE hakobune_certificate_renewal_last_attempt_timestamp_seconds gauge\n'
    printf '# HELP hakobune_certificate_renewal_last_success_timestamp_seconds when a renewal last succeeded\n'
    printf '# TYPE hakobune_certificate_renewal_last_success_timestamp_seconds gauge\n'
    for conf in "$ACME"/*/acme.conf; do
        [ -s "$conf" ] || continue
        site=$(basename "$(dirname "$conf")")
        st=$ACME/$site/state
        printf 'hakobune_certificate_renewal_failures{site="%s"} %s\n' "$site" "$(hb_value "$st" FAILURES | grep . || echo 0)"
        for field in LAST_ATTEMPT LAST_SUCCESS; do
            at=$(hb_value "$st" "$field")
            [ -z "$at" ] || printf 'hakobune_certificate_renewal_%s_timestamp_seconds{site="%s"} %s\n' \
                "$(printf '%s' "$field" | tr '[:upper:]' '[:lower:]')" "$site" "$at"
        done
    done
    # Behind the edge, the certificate visitors get is the edge's: its end, per site (a site with ports of its
    # own has its metrics service read its web server's).
    [ -z "$ACME_SITE" ] || return 0
    printf '# HELP hakobune_certificate_expiry_timestamp_seconds when the certificate the edge serves for the site expires\n'
    printf '# TYPE hakobune_certificate_expiry_timestamp_seconds gauge\n'
    for route in "$ROUTES"/*.route; do
        [ -e "$route" ] || continue
        site=$(basename "$route" .route)
        end=$(openssl x509 -in "$(served "$site")" -noout -enddate 2>/dev/null | sed 's/^notAfter=//')
        [ -z "$end" ] || printf 'hakobune_certificate_expiry_timestamp_seconds{site="%s",name="%s"} %s\n' \
            "$site" "$(hb_value "$route" HOSTS | cut -d' ' -f1)" "$(date -d "$end" +%s)"
    done
}

# metrics_http: one HTTP answer with the metrics, to the request on standard input (socat, from the daemon).
metrics_http() {
    while IFS= read -r line; do
        case $line in ""|"$(printf '\r')") break ;; esac
    done
    printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nConnection: close\r\n\r\n'
    metrics
}

daemon() {
    hb_uint ACME_RENEW_DAYS 30 1 36500
    hb_uint ACME_RENEW_EVERY 3600 10 86400
    mkdir -p "$ACME"
    touch "$HEARTBEAT"
    if [ -n "${ACME_METRICS_PORT:-}" ]; then
        hb_uint ACME_METRICS_PORT 9102 1024 65535
        # Never the request's words in a command: the answer is the same whatever is asked.
        socat -T 5 "TCP-LISTEN:$ACME_METRICS_PORT,reuseaddr,fork,max-children=4" \
            SYSTEM:'exec /usr/local/bin/hakobune-acme metrics-http' &
    fi
    # A random start within the period: engines do not all ask their CA at the same minute.
    offset=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % ACME_RENEW_EVERY ))
    hb_log "renewing certificates due within $ACME_RENEW_DAYS days every ${ACME_RENEW_EVERY}s, first in ${offset}s"
    sleep "$offset" & wait $!
    while :; do
        touch "$HEARTBEAT"
        renew_all || hb_log "a renewal failed: hakobune cert status tells which and why"
        sleep "$ACME_RENEW_EVERY" & wait $!
    done
}

health() {
    [ -e "$HEARTBEAT" ] || exit 1
    age=$(( $(now) - $(stat -c %Y "$HEARTBEAT") ))
    [ "$age" -le $((ACME_RENEW_EVERY * 2 + 600)) ]
}

command=${1:-}
case "$command" in
    issue)
        # A site's own service: NAMEs about to be added to it (hakobune domain) go in the certificate too, as the
        # edge's route says them.
        if [ "$#" -lt 2 ] || ! printf '%s\n' "$2" | grep -Eq "$SITE_NAME" \
            || { [ "$#" -gt 2 ] && { [ -z "$ACME_SITE" ] || ! printf '%s\n' "$(shift 2; echo "$*")" | grep -Eq "$HOST_NAMES"; }; }; then
            hb_fail "usage: hakobune-acme issue SITE (a site's own service: SITE [NAME...])"
        fi
        site=$2
        shift 2
        [ "$#" -eq 0 ] || [ ! -e "$ROUTES/$site.route" ] || printf 'PENDING=%s\n' "$*" >>"$ROUTES/$site.route"
        obtain "$site"
        echo '{}' ;;
    configure|forget)
        if [ "$#" -ne 2 ] || ! printf '%s\n' "$2" | grep -Eq "$SITE_NAME"; then hb_fail "usage: hakobune-acme $command SITE"; fi
        case "$command" in
            configure) configure "$2" ;;
            forget) forget "$2" ;;
        esac ;;
    metrics) metrics ;;
    metrics-http) metrics_http ;;
    renew)
        force=0
        [ "${3:-}" = --force ] && force=1
        if [ "${2:-}" = --all ]; then
            renew_all || hb_fail "a renewal failed: hakobune cert status tells which and why"
        elif [ "$#" -ge 2 ] && printf '%s\n' "$2" | grep -Eq "$SITE_NAME"; then
            [ -s "$ACME/$2/acme.conf" ] || hb_fail "site $2 has no ACME settings (hakobune cert issue --email ...)"
            renew "$2" "$force"
        else
            hb_fail "usage: hakobune-acme renew SITE|--all [--force]"
        fi
        echo '{}' ;;
    status) status ;;
    daemon) daemon ;;
    health) health ;;
    *) hb_fail "usage: hakobune-acme configure|issue|forget SITE, renew SITE|--all [--force], status, metrics, daemon" ;;
esac
