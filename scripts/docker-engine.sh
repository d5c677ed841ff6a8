#!/usr/bin/env bash
# Make sure a Docker engine answers, for the demo and the tests.
#   docker-engine.sh ensure          install Debian's docker.io (and debootstrap) if needed, start dockerd if
#                                    no engine answers; leaves it running
#   docker-engine.sh run -- CMD...   the same, run CMD, then stop the engine again only if this script started it
set -euo pipefail

log() { echo "docker-engine: $*" >&2; }

answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

need_root() {
    if [ "$(id -u)" -ne 0 ]; then
        log "$1 needs root; run as root or with sudo"
        exit 1
    fi
}

install_packages() {
    local missing=()
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
    command -v docker >/dev/null 2>&1 || missing+=(docker.io)
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    [ "${#missing[@]}" -eq 0 ] || "$(dirname "$0")/apt-install.sh" "${missing[@]}"
}

# A dockerd that ended with an earlier session can leave its pid files behind; they stop a new one starting.
clear_stale() {
    local pidfile pid
    for pidfile in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile" 2>/dev/null || true)
        if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
            log "removing stale $pidfile"
            rm -f "$pidfile"
        fi
    done
}

# Prints how the engine was started ("systemd" or a pid), so it can be stopped the same way.
start_engine() {
    need_root "starting dockerd"
    if [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ] && systemctl start docker >/dev/null 2>&1; then
        echo systemd
    else
        clear_stale
        mkdir -p /var/log
        nohup dockerd >/var/log/hakobune-dockerd.log 2>&1 &
        echo $!
    fi

    for _ in $(seq 1 60); do
        answers && return 0
        sleep 1
    done
    log "dockerd did not answer within 60s; its log: /var/log/hakobune-dockerd.log"
    tail -n 20 /var/log/hakobune-dockerd.log >&2 || true
    exit 1
}

stop_engine() {
    local how=$1
    log "stopping the Docker engine this script started"
    if [ "$how" = systemd ]; then
        systemctl stop docker docker.socket >/dev/null 2>&1 || true
        return 0
    fi
    kill "$how" 2>/dev/null || return 0

    for _ in $(seq 1 30); do
        kill -0 "$how" 2>/dev/null || return 0
        sleep 1
    done
    kill -9 "$how" 2>/dev/null || true
}

# The images are built FROM the base image; when the engine lacks it (and no registry has it), Hakobune makes
# it with debootstrap: needed whether this script starts the engine or one already runs.
ensure_debootstrap() {
    command -v debootstrap >/dev/null 2>&1 && return 0
    docker image inspect "${HAKOBUNE_BASE_IMAGE:-debian:trixie-slim}" >/dev/null 2>&1 && return 0
    "$(dirname "$0")/apt-install.sh" debootstrap
}

ensure() {
    if answers; then
        ensure_debootstrap
        echo ""
        return 0
    fi
    install_packages
    log "no Docker engine answers: starting one"
    start_engine
}

case "${1:-}" in
    ensure)
        ensure >/dev/null
        ;;
    run)
        shift
        [ "${1:-}" = "--" ] && shift
        started=$(ensure | tail -n 1)
        status=0
        "$@" || status=$?
        if [ -n "$started" ]; then
            stop_engine "$started"
        fi
        exit "$status"
        ;;
    *)
        echo "usage: $0 ensure | run -- COMMAND..." >&2
        exit 2
        ;;
esac
