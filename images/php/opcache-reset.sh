#!/bin/sh
# Empty PHP-FPM's OPcache, which all its workers share. With PHP_OPCACHE_VALIDATE_TIMESTAMPS=0 PHP never looks
# at a compiled file again, so whatever changes the site's code (a deploy, a restore) runs this. The request
# goes to PHP-FPM itself: the command line has an OPcache of its own.
set -eu
# shellcheck source=images/common/hakobune-lib.sh
. /usr/local/lib/hakobune/hakobune-lib.sh
out=$(SCRIPT_NAME=/opcache-reset.php SCRIPT_FILENAME=/opt/hakobune/opcache-reset.php REQUEST_METHOD=GET \
    cgi-fcgi -bind -connect "$(hb_fpm_connect)")
case "$out" in
    *opcache:reset*|*opcache:off*) exit 0 ;;
    *) echo "hakobune: emptying PHP's OPcache failed: $out" >&2; exit 1 ;;
esac
