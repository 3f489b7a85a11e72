"""A local fake of the Alexa APIs Pelvic Ease calls: the Reminders API and the device's time zone.

A real HTTPS server on 127.0.0.1 (a thread; a throwaway self-signed certificate the skill's
API client is told to trust), so the skill's own HTTP code runs end to end. The envelopes'
``context.System.apiEndpoint`` points at it (sim/driver.py), in tests, ``make chat`` and
``make demo``. It checks the bearer token, records every request (method, path, JSON body),
and can be told to answer the next requests with an error or to answer too late:

    api.fail_next(429)          the next request is answered 429 (or 401, 403, 404, 500 ...)
    api.delay_next(3.0)         the next request is answered after 3 s (past the client's time-out)
    api.trickle_next(0.05)      the next answer comes a byte at a time, 0.05 s apart
    api.lose_next(method="POST")    the next POST is carried out, and its answer never sent
    api.hold(2, method="GET")   the next 2 GETs wait for each other before either is answered
    api.pass_next(method="GET")     the next GET is answered as usual (rules told after it wait)
    api.delete_in_app(token)    the user deleted the reminder in the Alexa app
    api.revoke() / grant()      the reminders permission taken back / given

    POST /v1/alerts/reminders, GET it (every reminder, as the real API lists the skill's own),
    GET/PUT/DELETE /v1/alerts/reminders/{alertToken}
    GET /v2/devices/{deviceId}/settings/System.timeZone
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import re
import secrets
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .serving import serving

REMINDERS = "/v1/alerts/reminders"
_REMINDER = re.compile(r"^/v1/alerts/reminders/(?P<token>[^/]+)$")
_TIME_ZONE = re.compile(r"^/v2/devices/(?P<device>[^/]+)/settings/System\.timeZone$")


@dataclass(frozen=True)
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    body: Any  # the JSON body, parsed (None: no body)
    authorized: bool


@dataclass
class Fault:
    status: int | None  # answer with this status (None: answer normally, late)
    delay: float = 0.0
    on: str = ""  # only a request whose path starts with this
    trickle: float = 0.0  # seconds between the bytes of the answer
    method: str = ""  # only a request with this method
    lose: bool = False  # carried out, and no answer sent (the connection is dropped)
    meet: threading.Barrier | None = None  # wait for the others held with it first

    def takes(self, method: str, path: str) -> bool:
        return path.startswith(self.on) and (not self.method or method == self.method)


class FakeAlexaApi:
    def __init__(self, time_zone: str = "America/New_York") -> None:
        self.access_token = f"fake-api-access-token-{secrets.token_hex(8)}"
        self.time_zone = time_zone  # every device's, unless ``time_zones`` names it
        self.time_zones: dict[str, str] = {}
        self.reminders: dict[str, dict[str, Any]] = {}
        self.created: dict[str, str] = {}  # each reminder's createdTime
        self._last = datetime.datetime.min.replace(tzinfo=datetime.UTC)
        self.requests: list[Recorded] = []
        self.granted = False
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.url = ""
        self.ca_path = ""

    # -- what a test or a script tells it ----------------------------------------------------
    def grant(self) -> None:
        self.granted = True

    def revoke(self) -> None:
        self.granted = False

    def fail_next(self, status: int, times: int = 1, on: str = "", method: str = "") -> None:
        """The next ``times`` requests (whose path starts with ``on``) are answered ``status``."""
        with self._lock:
            self._faults.extend(Fault(status, on=on, method=method) for _ in range(times))

    def pass_next(self, times: int = 1, on: str = "", method: str = "") -> None:
        """The next ``times`` requests are answered as they would be: the rules told after this
        one take the requests after them."""
        with self._lock:
            self._faults.extend(Fault(None, on=on, method=method) for _ in range(times))

    def lose_next(self, times: int = 1, on: str = "", method: str = "") -> None:
        """The next ``times`` requests are carried out, and their answers never sent: the
        client sees the connection dropped (a create or delete it cannot know happened)."""
        with self._lock:
            self._faults.extend(Fault(None, on=on, method=method, lose=True) for _ in range(times))

    def hold(self, parties: int, on: str = "", method: str = "", seconds: float = 5.0) -> None:
        """The next ``parties`` requests wait for each other (at most ``seconds``) before any
        is carried out: two turns at once see the same reminders."""
        meet = threading.Barrier(parties, timeout=seconds)
        with self._lock:
            self._faults.extend(Fault(None, on=on, method=method, meet=meet) for _ in range(parties))

    def delay_next(self, seconds: float, times: int = 1, on: str = "") -> None:
        """The next ``times`` requests (whose path starts with ``on``) are answered ``seconds`` late."""
        with self._lock:
            self._faults.extend(Fault(None, seconds, on) for _ in range(times))

    def trickle_next(self, seconds_per_byte: float, times: int = 1, on: str = "") -> None:
        """The next ``times`` answers (to requests whose path starts with ``on``) are sent a
        byte at a time, ``seconds_per_byte`` apart: each read of the client gets a byte soon."""
        with self._lock:
            self._faults.extend(Fault(None, on=on, trickle=seconds_per_byte) for _ in range(times))

    def delete_in_app(self, token: str) -> None:
        self.reminders.pop(token, None)

    def calls(self, method: str | None = None, prefix: str = "") -> list[Recorded]:
        return [
            r for r in self.requests if (method is None or r.method == method) and r.path.startswith(prefix)
        ]

    def clear(self) -> None:
        self.requests.clear()
        self._faults.clear()

    # -- answering -------------------------------------------------------------------------
    def answer(self, method: str, path: str, authorization: str, body: Any) -> tuple[int, Any]:
        return self.answered(method, path, authorization, body)[:2]

    def answered(self, method: str, path: str, authorization: str, body: Any) -> tuple[int, Any, float]:
        """(status, payload, seconds between the answer's bytes; -1: no answer is sent)."""
        authorized = authorization == f"Bearer {self.access_token}"
        with self._lock:
            self.requests.append(Recorded(method, path, body, authorized))
            fault = next((f for f in self._faults if f.takes(method, path)), None)
            if fault is not None:
                self._faults.remove(fault)
        if fault is not None and fault.meet is not None:
            with contextlib.suppress(threading.BrokenBarrierError):
                fault.meet.wait()
        status, payload = self._answer(method, path, authorized, body, fault)
        if fault is not None and fault.lose:
            return status, payload, -1.0
        return status, payload, fault.trickle if fault is not None else 0.0

    def _answer(
        self, method: str, path: str, authorized: bool, body: Any, fault: Fault | None
    ) -> tuple[int, Any]:
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status is not None:
            return fault.status, {"code": "SIMULATED_FAILURE", "message": f"told to answer {fault.status}"}
        if not authorized:
            return 401, {"code": "UNAUTHORIZED", "message": "the access token is not valid"}
        zone = _TIME_ZONE.match(path)
        if zone and method == "GET":
            return 200, self.time_zones.get(zone.group("device"), self.time_zone)
        if path == REMINDERS or _REMINDER.match(path):
            if not self.granted:
                return 401, {"code": "UNAUTHORIZED", "message": "the user has not granted the permission"}
            return self._reminders(method, path, body)
        return 404, {"code": "NOT_FOUND", "message": "no such API in the fake"}

    def _reminders(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        with self._lock:  # to the millisecond, and never twice the same: which came first is known
            moment = max(datetime.datetime.now(datetime.UTC), self._last + datetime.timedelta(milliseconds=1))
            self._last = moment
        now = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        if path == REMINDERS and method == "POST":
            if not _is_reminder(body):
                return 400, {"code": "INVALID_REQUEST", "message": "not a reminder"}
            token = f"amzn1.alert.reminder.{secrets.token_hex(12)}"
            with self._lock:
                self.reminders[token] = body
                self.created[token] = now
            return 200, _stored(token, now)
        if path == REMINDERS and method == "GET":
            with self._lock:
                alerts = [{**r, **_stored(t, self.created.get(t, now))} for t, r in self.reminders.items()]
            return 200, {"totalCount": str(len(alerts)), "alerts": alerts, "links": {}}
        match = _REMINDER.match(path)
        token = match.group("token") if match else ""
        if token not in self.reminders:
            return 404, {"code": "NOT_FOUND", "message": "no such reminder"}
        if method == "GET":
            return 200, {**self.reminders[token], **_stored(token, self.created.get(token, now))}
        if method == "PUT":
            if not _is_reminder(body):
                return 400, {"code": "INVALID_REQUEST", "message": "not a reminder"}
            self.reminders[token] = body
            return 200, _stored(token, now)
        if method == "DELETE":
            with self._lock:
                self.reminders.pop(token, None)
            return 200, None
        return 405, {"code": "METHOD_NOT_ALLOWED", "message": method}


def _is_reminder(body: Any) -> bool:
    trigger = body.get("trigger") if isinstance(body, dict) else None
    return isinstance(trigger, dict) and trigger.get("type") in ("SCHEDULED_ABSOLUTE", "SCHEDULED_RELATIVE")


def _stored(token: str, now: str) -> dict[str, Any]:
    return {
        "alertToken": token,
        "createdTime": now,
        "updatedTime": now,
        "status": "ON",
        "version": "1",
        "href": f"{REMINDERS}/{token}",
    }


def _handler_for(api: FakeAlexaApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            status, payload, trickle = api.answered(
                self.command, self.path, self.headers.get("Authorization", ""), body
            )
            data = b"" if payload is None else json.dumps(payload).encode()
            if trickle < 0:  # lost: carried out, and the connection dropped unanswered
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                for start in range(0, len(data), 1 if trickle else len(data) or 1):
                    self.wfile.write(data[start : start + 1] if trickle else data)
                    self.wfile.flush()
                    time.sleep(trickle)
            except OSError:  # the client gave up waiting (a delayed answer): nobody to tell
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up mid-answer (time-outs) is expected here


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (and its key), its own CA: the client trusts it."""
    from cryptography import x509  # noqa: PLC0415 - a development dependency (moto's)
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pelvic-ease fake Alexa API")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "fake-alexa-api.pem", folder / "fake-alexa-api.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@contextmanager
def alexa_api(time_zone: str = "America/New_York") -> Iterator[FakeAlexaApi]:
    """The fake, serving HTTPS on 127.0.0.1 for as long as the block lasts."""
    api = FakeAlexaApi(time_zone)
    with tempfile.TemporaryDirectory(prefix="fake-alexa-api-") as folder:
        cert_path, key_path = self_signed_certificate(Path(folder))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        server = _Server(("127.0.0.1", 0), _handler_for(api))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        api.url = f"https://127.0.0.1:{server.server_address[1]}"
        api.ca_path = str(cert_path)
        with serving(server, "fake-alexa-api"):
            yield api
