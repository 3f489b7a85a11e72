"""The skill's reminders as the dialogue core sees it: the daily practice reminder and the
check-ins through the day (each a reminder at one time every day), what the Reminders API
answered, and the port the core asks through (``Reminders``). No ask-sdk types, no I/O:
``alexa_api.py`` implements the port over the SDK's service clients.
"""

from __future__ import annotations

import re
from typing import NamedTuple, Protocol

SCOPE = "alexa::alerts:reminders:skill:readwrite"
# What AMAZON.TIME sends for a part of the day said without a time ("in the evening").
PERIODS = {"MO": "morning", "AF": "afternoon", "EV": "evening", "NI": "night"}
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# The consent request's token carries the time asked for: the answer may come in a new session.
_TOKEN = re.compile(r"^daily-reminder:(\d\d:\d\d)$")
# ... and for check-ins, their times: "check-ins:10:30,14:00,18:00"
_CHECKINS_TOKEN = re.compile(r"^check-ins:(\d\d:\d\d(?:,\d\d:\d\d){0,2})$")
MAX_CHECKINS = 3  # check-ins a day at most: a few nudges, not a stream of them
# The check-ins offered when no times are said, by how many a day: mid-morning, early
# afternoon, early evening (a part of the day said for one is its time here).
CHECKIN_DEFAULTS = {1: ("14:00",), 2: ("11:00", "16:00"), 3: ("10:30", "14:00", "18:00")}
PERIOD_TIMES = {"MO": "10:30", "AF": "14:00", "EV": "18:00", "NI": "20:30"}


class DailyTime(NamedTuple):
    """A time of day, the same every day, in the user's own time zone."""

    hour: int
    minute: int

    @classmethod
    def parse(cls, value: object) -> DailyTime | None:
        """ "20:00" (AMAZON.TIME's form) to 20:00; anything else (a period, a date) to None."""
        match = _CLOCK.match(value) if isinstance(value, str) else None
        return cls(int(match.group(1)), int(match.group(2))) if match else None

    @property
    def clock(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"

    @property
    def rule(self) -> str:
        """The Reminders API's recurrence rule (RFC 5545): every day at this time."""
        return f"FREQ=DAILY;BYHOUR={self.hour};BYMINUTE={self.minute};BYSECOND=0"

    @classmethod
    def from_rule(cls, rule: object) -> DailyTime | None:
        """The time of a daily rule read back from the API (None if it is not one of ours)."""
        if not isinstance(rule, str):
            return None
        parts = dict(part.split("=", 1) for part in rule.strip(";").split(";") if "=" in part)
        hour, minute = parts.get("BYHOUR", ""), parts.get("BYMINUTE", "0")
        if parts.get("FREQ") != "DAILY" or not hour.isdigit() or not minute.isdigit():
            return None
        return cls.parse(f"{int(hour):02d}:{int(minute):02d}")

    def consent_token(self) -> str:
        return f"daily-reminder:{self.clock}"

    @classmethod
    def from_consent_token(cls, token: object) -> DailyTime | None:
        match = _TOKEN.match(token) if isinstance(token, str) else None
        return cls.parse(match.group(1)) if match else None


def checkin_times(values: object) -> tuple[DailyTime, ...]:
    """Times said or kept for check-ins, each once, in the day's order (none that is not a time)."""
    times = {DailyTime.parse(v) for v in values} if isinstance(values, list | tuple) else set()
    return tuple(sorted(t for t in times if t is not None))


def checkins_consent_token(times: tuple[DailyTime, ...]) -> str:
    return "check-ins:" + ",".join(t.clock for t in times)


def checkins_from_consent_token(token: object) -> tuple[DailyTime, ...]:
    """The check-in times a consent request's token carries (none: not a check-ins token)."""
    match = _CHECKINS_TOKEN.match(token) if isinstance(token, str) else None
    return checkin_times(match.group(1).split(",")) if match else ()


# What a call to the Reminders API came to.
OK = "ok"
NO_PERMISSION = "no_permission"  # no consent token, or 401: ask for the permission
FORBIDDEN = "forbidden"  # 403: not allowed here (the device, the account); the Alexa app can tell
THROTTLED = "throttled"  # 429
UNAVAILABLE = "unavailable"  # 5xx, a time-out, no API to call, no time left in the turn
NOT_FOUND = "not_found"  # 404: the reminder was deleted (in the Alexa app)
NO_ZONE = "no_zone"  # the device's time zone could not be read: no reminder at a guessed hour
REFUSED = "refused"  # 400, 409: the request itself was refused; trying again will not change it


class ReminderResult(NamedTuple):
    """What a call to the Reminders API came to."""

    status: str
    token: str | None = None  # put: the reminder's id
    time: DailyTime | None = None  # read: its time (None if it could not be read)
    created: bool = False  # put: a new reminder was made (none was stored, or it was gone)
    tokens: tuple[str, ...] = ()  # check-ins: their ids
    times: tuple[DailyTime, ...] = ()  # check-ins read: their times (those that could be read)

    @property
    def ok(self) -> bool:
        return self.status == OK


class Reminders(Protocol):
    """The user's daily reminder, through the Alexa Reminders API: the skill keeps one, and
    looks for the ones it has before making one (``existing``: the id the record keeps, which
    may be missing or stale)."""

    def put(self, time: DailyTime, existing: str | None) -> ReminderResult:
        """The reminder at ``time`` every day: the one the skill has moved there, or a new one
        made if it has none (never a second)."""

    def delete(self, existing: str | None) -> ReminderResult:
        """Every reminder the skill has deleted (NOT_FOUND: it had none)."""

    def read(self, existing: str | None) -> ReminderResult:
        """The skill's reminder (its id and time; NOT_FOUND: it has none)."""

    def put_checkins(self, times: tuple[DailyTime, ...], existing: tuple[str, ...]) -> ReminderResult:
        """A check-in every day at each of ``times``: the check-ins the skill has moved there,
        made or deleted so that there is exactly one at each time (their ids in ``tokens``)."""

    def delete_checkins(self, existing: tuple[str, ...]) -> ReminderResult:
        """Every check-in the skill has deleted, and nothing else (NOT_FOUND: it had none)."""

    def read_checkins(self, existing: tuple[str, ...]) -> ReminderResult:
        """The skill's check-ins: their ids and times (NOT_FOUND: it has none)."""


class NoReminders:
    """Where no Alexa API can be reached (a skill event, a test of the core): nothing works,
    and the skill has no reminder to cancel or read."""

    def put(self, time: DailyTime, existing: str | None) -> ReminderResult:
        return ReminderResult(UNAVAILABLE)

    def delete(self, existing: str | None) -> ReminderResult:
        return ReminderResult(UNAVAILABLE if existing else NOT_FOUND)

    def read(self, existing: str | None) -> ReminderResult:
        return ReminderResult(UNAVAILABLE if existing else NOT_FOUND)

    def put_checkins(self, times: tuple[DailyTime, ...], existing: tuple[str, ...]) -> ReminderResult:
        return ReminderResult(UNAVAILABLE)

    def delete_checkins(self, existing: tuple[str, ...]) -> ReminderResult:
        return ReminderResult(UNAVAILABLE if existing else NOT_FOUND)

    def read_checkins(self, existing: tuple[str, ...]) -> ReminderResult:
        return ReminderResult(UNAVAILABLE if existing else NOT_FOUND)
