"""Ports on this machine: a local engine publishes on it, so a port that is taken is said before anything starts
(a site's own ports, the edge's 80 and 443)."""

from __future__ import annotations

import errno
import socket

from hakobune.errors import HakobuneError


def check_ports_free(*ports: int, hint: str = "choose free ports with --http-port/--tls-port") -> None:
    """On a local engine the published ports are this machine's: say which one is taken before starting."""
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("0.0.0.0", port))  # noqa: S104 - Docker publishes on every interface
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise HakobuneError(
                        f"port {port} is already in use on this machine", hint) from None
