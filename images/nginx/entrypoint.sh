#!/bin/sh
# Turn the environment into nginx's configuration, make the site's certificate on first start, then run nginx.
set -eu
# shellcheck source=images/common/hakobune-lib.sh
. /usr/local/lib/hakobune/hakobune-lib.sh

hb_match SITE_FQDN localhost '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$' "must be a host name"
hb_match SITE_ALIASES "" '^ *([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])? *)*$' "must be host names separated by spaces"
hb_match SITE_REDIRECT_301 "" '^ *([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])? *)*$' "must be host names separated by spaces"
hb_match SITE_REDIRECT_308 "" '^ *([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])? *)*$' "must be host names separated by spaces"
hb_enum SITE_ACME off on off
hb_enum SITE_METRICS off on off
hb_uint NGINX_PUBLIC_TLS_PORT 443 1 65535
hb_match NGINX_WORKER_PROCESSES auto '^(auto|[1-9][0-9]*)$' "must be 'auto' or a whole number"
hb_uint NGINX_WORKER_CONNECTIONS 1024 16
hb_uint NGINX_KEEPALIVE_TIMEOUT 65 0 3600
hb_size NGINX_CLIENT_MAX_BODY_SIZE 64M
hb_enum NGINX_GZIP on on off
hb_enum NGINX_BROTLI on on off
hb_enum NGINX_HTTPS_REDIRECT on on off
hb_enum NGINX_SECURITY_HEADERS on on off
hb_uint NGINX_HSTS_MAX_AGE 0
hb_uint NGINX_FASTCGI_READ_TIMEOUT 300 1
hb_uint NGINX_FASTCGI_KEEPALIVE 0 0 1024
hb_enum NGINX_CACHE off on off
hb_match NGINX_CACHE_TTL 10m '^[1-9][0-9]*[smhd]$' "must be a time like 30s, 10m, 1h or 1d"
hb_size NGINX_CACHE_MAX_SIZE 256M 1M
hb_match NGINX_CACHE_BYPASS "/cart/ /checkout/ /my-account/" '^ *(/[A-Za-z0-9._~%/-]* *)*$' "must be paths starting with / (letters, digits and . _ ~ % / -), separated by spaces"
hb_match NGINX_STATIC_EXPIRES 365d '^(off|[1-9][0-9]*[smhdw])$' "must be 'off' or a time like 7d or 365d"
hb_uint NGINX_OPEN_FILE_CACHE 10000 0
hb_enum NGINX_HTTP3 on on off
hb_enum NGINX_XMLRPC off on off
hb_match NGINX_TRUSTED_PROXIES "" '^ *(([0-9]{1,3}[.]){3}[0-9]{1,3}(/[0-9]{1,2})?|[0-9a-fA-F]*:[0-9a-fA-F:]*(/[0-9]{1,3})?)?( +(([0-9]{1,3}[.]){3}[0-9]{1,3}(/[0-9]{1,2})?|[0-9a-fA-F]*:[0-9a-fA-F:]*(/[0-9]{1,3})?))* *$' "must be IP addresses or CIDR ranges (such as 172.16.0.0/12), separated by spaces"
hb_match PHP_FPM_ADDRESS php:9000 '^([A-Za-z0-9._-]+:[0-9]+|unix:/[A-Za-z0-9._/-]+)$' "must be HOST:PORT or unix:/PATH"
hb_checked

NGINX_TLS_PORT_SUFFIX=$(hb_public_port_suffix "$NGINX_PUBLIC_TLS_PORT")
export NGINX_TLS_PORT_SUFFIX
hb_prepare_run_dir
for d in client_body proxy fastcgi uwsgi scgi cache; do mkdir -p "$HB_RUN_DIR/$d"; done

