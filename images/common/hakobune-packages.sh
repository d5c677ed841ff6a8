#!/bin/sh
# Every image's package step, in one place: Debian's packages PACKAGE... installed on an up-to-date system
# (security updates applied), the build check run while apt's lists are still there, then apt's lists and the
# logs removed. Run from the image's Dockerfile with the build arguments of images/common/Dockerfile.preamble.
# Usage: hakobune-packages.sh IMAGE_NAME PACKAGE...
set -eu
name=$1
shift
here=$(dirname "$0")
# Docs, manuals and translations are never installed (dpkg-slim.cfg).
install -m 0644 "$here/dpkg-slim.cfg" /etc/dpkg/dpkg.cfg.d/hakobune-slim
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get upgrade -y --with-new-pkgs
if [ "$#" -gt 0 ]; then
    apt-get install -y --no-install-recommends "$@"
fi
"$here/hakobune-build-check.sh" "$name" "${HAKOBUNE_IMAGE_VERSION:-dev}"
apt-get clean
rm -rf /var/lib/apt/lists/* /var/log/*
