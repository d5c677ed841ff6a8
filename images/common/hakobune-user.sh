#!/bin/sh
# The system user (and its group) a service runs as, with a fixed id: the Compose file runs the service as
# that id (src/hakobune/layout.py: UIDS), and files in volumes keep it across images. No home, no shell.
# Usage: hakobune-user.sh NAME ID
set -eu
groupadd --system --gid "$2" "$1"
useradd --system --uid "$2" --gid "$1" --home-dir /nonexistent --shell /usr/sbin/nologin "$1"
