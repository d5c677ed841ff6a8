#!/bin/sh
# Turn the environment into nginx's configuration, make the site's certificate on first start, then run nginx.
set -eu
# shellcheck source=images/common/hakobune-lib.sh
. /usr/local/lib/hakobune/hakobune-lib.sh

hb_match SITE_FQDN localhost '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$' "must be a host name"
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
if [ "$NGINX_HSTS_MAX_AGE" -gt 0 ]; then
    NGINX_HSTS_DIRECTIVE="        add_header Strict-Transport-Security \"max-age=$NGINX_HSTS_MAX_AGE\" always;"
else
    NGINX_HSTS_DIRECTIVE=""
fi
if [ "$NGINX_HTTPS_REDIRECT" = on ]; then
    NGINX_HTTP_SITE="        location / { return 308 https://\$host$NGINX_TLS_PORT_SUFFIX\$request_uri; }"
else
    NGINX_HTTP_SITE="        include /run/hakobune/site.conf;"
fi
if [ "$NGINX_SECURITY_HEADERS" = on ]; then
    NGINX_SECURITY_HEADERS_DIRECTIVES=$(printf '%s\n' \
        'add_header X-Content-Type-Options nosniff always;' \
        'add_header X-Frame-Options SAMEORIGIN always;' \
        'add_header Referrer-Policy strict-origin-when-cross-origin always;')
else
    NGINX_SECURITY_HEADERS_DIRECTIVES=""
fi
# Each path of NGINX_CACHE_BYPASS (and everything below it) skips the page cache; of the characters allowed,
# only '.' means something in a regular expression, and none needs quoting in nginx's configuration.
NGINX_CACHE_BYPASS_MAP=""
for path in $NGINX_CACHE_BYPASS; do
    NGINX_CACHE_BYPASS_MAP="$NGINX_CACHE_BYPASS_MAP        ~^$(printf '%s' "$path" | sed 's/[.]/[.]/g') 1;$_hb_nl"
done
if [ "$NGINX_OPEN_FILE_CACHE" -gt 0 ]; then
    # Open files and their sizes are kept for a few seconds; a deploy reloads nginx, which starts afresh.
    NGINX_OPEN_FILE_CACHE_DIRECTIVES="    open_file_cache max=$NGINX_OPEN_FILE_CACHE inactive=60s;
    open_file_cache_valid 10s;
    open_file_cache_min_uses 2;"
else
    NGINX_OPEN_FILE_CACHE_DIRECTIVES="    open_file_cache off;"
fi
# Kept FastCGI connections to PHP-FPM: off by default. A PHP-FPM process serves one connection until nginx
# closes it, so with more connections than processes (more visitors than PHP_FPM_MAX_CHILDREN) the surplus
# waits unserved in PHP-FPM's backlog; measured: requests stalled for over a minute (docs/performance.md).
if [ "$NGINX_FASTCGI_KEEPALIVE" -gt 0 ]; then
    NGINX_UPSTREAM_KEEPALIVE="        keepalive $NGINX_FASTCGI_KEEPALIVE;"
    NGINX_FASTCGI_KEEP_CONN="    fastcgi_keep_conn on;"
else
    NGINX_UPSTREAM_KEEPALIVE=""
    NGINX_FASTCGI_KEEP_CONN=""
fi
if [ "$NGINX_HTTP3" = on ]; then
    # QUIC on the TLS port's UDP twin; browsers learn of it from Alt-Svc, which names the published port.
    NGINX_QUIC_LISTEN_DEFAULT="        listen 8443 quic reuseport default_server;
        listen [::]:8443 quic reuseport default_server;"
    NGINX_QUIC_LISTEN="        listen 8443 quic;
        listen [::]:8443 quic;"
    NGINX_HTTP3_DIRECTIVES="        add_header Alt-Svc 'h3=\":$NGINX_PUBLIC_TLS_PORT\"; ma=86400' always;"
else
    NGINX_QUIC_LISTEN_DEFAULT=""
    NGINX_QUIC_LISTEN=""
    NGINX_HTTP3_DIRECTIVES=""
fi
if [ "$NGINX_XMLRPC" = off ]; then
    NGINX_XMLRPC_LOCATION="location = /xmlrpc.php { deny all; }  # NGINX_XMLRPC=off"
else
    NGINX_XMLRPC_LOCATION=""
