#!/bin/sh
# Healthy means: nginx answers on its HTTP port and reaches PHP-FPM's ping through FastCGI.
set -eu
[ "$(curl -fsS --max-time 4 http://127.0.0.1:8080/.hakobune/ping)" = pong ]
