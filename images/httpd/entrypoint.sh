#!/bin/sh
# Turn the environment into Apache httpd's configuration, make the site's certificate on first start, then run
# httpd in the foreground.
set -eu
# shellcheck source=images/common/hakobune-lib.sh
. /usr/local/lib/hakobune/hakobune-lib.sh

hb_match SITE_FQDN localhost '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$' "must be a host name"
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
if [ "$HTTPD_HSTS_MAX_AGE" -gt 0 ]; then
    HTTPD_HSTS_DIRECTIVE="    Header always set Strict-Transport-Security \"max-age=$HTTPD_HSTS_MAX_AGE\""
else
    HTTPD_HSTS_DIRECTIVE=""
fi
# Brotli first for clients that take it; DEFLATE leaves an already encoded response alone.
filters=""
[ "$HTTPD_BROTLI" = on ] && filters="BROTLI_COMPRESS"
[ "$HTTPD_GZIP" = on ] && filters="${filters:+$filters;}DEFLATE"
HTTPD_COMPRESS_DIRECTIVE=""
[ -n "$filters" ] && HTTPD_COMPRESS_DIRECTIVE="AddOutputFilterByType $filters text/html $HB_COMPRESS_TYPES"
if [ "$HTTPD_HTTPS_REDIRECT" = on ]; then
    HTTPD_HTTP_SITE=$(printf '%s\n' '    RewriteEngine On' \
        "    RewriteRule ^ https://$SITE_FQDN$HTTPD_TLS_PORT_SUFFIX%{REQUEST_URI} [R=308,L]")
else
    HTTPD_HTTP_SITE="    Include /run/hakobune/site.conf"
fi
HTTPD_SECURITY_HEADERS_DIRECTIVES=""
if [ "$HTTPD_SECURITY_HEADERS" = on ]; then
    HTTPD_SECURITY_HEADERS_DIRECTIVES=$(printf '%s\n' \
        'Header always set X-Content-Type-Options nosniff' \
        'Header always set X-Frame-Options SAMEORIGIN' \
        'Header always set Referrer-Policy strict-origin-when-cross-origin')
fi
HTTPD_XMLRPC_DIRECTIVES=""
if [ "$HTTPD_XMLRPC" = off ]; then
    HTTPD_XMLRPC_DIRECTIVES=$(printf '%s\n' '    # HTTPD_XMLRPC=off' '    <Location "/xmlrpc.php">' \
        '        Require all denied' '    </Location>')
fi
HTTPD_REMOTEIP_DIRECTIVES=""
proxies=""
from_proxy=""
for proxy in $HTTPD_TRUSTED_PROXIES; do
    proxies="$proxies $proxy"
    from_proxy="${from_proxy:+$from_proxy || }%{CONN_REMOTE_ADDR} -ipmatch '$proxy'"
done
if [ -n "$proxies" ]; then
    HTTPD_REMOTEIP_DIRECTIVES=$(printf '%s\n' 'RemoteIPHeader X-Forwarded-For' "RemoteIPInternalProxy$proxies" \
        "SetEnvIfExpr \"($from_proxy) && req('X-Forwarded-Proto') == 'https'\" HB_FORWARDED_HTTPS=1")
fi
export HTTPD_SERVER_LIMIT HTTPD_LIMIT_REQUEST_BODY HTTPD_TLS_PORT_SUFFIX HTTPD_HSTS_DIRECTIVE \
    HTTPD_COMPRESS_DIRECTIVE HTTPD_HTTP_SITE HTTPD_SECURITY_HEADERS_DIRECTIVES HTTPD_XMLRPC_DIRECTIVES \
    HTTPD_REMOTEIP_DIRECTIVES

hb_prepare_run_dir
hb_self_signed_certificate "$SITE_FQDN"
hb_render /etc/hakobune/httpd.conf.template "$HB_RUN_DIR/httpd.conf" \
    SITE_FQDN HTTPD_SERVER_LIMIT HTTPD_THREADS_PER_CHILD HTTPD_MAX_REQUEST_WORKERS HTTPD_KEEPALIVE_TIMEOUT \
    HTTPD_LIMIT_REQUEST_BODY HTTPD_FASTCGI_READ_TIMEOUT HTTPD_HSTS_DIRECTIVE HTTPD_HTTP_SITE \
    PHP_FPM_ADDRESS HB_TLS_CIPHERS HB_TLS_CURVES HTTPD_REMOTEIP_DIRECTIVES
hb_render /etc/hakobune/site.conf.template "$HB_RUN_DIR/site.conf" \
    HTTPD_SECURITY_HEADERS_DIRECTIVES HTTPD_COMPRESS_DIRECTIVE PHP_FPM_ADDRESS HTTPD_XMLRPC_DIRECTIVES

if [ "$#" -eq 0 ]; then
    set -- apache2 -f "$HB_RUN_DIR/httpd.conf" -DFOREGROUND
fi
exec "$@"
