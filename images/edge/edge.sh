#!/bin/sh
# hakobune-edge: the edge's routes. Each site behind the edge has a route file in the edge's volume (its host
# names and its web container's address) and a certificate beside it; this renders them into HAProxy's
# configuration and reloads HAProxy without dropping a connection. Hakobune runs it with `docker exec`.
#
#   hakobune-edge render              routes -> /run/hakobune/{hosts.map,...,certs.list,routes.cfg}
#   hakobune-edge set SITE            the route of SITE from standard input; reload. Its lines:
#                                       HOSTS=NAME...        the site's names, primary first (its certificate's)
#                                       REDIRECT301=NAME...  those of HOSTS sent to the primary name with a 301
#                                       REDIRECT308=NAME...  ... with a 308
#                                       PENDING=NAME...      names not served yet, whose ACME challenges the
#                                                            edge passes on (a certificate that covers them first)
#                                       UPSTREAM=NAME:PORT   the web container
#   hakobune-edge remove SITE         drop the route and certificate of SITE; reload
#   hakobune-edge install SITE        SITE's own certificate from standard input (PEM: certificate, chain, key),
#                                     served instead of the one it has (an ACME CA no longer renews it); reload
#   hakobune-edge reload              render and reload (a certificate changed: hakobune-acme)
#   hakobune-edge list                every route and its certificate, one JSON line
#
# Failures answer with one JSON line on stdout (src/hakobune/ops/contract.py) and exit non-zero.
set -eu
# shellcheck source=images/common/hakobune-lib.sh
. /usr/local/lib/hakobune/hakobune-lib.sh

STATE=/var/lib/hakobune/edge
ROUTES=$STATE/routes
CERTS=$STATE/certs
SITE_NAME='^[a-z0-9][a-z0-9_-]{0,39}$'
HOST_LIST='^[a-z0-9]([a-z0-9.-]*[a-z0-9])?( [a-z0-9]([a-z0-9.-]*[a-z0-9])?)*$'
UPSTREAM='^[a-z0-9][a-z0-9_.-]*:[0-9]{1,5}$'

# certificate SITE HOSTS: a self-signed certificate for HOSTS until the site has another, made again when it
# does not cover them all (ECDSA P-256, 365 days). HAProxy reads certificate and key from one file.
certificate() {
    pem=$CERTS/$1.pem
    if [ -s "$pem" ]; then
        covered=1
        for host in $2; do
            openssl x509 -in "$pem" -noout -checkhost "$host" 2>/dev/null | grep -q 'does match' || covered=0
        done
        [ "$covered" = 1 ] && return 0
    fi
    names=""
    for host in $2; do names="${names:+$names,}DNS:$host"; done
    (
        umask 077
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
            -subj "/CN=${2%% *}" -addext "subjectAltName=$names" -addext "basicConstraints=critical,CA:FALSE" \
            -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=serverAuth" \
            -keyout "$pem.key" -out "$pem.crt" 2>/dev/null
        cat "$pem.crt" "$pem.key" >"$pem.new"
        rm -f "$pem.crt" "$pem.key"
        mv "$pem.new" "$pem"
    )
}

