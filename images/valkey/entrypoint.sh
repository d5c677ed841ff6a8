#!/bin/sh
# Render valkey.conf from the environment, then run valkey-server.
set -eu
# shellcheck source=images/common/hakobune-lib.sh
. /usr/local/lib/hakobune/hakobune-lib.sh

hb_match VALKEY_MAXMEMORY auto '^(auto|[0-9]+[kKmMgG]?)$' "must be 'auto' or a size like 64M or 1G"
hb_enum VALKEY_MAXMEMORY_POLICY allkeys-lru allkeys-lru allkeys-lfu volatile-lru volatile-lfu allkeys-random
[ "$VALKEY_MAXMEMORY" = auto ] || [ "$(hb_bytes "$VALKEY_MAXMEMORY")" -ge "$(hb_bytes 8M)" ] \
    || hb_invalid VALKEY_MAXMEMORY "$VALKEY_MAXMEMORY" "must be at least 8M"
hb_checked

# 'auto': three quarters of the container's memory limit (valkey needs some beyond its data); without a
# limit, 128M, several times what a busy WordPress site keeps.
if [ "$VALKEY_MAXMEMORY" = auto ]; then
    memory=$(hb_memory_limit_mb)
    if [ -n "$memory" ]; then
        VALKEY_MAXMEMORY="$(hb_clamp $((memory * 3 / 4)) 8 1048576)M"
    else
        VALKEY_MAXMEMORY=128M
    fi
fi
# valkey takes sizes as 64mb, not 64M.
maxmemory=$(hb_bytes "$VALKEY_MAXMEMORY")

hb_prepare_run_dir
conf="$HB_RUN_DIR/valkey.conf"
cat >"$conf" <<CONF
# Rendered by the entrypoint from environment variables at every start.
# Reachable only on the site's own network, by the site's own containers (see docs/architecture.md).
bind * -::*
protected-mode no
port 6379
dir /run/hakobune
save ""
appendonly no
maxmemory $maxmemory
maxmemory-policy $VALKEY_MAXMEMORY_POLICY
lazyfree-lazy-eviction yes
lazyfree-lazy-user-flush yes
loglevel notice
logfile ""
CONF
# A command given instead (as with the other images): run it with the configuration rendered.
[ "$#" -eq 0 ] || exec "$@"
exec valkey-server "$conf"
