#!/bin/sh
# hakobune-tls: the certificate a web server with ports of its own serves (behind the shared edge, the edge serves
# the site's). It lives in the tls volume; the entrypoint makes a self-signed one until there is another.
#
#   hakobune-tls install    the site owner's certificate from standard input (PEM: certificate, chain, key),
#                           checked on the client (src/hakobune/ops/own_cert.py) and for form here, then served
#                           at once: the web server reloads gracefully, finishing the requests it has
#   hakobune-tls status     the certificate served, one JSON line
#
# Failures answer with one JSON line on stdout (src/hakobune/ops/contract.py) and exit non-zero.
set -eu
# shellcheck source=images/common/hakobune-lib.sh
. /usr/local/lib/hakobune/hakobune-lib.sh

TLS=/var/lib/hakobune/tls

# reload: the web server (PID 1 of its container) reads its configuration and certificate again, gracefully.
reload() {
    case "$(cat /proc/1/comm)" in
        nginx) kill -HUP 1 ;;
        apache2) kill -USR1 1 ;;
        *) hb_fail "no web server runs in this container" ;;
    esac
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
    reload
    echo '{}'
}

case "${1:-}" in
    install) install_certificate ;;
    status) printf '{"certificate":%s}\n' "$(hb_certificate_json "$TLS/cert.pem")" ;;
    *) hb_fail "usage: hakobune-tls install|status" ;;
esac
