#!/bin/sh
# Healthy means: the server answers a PING.
set -eu
[ "$(valkey-cli -p 6379 ping 2>/dev/null)" = PONG ]
