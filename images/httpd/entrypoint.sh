#!/bin/sh
# Turn the environment into Apache httpd's configuration, make the site's certificate on first start, then run
# httpd in the foreground.
set -eu
# shellcheck source=images/common/hakobune-lib.sh
. /usr/local/lib/hakobune/hakobune-lib.sh

hb_match SITE_FQDN localhost '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$' "must be a host name"
hb_match SITE_ALIASES "" '^ *([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])? *)*$' "must be host names separated by spaces"
hb_match SITE_REDIRECT_301 "" '^ *([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])? *)*$' "must be host names separated by spaces"
hb_match SITE_REDIRECT_308 "" '^ *([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])? *)*$' "must be host names separated by spaces"
hb_enum SITE_ACME off on off
hb_enum SITE_METRICS off on off
hb_uint HTTPD_PUBLIC_TLS_PORT 443 1 65535
hb_uint HTTPD_THREADS_PER_CHILD 25 1 64
hb_uint HTTPD_MAX_REQUEST_WORKERS 150 1
hb_uint HTTPD_KEEPALIVE_TIMEOUT 5 0 3600
hb_size HTTPD_CLIENT_MAX_BODY_SIZE 64M
hb_enum HTTPD_GZIP on on off
hb_enum HTTPD_BROTLI on on off
hb_enum HTTPD_HTTPS_REDIRECT on on off
hb_enum HTTPD_SECURITY_HEADERS on on off
hb_uint HTTPD_HSTS_MAX_AGE 0
hb_uint HTTPD_FASTCGI_READ_TIMEOUT 300 1
hb_enum HTTPD_XMLRPC off on off
hb_match HTTPD_TRUSTED_PROXIES "" '^ *(([0-9]{1,3}[.]){3}[0-9]{1,3}(/[0-9]{1,2})?|[0-9a-fA-F]*:[0-9a-fA-F:]*(/[0-9]{1,3})?)?( +(([0-9]{1,3}[.]){3}[0-9]{1,3}(/[0-9]{1,2})?|[0-9a-fA-F]*:[0-9a-fA-F:]*(/[0-9]{1,3})?))* *$' "must be IP addresses or CIDR ranges (such as 172.16.0.0/12), separated by spaces"
hb_match PHP_FPM_ADDRESS php:9000 '^[A-Za-z0-9._-]+:[0-9]+$' "must be HOST:PORT"
[ $((HTTPD_MAX_REQUEST_WORKERS % HTTPD_THREADS_PER_CHILD)) -eq 0 ] || hb_invalid HTTPD_MAX_REQUEST_WORKERS \
    "$HTTPD_MAX_REQUEST_WORKERS" "must be a multiple of HTTPD_THREADS_PER_CHILD ($HTTPD_THREADS_PER_CHILD)"
hb_checked

HTTPD_SERVER_LIMIT=$((HTTPD_MAX_REQUEST_WORKERS / HTTPD_THREADS_PER_CHILD))
HTTPD_LIMIT_REQUEST_BODY=$(hb_bytes "$HTTPD_CLIENT_MAX_BODY_SIZE")
HTTPD_TLS_PORT_SUFFIX=$(hb_public_port_suffix "$HTTPD_PUBLIC_TLS_PORT")
# The expression that tells a connection from a trusted proxy (HTTPD_TRUSTED_PROXIES, one -ipmatch each).
HTTPD_FROM_PROXY=""
for proxy in $HTTPD_TRUSTED_PROXIES; do
    # shellcheck disable=SC2089 # the quotes are httpd's expression syntax, written as they are
    HTTPD_FROM_PROXY="${HTTPD_FROM_PROXY:+$HTTPD_FROM_PROXY || }%{CONN_REMOTE_ADDR} -ipmatch '$proxy'"
done
# shellcheck disable=SC2090 # see above
export HTTPD_SERVER_LIMIT HTTPD_LIMIT_REQUEST_BODY HTTPD_TLS_PORT_SUFFIX HTTPD_FROM_PROXY

hb_prepare_run_dir
# Each option is a snippet (images/httpd/options/NAME.CHOICE.conf) that httpd.conf and site.conf include.
hb_option hsts "$(hb_on_off "$HTTPD_HSTS_MAX_AGE")" HTTPD_HSTS_MAX_AGE
hb_option https-redirect "$HTTPD_HTTPS_REDIRECT" SITE_FQDN HTTPD_TLS_PORT_SUFFIX
# The site's own acme service answers ACME challenges through the web server (images/edge/acme.sh).
hb_option acme-challenge "$SITE_ACME"
hb_option security-headers "$HTTPD_SECURITY_HEADERS"
hb_option compress "$HTTPD_BROTLI-$HTTPD_GZIP" HB_COMPRESS_TYPES
hb_option xmlrpc "$HTTPD_XMLRPC"
hb_option metrics "$SITE_METRICS"
hb_option remoteip "$(hb_given "$HTTPD_TRUSTED_PROXIES")" HTTPD_TRUSTED_PROXIES HTTPD_FROM_PROXY
# shellcheck disable=SC2086 # the site's names, one word each
hb_self_signed_certificate "$SITE_FQDN" $SITE_ALIASES $SITE_REDIRECT_301 $SITE_REDIRECT_308
# A site with ports of its own sends its redirected names to its primary name itself (behind the edge, the edge).
hb_redirects /etc/hakobune/redirect.conf.template "$HB_RUN_DIR/redirects.conf" SITE_FQDN HTTPD_TLS_PORT_SUFFIX
hakobune-tls loaded
hb_render /etc/hakobune/httpd.conf.template "$HB_RUN_DIR/httpd.conf" \
    SITE_FQDN SITE_ALIASES HTTPD_SERVER_LIMIT HTTPD_THREADS_PER_CHILD HTTPD_MAX_REQUEST_WORKERS HTTPD_KEEPALIVE_TIMEOUT \
    HTTPD_LIMIT_REQUEST_BODY HTTPD_FASTCGI_READ_TIMEOUT PHP_FPM_ADDRESS HB_TLS_CIPHERS HB_TLS_CURVES
hb_render /etc/hakobune/site.conf.template "$HB_RUN_DIR/site.conf" PHP_FPM_ADDRESS

if [ "$#" -eq 0 ]; then
    set -- apache2 -f "$HB_RUN_DIR/httpd.conf" -DFOREGROUND
fi
exec "$@"
