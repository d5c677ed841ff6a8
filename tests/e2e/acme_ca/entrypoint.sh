#!/bin/sh
# test-acme ca:  pebble on 14000 (ACME) and 15000 (management: its roots), its own HTTPS signed by a root made
#                at start (/run/acme/root.pem, what the client is told to trust with --acme-ca-cert). It checks
#                HTTP-01 challenges on port HTTP_PORT of the address DNS_SERVER gives for each name.
# test-acme dns: pebble-challtestsrv on 8053, answering ADDRESS for every name (its API on 8055 changes that).
set -eu
case "${1:-}" in
    ca)
        dir=/run/acme
        mkdir -p "$dir"
        cd "$dir"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3 \
            -subj /CN=hakobune-test-acme-root -addext basicConstraints=critical,CA:TRUE \
            -addext keyUsage=critical,keyCertSign,cRLSign -keyout root.key -out root.pem 2>/dev/null
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=acme-ca \
            -keyout server.key -out server.csr 2>/dev/null
        printf 'subjectAltName=DNS:acme-ca\nextendedKeyUsage=serverAuth\n' >server.ext
        openssl x509 -req -in server.csr -CA root.pem -CAkey root.key -CAcreateserial -days 3 \
            -extfile server.ext -out server.pem 2>/dev/null
        cat >pebble.json <<JSON
{"pebble": {"listenAddress": "0.0.0.0:14000", "managementListenAddress": "0.0.0.0:15000",
  "certificate": "$dir/server.pem", "privateKey": "$dir/server.key",
  "httpPort": ${HTTP_PORT:-80}, "tlsPort": 443, "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
        exec pebble -config pebble.json -dnsserver "${DNS_SERVER:?}" ;;
    dns)
        exec pebble-challtestsrv -defaultIPv4 "${ADDRESS:?}" -defaultIPv6 "" -dns01 :8053 -management :8055 \
            -http01 "" -https01 "" -tlsalpn01 "" -doh "" ;;
    *)
        echo "usage: test-acme ca|dns" >&2
        exit 64 ;;
esac
