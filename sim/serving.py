"""A local server's loop on a thread of its own, for as long as a block lasts.

socketserver's loop looks for a stop request only between waits of ``poll_interval``, 0.5 s
by default, so stopping a server cost up to half a second: about 15 s over the test suite,
which starts the fake Alexa APIs for every reminder test. Here the loop looks every 20 ms.
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager

POLL_SECONDS = 0.02


@contextmanager
def serving(server: socketserver.BaseServer, name: str) -> Iterator[None]:
    """Serve on a daemon thread until the block ends; then stop the loop and close the socket."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, name=name, daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
