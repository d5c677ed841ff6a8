#!/bin/sh
# Turn the environment into HAProxy's configuration, render the routes the edge's volume holds, then run
# HAProxy in master-worker mode (its master socket is how hakobune-edge reloads it).
set -eu
# shellcheck source=images/common/hakobune-lib.sh
. /usr/local/lib/hakobune/hakobune-lib.sh

hb_uint EDGE_PUBLIC_TLS_PORT 443 1 65535
hb_uint EDGE_MAXCONN 8000 100
hb_uint EDGE_KEEPALIVE_TIMEOUT 65 1 3600
hb_uint EDGE_SERVER_TIMEOUT 300 1 86400
hb_uint EDGE_HSTS_MAX_AGE 63072000 0
hb_checked

EDGE_TLS_PORT_SUFFIX=$(hb_public_port_suffix "$EDGE_PUBLIC_TLS_PORT")
export EDGE_TLS_PORT_SUFFIX
hb_prepare_run_dir
hb_render /etc/hakobune/haproxy.cfg.template "$HB_RUN_DIR/haproxy.cfg" \
    EDGE_PUBLIC_TLS_PORT EDGE_MAXCONN EDGE_KEEPALIVE_TIMEOUT EDGE_SERVER_TIMEOUT EDGE_HSTS_MAX_AGE EDGE_TLS_PORT_SUFFIX \
    HB_TLS_CIPHERS HB_TLS_CURVES
hakobune-edge render

if [ "$#" -eq 0 ]; then
    set -- haproxy -W -S "$HB_RUN_DIR/master.sock,mode,600" -f "$HB_RUN_DIR/haproxy.cfg" -f "$HB_RUN_DIR/routes.cfg"
fi
exec "$@"
