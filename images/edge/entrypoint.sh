#!/bin/sh
# Turn the environment into HAProxy's configuration, render the routes the edge's volume holds, then run
# HAProxy in master-worker mode (its master socket is how hakobune-edge reloads it).
set -eu
# shellcheck source=images/common/hakobune-lib.sh
. /usr/local/lib/hakobune/hakobune-lib.sh

hb_uint EDGE_PUBLIC_TLS_PORT 443 1 65535
hb_uint EDGE_MAXCONN 8000 100
hb_uint EDGE_BUFSIZE 65536 16384 1048576
hb_uint EDGE_KEEPALIVE_TIMEOUT 65 1 3600
hb_uint EDGE_SERVER_TIMEOUT 300 1 86400
hb_uint EDGE_HSTS_MAX_AGE 63072000 0
hb_checked

# A flood of connections must not get the edge killed for memory (every site would be down): HAProxy is held
# to 7/8 of the container's memory limit (-m), and refuses or slows new work when it reaches that. Each request
# in flight can hold two buffers of EDGE_BUFSIZE; an idle keep-alive connection holds none.
memory_cap() {
    for limit_file in /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes; do
        [ -r "$limit_file" ] || continue
        limit=$(cat "$limit_file")
        case $limit in '' | max | *[!0-9]*) return ;; esac
        # cgroup v1 says "no limit" with a huge number.
        if [ "$limit" -lt 1099511627776 ]; then echo $((limit * 7 / 8 / 1048576)); fi
        return
    done
}

MEMORY_CAP=$(memory_cap)

EDGE_TLS_PORT_SUFFIX=$(hb_public_port_suffix "$EDGE_PUBLIC_TLS_PORT")
export EDGE_TLS_PORT_SUFFIX
hb_prepare_run_dir
hb_render /etc/hakobune/haproxy.cfg.template "$HB_RUN_DIR/haproxy.cfg" \
    EDGE_PUBLIC_TLS_PORT EDGE_MAXCONN EDGE_BUFSIZE EDGE_KEEPALIVE_TIMEOUT EDGE_SERVER_TIMEOUT EDGE_HSTS_MAX_AGE EDGE_TLS_PORT_SUFFIX \
    HB_TLS_CIPHERS HB_TLS_CURVES
hakobune-edge render

if [ "$#" -eq 0 ]; then
    set -- haproxy -W -S "$HB_RUN_DIR/master.sock,mode,600" -f "$HB_RUN_DIR/haproxy.cfg" -f "$HB_RUN_DIR/routes.cfg"
    [ -z "$MEMORY_CAP" ] || set -- "$@" -m "$MEMORY_CAP"
fi
exec "$@"
