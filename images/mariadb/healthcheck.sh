#!/bin/sh
# Healthy means: the server accepts a connection on its socket and InnoDB is up.
set -eu
[ "$(mariadb -N -s -e "SELECT SUPPORT FROM information_schema.ENGINES WHERE ENGINE='InnoDB'" 2>/dev/null)" = DEFAULT ]
