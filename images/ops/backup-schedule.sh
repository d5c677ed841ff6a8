#!/bin/sh
# The `backup` service of a site's stack (hakobune backup schedule): writes an archive into the backups volume
# when HB_SCHEDULE, a five-field cron expression (UTC), says, then keeps only the HB_KEEP newest of the site's.
# Each run logs one line. A failed run marks the service unhealthy until a run succeeds. SIGUSR1 runs one now.
#   HB_SCHEDULE='17 3 * * *'  HB_KEEP=N  HB_SITE=name  HB_BACKUP_REQUEST=JSON (the backup task's request)
set -u
helper=/opt/hakobune/helpers/hakobune.php
failed=/tmp/backup-failed

log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) hakobune backup: $*"; }

# The expression is read as the cron service reads its jobs' (images/php/cron.php): Debian's cron-expression.
# shellcheck disable=SC2016 # PHP code, not the shell's
cron_php='require "Cron/autoload.php"; $e = (string) getenv("HB_SCHEDULE");'
# shellcheck disable=SC2016 # PHP code, not the shell's
php -r "$cron_php"' exit(Cron\CronExpression::isValidExpression($e) ? 0 : 1);' \
    || { log "invalid HB_SCHEDULE '${HB_SCHEDULE:-}': a five-field cron expression" >&2; exit 1; }
case "${HB_KEEP:-}" in
    '' | *[!0-9]* | 0) log "invalid HB_KEEP '${HB_KEEP:-}': a number of archives, 1 or more" >&2; exit 1 ;;
esac

seconds_to_next() {
    # shellcheck disable=SC2016 # PHP code, not the shell's
    php -r "$cron_php"' echo (new Cron\CronExpression($e))->getNextRunDate("now", 0, false, "UTC")->getTimestamp()
        - time();'
}

# What the backup task answered (one JSON line, src/hakobune/ops/contract.py), in a few words: the archive and
# its size, or why it failed.
summary() {
    # shellcheck disable=SC2016 # PHP code, not the shell's
    printf '%s' "$1" | tail -n 1 | php -r '$r = json_decode((string) stream_get_contents(STDIN), true);
        echo !is_array($r) ? "no answer" : ($r["error"] ?? basename($r["archive"]) . ", "
            . round($r["bytes"] / 1e6, 1) . " MB");'
}

# The last run's end and result, for the site's metrics service (images/metrics), which reads the volume.
record() {
    if ! { printf '{"time":%s,"ok":%s}\n' "$(date +%s)" "$1" >/srv/backups/.last-run.json.new \
        && mv -f /srv/backups/.last-run.json.new /srv/backups/.last-run.json; }; then
        log "the run's result could not be kept for the metrics service"
    fi
}

run_backup() {
    # The task's own stderr (its message again) stays out of the log: each run logs one line.
    if result=$(printf '%s' "$HB_BACKUP_REQUEST" | php "$helper" backup 2>/dev/null); then
        rm -f "$failed"
        record true
        log "written: $(summary "$result")"
        printf '{"action":"prune","site":"%s","keep":%s}' "$HB_SITE" "$HB_KEEP" | php "$helper" backups >/dev/null \
            2>&1 || log "pruning older archives failed"
    else
        touch "$failed"
        record false
        log "FAILED: $(summary "$result")" >&2
    fi
}

# SIGUSR1 interrupts the wait below: run now. One that comes while a run is on (its pruning, say) is kept for
# after it, not lost to a wait that has not started yet.
asked=0
trap 'asked=1' USR1
trap 'exit 0' TERM INT
log "scheduled $HB_SCHEDULE, keeping $HB_KEEP archives"
while :; do
    sleep "$(seconds_to_next)" &
    sleeper=$!
    [ "$asked" = 1 ] || wait "$sleeper" || true
    kill "$sleeper" 2>/dev/null || true
    asked=0
    run_backup
done
