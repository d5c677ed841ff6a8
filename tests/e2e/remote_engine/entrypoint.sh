#!/bin/sh
# Start the engine, then sshd in the foreground; root logs in with the key given in AUTHORIZED_KEY only.
set -eu
: "${AUTHORIZED_KEY:?the public key that may log in}"
install -d -m 0700 /root/.ssh
printf '%s\n' "$AUTHORIZED_KEY" >/root/.ssh/authorized_keys
chmod 0600 /root/.ssh/authorized_keys
ssh-keygen -A >/dev/null
install -d -m 0755 /run/sshd
# Its containers get cgroups of their own, apart from the outer engine's.
dockerd --cgroup-parent /hakobune-remote >/var/log/dockerd.log 2>&1 &
exec /usr/sbin/sshd -D -e -o PermitRootLogin=prohibit-password -o PasswordAuthentication=no
