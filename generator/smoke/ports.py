"""Free TCP ports on 127.0.0.1 for the processes of one smoke run.

Ports are chosen at random below the kernel's ephemeral range: the well-known Flink ports (8081,
6123, 9249, ...) are where another local Flink or another smoke run is most likely to be, and a
port from the ephemeral range could be handed to an outgoing connection while a JVM is still
starting. A chosen port is only known to be free when it is chosen; a process that then fails to
bind it is a no-go naming the port.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

__all__ = ["LOOPBACK", "PortPicker", "port_is_free"]

LOOPBACK = "127.0.0.1"
_LOWEST = 10_000


def port_is_free(port: int, *, reuse: bool = False) -> bool:
    """Whether ``127.0.0.1:port`` can be bound now.

    Without ``reuse`` the check is strict: a port with connections in TIME_WAIT counts as taken.
    With ``reuse`` (SO_REUSEADDR) only a listening socket makes it taken, which is the check for
    "nobody listens here any more" after a run.
    """
    if not 0 < port < 65536:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if reuse:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = (int(x) for x in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        return 32768, 60999
    return low, high


class PortPicker:
    """Hands out distinct free ports: the preferred ones first (when free), else random ones
    between 10000 and the start of the ephemeral range."""

    def __init__(self, seed: int | None = None) -> None:
        self.taken: set[int] = set()
        self._random = random.Random(seed)
        low, high = _ephemeral_range()
        self.range = (_LOWEST, low - 1) if low - 1 - _LOWEST >= 1000 else (high + 1, 65535)

    def pick(self, *preferred: int) -> int:
        for port in preferred:
            if port not in self.taken and port_is_free(port):
                self.taken.add(port)
                return port
        for _ in range(500):
            port = self._random.randint(*self.range)
            if port not in self.taken and port_is_free(port):
                self.taken.add(port)
                return port
        for _ in range(100):  # pragma: no cover - a machine with almost every port taken
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind((LOOPBACK, 0))
                port = int(sock.getsockname()[1])
            if port not in self.taken:
                self.taken.add(port)
                return port
        raise OSError("no free TCP port on 127.0.0.1")  # pragma: no cover
