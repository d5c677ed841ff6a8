#!/bin/sh
# E: MariaDB in the background, Apache in the foreground, in one container, as on a LAMP VM.
set -eu
mariadbd --user=mysql &
tries=0
until mariadb -e 'SELECT 1' >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 120 ] || { echo "MariaDB did not start" >&2; exit 1; }
    sleep 0.5
done
exec apache2ctl -D FOREGROUND
