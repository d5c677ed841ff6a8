#!/bin/sh
# Start MariaDB and Apache in the background, then sshd in the foreground. root logs in over SSH with the key in
# AUTHORIZED_KEY only. The WordPress database and its user are made on first start; `legacy-setup.php`
# (run by the test) installs the site.
set -eu
: "${AUTHORIZED_KEY:?the public key that may log in}"
install -d -m 0700 /root/.ssh
printf '%s\n' "$AUTHORIZED_KEY" >/root/.ssh/authorized_keys
chmod 0600 /root/.ssh/authorized_keys
ssh-keygen -A >/dev/null
install -d -m 0755 /run/sshd
install -d -o mysql -g mysql /run/mysqld
mariadbd --user=mysql >/var/log/mariadb.log 2>&1 &
tries=0
until mariadb -e 'SELECT 1' >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 120 ] || { cat /var/log/mariadb.log; exit 1; }
    sleep 0.5
done
mariadb -e "CREATE DATABASE IF NOT EXISTS legacywp; \
    CREATE USER IF NOT EXISTS 'legacy'@'localhost' IDENTIFIED BY 'Legacy-db-pass-1'; \
    GRANT ALL PRIVILEGES ON legacywp.* TO 'legacy'@'localhost';"
apache2ctl start
exec /usr/sbin/sshd -D -e -o PermitRootLogin=prohibit-password -o PasswordAuthentication=no
