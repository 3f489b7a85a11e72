"""The Alexa APIs the skill calls: the Reminders API and the device's time zone (UPS settings),
through ask-sdk's own service clients, with an API client that has time-outs.

ask-sdk's DefaultApiClient (requests) waits for ever; a Lambda turn has 7 s. ``TimedApiClient``
implements the SDK's ``ApiClient`` over the standard library's HTTPS client with a deadline
for the whole call by the wall clock (a socket time-out bounds each read only: an answer
that trickles in a byte at a time would hold the turn for ever), HTTPS only, and no retries.
Every call is also started only if the turn's budget leaves time to store what it did and to
speak. The access token goes only into the Authorization header: it is never logged, nor put
in an exception's message.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import partial
from typing import Any, cast
from urllib.parse import urlsplit

import certifi
from ask_sdk_core.exceptions import ApiClientException
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model.services import ApiClient, ApiClientRequest, ApiClientResponse, ServiceException
from ask_sdk_model.services.reminder_management import (
    AlertInfo,
    PushNotification,
    PushNotificationStatus,
    Recurrence,
    ReminderManagementServiceClient,
    ReminderRequest,
    SpokenInfo,
    SpokenText,
    Trigger,
    TriggerType,
)

from .budget import Budget
from .observability import logger
from .reminders import (
    FORBIDDEN,
    NO_PERMISSION,
    NO_ZONE,
    NOT_FOUND,
    OK,
    REFUSED,
    SCOPE,
    THROTTLED,
    UNAVAILABLE,
    DailyTime,
    ReminderResult,
)

CONNECT_SECONDS = 1.0
API_SECONDS = 2.0  # the longest one call to an Alexa API may take, connecting included
# Started only if, at its slowest, the call leaves this much more than the turn's reserve:
# the write of what it did (the reminder's id) still has to fit.
AFTER_CALL_SECONDS = 1.0
REMINDERS = "/v1/alerts/reminders"
DEADLINE_THREAD = "alexa-api-deadline"  # the watchdog of one call, gone when the call is
STATUS = {400: REFUSED, 401: NO_PERMISSION, 403: FORBIDDEN, 404: NOT_FOUND, 409: REFUSED, 429: THROTTLED}


def zone_info(name: str) -> tzinfo:
    """The IANA time zone ``name`` (raises as ZoneInfo does). zoneinfo and its search path are
    imported on first use: most turns count no days."""
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    return ZoneInfo(name)


def known_zone(name: str) -> bool:
    """Whether this runtime knows the time zone ``name`` (its tzdata has the zone)."""
    try:
        zone_info(name)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True


class TimedApiClient(ApiClient):
    """ask-sdk's ApiClient with a deadline: HTTPS only, one attempt, and the whole call
    (connecting, the TLS handshake, the request, the answer's head and body) ``total_seconds``
    at most by the wall clock: a watchdog shuts the connection when it is due, whatever read
    is waiting. ``ca_certs``: the certificates to trust (certifi's by default; a local fake's
    own CA in tests and the simulator)."""

    def __init__(
        self,
        *,
        connect_seconds: float = CONNECT_SECONDS,
        total_seconds: float = API_SECONDS,
        ca_certs: str | None = None,
    ) -> None:
        self.connect_seconds = connect_seconds
        self.total_seconds = total_seconds
        self._ca_certs = ca_certs
        self._made: ssl.SSLContext | None = None

    @property
    def _tls(self) -> ssl.SSLContext:
        """Made on the first call to an Alexa API, not with the skill: most turns make none
        (and certifi finds its bundle through importlib.resources)."""
        if self._made is None:
            self._made = ssl.create_default_context(cafile=self._ca_certs or certifi.where())
        return self._made

    def invoke(self, request: ApiClientRequest) -> ApiClientResponse:
        url = urlsplit(str(request.url or ""))
        if url.scheme != "https" or not url.hostname:
            raise ApiClientException("Requests against non-HTTPS endpoints are not allowed.")
        body = request.body
        data = body.encode() if isinstance(body, str) else None if body is None else json.dumps(body).encode()
        path = url.path + (f"?{url.query}" if url.query else "")
        connection = http.client.HTTPSConnection(
            url.hostname, url.port, timeout=min(self.connect_seconds, self.total_seconds), context=self._tls
        )
        watchdog = threading.Timer(self.total_seconds, _cut, args=(connection,))
        watchdog.name, watchdog.daemon = DEADLINE_THREAD, True
        watchdog.start()
        try:
            connection.request(str(request.method), path, body=data, headers=dict(request.headers or []))
            answer = connection.getresponse()
            text = answer.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as error:
            # the error's own text names neither the headers nor the token
            raise ApiClientException(
                f"{type(error).__name__}: no answer from the Alexa API in time"
            ) from None
        finally:
            watchdog.cancel()
            watchdog.join()  # gone at once when cancelled: no thread is left waiting
            connection.close()
        return ApiClientResponse(
            headers=answer.getheaders(),
            status_code=answer.status,
            # an empty body must not fail the SDK's JSON parsing (it reads None as no body)
            body=text or None,  # type: ignore[arg-type]  # annotated as str, None is handled
        )


def _cut(connection: http.client.HTTPConnection) -> None:
    """The call's deadline: shut its socket, so whatever read waits on it ends at once (during
    the handshake the socket is still the plain one, and shutting it ends the handshake)."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def has_reminder_permission(handler_input: HandlerInput) -> bool:
    """The user granted the reminders permission: a consent token, and the scope not denied."""
    context = handler_input.request_envelope.context
    user = context.system.user if context and context.system else None
    permissions = user.permissions if user else None
    if permissions is None or not permissions.consent_token:
        return False
    scope = (permissions.scopes or {}).get(SCOPE)
    status = getattr(getattr(scope, "status", None), "value", None)
    return scope is None or status == "GRANTED"


