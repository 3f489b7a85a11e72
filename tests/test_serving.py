"""The local servers (the fake Alexa APIs, the audio files, moto) stop at once."""

from __future__ import annotations

import http.server
import time
import urllib.request

from sim.serving import serving


def test_a_local_server_stops_without_waiting_out_a_poll() -> None:
    # socketserver's loop looks for a stop every 0.5 s by default: twenty stops would take
    # about 5 s (each waits 0 to 0.5 s); within 3 s, each waited far less than that
    began = time.monotonic()
    for _ in range(20):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
        with serving(server, "test-server"):
            pass
        assert server.socket.fileno() == -1  # closed
    assert time.monotonic() - began < 3.0
    # and it served while it ran
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    with serving(server, "test-server"):
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        with urllib.request.urlopen(url, timeout=5) as answer:
            assert answer.status == 200
