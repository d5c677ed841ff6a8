#!/bin/sh
# Healthy means: PHP-FPM accepts a FastCGI request and answers its ping.
set -eu
# shellcheck source=images/common/hakobune-lib.sh
. /usr/local/lib/hakobune/hakobune-lib.sh
out=$(SCRIPT_NAME=/.hakobune/ping SCRIPT_FILENAME=/.hakobune/ping REQUEST_METHOD=GET \
    cgi-fcgi -bind -connect "$(hb_fpm_connect)")
case "$out" in *pong*) exit 0 ;; *) exit 1 ;; esac
