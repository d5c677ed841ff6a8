#!/bin/sh
# Run at the end of every image's package step, while apt's lists are still there:
#   1. no installed package may have a pending update from Debian's security suite
#      (HAKOBUNE_ALLOW_PENDING_SECURITY=1 lets the build go on, loudly);
#   2. the packages named in images/versions.yaml (HAKOBUNE_EXPECT="pkg=prefix ...") have those versions;
#   3. write a CycloneDX SBOM of the image (Debian packages, PHP extensions, WordPress) into it.
# Usage: hakobune-build-check IMAGE_NAME IMAGE_VERSION
set -eu
name=$1
version=$2
sbom=/usr/share/hakobune/sbom.cdx.json

# The build's log shows the line; the client reads the JSON line after it, the build's answer
# (src/hakobune/ops/contract.py). Messages here hold no quotes or backslashes.
fail() {
    echo "hakobune build check: $*" >&2
    printf '{"error":"%s","hint":null,"kind":null}\n' "$*"
    exit 1
}

# 1. Security updates.
if ! apt-cache policy | grep -q -- '-security'; then
    fail "Debian's security suite is not in the apt sources of the base image: cannot tell what is pending"
fi
pending=$(apt-get -s -o Debug::NoLocking=1 upgrade --with-new-pkgs 2>/dev/null | grep '^Inst ' | grep -i 'security' || true)
if [ -n "$pending" ]; then
    echo "$pending" >&2
    if [ "${HAKOBUNE_ALLOW_PENDING_SECURITY:-0}" = 1 ]; then
        echo "hakobune build check: WARNING: security updates pending, allowed by HAKOBUNE_ALLOW_PENDING_SECURITY=1" >&2
    else
        fail "packages above have pending security updates (build with --allow-pending-security-updates to go on)"
    fi
fi

# 2. Pinned versions.
for expectation in ${HAKOBUNE_EXPECT:-}; do
    package=${expectation%%=*}
    prefix=${expectation#*=}
    if [ "$package" = wordpress ]; then
        installed=$(cat /opt/hakobune/wordpress-version 2>/dev/null || true)
    else
        installed=$(dpkg-query -W -f '${Version}' "$package" 2>/dev/null || true)
    fi
    case "$installed" in
        "$prefix"*) ;;
        *) fail "$package is '${installed:-not installed}', images/versions.yaml wants $prefix*" ;;
    esac
done

# 3. SBOM. A package whose installed version came from Debian's security suite is marked so (a property): a
# newer build then says which of its changes are security fixes (src/hakobune/image_builds.py).
mkdir -p "$(dirname "$sbom")"
security=$(mktemp)
dpkg-query -W -f '${Package}\n' | xargs apt-cache madison 2>/dev/null \
    | awk -F ' *[|] *' '$3 ~ /-security/ { sub(/^ +/, "", $1); print $1 "\t" $2 }' >"$security"
{
    printf '{"bomFormat":"CycloneDX","specVersion":"1.5","serialNumber":"urn:uuid:%s","version":1,' \
        "$(cat /proc/sys/kernel/random/uuid)"
    printf '"metadata":{"timestamp":"%s","component":{"type":"container","bom-ref":"image","name":"hakobune/%s","version":"%s"}},' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$name" "$version"
    printf '"components":['
    dpkg-query -W -f '${Package}\t${Version}\t${Architecture}\n' | awk -F '\t' -v security="$security" '
        BEGIN { while ((getline line < security) > 0) fixed[line] = 1 }
        { v = $2; gsub(/:/, "%3A", v); gsub(/\+/, "%2B", v); gsub(/~/, "%7E", v)
          purl = "pkg:deb/debian/" $1 "@" v "?arch=" $3 "&distro=debian-13"
          suite = (($1 "\t" $2) in fixed) ? ",\"properties\":[{\"name\":\"hakobune:debian-suite\",\"value\":\"security\"}]" : ""
          printf "%s{\"type\":\"library\",\"bom-ref\":\"%s\",\"name\":\"%s\",\"version\":\"%s\",\"purl\":\"%s\"%s}", \
              (NR > 1 ? "," : ""), purl, $1, $2, purl, suite }'
    if command -v php >/dev/null 2>&1; then
        php_version=$(php -r 'echo PHP_VERSION;')
        php -m | grep -v '^\[' | grep -v '^$' | sort -u | while read -r extension; do
            printf ',{"type":"library","group":"php-extension","bom-ref":"php-extension:%s","name":"%s","version":"%s"}' \
                "$extension" "$extension" "$php_version"
        done
    fi
    if [ -f /opt/hakobune/wordpress-version ]; then
        wp=$(cat /opt/hakobune/wordpress-version)
        printf ',{"type":"application","bom-ref":"pkg:generic/wordpress@%s","name":"wordpress","version":"%s","purl":"pkg:generic/wordpress@%s"}' \
            "$wp" "$wp" "$wp"
    fi
    printf ']}\n'
} >"$sbom"
rm -f "$security"
echo "hakobune build check: $name $version passed; SBOM with $(grep -o '"bom-ref"' "$sbom" | wc -l) entries," \
    "$(grep -o '"value":"security"' "$sbom" | wc -l) from the security suite" >&2
