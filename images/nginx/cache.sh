#!/bin/sh
# The page cache, from inside the web container (`hakobune cache clear|status` runs this):
#   clear    purge every page, through nginx's own purge (so its index of the cache stays right)
#   refresh  clear, and reload nginx so it forgets the files it keeps open (after a deploy or a restore)
#   status   one JSON line: whether the cache is on, how many pages it holds and their size in bytes
set -eu
cache=/run/hakobune/cache

clear() {
    # 200: pages were purged; 404: there were none.
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 http://127.0.0.1:8081/purge/all)
    case "$code" in
        200|404) ;;
        *) echo "hakobune: purging the page cache failed (HTTP $code)" >&2; exit 1 ;;
    esac
}

case "${1:-}" in
    clear)
        clear
        ;;
    refresh)
        clear
        # `-s reload` only signals the master. Wait (up to 10 s) until the workers running now have gone, so
        # that whoever comes next is served by the new ones, not by one closing its connections.
        workers=$(grep -ls '^nginx: worker process' /proc/[0-9]*/cmdline | cut -d/ -f3)
        nginx -c /run/hakobune/nginx.conf -s reload 2>/dev/null
        i=0
        for pid in $workers; do
            while [ -e "/proc/$pid" ] && [ "$i" -lt 100 ]; do
                sleep 0.1
                i=$((i + 1))
            done
        done
        ;;
    status)
        on=false
        grep -q '^fastcgi_cache HB;' /run/hakobune/options/page-cache.conf 2>/dev/null && on=true
        pages=$(find "$cache" -type f | wc -l)
        bytes=$(find "$cache" -type f -exec stat -c %s {} + | awk '{ s += $1 } END { print s + 0 }')
        printf '{"on": %s, "pages": %d, "bytes": %d}\n' "$on" "$pages" "$bytes"
        ;;
    *)
        echo "usage: hakobune-cache clear|refresh|status" >&2
        exit 64
        ;;
esac
