"""A fault-injecting HTTP/1.1 proxy for DynamoDB tests.

It sits on 127.0.0.1 between a real botocore client and moto's server and breaks requests on
the wire: a write that lands but whose answer is lost, a reset, a throttle, a 500, a hang,
latency, a truncated body. The retry, timeout and idempotency code is then tested against
the failures a network really produces, with botocore's own error handling in the path.

    with moto_server() as upstream, FaultProxy(upstream) as proxy:
        proxy.inject("lose_response", "PutItem", times=1)
        client = ...create_client("dynamodb", endpoint_url=proxy.url, ...)

It also makes races happen on purpose: ``rendezvous`` holds the next requests of an operation
until they have all arrived (two turns read the same version of a record), then lets them
through one at a time in a chosen order (which of two writes lands first), the faults drawn
in that order (so "the first write's answer is lost" is a rule with ``times=1``).
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final
from urllib.parse import urlsplit

__all__ = ["FAULTS", "FaultProxy"]

FAULTS: Final = frozenset(
    {"pass", "lose_response", "reset", "throttle", "server_error", "hang", "latency", "truncate", "cut_short"}
)
# Faults answered by the proxy itself: the request never reaches the server.
_CANNED: Final = {
    "throttle": (
        "400 Bad Request",
        b'{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException",'
        b'"message":"Rate of requests exceeds the allowed throughput."}',
    ),
    "server_error": (
        "500 Internal Server Error",
        b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError",'
        b'"message":"Internal server error"}',
    ),
}
# A bound on a request or response head, so a garbled stream cannot grow a buffer forever.
_MAX_HEAD: Final = 64 * 1024
_RECV: Final = 64 * 1024


class _Reader:
    """Buffered reads from one socket: HTTP framing reads up to delimiters, so bytes past
    the current message must be kept for the next one on the same keep-alive connection."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = bytearray()
        self.received = 0

    def _fill(self) -> None:
        chunk = self._sock.recv(_RECV)
        if not chunk:
            raise EOFError("connection closed by peer")
        self.received += len(chunk)
        self._buffer += chunk

    def at_message_start(self) -> bool:
        """Wait for the first byte of a message; False if the peer closed cleanly instead."""
        if self._buffer:
            return True
        try:
            self._fill()
        except EOFError:
            return False
        return True

    def read_until(self, delimiter: bytes) -> bytes:
        while (index := self._buffer.find(delimiter)) < 0:
            if len(self._buffer) > _MAX_HEAD:
                raise ValueError("HTTP head or chunk line too long")
            self._fill()
        end = index + len(delimiter)
        data = bytes(self._buffer[:end])
        del self._buffer[:end]
        return data

    def read_exact(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._fill()
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def read_to_close(self) -> bytes:
        try:
            while True:
                self._fill()
        except EOFError:
            pass
        data = bytes(self._buffer)
        self._buffer.clear()
        return data


@dataclass(frozen=True)
class _Message:
    """One HTTP request or response as it was on the wire."""

    head: bytes  # start line and headers, through the blank line
    body: bytes  # framed as received: a chunked body keeps its chunk lines
    start_line: str
    headers: dict[str, str]  # names lower-cased
    closes: bool  # the connection cannot carry another message after this one

    @property
    def operation(self) -> str:
        return self.headers.get("x-amz-target", "").rpartition(".")[2]

    @property
    def method(self) -> str:
        return self.start_line.partition(" ")[0]


def _read_chunked(reader: _Reader) -> bytes:
    parts: list[bytes] = []
    while True:
        line = reader.read_until(b"\r\n")
        parts.append(line)
        size = int(line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            break
        parts.append(reader.read_exact(size + 2))  # the chunk and its CRLF
    while (trailer := reader.read_until(b"\r\n")) != b"\r\n":
        parts.append(trailer)
    parts.append(b"\r\n")
    return b"".join(parts)


def _read_message(reader: _Reader, request_method: str | None = None) -> _Message | None:
    """Read one request (``request_method`` None) or the response to one; None if the peer
    closed the connection cleanly before the message began."""
    if not reader.at_message_start():
        return None
    head = reader.read_until(b"\r\n\r\n")
    start_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    is_response = request_method is not None
    # "HTTP/1.1 200 OK" versus "POST / HTTP/1.1"
    version = start_line.split(" ", 1)[0] if is_response else start_line.rsplit(" ", 1)[-1]
    connection = headers.get("connection", "").lower()
    closes = "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)
    no_body = False
    if is_response:
        status = int(start_line.split(" ", 2)[1])
        no_body = request_method == "HEAD" or status in (204, 304) or 100 <= status < 200
    if no_body:
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = _read_chunked(reader)
    elif "content-length" in headers:
        body = reader.read_exact(int(headers["content-length"]))
    elif is_response:
        # A response framed by the end of the connection.
        body = reader.read_to_close()
        closes = True
    else:
        body = b""
    return _Message(head, body, start_line, headers, closes)


def _canned_response(fault: str) -> bytes:
    status, body = _CANNED[fault]
    head = (
        f"HTTP/1.1 {status}\r\n"
        "Content-Type: application/x-amz-json-1.0\r\n"
        f"x-amzn-RequestId: {uuid.uuid4()}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("ascii") + body


@dataclass
class _Rule:
    fault: str
    operation: str | None
    remaining: int | None
    probability: float
    seconds: float
    match: bytes | None = None  # only a request whose body holds these bytes


@dataclass
class _Rendezvous:
    """Requests of one operation held until ``parties`` have arrived (or ``seconds`` passed),
    then let through one at a time, in the order ``order`` gives their bodies."""

    operation: str
    parties: int
    seconds: float
    order: Callable[[bytes], Any] | None
    match: bytes | None
    arrived: list[tuple[bytes, object]] = field(default_factory=list)
    closed: bool = False  # no more parties join: the queue below is final
    queue: list[object] = field(default_factory=list)  # tickets, in the order they go


@dataclass
class _Upstream:
    sock: socket.socket
    reader: _Reader


@dataclass
class _Connection:
    """One client connection and the upstream connection that serves it."""

    client: socket.socket
    reader: _Reader
    upstream: _Upstream | None = None
    reset: bool = False  # end with RST rather than FIN


class FaultProxy:
    """A TCP proxy on 127.0.0.1 in front of ``upstream`` that applies injected faults to
    DynamoDB requests, chosen by operation, count and a seeded probability."""

    def __init__(self, upstream: str, seed: int = 0, atomic: bool = False) -> None:
        """``atomic``: one request at a time reaches the upstream. moto's server runs each
        request on its own thread and does not make a conditional write atomic against a
        concurrent one (DynamoDB does), so racing clients need this to test our merge rather
        than moto's lost updates."""
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"upstream must be an http:// URL with a host, not {upstream!r}")
        self._upstream = (parts.hostname, parts.port or 80)
        self.url = ""
        self.log: list[tuple[str, str]] = []
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        # Bumped by clear(), so a request that drew "hang" just before clear() is not held.
        self._generation = 0
        self._sockets: set[socket.socket] = set()
        self._hung: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._stopping = threading.Event()
        self._one_at_a_time = threading.Lock() if atomic else contextlib.nullcontext()
        # Requests on their way to the upstream and back. A client that gave up waiting (its
        # read timed out) does not stop its request: the write may still land later.
        self._forwarding = 0
        self._idle = threading.Condition(self._lock)
        self._meetings: list[_Rendezvous] = []
        self._turns = threading.Condition(self._lock)

    def start(self) -> FaultProxy:
        if self._listener is not None or self._stopping.is_set():
            raise RuntimeError("a FaultProxy starts once")
        listener = socket.create_server(("127.0.0.1", 0))
        self._listener = listener
        port = listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self._spawn(self._accept, listener, f"fault-proxy-{port}")
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            for meeting in list(self._meetings):
                self._close(meeting)
            self._turns.notify_all()
            listener, self._listener = self._listener, None
            for sock in self._sockets:
                _shutdown(sock)
            threads = list(self._threads)
        if listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone does not on Linux.
            _shutdown(listener)
            listener.close()
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout=2)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def inject(
        self,
        fault: str,
        operation: str | None = None,
        times: int | None = None,
        probability: float = 1.0,
        seconds: float = 0.0,
        *,
        match: bytes | None = None,
    ) -> None:
        """Add a rule after the existing ones: the first rule that matches a request applies.
        ``match``: only requests whose body holds these bytes (one user's key, say)."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {sorted(FAULTS)}")
        if times is not None and times < 0:
            raise ValueError("times must be None or at least 0")
        if not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        with self._lock:
            self._rules.append(_Rule(fault, operation, times, probability, seconds, match))

    def rendezvous(
        self,
        operation: str,
        parties: int = 2,
        seconds: float = 0.6,
        order: Callable[[bytes], Any] | None = None,
        *,
        match: bytes | None = None,
    ) -> None:
        """The next ``parties`` requests of ``operation`` wait for each other (at most
        ``seconds``: a party that never comes does not hold the others longer), then go on one
        at a time, each forwarded and answered before the next: in the order ``order`` gives
        their bodies (a sort key), else as they arrived. Their faults are drawn in that order.
        ``match``: only requests whose body holds these bytes take part. Keep ``seconds`` under
        the client's read timeout, or the held client gives up."""
        if parties < 2:
            raise ValueError("a rendezvous needs at least two parties")
        if seconds <= 0:
            raise ValueError("seconds must be positive")
        with self._lock:
            self._meetings.append(_Rendezvous(operation, parties, seconds, order, match))

    def clear(self, match: bytes | None = None) -> None:
        """Remove every rule and rendezvous, and release the requests held by "hang".
        ``match``: only the rules and rendezvous made with that ``match`` (nothing is released)."""
        with self._lock:
            if match is not None:
                self._rules = [rule for rule in self._rules if rule.match != match]
                for meeting in [m for m in self._meetings if m.match == match]:
                    self._close(meeting)
                self._turns.notify_all()
                return
            self._rules.clear()
            for meeting in list(self._meetings):
                self._close(meeting)
            self._generation += 1
            for sock in self._hung:
                _shutdown(sock)
            self._turns.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until no request is on its way to the upstream: every write a client sent, even
        one whose client stopped waiting, has landed or failed."""
        with self._idle:
            if not self._idle.wait_for(lambda: self._forwarding == 0, timeout):
                raise TimeoutError(f"{self._forwarding} requests still forwarded after {timeout} s")

    def count(self, operation: str | None = None, fault: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for seen, applied in self.log
                if (operation is None or seen == operation) and (fault is None or applied == fault)
            )

    def _spawn(self, target: Callable[[socket.socket], None], sock: socket.socket, name: str) -> None:
        thread = threading.Thread(target=target, args=(sock,), name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was shut down by stop()
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if not self._track(client):
                return
            self._spawn(self._serve, client, f"fault-proxy-client-{client.fileno()}")

    def _track(self, sock: socket.socket) -> bool:
        """Register a socket so stop() can reach it; False (and closed) if stopping."""
        with self._lock:
            if not self._stopping.is_set():
                self._sockets.add(sock)
                return True
        sock.close()
        return False

    def _forget(self, sock: socket.socket, *, reset: bool = False) -> None:
        # Under the lock, so stop() never shuts down a descriptor number that close() freed
        # and a new socket reused.
        with self._lock:
            self._sockets.discard(sock)
            self._hung.discard(sock)
        if reset:
            # Linger 0: close() sends RST, so the client cannot mistake the end for a response.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def _decide(self, request: _Message) -> tuple[str, float, int]:
        operation = request.operation
        with self._lock:
            for rule in self._rules:
                if rule.operation is not None and rule.operation != operation:
                    continue
                if rule.match is not None and rule.match not in request.body:
                    continue
                if rule.remaining is not None and rule.remaining <= 0:
                    continue
                if rule.probability < 1.0 and self._random.random() >= rule.probability:
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                self.log.append((operation, rule.fault))
                return rule.fault, rule.seconds, self._generation
            self.log.append((operation, "pass"))
            return "pass", 0.0, self._generation

    def _close(self, meeting: _Rendezvous) -> None:
        """No more parties: fix the order the arrived ones go in (under the lock)."""
        if meeting.closed:
            return
        meeting.closed = True
        if meeting in self._meetings:
            self._meetings.remove(meeting)
        arrived = meeting.arrived
        if meeting.order is not None:
            key = meeting.order
            arrived = sorted(arrived, key=lambda party: key(party[0]))  # stable: ties by arrival
        meeting.queue = [ticket for _, ticket in arrived]

    def _meet(self, request: _Message) -> tuple[_Rendezvous, object] | None:
        """Join the first open rendezvous for this request's operation and wait for this
        request's turn; None if there is none."""
        with self._turns:
            meeting = next(
                (
                    m
                    for m in self._meetings
                    if m.operation == request.operation and (m.match is None or m.match in request.body)
                ),
                None,
            )
            if meeting is None:
                return None
            ticket = object()
            meeting.arrived.append((request.body, ticket))
            if len(meeting.arrived) >= meeting.parties:
                self._close(meeting)
                self._turns.notify_all()
            elif not self._turns.wait_for(lambda: meeting.closed, meeting.seconds):
                self._close(meeting)  # the others did not come in time
                self._turns.notify_all()
            self._turns.wait_for(
                lambda: self._stopping.is_set() or not meeting.queue or meeting.queue[0] is ticket
            )
            return meeting, ticket

    def _done(self, turn: tuple[_Rendezvous, object] | None) -> None:
        """This request of a rendezvous is through: the next one may go."""
        if turn is None:
            return
        meeting, ticket = turn
        with self._turns:
            if ticket in meeting.queue:
                meeting.queue.remove(ticket)
            self._turns.notify_all()

    def _serve(self, client: socket.socket) -> None:
        connection = _Connection(client, _Reader(client))
        try:
            while (request := _read_message(connection.reader)) is not None:
                if not self._answer(connection, request):
                    return
        except (OSError, EOFError, ValueError):
            pass  # the client or server went away, or sent something that is not HTTP
        finally:
            if connection.upstream is not None:
                self._forget(connection.upstream.sock)
            self._forget(client, reset=connection.reset)

    def _answer(self, connection: _Connection, request: _Message) -> bool:
        """Apply the fault this request draws (in its turn, if it is in a rendezvous); True if
        the connection can carry another."""
        turn = self._meet(request)
        try:
            return self._apply(connection, request)
        finally:
            self._done(turn)

    def _apply(self, connection: _Connection, request: _Message) -> bool:
        client = connection.client
        fault, seconds, generation = self._decide(request)
        if fault == "reset":
            connection.reset = True
            return False
        if fault in _CANNED:
            client.sendall(_canned_response(fault))
            return not request.closes
        if fault == "hang":
            self._hang(client, generation)
            return False
        with self._idle:
            self._forwarding += 1
        try:
            upstream, response = self._forward(connection.upstream, request)
        finally:
            with self._idle:
                self._forwarding -= 1
                self._idle.notify_all()
        connection.upstream = upstream
        if response.closes:
            self._forget(upstream.sock)
            connection.upstream = None
        if fault == "lose_response":
            connection.reset = True
            return False
        if fault in ("truncate", "cut_short"):
            client.sendall(response.head + response.body[: len(response.body) // 2])
            # truncate ends with a reset; cut_short with an orderly close, which a client
            # that does not enforce Content-Length may take for a whole (shorter) answer
            connection.reset = fault == "truncate"
            return False
        if fault == "latency" and self._stopping.wait(seconds):
            return False
        client.sendall(response.head + response.body)
        return not (response.closes or request.closes)

    def _hang(self, client: socket.socket, generation: int) -> None:
        with self._lock:
            if generation != self._generation or self._stopping.is_set():
                return  # clear() or stop() came between the decision and now
            self._hung.add(client)
        # Returns when the client gives up, or clear()/stop() shuts the socket down.
        while client.recv(_RECV):
            pass

    def _connect(self) -> _Upstream:
        sock = socket.create_connection(self._upstream)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not self._track(sock):
            raise OSError("proxy is stopping")
        return _Upstream(sock, _Reader(sock))

    def _exchange(self, upstream: _Upstream, request: _Message) -> _Message:
        with self._one_at_a_time:
            upstream.sock.sendall(request.head + request.body)
            response = _read_message(upstream.reader, request.method)
        if response is None:
            raise EOFError("upstream closed the connection before answering")
        return response

    def _forward(self, upstream: _Upstream | None, request: _Message) -> tuple[_Upstream, _Message]:
        if upstream is not None:
            before = upstream.reader.received
            try:
                return upstream, self._exchange(upstream, request)
            except (OSError, EOFError):
                self._forget(upstream.sock)
                # An idle keep-alive connection the server closed answers nothing: the request
                # was never read, so sending it again on a new connection is safe.
                if upstream.reader.received != before or self._stopping.is_set():
                    raise
        fresh = self._connect()
        return fresh, self._exchange(fresh, request)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed, or never connected
        sock.shutdown(socket.SHUT_RDWR)
