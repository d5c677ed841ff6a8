#!/bin/sh
# Healthy means: PHP-FPM accepts a FastCGI request and answers its ping.
set -eu
out=$(SCRIPT_NAME=/.hakobune/ping SCRIPT_FILENAME=/.hakobune/ping REQUEST_METHOD=GET \
    cgi-fcgi -bind -connect 127.0.0.1:9000)
case "$out" in *pong*) exit 0 ;; *) exit 1 ;; esac
