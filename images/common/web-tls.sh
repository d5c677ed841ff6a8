#!/bin/sh
# hakobune-tls: the certificate a web server with ports of its own serves (behind the shared edge, the edge serves
# the site's). It lives in the tls volume; the entrypoint makes a self-signed one until there is another.
#
#   hakobune-tls install    the site owner's certificate from standard input (PEM: certificate, chain, key),
#                           checked on the client (src/hakobune/ops/own_cert.py) and for form here, then served
#                           at once: the web server reloads gracefully, finishing the requests it has
#   hakobune-tls status     the certificate served, one JSON line
#   hakobune-tls loaded     the files in the tls volume are the ones the web server has read (its entrypoint)
#   hakobune-tls refresh    reload when they changed since (the healthcheck runs this: a certificate the site's
#                           acme service renewed is served within seconds, without a signal between containers)
#
# Failures answer with one JSON line on stdout (src/hakobune/ops/contract.py) and exit non-zero.
set -eu
# shellcheck source=images/common/hakobune-lib.sh
. /usr/local/lib/hakobune/hakobune-lib.sh

TLS=/var/lib/hakobune/tls
LOADED=$HB_RUN_DIR/tls.loaded

# reload: the web server (PID 1 of its container) reads its configuration and certificate again, gracefully.
reload() {
    case "$(cat /proc/1/comm)" in
        nginx) kill -HUP 1 ;;
        apache2) kill -USR1 1 ;;
        *) hb_fail "no web server runs in this container" ;;
    esac
}

# stamp: which files the certificate and key are (a new one is a new inode: they are replaced by renaming).
stamp() {
    stat -c '%i %Y %s' "$TLS/cert.pem" "$TLS/key.pem" 2>/dev/null | tr '\n' ' '
}

# refresh: reload when the files changed, once they are a pair (the key and the certificate are renamed into
# place one after the other: a half-written change is left for the next look).
refresh() {
    [ "$(stamp)" != "$(cat "$LOADED" 2>/dev/null)" ] || return 0
    hb_key_matches "$TLS/cert.pem" "$TLS/key.pem" || return 0
    stamp >"$LOADED"
    hb_log "the certificate in the tls volume changed: reloading"
    reload
}

install_certificate() {
    bundle=$TLS/bundle.new
    hb_read_bundle "$bundle" || hb_fail "the bundle is not a PEM certificate and its key"
    (
        umask 077
        sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' "$bundle" >"$TLS/cert.pem.new"
        openssl pkey -in "$bundle" -out "$TLS/key.pem.new"
    )
    rm -f "$bundle"
    mv "$TLS/key.pem.new" "$TLS/key.pem"
    mv "$TLS/cert.pem.new" "$TLS/cert.pem"
    stamp >"$LOADED"
    reload
    echo '{}'
}

case "${1:-}" in
    install) install_certificate ;;
    loaded) stamp >"$LOADED" ;;
    refresh) refresh ;;
    status) printf '{"certificate":%s}\n' "$(hb_certificate_json "$TLS/cert.pem")" ;;
    *) hb_fail "usage: hakobune-tls install|status|loaded|refresh" ;;
esac