fi
NGINX_REALIP_DIRECTIVES=""
NGINX_TRUSTED_PROXY_GEO=""
for proxy in $NGINX_TRUSTED_PROXIES; do
    NGINX_REALIP_DIRECTIVES="$NGINX_REALIP_DIRECTIVES    set_real_ip_from $proxy;$_hb_nl"
    NGINX_TRUSTED_PROXY_GEO="$NGINX_TRUSTED_PROXY_GEO        $proxy 1;$_hb_nl"
done
if [ -n "$NGINX_REALIP_DIRECTIVES" ]; then
    NGINX_REALIP_DIRECTIVES="$NGINX_REALIP_DIRECTIVES    real_ip_header X-Forwarded-For;
    real_ip_recursive on;"
fi
export NGINX_TLS_PORT_SUFFIX NGINX_HSTS_DIRECTIVE NGINX_HTTP_SITE NGINX_SECURITY_HEADERS_DIRECTIVES \
    NGINX_CACHE_BYPASS_MAP NGINX_OPEN_FILE_CACHE_DIRECTIVES NGINX_QUIC_LISTEN NGINX_QUIC_LISTEN_DEFAULT \
    NGINX_HTTP3_DIRECTIVES NGINX_UPSTREAM_KEEPALIVE NGINX_FASTCGI_KEEP_CONN NGINX_XMLRPC_LOCATION \
    NGINX_REALIP_DIRECTIVES NGINX_TRUSTED_PROXY_GEO

hb_prepare_run_dir
for d in client_body proxy fastcgi uwsgi scgi cache; do mkdir -p "$HB_RUN_DIR/$d"; done
if [ "$NGINX_CACHE" = on ]; then
    cat >"$HB_RUN_DIR/page-cache.conf" <<CONF
# The page cache (NGINX_CACHE=on). Rendered at start.
set \$hb_cache_on 1;
fastcgi_cache HB;
fastcgi_cache_key "\$hb_cache_uri|\$hb_scheme|\$host";
fastcgi_cache_valid 200 $NGINX_CACHE_TTL;
fastcgi_cache_bypass \$hb_skip_method \$hb_skip_cookie \$hb_skip_uri \$args;
fastcgi_no_cache \$hb_skip_method \$hb_skip_head \$hb_skip_cookie \$hb_skip_uri \$args;
# One request fills an expired page while the others get the old copy; PHP down or failing, visitors still get
# the pages the cache has.
fastcgi_cache_lock on;
fastcgi_cache_lock_timeout 10s;
fastcgi_cache_use_stale updating error timeout http_500 http_503;
fastcgi_cache_background_update on;
CONF
else
    echo "# The page cache is off (NGINX_CACHE=off)." >"$HB_RUN_DIR/page-cache.conf"
fi

hb_self_signed_certificate "$SITE_FQDN"

hb_render /etc/hakobune/nginx.conf.template "$HB_RUN_DIR/nginx.conf" \
    SITE_FQDN NGINX_WORKER_PROCESSES NGINX_WORKER_CONNECTIONS NGINX_KEEPALIVE_TIMEOUT \
    NGINX_CLIENT_MAX_BODY_SIZE NGINX_GZIP NGINX_BROTLI NGINX_TLS_PORT_SUFFIX NGINX_PUBLIC_TLS_PORT \
    NGINX_HSTS_DIRECTIVE NGINX_HTTP_SITE PHP_FPM_ADDRESS HB_TLS_CIPHERS HB_TLS_CURVES HB_COMPRESS_TYPES \
    NGINX_CACHE_MAX_SIZE NGINX_CACHE_BYPASS_MAP NGINX_OPEN_FILE_CACHE_DIRECTIVES NGINX_QUIC_LISTEN \
    NGINX_QUIC_LISTEN_DEFAULT NGINX_HTTP3_DIRECTIVES NGINX_UPSTREAM_KEEPALIVE NGINX_REALIP_DIRECTIVES \
    NGINX_TRUSTED_PROXY_GEO
hb_render /etc/hakobune/site.conf.template "$HB_RUN_DIR/site.conf" \
    NGINX_SECURITY_HEADERS_DIRECTIVES NGINX_FASTCGI_READ_TIMEOUT NGINX_STATIC_EXPIRES NGINX_FASTCGI_KEEP_CONN \
    NGINX_XMLRPC_LOCATION

if [ "$#" -eq 0 ]; then
    set -- nginx -c "$HB_RUN_DIR/nginx.conf" -g 'daemon off;'
fi
exec "$@"
