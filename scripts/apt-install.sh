#!/usr/bin/env bash
# Install the named Debian packages that are not installed yet (quietly, without recommends).
#   apt-install.sh PACKAGE...
set -euo pipefail

missing=()
for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "apt-install: installing ${missing[*]} needs root; run as root or with sudo" >&2
    exit 1
fi
echo "apt-install: installing ${missing[*]} from the distribution's archive" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
