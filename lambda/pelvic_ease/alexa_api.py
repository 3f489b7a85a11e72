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
from datetime import UTC, datetime, tzinfo
from functools import partial
from typing import Any, NamedTuple, cast
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


Listed = list[dict[str, Any]]
Mine = Callable[[dict[str, Any]], bool]  # which of the listed reminders a kind of ours is


class AlexaReminders:
    """The ``Reminders`` port over ask-sdk's ReminderManagementServiceClient, for one turn.

    The skill's reminders are of two kinds, told apart in the list the API gives: the
    check-ins (an id the record keeps as a check-in, or the check-in's words in any market)
    and the daily reminder (every other one). Both are kept by the same code (``_put``,
    ``_delete_all``, ``_read_all``): a set of daily times, one reminder at each."""

    def __init__(
        self,
        handler_input: HandlerInput,
        budget: Budget,
        *,
        zone: Callable[[], str | None],
        text: str,
        locale: str,
        now: int,
        checkin_text: str = "",
        checkin_texts: Callable[[], frozenset[str]] = frozenset,
        checkins: tuple[str, ...] = (),
    ) -> None:
        """``text``: what Alexa says when the reminder comes, in ``locale`` (the content's
        market: the request's own may be one we do not serve, or malformed); ``checkin_text``
        what a check-in says, ``checkin_texts`` what one says in any market (asked only when a
        listed reminder needs it), and ``checkins``
        the ids the record keeps as check-ins (how a listed reminder is known as one)."""
        self.handler_input = handler_input
        self.budget = budget
        self.zone = zone
        self.text = text
        self.locale = locale
        self.now = now
        self.checkin_text = checkin_text
        self._checkin_texts = checkin_texts
        self.checkins = checkins
        self._seen: Listed | None = None  # this turn's list, until a call changes it

    def is_checkin(self, reminder: dict[str, Any]) -> bool:
        if reminder["alertToken"] in self.checkins:
            return True
        said = spoken_texts(reminder)
        return bool(said) and (self.checkin_text in said or bool(said & self._checkin_texts()))

    def is_daily(self, reminder: dict[str, Any]) -> bool:
        return not self.is_checkin(reminder)

    def _client(self) -> ReminderManagementServiceClient | None:
        """The SDK's client, if a call may be made now (an API to reach, time to wait for it)."""
        if not _api_reachable(self.handler_input) or not self.budget.allows(API_SECONDS + AFTER_CALL_SECONDS):
            return None
        client: ReminderManagementServiceClient = (
            self.handler_input.service_client_factory.get_reminder_management_service()
        )
        return client

    def request(self, time: DailyTime, zone: str, text: str | None = None) -> ReminderRequest:
        """Every day at ``time`` in ``zone``, starting now; Alexa speaks ``text`` (the daily
        reminder's by default)."""
        local_now = datetime.fromtimestamp(self.now, zone_info(zone)).replace(tzinfo=None, microsecond=0)
        return ReminderRequest(
            request_time=datetime.fromtimestamp(self.now, UTC).replace(tzinfo=None, microsecond=0),
            trigger=Trigger(
                object_type=TriggerType.SCHEDULED_ABSOLUTE,
                time_zone_id=zone,
                recurrence=Recurrence(start_date_time=local_now, recurrence_rules=[time.rule]),
            ),
            alert_info=AlertInfo(
                spoken_info=SpokenInfo(content=[SpokenText(locale=self.locale, text=text or self.text)])
            ),
            push_notification=PushNotification(status=PushNotificationStatus.ENABLED),
        )

    def _call(self, operation: str, call: Callable[[ReminderManagementServiceClient], Any]) -> Any:
        """One call through the SDK's client: its answer, or a ``Failed`` with the kind of
        failure when no call may be made now or it failed (every failure is spoken, none raised)."""
        client = self._client()
        if client is None:
            return Failed(UNAVAILABLE)
        if operation != "list_reminders":
            self._seen = None  # a change (or perhaps one, its answer lost): list again after it
        try:
            return call(client)
        except Exception as error:
            return Failed(_failure(operation, error))

    # -- the daily reminder: one time ---------------------------------------------------------------
    def put(self, time: DailyTime, existing: str | None) -> ReminderResult:
        """The skill's one daily reminder, every day at ``time`` (see ``_put``)."""
        result = self._put((time,), (existing,) if existing else (), self.is_daily, self.text)
        return result._replace(token=result.tokens[0], tokens=()) if result.ok else result

    def delete(self, existing: str | None) -> ReminderResult:
        """Every daily reminder the skill has deleted (the check-ins stay)."""
        return self._delete_all(existing is not None, self.is_daily)

    def read(self, existing: str | None) -> ReminderResult:
        """The skill's daily reminder and its time (the record's if it is there, else the oldest)."""
        found = self._read_all(existing is not None, (existing,) if existing else (), self.is_daily)
        if isinstance(found, ReminderResult):
            return found
        return ReminderResult(OK, token=str(found[0]["alertToken"]), time=reminder_time(found[0]))

    # -- the check-ins: a few times --------------------------------------------------------------
    def put_checkins(self, times: tuple[DailyTime, ...], existing: tuple[str, ...]) -> ReminderResult:
        """A check-in every day at each of ``times`` (see ``_put``), and no other."""
        return self._put(times, existing, self.is_checkin, self.checkin_text)

    def delete_checkins(self, existing: tuple[str, ...]) -> ReminderResult:
        """Every check-in the skill has deleted (the daily reminder stays)."""
        return self._delete_all(bool(existing), self.is_checkin)

    def read_checkins(self, existing: tuple[str, ...]) -> ReminderResult:
        """The skill's check-ins: their ids, and their times in the day's order."""
        found = self._read_all(bool(existing), existing, self.is_checkin)
        if isinstance(found, ReminderResult):
            return found
        times = tuple(sorted(t for r in found if (t := reminder_time(r)) is not None))
        return ReminderResult(OK, tokens=tuple(str(r["alertToken"]) for r in found), times=times)

    # -- one code for both ------------------------------------------------------------------------
    def _put(
        self, times: tuple[DailyTime, ...], existing: tuple[str, ...], mine: Mine, text: str
    ) -> ReminderResult:
        """One reminder of a kind (``mine``) at each of ``times``, every day. The reminders the
        skill has are listed first (the record's ids may be missing: their write failed; or
        stale: deleted in the Alexa app), so a retry or a second consent answer never makes a
        second one: those there are kept (the record's first, then the oldest), moved to the
        times none is at, the others deleted; for a time still without one, one is made and
        the list read again (a created reminder whose answer was lost is found; two made at
        once by two consent answers are brought down to the oldest, which both keep)."""
        if not _api_reachable(self.handler_input):
            return ReminderResult(UNAVAILABLE)  # no API to ask: no permission question either
        if not has_reminder_permission(self.handler_input):
            return ReminderResult(NO_PERMISSION)
        zone = self.zone()
        if zone is None:
            return ReminderResult(NO_ZONE)  # never a reminder at a guessed hour
        listed = self._listed(mine)
        if isinstance(listed, Failed):
            return ReminderResult(listed.status)  # whether one exists is not known: nothing made
        settled = self._settled(listed, times, existing, zone, text)
        if isinstance(settled, Failed):
            return ReminderResult(settled.status)
        tokens, missing = settled
        if not missing:
            return ReminderResult(OK, tokens=tokens)
        created = [
            self._call("create_reminder", partial(_create, self.request(t, zone, text))) for t in missing
        ]
        made = [
            str(c.alert_token)
            for c in created
            if not isinstance(c, Failed) and getattr(c, "alert_token", None)
        ]
        # made, perhaps, though an answer was lost; or made twice, by two answers at once
        after = self._listed(mine)
        if isinstance(after, Failed) or not after:
            if len(made) == len(missing):
                return ReminderResult(OK, tokens=(*tokens, *made), created=True)  # the next put tidies
            failed = next((c for c in created if isinstance(c, Failed)), Failed(UNAVAILABLE))
            return ReminderResult(failed.status)
        again = self._settled(after, times, existing, zone, text)
        if isinstance(again, Failed) or again[1]:
            failed = next((c for c in created if isinstance(c, Failed)), Failed(UNAVAILABLE))
            return ReminderResult(again.status if isinstance(again, Failed) else failed.status)
        return ReminderResult(OK, tokens=again[0], created=True)

    def _settled(
        self, listed: Listed, times: tuple[DailyTime, ...], existing: tuple[str, ...], zone: str, text: str
    ) -> tuple[tuple[str, ...], tuple[DailyTime, ...]] | Failed:
        """The reminders ``listed`` brought to ``times``: as many kept as there are times (the
        record's first, then the oldest: what every turn that lists the same reminders
        chooses), the others deleted, each kept one at a time none is at moved there. Their
        ids, and the times still without one."""
        kept = sorted(listed, key=lambda r: (r["alertToken"] not in existing, *_age(r)))[: len(times)]
        for extra in listed:
            if extra not in kept:
                self._call("delete_reminder", partial(_delete, str(extra["alertToken"])))
        wanted = list(times)
        tokens: list[str] = []
        unplaced: Listed = []
        for reminder in kept:
            time = reminder_time(reminder)
            if time in wanted:
                wanted.remove(time)
                tokens.append(str(reminder["alertToken"]))
            else:
                unplaced.append(reminder)
        for reminder, time in zip(unplaced, tuple(wanted), strict=False):
            token = str(reminder["alertToken"])
            moved = self._call("update_reminder", partial(_update, token, self.request(time, zone, text)))
            if isinstance(moved, Failed):
                return moved
            tokens.append(token)
            wanted.remove(time)
        return tuple(tokens), tuple(wanted)

    def _delete_all(self, known: bool, mine: Mine) -> ReminderResult:
        """Every reminder of a kind (``mine``) the skill has for the user deleted (OK), or there
        was none (NOT_FOUND). A delete whose answer was lost is checked by listing again."""
        if not known and not has_reminder_permission(self.handler_input):
            return ReminderResult(NOT_FOUND)  # none stored, and none could have been made
        listed = self._listed(mine)
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
        left = self._listed(mine)  # a delete whose answer was lost (or gone already: 404) may have done it
        return ReminderResult(OK if left == [] else failures[0].status)

    def _read_all(self, known: bool, existing: tuple[str, ...], mine: Mine) -> Listed | ReminderResult:
        """The reminders of a kind the skill has (the record's first, then the oldest), read as
        plain JSON: ask-sdk-model 1.82 cannot deserialise a reminder it reads back (ALEXA.md);
        or, when there are none or they could not be read, what to answer."""
        if not known and not has_reminder_permission(self.handler_input):
            return ReminderResult(NOT_FOUND)
        listed = self._listed(mine)
        if isinstance(listed, Failed):
            return ReminderResult(listed.status)
        if not listed:
            return ReminderResult(NOT_FOUND)
        return sorted(listed, key=lambda r: (r["alertToken"] not in existing, *_age(r)))

    def _listed(self, mine: Mine) -> Listed | Failed:
        """The reminders of a kind (``mine``) the skill has for this user (GET
        /v1/alerts/reminders, as plain JSON, once a turn until a call changes them), or why
        they could not be listed."""
        if self._seen is None:
            seen = self._list()
            if isinstance(seen, Failed):
                return seen
            self._seen = seen
        return [r for r in self._seen if mine(r)]

    def _list(self) -> Listed | Failed:
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


def _age(reminder: dict[str, Any]) -> tuple[str, str]:
    """Oldest first: when it was made, then its id (the same order in every turn)."""
    return str(reminder.get("createdTime", "")), str(reminder["alertToken"])


def spoken_texts(reminder: Any) -> set[str]:
    """What a reminder read back says, in each of its locales."""
    info = reminder.get("alertInfo") if isinstance(reminder, dict) else None
    spoken = info.get("spokenInfo") if isinstance(info, dict) else None
    content = spoken.get("content") if isinstance(spoken, dict) else None
    return (
        {c["text"] for c in content if isinstance(c, dict) and isinstance(c.get("text"), str)}
        if isinstance(content, list)
        else set()
    )


def _update(token: str, request: ReminderRequest, client: ReminderManagementServiceClient) -> Any:
    return client.update_reminder(token, request)


def _create(request: ReminderRequest, client: ReminderManagementServiceClient) -> Any:
    return client.create_reminder(request)


def _delete(token: str, client: ReminderManagementServiceClient) -> Any:
    return client.delete_reminder(token)


class Failed(NamedTuple):
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