def api_access(handler_input: HandlerInput) -> tuple[str, str] | None:
    """The request's API endpoint and access token, if it carries both."""
    context = handler_input.request_envelope.context
    system = context.system if context else None
    endpoint = system.api_endpoint if system else None
    token = system.api_access_token if system else None
    return (
        (endpoint, token)
        if isinstance(endpoint, str) and endpoint and isinstance(token, str) and token
        else None
    )


def _api_reachable(handler_input: HandlerInput) -> bool:
    return api_access(handler_input) is not None and handler_input.service_client_factory is not None


def _failure(operation: str, error: Exception) -> str:
    status = error.status_code if isinstance(error, ServiceException) else None
    kind = STATUS.get(status or 0, UNAVAILABLE)
    logger.warning(
        "Alexa API call failed",
        extra={"operation": operation, "status": status, "error": type(error).__name__},
    )
    return kind


def read_time_zone(
    handler_input: HandlerInput, budget: Budget, after_seconds: float = AFTER_CALL_SECONDS
) -> str | None:
    """The device's time zone (the Alexa settings API), or None if it cannot be read; not
    asked unless, at its slowest, the call leaves ``after_seconds`` for what must follow it."""
    context = handler_input.request_envelope.context
    device = context.system.device if context and context.system else None
    device_id = device.device_id if device else None
    if not device_id or not _api_reachable(handler_input) or not budget.allows(API_SECONDS + after_seconds):
        return None
    try:
        name = str(handler_input.service_client_factory.get_ups_service().get_system_time_zone(device_id))
    except Exception as error:  # any failure: no time zone this time
        _failure("time_zone", error)
        return None
    if not known_zone(name):  # a zone this runtime does not know: the fallback
        logger.warning("the device's time zone is unknown here", extra={"operation": "time_zone"})
        return None
    return name


