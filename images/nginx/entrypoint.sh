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
hb_match PHP_FPM_ADDRESS php:9000 '^[A-Za-z0-9._-]+:[0-9]+$' "must be HOST:PORT"
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
export NGINX_TLS_PORT_SUFFIX NGINX_HSTS_DIRECTIVE NGINX_HTTP_SITE NGINX_SECURITY_HEADERS_DIRECTIVES

hb_prepare_run_dir
for d in client_body proxy fastcgi uwsgi scgi; do mkdir -p "$HB_RUN_DIR/$d"; done

hb_self_signed_certificate "$SITE_FQDN"

hb_render /etc/hakobune/nginx.conf.template "$HB_RUN_DIR/nginx.conf" \
    SITE_FQDN NGINX_WORKER_PROCESSES NGINX_WORKER_CONNECTIONS NGINX_KEEPALIVE_TIMEOUT \
    NGINX_CLIENT_MAX_BODY_SIZE NGINX_GZIP NGINX_BROTLI NGINX_TLS_PORT_SUFFIX NGINX_PUBLIC_TLS_PORT \
    NGINX_HSTS_DIRECTIVE NGINX_HTTP_SITE PHP_FPM_ADDRESS HB_TLS_CIPHERS HB_TLS_CURVES HB_COMPRESS_TYPES
hb_render /etc/hakobune/site.conf.template "$HB_RUN_DIR/site.conf" \
    NGINX_SECURITY_HEADERS_DIRECTIVES NGINX_FASTCGI_READ_TIMEOUT

if [ "$#" -eq 0 ]; then
    set -- nginx -c "$HB_RUN_DIR/nginx.conf" -g 'daemon off;'
fi
exec "$@"
