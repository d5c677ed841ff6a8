#!/bin/sh
# Healthy means: HAProxy answers on its monitor address (inside the container only).
set -eu
curl -fsS --max-time 4 -o /dev/null http://127.0.0.1:8081/.hakobune/ping