class AlexaReminders:
    """The ``Reminders`` port over ask-sdk's ReminderManagementServiceClient, for one turn."""

    def __init__(
        self,
        handler_input: HandlerInput,
        budget: Budget,
        *,
        zone: Callable[[], str | None],
        text: str,
        locale: str,
        now: int,
    ) -> None:
        """``text``: what Alexa says when the reminder comes, in ``locale`` (the content's
        market: the request's own may be one we do not serve, or malformed)."""
        self.handler_input = handler_input
        self.budget = budget
        self.zone = zone
        self.text = text
        self.locale = locale
        self.now = now

    def _client(self) -> ReminderManagementServiceClient | None:
        """The SDK's client, if a call may be made now (an API to reach, time to wait for it)."""
        if not _api_reachable(self.handler_input) or not self.budget.allows(API_SECONDS + AFTER_CALL_SECONDS):
            return None
        client: ReminderManagementServiceClient = (
            self.handler_input.service_client_factory.get_reminder_management_service()
        )
        return client

    def request(self, time: DailyTime, zone: str) -> ReminderRequest:
        """Every day at ``time`` in ``zone``, starting now; Alexa speaks ``text``."""
        local_now = datetime.fromtimestamp(self.now, zone_info(zone)).replace(tzinfo=None, microsecond=0)
        return ReminderRequest(
            request_time=datetime.fromtimestamp(self.now, UTC).replace(tzinfo=None, microsecond=0),
            trigger=Trigger(
                object_type=TriggerType.SCHEDULED_ABSOLUTE,
                time_zone_id=zone,
                recurrence=Recurrence(start_date_time=local_now, recurrence_rules=[time.rule]),
            ),
            alert_info=AlertInfo(
                spoken_info=SpokenInfo(content=[SpokenText(locale=self.locale, text=self.text)])
            ),
            push_notification=PushNotification(status=PushNotificationStatus.ENABLED),
        )

    def _call(self, operation: str, call: Callable[[ReminderManagementServiceClient], Any]) -> Any:
        """One call through the SDK's client: its answer, or a ``Failed`` with the kind of
        failure when no call may be made now or it failed (every failure is spoken, none raised)."""
        client = self._client()
        if client is None:
            return Failed(UNAVAILABLE)
        try:
            return call(client)
        except Exception as error:
            return Failed(_failure(operation, error))

    def put(self, time: DailyTime, existing: str | None) -> ReminderResult:
        """The skill's one reminder, every day at ``time``. The reminders the skill has are
        listed first (the record's id may be missing: its write failed; or stale: deleted in
        the Alexa app), so a retry or a second consent answer never makes a second one: the one
        there is moved, or, if there is none, one is made and the list read again (a created
        reminder whose answer was lost is found; two made at once by two consent answers are
        brought down to the oldest, which both keep)."""
        if not _api_reachable(self.handler_input):
            return ReminderResult(UNAVAILABLE)  # no API to ask: no permission question either
        if not has_reminder_permission(self.handler_input):
            return ReminderResult(NO_PERMISSION)
        zone = self.zone()
        if zone is None:
            return ReminderResult(NO_ZONE)  # never a reminder at a guessed hour
        listed = self._listed()
        if isinstance(listed, Failed):
            return ReminderResult(listed.status)  # whether one exists is not known: nothing made
        if listed:
            return self._moved(self._one_of(listed, existing), time, zone, created=False)
        created = self._call("create_reminder", lambda c: c.create_reminder(self.request(time, zone)))
        # made, perhaps, though its answer was lost; or made twice, by two answers at once
        after = self._listed()
        if isinstance(after, Failed) or not after:
            token = None if isinstance(created, Failed) else getattr(created, "alert_token", None)
            if isinstance(token, str) and token:
                return ReminderResult(OK, token=token, created=True)  # the next put or cancel tidies
            return ReminderResult(created.status if isinstance(created, Failed) else UNAVAILABLE)
        return self._moved(self._one_of(after, existing), time, zone, created=True)

    def _moved(
        self, reminder: dict[str, Any], time: DailyTime, zone: str, *, created: bool
    ) -> ReminderResult:
        """``reminder`` (the skill's one) at ``time`` every day: moved there unless it is."""
        token = str(reminder["alertToken"])
        if reminder_time(reminder) == time:
            return ReminderResult(OK, token=token, created=created)
        updated = self._call("update_reminder", lambda c: c.update_reminder(token, self.request(time, zone)))
        if isinstance(updated, Failed):
            return ReminderResult(updated.status)
        return ReminderResult(OK, token=token, created=created)

    def _one_of(self, listed: list[dict[str, Any]], existing: str | None) -> dict[str, Any]:
        """The reminder the skill keeps (the record's, else the oldest: what every turn that
        lists the same reminders chooses), the others deleted."""
        keep = next((r for r in listed if r["alertToken"] == existing), None) or min(
            listed, key=lambda r: (str(r.get("createdTime", "")), str(r["alertToken"]))
        )
        for extra in listed:
            if extra is not keep:
                self._call("delete_reminder", partial(_delete, str(extra["alertToken"])))
        return keep

    def delete(self, existing: str | None) -> ReminderResult:
        """Every reminder the skill has for the user deleted (OK), or there was none
        (NOT_FOUND). A delete whose answer was lost is checked by listing again."""
        if existing is None and not has_reminder_permission(self.handler_input):
            return ReminderResult(NOT_FOUND)  # none stored, and none could have been made
        listed = self._listed()
        if isinstance(listed, Failed):
            return ReminderResult(listed.status)  # what is left is not known: nothing is said gone
        if not listed:
            return ReminderResult(NOT_FOUND)
        failures = [
            failed
            for reminder in listed
            if isinstance(
                failed := self._call("delete_reminder", partial(_delete, reminder["alertToken"])), Failed
            )
        ]
        if not failures:
            return ReminderResult(OK)
        left = self._listed()  # a delete whose answer was lost (or gone already: 404) may have done it
        return ReminderResult(OK if left == [] else failures[0].status)

    def read(self, existing: str | None) -> ReminderResult:
        """The skill's reminder and its time (the record's if it is there, else the oldest),
        read as plain JSON: ask-sdk-model 1.82 cannot deserialise a reminder it reads back
        (ALEXA.md), so the SDK client's own ``invoke`` is asked for an object."""
        if existing is None and not has_reminder_permission(self.handler_input):
            return ReminderResult(NOT_FOUND)
        listed = self._listed()
        if isinstance(listed, Failed):
            return ReminderResult(listed.status)
        if not listed:
            return ReminderResult(NOT_FOUND)
        reminder = next((r for r in listed if r["alertToken"] == existing), None) or min(
            listed, key=lambda r: (str(r.get("createdTime", "")), str(r["alertToken"]))
        )
        return ReminderResult(OK, token=str(reminder["alertToken"]), time=reminder_time(reminder))

    def _listed(self) -> list[dict[str, Any]] | Failed:
        """Every reminder the skill has for this user (GET /v1/alerts/reminders, as plain JSON),
        or why they could not be listed."""
        access = api_access(self.handler_input)
        if access is None:
            return Failed(UNAVAILABLE)
        endpoint, access_token = access
        answer = self._call(
            "list_reminders",
            lambda c: cast(Any, c).invoke(
                method="GET",
                endpoint=endpoint,
                path=REMINDERS,
                query_params=[],
                header_params=[
                    ("Content-type", "application/json"),
                    ("Authorization", f"Bearer {access_token}"),
                ],
                path_params={},
                response_definitions=[],
                body=None,
                response_type="object",
            ),
        )
        if isinstance(answer, Failed):
            return answer
        body = getattr(answer, "body", None)
        alerts = body.get("alerts", []) if isinstance(body, dict) else None
        if not isinstance(alerts, list):
            logger.warning("the reminders could not be read from the answer", extra={"operation": "list"})
            return Failed(UNAVAILABLE)
        return [
            a
            for a in alerts
            if isinstance(a, dict) and isinstance(a.get("alertToken"), str) and a["alertToken"]
        ]


def _delete(token: str, client: ReminderManagementServiceClient) -> Any:
    return client.delete_reminder(token)


@dataclass(frozen=True)
class Failed:
    """A call to the Reminders API that was not made, or failed: the kind of failure."""

    status: str


def reminder_time(reminder: Any) -> DailyTime | None:
    """The time of a reminder read back: its daily rule's, else its scheduled time's."""
    trigger = reminder.get("trigger") if isinstance(reminder, dict) else None
    if not isinstance(trigger, dict):
        return None
    recurrence = trigger.get("recurrence")
    rules = recurrence.get("recurrenceRules") if isinstance(recurrence, dict) else None
    for rule in rules if isinstance(rules, list) else []:
        time = DailyTime.from_rule(rule)
        if time is not None:
            return time
    scheduled = trigger.get("scheduledTime")
    return DailyTime.parse(scheduled[11:16]) if isinstance(scheduled, str) and len(scheduled) >= 16 else None