# render DIR: HAProxy's view of the routes, written into DIR. (sh has no local variables: those of the loop are
# named for it, so that no caller's are changed.)
render() {
    out=$1
    mkdir -p "$ROUTES" "$CERTS" "$out"
    # HAProxy wants a certificate on a TLS port even with no site: one for a name that never resolves, which
    # strict-sni never hands to a visitor.
    certificate _edge edge.hakobune.invalid
    printf '%s [alpn h2,http/1.1] edge.hakobune.invalid\n' "$CERTS/_edge.pem" >"$out/certs.list"
    for r_map in $MAPS; do : >"$out/$r_map"; done
    : >"$out/routes.cfg"
    for r_file in "$ROUTES"/*.route; do
        [ -e "$r_file" ] || continue
        r_site=$(basename "$r_file" .route)
        r_hosts=$(hb_value "$r_file" HOSTS)
        certificate "$r_site" "$r_hosts"
        # OCSP stapling where the CA offers it (an OCSP address in the certificate, its issuer in the chain):
        # HAProxy asks the CA's responder itself, before the answer it staples runs out.
        r_options=""
        if [ -n "$(openssl x509 -in "$CERTS/$r_site.pem" -noout -ocsp_uri 2>/dev/null)" ] \
            && [ "$(grep -c 'BEGIN CERTIFICATE' "$CERTS/$r_site.pem")" -gt 1 ]; then
            r_options="[ocsp-update on] "
        fi
        printf '%s %s%s\n' "$CERTS/$r_site.pem" "$r_options" "$r_hosts" >>"$out/certs.list"
        for r_host in $r_hosts; do printf '%s %s\n' "$r_host" "$r_site" >>"$out/hosts.map"; done
        for r_host in $(hb_value "$r_file" PENDING); do printf '%s %s\n' "$r_host" "$r_site" >>"$out/challenge.map"; done
        for r_code in 301 308; do
            for r_host in $(hb_value "$r_file" "REDIRECT$r_code"); do
                printf '%s %s\n' "$r_host" "${r_hosts%% *}" >>"$out/redirect$r_code.map"
            done
        done
        # HSTS for a certificate a CA signed (not the self-signed one, which browsers do not trust anyway).
        if [ "$(openssl x509 -in "$CERTS/$r_site.pem" -noout -issuer | sed 's/^issuer=//')" != \
             "$(openssl x509 -in "$CERTS/$r_site.pem" -noout -subject | sed 's/^subject=//')" ]; then
            printf '%s 1\n' "$r_site" >>"$out/hsts.map"
        fi
        # The web container is looked up by name as HAProxy starts (libc: a new worker after a reload has the
        # address at once, and serves the site without a gap) and again while it runs (resolvers); a site that
        # is stopped does not resolve (none): the edge still starts and reloads, and the site answers 503.
        # A web container that is recreated (its names, its settings changed) is down for a moment: checked every
        # second while down and up again at the first good answer, so the site is back as soon as it is.
        # Two places: during an upgrade a new web container runs beside the old one under the same name
        # (hakobune upgrade), both are served, and a request the old one refuses or drops unanswered while it
        # stops is sent again, to the other.
        printf 'backend site-%s\n    option redispatch 1\n    retries 3\n    retry-on conn-failure empty-response\n    server-template web 2 %s resolvers docker init-addr libc,none check inter 5s downinter 1s rise 1\n\n' \
            "$r_site" "$(hb_value "$r_file" UPSTREAM)" >>"$out/routes.cfg"
    done
}

MAPS="hosts.map hsts.map challenge.map redirect301.map redirect308.map"
RENDERED="$MAPS certs.list routes.cfg"

# reload: render the routes beside the running configuration, check them with HAProxy, put them in place and
# ask the master for a new worker. When HAProxy refuses them, the running files are put back, PROBLEM says
# why, and it returns non-zero.
reload() {
    next=$HB_RUN_DIR/next
    before=$HB_RUN_DIR/before
    rm -rf "$next" "$before"
    render "$next"
    # The check reads the new files where the running configuration names the current ones.
    sed "s#$HB_RUN_DIR/\([a-z0-9]*[.]\(map\|list\)\)#$next/\\1#g" "$HB_RUN_DIR/haproxy.cfg" >"$next/haproxy.cfg"
    if ! problem=$(haproxy -c -q -f "$next/haproxy.cfg" -f "$next/routes.cfg" 2>&1); then
        return 1
    fi
    mkdir -p "$before"
    for file in $RENDERED; do
        [ -e "$HB_RUN_DIR/$file" ] && cp "$HB_RUN_DIR/$file" "$before/$file"
        mv "$next/$file" "$HB_RUN_DIR/$file"
    done
    answer=$(echo reload | socat -t 60 - "UNIX-CONNECT:$HB_RUN_DIR/master.sock")
    case "$answer" in
        Success=1*) return 0 ;;
    esac
    problem=$(printf '%s\n' "$answer" | grep ALERT | head -n 3)
    for file in $RENDERED; do [ -e "$before/$file" ] && mv "$before/$file" "$HB_RUN_DIR/$file"; done
    return 1
}

# names TEXT: TEXT is host names separated by single spaces.
names() {
    printf '%s\n' "$1" | grep -Eq "$HOST_LIST"
}

# contains LIST NAME: NAME is one of the words of LIST.
contains() {
    case " $1 " in *" $2 "*) return 0 ;; esac
    return 1
}

set_route() {
    site=$1
    HOSTS=""; REDIRECT301=""; REDIRECT308=""; PENDING=""; upstream=""
    while IFS= read -r line; do
        case "$line" in
            HOSTS=*) HOSTS=${line#HOSTS=} ;;
            REDIRECT301=*) REDIRECT301=${line#REDIRECT301=} ;;
            REDIRECT308=*) REDIRECT308=${line#REDIRECT308=} ;;
            PENDING=*) PENDING=${line#PENDING=} ;;
            UPSTREAM=*) upstream=${line#UPSTREAM=} ;;
            *) hb_fail "unknown route line: $(printf '%s' "$line" | cut -c1-40)" ;;
        esac
    done
    names "$HOSTS" || hb_fail "route $site: HOSTS must be host names separated by spaces"
    for list in "$REDIRECT301" "$REDIRECT308" "$PENDING"; do
        [ -z "$list" ] || names "$list" \
            || hb_fail "route $site: REDIRECT301, REDIRECT308 and PENDING must be host names separated by spaces"
    done
    printf '%s\n' "$upstream" | grep -Eq "$UPSTREAM" || hb_fail "route $site: UPSTREAM must be NAME:PORT"
    others=${HOSTS#"${HOSTS%% *}"}
    for host in $REDIRECT301 $REDIRECT308; do
        contains "$others" "$host" || hb_fail "route $site: $host is redirected but is not one of its other names"
    done
    for host in $PENDING; do
        if contains "$HOSTS" "$host"; then hb_fail "route $site: $host is served and pending at once"; fi
    done
    for route in "$ROUTES"/*.route; do
        [ -e "$route" ] && [ "$route" != "$ROUTES/$site.route" ] || continue
        for taken in $(hb_value "$route" HOSTS) $(hb_value "$route" PENDING); do
            for host in $HOSTS $PENDING; do
                [ "$host" != "$taken" ] || hb_fail "$host is served by site $(basename "$route" .route) already"
            done
        done
    done
    mkdir -p "$ROUTES"
    [ -e "$ROUTES/$site.route" ] && cp "$ROUTES/$site.route" "$ROUTES/.$site.before"
    printf 'HOSTS=%s\nREDIRECT301=%s\nREDIRECT308=%s\nPENDING=%s\nUPSTREAM=%s\n' "$HOSTS" "$REDIRECT301" \
        "$REDIRECT308" "$PENDING" "$upstream" >"$ROUTES/$site.route.new"
    mv "$ROUTES/$site.route.new" "$ROUTES/$site.route"
    if ! reload; then
        if [ -e "$ROUTES/.$site.before" ]; then mv "$ROUTES/.$site.before" "$ROUTES/$site.route"
        else rm -f "$ROUTES/$site.route"; fi
        hb_fail "the edge refused the route of $site: $(printf '%s' "$problem" | tr '\n' ' ' | cut -c1-300)"
    fi
    rm -f "$ROUTES/.$site.before"
    echo '{}'
}

remove_route() {
    site=$1
    if [ -e "$ROUTES/$site.route" ]; then
        mv "$ROUTES/$site.route" "$ROUTES/.$site.removed"
        if ! reload; then
            mv "$ROUTES/.$site.removed" "$ROUTES/$site.route"
            hb_fail "the edge could not drop the route of $site: $(printf '%s' "$problem" | tr '\n' ' ' | cut -c1-300)"
        fi
        rm -f "$ROUTES/.$site.removed" "$CERTS/$site.pem"
        rm -rf "${STATE:?}/acme/$site"
    fi
    echo '{}'
}

# install SITE: a certificate the client checked (ops/own_cert.py), checked again for form here, then served.
install_certificate() {
    site=$1
    [ -e "$ROUTES/$site.route" ] || hb_fail "no site $site is behind the edge"
    pem=$CERTS/$site.pem
    hb_read_bundle "$pem.new" || hb_fail "the bundle for $site is not a PEM certificate and its key"
    [ -e "$pem" ] && cp -p "$pem" "$pem.previous"
    mv "$pem.new" "$pem"
    if ! reload; then
        if [ -e "$pem.previous" ]; then mv "$pem.previous" "$pem"; else rm -f "$pem"; fi
        hb_fail "the edge refused the certificate of $site: $(printf '%s' "$problem" | tr '\n' ' ' | cut -c1-300)"
    fi
    rm -f "$pem.previous"
    rm -rf "${STATE:?}/acme/$site"
    echo '{}'
}

# list: {"routes": [{"site", "hosts", "redirect301", "redirect308", "pending", "upstream",
#                    "certificate": {"issuer", "not_after"}}]}
list_routes() {
    printf '{"routes":['
    sep=""
    for route in "$ROUTES"/*.route; do
        [ -e "$route" ] || continue
        site=$(basename "$route" .route)
        pem=$CERTS/$site.pem
        issuer=""; not_after=""
        if [ -s "$pem" ]; then
            issuer=$(openssl x509 -in "$pem" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')
            not_after=$(openssl x509 -in "$pem" -noout -enddate | sed 's/^notAfter=//')
        fi
        printf '%s{"site":"%s","hosts":"%s","redirect301":"%s","redirect308":"%s","pending":"%s","upstream":"%s","certificate":{"issuer":"%s","not_after":"%s"}}' \
            "$sep" "$site" "$(hb_value "$route" HOSTS)" "$(hb_value "$route" REDIRECT301)" \
            "$(hb_value "$route" REDIRECT308)" "$(hb_value "$route" PENDING)" "$(hb_value "$route" UPSTREAM)" \
            "$(printf '%s' "$issuer" | sed 's/\\/\\\\/g; s/"/\\"/g')" "$not_after"
        sep=","
    done
    printf ']}\n'
}

# The running worker's runtime API, through the master.
runtime() {
    echo "@1 $1" | socat -t 10 - "UNIX-CONNECT:$HB_RUN_DIR/master.sock"
}

# servers SITE: {"up": N}: how many of SITE's web containers the edge sends requests to now.
servers_up() {
    up=$(runtime "show servers state site-$1" | awk '$1 !~ /^#/ && NF > 6 && $6 == 2 { n++ } END { print n + 0 }')
    printf '{"up":%s}\n' "$up"
}

# retire SITE ADDRESS: no new request goes to SITE's web container at ADDRESS (an upgrade stops it next; the
# requests it is answering end first). {"retired": N}: its places in the backend.
retire() {
    n=0
    for server in $(runtime "show servers state site-$1" | awk -v address="$2" \
            '$1 !~ /^#/ && NF > 6 && $5 == address { print $4 }'); do
        runtime "set server site-$1/$server state maint" >/dev/null
        n=$((n + 1))
    done
    printf '{"retired":%s}\n' "$n"
}

# Changes come from clients (docker exec) and from renewals in the acme container: one at a time.
lock() {
    exec 9>"$STATE/.edge.lock"
    flock -w 120 9 || hb_fail "another change of the edge did not end within 2 minutes"
}

command=${1:-}
case "$command" in
    render) render "$HB_RUN_DIR" ;;
    reload)
        lock
        reload || hb_fail "the edge refused its configuration: $(printf '%s' "$problem" | tr '\n' ' ' | cut -c1-300)"
        echo '{}' ;;
    set|remove|install)
        if [ "$#" -ne 2 ] || ! printf '%s\n' "$2" | grep -Eq "$SITE_NAME"; then
            hb_fail "usage: hakobune-edge $command SITE"
        fi
        if [ "$command" = install ]; then
            # A renewal of this site that is running ends first, and none starts until the site's CA settings
            # are gone (the same order of locks as hakobune-acme: no deadlock).
            mkdir -p "$STATE/acme"
            exec 8>"$STATE/acme/.lock"
            flock -w 600 8 || hb_fail "a certificate request did not end within 10 minutes"
        fi
        lock
        case "$command" in
            set) set_route "$2" ;;
            remove) remove_route "$2" ;;
            install) install_certificate "$2" ;;
        esac ;;
    list) list_routes ;;
    servers)
        if [ "$#" -ne 2 ] || ! printf '%s\n' "$2" | grep -Eq "$SITE_NAME"; then
            hb_fail "usage: hakobune-edge servers SITE"
        fi
        servers_up "$2" ;;
    retire)
        if [ "$#" -ne 3 ] || ! printf '%s\n' "$2" | grep -Eq "$SITE_NAME" \
                || ! printf '%s\n' "$3" | grep -Eq '^[0-9a-fA-F.:]+$'; then
            hb_fail "usage: hakobune-edge retire SITE ADDRESS"
        fi
        retire "$2" "$3" ;;
    *) hb_fail "usage: hakobune-edge render|reload|set SITE|remove SITE|install SITE|list|servers SITE|retire SITE ADDRESS" ;;
esac