# Each option is a snippet (images/nginx/options/NAME.CHOICE.conf) that nginx.conf and site.conf include.
hb_option hsts "$(hb_on_off "$NGINX_HSTS_MAX_AGE")" NGINX_HSTS_MAX_AGE
hb_option https-redirect "$NGINX_HTTPS_REDIRECT" NGINX_TLS_PORT_SUFFIX
# The site's own acme service answers ACME challenges through the web server (images/edge/acme.sh).
hb_option acme-challenge "$SITE_ACME"
hb_option acme-challenge-map "$SITE_ACME"
hb_option security-headers "$NGINX_SECURITY_HEADERS"
hb_option open-file-cache "$(hb_on_off "$NGINX_OPEN_FILE_CACHE")" NGINX_OPEN_FILE_CACHE
# Kept FastCGI connections to PHP-FPM: off by default. A PHP-FPM process serves one connection until nginx
# closes it, so with more connections than processes (more visitors than PHP_FPM_MAX_CHILDREN) the surplus
# waits unserved in PHP-FPM's backlog; measured: requests stalled for over a minute (docs/performance.md).
hb_option upstream-keepalive "$(hb_on_off "$NGINX_FASTCGI_KEEPALIVE")" NGINX_FASTCGI_KEEPALIVE
hb_option fastcgi-keep-conn "$(hb_on_off "$NGINX_FASTCGI_KEEPALIVE")"
hb_option quic-default "$NGINX_HTTP3"
hb_option http3 "$NGINX_HTTP3" NGINX_PUBLIC_TLS_PORT
hb_option xmlrpc "$NGINX_XMLRPC"
hb_option page-cache "$NGINX_CACHE" NGINX_CACHE_TTL
hb_option realip "$(hb_given "$NGINX_TRUSTED_PROXIES")"
hb_option metrics "$SITE_METRICS"
# The lists: each path of NGINX_CACHE_BYPASS (and everything below it) skips the page cache (of the characters
# allowed, only '.' means something in a regular expression, and none needs quoting in nginx's configuration);
# each trusted proxy is believed.
for path in $NGINX_CACHE_BYPASS; do
    printf '~^%s 1;\n' "$(printf '%s' "$path" | sed 's/[.]/[.]/g')"
done >"$HB_RUN_DIR/options/cache-bypass.conf"
for proxy in $NGINX_TRUSTED_PROXIES; do printf 'set_real_ip_from %s;\n' "$proxy"; done \
    >"$HB_RUN_DIR/options/trusted-proxies.conf"
for proxy in $NGINX_TRUSTED_PROXIES; do printf '%s 1;\n' "$proxy"; done >"$HB_RUN_DIR/options/trusted-proxy-geo.conf"

# shellcheck disable=SC2086 # the site's names, one word each
hb_self_signed_certificate "$SITE_FQDN" $SITE_ALIASES $SITE_REDIRECT_301 $SITE_REDIRECT_308
# A site with ports of its own sends its redirected names to its primary name itself (behind the edge, the edge).
hb_redirects /etc/hakobune/redirect.conf.template "$HB_RUN_DIR/redirects.conf" SITE_FQDN NGINX_TLS_PORT_SUFFIX
hakobune-tls loaded

# PHP-FPM on a socket: its spare too, which nginx falls back to while the socket does not answer (a new php
# container during an upgrade: hb_fpm_spare in hakobune-lib.sh).
HB_PHP_SPARE=""
case "$PHP_FPM_ADDRESS" in
    unix:*) HB_PHP_SPARE="server unix:$(hb_fpm_spare "${PHP_FPM_ADDRESS#unix:}") backup max_fails=0;" ;;
esac
export HB_PHP_SPARE

hb_render /etc/hakobune/nginx.conf.template "$HB_RUN_DIR/nginx.conf" \
    SITE_FQDN SITE_ALIASES NGINX_WORKER_PROCESSES NGINX_WORKER_CONNECTIONS NGINX_KEEPALIVE_TIMEOUT \
    NGINX_CLIENT_MAX_BODY_SIZE NGINX_GZIP NGINX_BROTLI NGINX_TLS_PORT_SUFFIX NGINX_PUBLIC_TLS_PORT \
    PHP_FPM_ADDRESS HB_PHP_SPARE HB_TLS_CIPHERS HB_TLS_CURVES HB_COMPRESS_TYPES NGINX_CACHE_MAX_SIZE
hb_render /etc/hakobune/site.conf.template "$HB_RUN_DIR/site.conf" NGINX_FASTCGI_READ_TIMEOUT NGINX_STATIC_EXPIRES

if [ "$#" -eq 0 ]; then
    set -- nginx -c "$HB_RUN_DIR/nginx.conf" -g 'daemon off;'
fi
exec "$@"
