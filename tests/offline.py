"""No test reaches a host but this machine: every look-up and connection off 127.0.0.1 is
refused (imported by conftest.py, so it holds for the whole suite).

The recorded envelopes name Alexa's real apiEndpoint; a call that escaped the local fake
fails here with an OSError, as it would on a network without that host, and never reaches
Amazon.
"""

from __future__ import annotations

import socket
from typing import Any

LOOPBACK_NAMES = ("localhost", "::1", "")


def loopback(host: object) -> bool:
    name = host.decode() if isinstance(host, bytes) else str(host if host is not None else "")
    return name in LOOPBACK_NAMES or name.startswith("127.")


class OffLoopback(OSError):
    """A test (or the code it runs) tried to reach a host that is not this machine."""


_getaddrinfo, _connect = socket.getaddrinfo, socket.socket.connect


def _local_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not loopback(host):
        raise OffLoopback(f"no test may look up {host!r}: only 127.0.0.1 is reachable here")
    return _getaddrinfo(host, *args, **kwargs)


def _local_connect(self: socket.socket, address: Any) -> None:
    if isinstance(address, tuple) and not loopback(address[0]):
        raise OffLoopback(f"no test may connect to {address[0]!r}: only 127.0.0.1 is reachable here")
    _connect(self, address)


socket.getaddrinfo = _local_getaddrinfo  # type: ignore[assignment]
socket.socket.connect = _local_connect  # type: ignore[method-assign]
