"""Ports for embedded services: the configured one, or a free one when the default is taken."""

from __future__ import annotations

import logging
import socket

log = logging.getLogger(__name__)


class PortTaken(RuntimeError):
    """A port that was asked for explicitly is in use."""


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether nothing listens on `host:port` and we may bind it."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def any_free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel says is free now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def choose_port(port: int, setting: str, *, explicit: bool, what: str,
                host: str = "127.0.0.1") -> int:
    """`port` if free; else a free one when `port` is only the default, or `PortTaken`
    naming the port and the setting when it was asked for."""
    if port_free(port, host):
        return port
    if explicit:
        raise PortTaken(f"{what}: port {port} on {host} is already in use; free it or set "
                        f"{setting} to another port")
    chosen = any_free_port(host)
    log.warning("%s: default port %d is taken; using %d instead (set %s to choose)",
                what, port, chosen, setting)
    return chosen
