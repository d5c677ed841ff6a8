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
hb_uint NGINX_HSTS_MAX_AGE 0
hb_uint NGINX_FASTCGI_READ_TIMEOUT 300 1
hb_match PHP_FPM_ADDRESS php:9000 '^[A-Za-z0-9._-]+:[0-9]+$' "must be HOST:PORT"
hb_checked

if [ "$NGINX_PUBLIC_TLS_PORT" = 443 ]; then
    NGINX_TLS_PORT_SUFFIX=""
else
    NGINX_TLS_PORT_SUFFIX=":$NGINX_PUBLIC_TLS_PORT"
fi
if [ "$NGINX_HSTS_MAX_AGE" -gt 0 ]; then
    NGINX_HSTS_DIRECTIVE="        add_header Strict-Transport-Security \"max-age=$NGINX_HSTS_MAX_AGE\" always;"
else
    NGINX_HSTS_DIRECTIVE=""
fi
export NGINX_TLS_PORT_SUFFIX NGINX_HSTS_DIRECTIVE

hb_prepare_run_dir
for d in client_body proxy fastcgi uwsgi scgi; do mkdir -p "$HB_RUN_DIR/$d"; done

# A self-signed certificate until the site gets a real one: made on first start, kept in the tls volume,
# and made again when it is for another host name or has less than 30 days left (Mozilla: at most 366 days).
tls=/var/lib/hakobune/tls
if [ ! -s "$tls/cert.pem" ] || [ ! -s "$tls/key.pem" ] \
    || ! openssl x509 -in "$tls/cert.pem" -noout -checkend 2592000 >/dev/null 2>&1 \
    || ! openssl x509 -in "$tls/cert.pem" -noout -checkhost "$SITE_FQDN" 2>/dev/null | grep -q 'does match'; then
    hb_log "creating a self-signed certificate for $SITE_FQDN"
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
        -subj "/CN=$SITE_FQDN" -addext "subjectAltName=DNS:$SITE_FQDN" \
        -keyout "$tls/key.pem.new" -out "$tls/cert.pem.new" 2>/dev/null
    mv "$tls/key.pem.new" "$tls/key.pem"
    mv "$tls/cert.pem.new" "$tls/cert.pem"
    umask 022
fi

hb_render /etc/hakobune/nginx.conf.template "$HB_RUN_DIR/nginx.conf" \
    SITE_FQDN NGINX_WORKER_PROCESSES NGINX_WORKER_CONNECTIONS NGINX_KEEPALIVE_TIMEOUT \
    NGINX_CLIENT_MAX_BODY_SIZE NGINX_GZIP NGINX_TLS_PORT_SUFFIX NGINX_HSTS_DIRECTIVE \
    NGINX_FASTCGI_READ_TIMEOUT PHP_FPM_ADDRESS

hb_render /etc/hakobune/fastcgi.conf.template "$HB_RUN_DIR/fastcgi.conf" \
    NGINX_PUBLIC_TLS_PORT NGINX_TLS_PORT_SUFFIX

if [ "$#" -eq 0 ]; then
    set -- nginx -c "$HB_RUN_DIR/nginx.conf" -g 'daemon off;'
fi
exec "$@"
