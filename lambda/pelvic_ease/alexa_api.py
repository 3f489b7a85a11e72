"""The Alexa APIs the skill calls: the Reminders API and the device's time zone (UPS settings),
through ask-sdk's own service clients, with an API client that has time-outs.

ask-sdk's DefaultApiClient (requests) waits for ever; a Lambda turn has 7 s. ``TimedApiClient``
implements the SDK's ``ApiClient`` over urllib3 (which botocore has loaded already) with a
connect and a total time-out, HTTPS only, and no retries. Every call is also started only if
the turn's budget leaves time to store what it did and to speak. The access token goes only
into the Authorization header: it is never logged, nor put in an exception's message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, cast
from urllib.parse import urlsplit

import certifi
import urllib3
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
REMINDERS_PATH = "/v1/alerts/reminders/{alertToken}"
STATUS = {401: NO_PERMISSION, 403: FORBIDDEN, 404: NOT_FOUND, 429: THROTTLED}


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
    """ask-sdk's ApiClient with time-outs: HTTPS only, one attempt, ``total_seconds`` at most.
    ``ca_certs``: the certificates to trust (certifi's by default; a local fake's own CA in
    tests and the simulator)."""

    def __init__(
        self,
        *,
        connect_seconds: float = CONNECT_SECONDS,
        total_seconds: float = API_SECONDS,
        ca_certs: str | None = None,
    ) -> None:
        self.timeout = urllib3.Timeout(connect=connect_seconds, total=total_seconds)
        self._ca_certs = ca_certs
        self._made: urllib3.PoolManager | None = None

    @property
    def _pool(self) -> urllib3.PoolManager:
        """Made on the first call to an Alexa API, not with the skill: most turns make none
        (and certifi finds its bundle through importlib.resources)."""
        if self._made is None:
            self._made = urllib3.PoolManager(
                cert_reqs="CERT_REQUIRED",
                ca_certs=self._ca_certs or certifi.where(),
                retries=False,
                timeout=self.timeout,
            )
        return self._made

    def invoke(self, request: ApiClientRequest) -> ApiClientResponse:
        url = str(request.url or "")
        if urlsplit(url).scheme != "https":
            raise ApiClientException("Requests against non-HTTPS endpoints are not allowed.")
        headers = dict(request.headers or [])
        body = request.body
        data = json.dumps(body).encode() if body is not None and not isinstance(body, str) else body
        try:
            answer = self._pool.request(str(request.method), url, headers=headers, body=data)
        except urllib3.exceptions.HTTPError as error:
            # the error's own text names the host and the time-out, never the headers
            raise ApiClientException(f"{type(error).__name__}: no answer from the Alexa API") from None
        text = answer.data.decode("utf-8", "replace")
        return ApiClientResponse(
            headers=list(answer.headers.items()),
            status_code=answer.status,
            # an empty body must not fail the SDK's JSON parsing (it reads None as no body)
            body=text or None,  # type: ignore[arg-type]  # annotated as str, None is handled
        )


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
        now: int,
    ) -> None:
        self.handler_input = handler_input
        self.budget = budget
        self.zone = zone
        self.text = text
        self.now = now
        locale = getattr(handler_input.request_envelope.request, "locale", None)
        self.locale = locale if isinstance(locale, str) else "en-US"

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
        if not _api_reachable(self.handler_input):
            return ReminderResult(UNAVAILABLE)  # no API to ask: no permission question either
        if not has_reminder_permission(self.handler_input):
            return ReminderResult(NO_PERMISSION)
        zone = self.zone()
        if zone is None:
            return ReminderResult(NO_ZONE)  # never a reminder at a guessed hour
        if existing:
            updated = self._call(
                "update_reminder", lambda c: c.update_reminder(existing, self.request(time, zone))
            )
            if not isinstance(updated, Failed):
                return ReminderResult(OK, token=existing)
            if updated.status != NOT_FOUND:
                return ReminderResult(updated.status)
            # deleted in the Alexa app: a new one is made below
        created = self._call("create_reminder", lambda c: c.create_reminder(self.request(time, zone)))
        if isinstance(created, Failed):
            return ReminderResult(created.status)
        token = getattr(created, "alert_token", None)
        if not isinstance(token, str) or not token:
            logger.warning("a reminder was created without an id")
            return ReminderResult(UNAVAILABLE)
        return ReminderResult(OK, token=token, created=True)

    def delete(self, token: str) -> ReminderResult:
        deleted = self._call("delete_reminder", lambda c: c.delete_reminder(token))
        return ReminderResult(deleted.status if isinstance(deleted, Failed) else OK)

    def read(self, token: str) -> ReminderResult:
        """The reminder's time, read as plain JSON: ask-sdk-model 1.82 cannot deserialise a
        reminder it reads back (ALEXA.md), so the SDK client's own ``invoke`` is asked for an
        object rather than its GetReminderResponse."""
        access = api_access(self.handler_input)
        if access is None:
            return ReminderResult(UNAVAILABLE)
        endpoint, access_token = access
        answer = self._call(
            "get_reminder",
            lambda c: cast(Any, c).invoke(
                method="GET",
                endpoint=endpoint,
                path=REMINDERS_PATH,
                query_params=[],
                header_params=[
                    ("Content-type", "application/json"),
                    ("Authorization", f"Bearer {access_token}"),
                ],
                path_params={"alertToken": token},
                response_definitions=[],
                body=None,
                response_type="object",
            ),
        )
        if isinstance(answer, Failed):
            return ReminderResult(answer.status)
        return ReminderResult(OK, token=token, time=reminder_time(getattr(answer, "body", None)))


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
