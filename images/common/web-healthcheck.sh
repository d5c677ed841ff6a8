#!/bin/sh
# Web servers (nginx, httpd): healthy means the server answers on its HTTP port and reaches PHP-FPM's ping
# through FastCGI, so a healthy web container means a working path to PHP.
set -eu
# A certificate changed in the tls volume (the site's acme service renewed it) is loaded from here.
hakobune-tls refresh >/dev/null 2>&1 || true
[ "$(curl -fsS --max-time 4 http://127.0.0.1:8080/.hakobune/ping)" = pong ]
