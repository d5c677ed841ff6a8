#!/bin/sh
# Healthy means: PHP-FPM accepts a FastCGI request and answers its ping. On the spare socket, with the container
# it replaced gone, it makes the socket a link to itself first (hb_fpm_settle).
set -eu
# shellcheck source=images/common/hakobune-lib.sh
. /usr/local/lib/hakobune/hakobune-lib.sh
hb_fpm_settle || true
hb_fpm_answers "$(hb_fpm_connect)"
