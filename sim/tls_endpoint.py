"""A local HTTPS endpoint in front of an HTTP server: TLS on 127.0.0.1 with a throwaway
certificate, the bytes passed on unchanged to the server behind it (moto's DynamoDB).

botocore then talks to "DynamoDB" over TLS as it does on Lambda: a handshake on each new
connection, with the CA bundle it was told to trust loaded into it. The certificate is its
own CA; a client trusts it by finding it in its bundle (``trusting`` writes one that adds it).

    with moto_server() as url, tls_endpoint(url) as tls:
        env = {"AWS_ENDPOINT_URL_DYNAMODB": tls.url, "AWS_CA_BUNDLE": str(tls.trusting(bundle))}
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .alexa_api import self_signed_certificate


@dataclass(frozen=True)
class TlsEndpoint:
    """The endpoint's HTTPS URL and its certificate (PEM), which is also its CA."""

    url: str
    certificate: Path

    def trusting(self, bundle: Path, out: Path) -> Path:
        """``bundle`` with this endpoint's certificate added, written to ``out``."""
        out.write_text(bundle.read_text(encoding="ascii") + self.certificate.read_text(encoding="ascii"))
        return out


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


def _serve(client: ssl.SSLSocket, upstream: tuple[str, int]) -> None:
    with client, socket.create_connection(upstream) as server:
        back = threading.Thread(target=_pipe, args=(server, client), daemon=True)
        back.start()
        _pipe(client, server)
        back.join()


def _accept(listener: ssl.SSLSocket, upstream: tuple[str, int]) -> None:
    while True:
        try:
            client, _ = listener.accept()  # the handshake happens here
        except ssl.SSLError:
            continue  # a client that did not trust the certificate: it hears nothing more
        except OSError:
            return  # the listener was closed
        threading.Thread(target=_serve, args=(client, upstream), daemon=True).start()


@contextlib.contextmanager
def tls_endpoint(upstream_url: str) -> Iterator[TlsEndpoint]:
    """HTTPS on 127.0.0.1 in front of ``upstream_url`` (http://host:port), for the block."""
    target = urlsplit(upstream_url)
    upstream = (target.hostname or "127.0.0.1", target.port or 80)
    with tempfile.TemporaryDirectory(prefix="tls-endpoint-") as folder:
        certificate, key = self_signed_certificate(Path(folder))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        plain = socket.create_server(("127.0.0.1", 0))
        listener = context.wrap_socket(plain, server_side=True)
        thread = threading.Thread(target=_accept, args=(listener, upstream), name="tls-endpoint", daemon=True)
        thread.start()
        try:
            yield TlsEndpoint(f"https://127.0.0.1:{listener.getsockname()[1]}", certificate)
        finally:
            listener.close()
            thread.join(timeout=5)
