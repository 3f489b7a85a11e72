"""A user's stored progress: the whole of what Pelvic Ease keeps about a person.

Only routine progress and preferences: the disclaimer version acknowledged, where the
user is (with the steps skipped on the way, and a mark if they stopped there because it
hurt, so a resume can offer to leave that step out), the pace and the chosen length, when
the place last moved, an item version for optimistic locking, how many times each routine
was finished, the practice days (the last DAY_WINDOW days as day numbers, counted in the
user's time zone; older days only as a count), the ids of the last few writes (so a write
that landed is never applied twice), the daily reminder's id (nothing else about it),
whether the listener said no to the offer of one, the check-in reminders' ids, and the
device's time zone as last read (so days stay the user's when it cannot be read). Nothing
the user said.

The schema is declared once, on the fields of ``Progress`` (each field's ``kind``): the
session copy, the stored item and the validation all follow from it.

A turn never overwrites the record: it makes a ``Change`` (moved to this step, finished
this routine, chose this pace, heard this disclaimer) and the change is applied to the
newest record. Applied to a record that another device wrote meanwhile, it keeps that
device's completions, and a change that does not move the user never moves them. A change
made by the audio player's report (or a command on its stream) carries what its decision
assumed, the play and the file, and is decided again against the record it is applied to
(``Change.played_on``: the one rule for a played place).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Any, NamedTuple

from .audio import Token, stamp_time, stamped
from .engine import Position

DAY = 86_400
DAY_WINDOW = 35  # practice days kept as dates; older ones are summarised as a count
# Write ids kept on the record: enough to recognise our own landed write after the writes
# another device can make before our retry (or the next turn) reads the record.
RECENT_WRITES = 16
# ... and every id younger than this, however many (up to MAX_WRITES): a change can stay
# unconfirmed (lost answers, backoff, carried to the next turn) for a while, and meanwhile
# another device may write any number of times. An unsaved change older than this is dropped.
KEEP_WRITES_SECONDS = 600
MAX_WRITES = 256
MAX_TEXT = 64
MAX_ALERT = 200  # an Alexa reminder's id (alertToken): opaque, longer than our own texts
MAX_ALERTS = 3  # the check-ins' ids: at most reminders.MAX_CHECKINS
WRITE_ID = re.compile(r"^[A-Za-z0-9_-]{8,32}$")

FEWER_CUES, EVERY_CUE = "fewer", "every"
BED_ON, BED_OFF = "on", "off"  # the ambient bed under a played routine's voice
# How routines play on a device with an audio player: every one straight through as audio,
# every one step by step, or (asked before the first massage, and answered no) massages step
# by step and the relaxation straight through, as when nothing was said.
STRAIGHT, STEPS, GUIDED = "straight", "steps", "guided"
# one place: valid together or dropped together
PLACE = ("routine", "step", "segment", "minutes", "skipped", "hurt", "play", "offset")
ALWAYS = ("version", "disclaimer_version", "updated_at", "completed")  # stored even when empty


DayOf = Callable[[int], int]  # epoch seconds -> the number of the user's day they fall on


def utc_day(at: int) -> int:
    """The UTC day number of ``at`` (the user's day when their time zone is unknown)."""
    return at // DAY


class CorruptProgress(ValueError):
    """A stored or session record does not follow the schema."""


def new_write_id(at: int) -> str:
    """Its creation time (7 base-36 characters) and 48 random bits (unique within one user's writes)."""
    return stamped(at)


def write_time(write_id: str) -> int:
    """When a write id was made (0 for an id without its time: the older, 8-character kind)."""
    return stamp_time(write_id) or 0


def kept_writes(ids: tuple[str, ...], now: int) -> tuple[str, ...]:
    """The newest RECENT_WRITES ids, and any younger than KEEP_WRITES_SECONDS, at most MAX_WRITES."""
    newest = len(ids) - RECENT_WRITES
    kept = [w for i, w in enumerate(ids) if i >= newest or now - write_time(w) < KEEP_WRITES_SECONDS]
    return tuple(kept[-MAX_WRITES:])


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text_of(most: int) -> Callable[[Any], tuple[bool, Any]]:
    return lambda value: (value is None or (isinstance(value, str) and 0 < len(value) <= most), value)


def _routine_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_TEXT


def _counts(value: Any) -> tuple[bool, Any]:
    if not isinstance(value, Mapping):
        return False, {}
    kept = {k: v for k, v in value.items() if _routine_id(k) and _whole(v) and v >= 0}
    return len(kept) == len(value), kept


def _day_counts(value: Any) -> tuple[bool, Any]:
    """Day number (as text: a DynamoDB map's keys are strings) -> minutes, the newest DAY_WINDOW."""
    if not isinstance(value, Mapping):
        return False, {}
    kept = {k: v for k, v in value.items() if isinstance(k, str) and k.isascii() and k.isdigit()
            and len(k) <= 7 and _whole(v) and 0 <= v <= 24 * 60}  # fmt: skip
    newest = sorted(kept, key=int)[-DAY_WINDOW:]
    return len(kept) == len(value) and len(newest) == len(kept), {k: kept[k] for k in newest}


def _days(value: Any) -> tuple[bool, Any]:
    if not isinstance(value, list | tuple):
        return False, ()
    kept = sorted({d for d in value if _whole(d) and d >= 0})[-DAY_WINDOW:]
    return len(kept) == len(value), tuple(kept)


def _ids(value: Any) -> tuple[bool, Any]:
    if not isinstance(value, list | tuple):
        return False, ()
    ids = tuple(v for v in value if isinstance(v, str) and WRITE_ID.match(v))[-MAX_WRITES:]
    return len(ids) == len(value), ids


def _alerts(value: Any) -> tuple[bool, Any]:
    if not isinstance(value, list | tuple):
        return False, ()
    ids = tuple(v for v in value if isinstance(v, str) and 0 < len(v) <= MAX_ALERT)[:MAX_ALERTS]
    return len(ids) == len(value), ids


def _position(value: Any) -> tuple[bool, Any]:
    """A place as the session carries it: [routine, step, segment]."""
    if value is None:
        return True, None
    if not (isinstance(value, list | tuple) and len(value) == 3):
        return False, None
    routine, step, segment = value
    ok = _routine_id(routine) and _whole(step) and _whole(segment)
    return (ok and step >= 0 and segment >= 0), Position(routine, step, segment) if ok else None


class Kind(NamedTuple):
    """One kind of field: what a valid value is (``check`` gives whether it is, and the value
    to keep: a collection keeps its valid entries), and how it is stored (``shape``, a
    DynamoDB type: N, S, or M: / L: of one; empty for a field kept only in the session)."""

    check: Callable[[Any], tuple[bool, Any]]
    shape: str = ""
    partial: bool = False  # a collection: its valid entries are kept when others are not

    def plain(self, value: Any) -> Any:
        """The value as JSON carries it (the session attributes)."""
        if isinstance(value, Position):
            return [value.routine_id, value.step, value.segment]
        return list(value) if isinstance(value, tuple) else value


COUNT = Kind(lambda v: (_whole(v) and v >= 0, v), "N")  # a whole number >= 0
OPTIONAL_COUNT = Kind(lambda v: (v is None or (_whole(v) and v > 0), v), "N")  # > 0, or absent
TEXT = Kind(_text_of(MAX_TEXT), "S")  # a short non-empty string, or absent
ALERT = Kind(_text_of(MAX_ALERT), "S")  # an Alexa reminder's id, or absent
COUNTS = Kind(_counts, "M:N", partial=True)  # routine id -> count
DAY_COUNTS = Kind(_day_counts, "M:N", partial=True)  # day number -> minutes, at most DAY_WINDOW
DAYS = Kind(_days, "L:N", partial=True)  # day numbers, at most DAY_WINDOW
IDS = Kind(_ids, "L:S", partial=True)  # write ids, at most MAX_WRITES
ALERTS = Kind(_alerts, "L:S", partial=True)  # Alexa reminders' ids, at most MAX_ALERTS
# Kept only in the session (a change waiting to be stored):
FLAG = Kind(lambda v: (isinstance(v, bool), v))
WRITE = Kind(lambda v: (isinstance(v, str) and WRITE_ID.match(v) is not None, v))
PLACE_OF = Kind(_position)
OPTIONAL_DAY = Kind(lambda v: (v is None or (_whole(v) and v >= 0), v))
OPTIONAL_STEP = Kind(lambda v: (v is None or (_whole(v) and v >= 0), v))


def kind(spec: Any) -> Kind:
    """The kind a dataclass field declares (``field(metadata={"kind": ...})``)."""
    declared: Kind = spec.metadata["kind"]
    return declared


@dataclass(frozen=True)
class Progress:
    """The stored record of one user (or voice profile): everything a turn may read or change."""

    # Each field's kind is its schema: validation here, the DynamoDB encoding in the repository.
    version: int = field(default=0, metadata={"kind": COUNT})  # 0: never stored
    disclaimer_version: int = field(default=0, metadata={"kind": COUNT})
    routine: str | None = field(default=None, metadata={"kind": TEXT})
    step: int = field(default=0, metadata={"kind": COUNT})
    segment: int = field(default=0, metadata={"kind": COUNT})
    # the length chosen for the routine under way
    minutes: int | None = field(default=None, metadata={"kind": OPTIONAL_COUNT})
    # the steps skipped so far in this run of the routine, as bits (step i is 1 << i)
    skipped: int = field(default=0, metadata={"kind": COUNT})
    # 1: the user stopped at this place because it hurt (a resume asks whether to skip it)
    hurt: int = field(default=0, metadata={"kind": COUNT})
    # the audio stream of the place, when it is a routine playing straight through (its
    # token: routine, pace, length, file, play id; see audio.py), and where it stopped, in ms
    play: str | None = field(default=None, metadata={"kind": TEXT})
    offset: int = field(default=0, metadata={"kind": COUNT})
    pace: str | None = field(default=None, metadata={"kind": TEXT})
    # STRAIGHT or STEPS: how the listener asked routines to play (None: the relaxation
    # plays straight through, massages step by step)
    playback: str | None = field(default=None, metadata={"kind": TEXT})
    # "fewer": the listener asked for less talking (every other breath guided)
    cues: str | None = field(default=None, metadata={"kind": TEXT})
    # "off": the listener asked for played routines without the ambient bed under the voice
    bed: str | None = field(default=None, metadata={"kind": TEXT})
    # epoch seconds of the last move of the place
    updated_at: int = field(default=0, metadata={"kind": COUNT})
    completed: dict[str, int] = field(default_factory=dict, metadata={"kind": COUNTS})
    # the user's day numbers (days since 1970-01-01 in their time zone; UTC when it is not
    # known) with a completed routine, the newest DAY_WINDOW
    days: tuple[int, ...] = field(default_factory=tuple, metadata={"kind": DAYS})
    # practice days older than the window
    earlier_days: int = field(default=0, metadata={"kind": COUNT})
    # unbroken practice days just before the oldest kept date
    run_before: int = field(default=0, metadata={"kind": COUNT})
    # ids of the last writes, oldest first
    recent_writes: tuple[str, ...] = field(default_factory=tuple, metadata={"kind": IDS})
    # the daily reminder's id (the Reminders API's alertToken); nothing else about it is kept
    reminder: str | None = field(default=None, metadata={"kind": ALERT})
    # 1: the listener said no to the offer of a daily reminder (it is never offered again)
    reminder_declined: int = field(default=0, metadata={"kind": COUNT})
    # the check-in reminders' ids (alertTokens); their times are read back from Alexa
    checkins: tuple[str, ...] = field(default_factory=tuple, metadata={"kind": ALERTS})
    # the device's time zone as last read (IANA name): days are counted in it when a read fails
    zone: str | None = field(default=None, metadata={"kind": TEXT})
    # minutes practised on each of the newest DAY_WINDOW practice days (day number -> minutes)
    day_minutes: dict[str, int] = field(default_factory=dict, metadata={"kind": DAY_COUNTS})
    # the plan under way (plans.toml), the day it began, the practice days it has counted, the
    # day it last counted one, and 1 while it is paused
    plan: str | None = field(default=None, metadata={"kind": TEXT})
    plan_start: int = field(default=0, metadata={"kind": COUNT})
    plan_days: int = field(default=0, metadata={"kind": COUNT})
    plan_last: int = field(default=0, metadata={"kind": COUNT})
    plan_paused: int = field(default=0, metadata={"kind": COUNT})

    @property
    def quiet(self) -> bool:
        return self.cues == FEWER_CUES

    @property
    def position(self) -> Position | None:
        return Position(self.routine, self.step, self.segment) if self.routine else None

    def at(
        self,
        position: Position | None,
        minutes: int | None,
        now: int,
        *,
        skipped: int = 0,
        hurt: bool = False,
        play: str | None = None,
        offset: int = 0,
    ) -> Progress:
        if position is None:
            return replace(
                self,
                routine=None,
                step=0,
                segment=0,
                minutes=None,
                skipped=0,
                hurt=0,
                play=None,
                offset=0,
                updated_at=now,
            )
        return replace(
            self,
            routine=position.routine_id,
            step=position.step,
            segment=position.segment,
            minutes=minutes,
            skipped=skipped,
            hurt=int(hurt),
            play=play,
            offset=offset if play else 0,
            updated_at=now,
        )

    @property
    def play_id(self) -> str | None:
        """The id of the play under way at this place (see audio.Token), else None."""
        token = Token.parse(self.play)
        return token.play if token else None

    def playing(self, play_id: str) -> bool:
        """Whether what a play reports (and a command on its stream) applies to this record: its
        place is that play, or the play is newer than its place (a play whose start could not
        be stored: it is the place the listener is at). A record never stored takes no play
        on a report's word (after the skill is disabled, its deleted record stays deleted)."""
        if self.play_id == play_id:
            return True
        made = stamp_time(play_id)
        if made is None or self.version == 0:
            return False
        since = stamp_time(self.play_id)
        return made > (self.updated_at if since is None else since)

    def with_place_of(self, other: Progress) -> Progress:
        """This record with ``other``'s place (routine, step, part, length, when it moved)."""
        place = {name: getattr(other, name) for name in (*PLACE, "updated_at")}
        return replace(self, **place)

    def with_days(self, days: set[int], today: int) -> Progress:
        """Keep the last DAY_WINDOW days as dates (and their minutes); count the older ones, and
        remember how long an unbroken run of them led up to the oldest kept date (so a long
        streak stays exact)."""
        recent = sorted(d for d in days if d > today - DAY_WINDOW)
        dropped = sorted(d for d in days if d <= today - DAY_WINDOW)
        run_before = self.run_before
        if recent and dropped:
            run, day = 0, recent[0] - 1
            while day in dropped:
                run, day = run + 1, day - 1
            # the run reached the oldest dropped date: it continues the run known before it
            run_before = run + (run_before if run == len(dropped) else 0)
        elif not recent:
            run_before = 0
        minutes = {d: m for d, m in self.day_minutes.items() if int(d) > today - DAY_WINDOW}
        return replace(
            self,
            days=tuple(recent),
            earlier_days=self.earlier_days + len(dropped),
            run_before=run_before,
            day_minutes=minutes,
        )

    # -- the plan -----------------------------------------------------------------------------
    @property
    def plan_running(self) -> bool:
        return self.plan is not None and not self.plan_paused

    def plan_done_on(self, day: int, gap: tuple[int, int]) -> int:
        """The plan's practice days done as a practice on ``day`` finds them: after more than
        ``gap[0]`` days without one, ``gap[1]`` fewer (never fewer than none). The one rule for
        today's session and for what a practice counts."""
        away, back = gap
        if self.plan_last and day - self.plan_last - 1 > away:
            return max(0, self.plan_days - back)
        return self.plan_days

    def plan_counted(self, day: int, gap: tuple[int, int]) -> Progress:
        """A practice on ``day``, counted by the plan under way: one plan day a day, however many
        routines or devices (a day counted already, or before the plan began, counts nothing)."""
        if not self.plan_running or day <= self.plan_last or day < self.plan_start:
            return self
        return replace(self, plan_days=self.plan_done_on(day, gap) + 1, plan_last=day)

    def minutes_since(self, first_day: int) -> int:
        """Minutes practised from ``first_day`` on (within the newest DAY_WINDOW days)."""
        return sum(m for d, m in self.day_minutes.items() if int(d) >= first_day)

    # -- practice history -------------------------------------------------------------------
    def total_sessions(self) -> int:
        return sum(self.completed.values())

    def days_this_week(self, now: int, day_of: DayOf = utc_day) -> int:
        """Practice days among the last seven, today included (``day_of``: the user's days)."""
        today = day_of(now)
        return len([d for d in self.days if today - 7 < d <= today])

    def streak(self, now: int, day_of: DayOf = utc_day) -> int:
        """Days in a row with practice, ending today (or yesterday, if not yet today)."""
        today = day_of(now)
        practised = set(self.days)
        day = today if today in practised else today - 1
        run = 0
        while day in practised:
            run += 1
            day -= 1
        reached_oldest = bool(self.days) and run > 0 and day + 1 == self.days[0]
        return run + (self.run_before if reached_oldest else 0)

    # -- the schema, once ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain values for the session and the store; absent and empty fields left out."""
        record: dict[str, Any] = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            # an empty optional field is left out: absent reads back as the default
            if value or spec.name in ALWAYS or (self.routine and spec.name in PLACE[:3]):
                record[spec.name] = kind(spec).plain(value)
        return record

    @classmethod
    def salvaged(cls, record: Mapping[str, Any] | None) -> tuple[Progress, list[str]]:
        """Read a record, keeping every field that follows the schema and dropping the rest
        (the place as a whole). Returns the record and the names of what was dropped."""
        if not record:
            return cls(), []
        if not isinstance(record, Mapping):
            return cls(), ["record"]
        values: dict[str, Any] = {}
        dropped: list[str] = []
        for spec in fields(cls):
            if spec.name not in record:
                continue
            ok, value = kind(spec).check(record[spec.name])
            if not ok:
                dropped.append(spec.name)
            if ok or kind(spec).partial:  # a collection keeps its valid entries
                values[spec.name] = value
        if any(name in dropped for name in PLACE) or not values.get("routine"):
            for name in PLACE:
                values.pop(name, None)
        return cls(**values), dropped

    @classmethod
    def from_dict(cls, record: Mapping[str, Any] | None) -> Progress:
        """Read a record that must follow the schema; raise CorruptProgress if it does not."""
        progress, dropped = cls.salvaged(record)
        if dropped:
            raise CorruptProgress(f"progress does not follow the schema: {', '.join(dropped)}")
        return progress


@dataclass(frozen=True)
class Change:
    """What one turn did to the user's progress, applied to whatever record is newest.

    ``moved``: the place changed (started, advanced, went back, finished, stopped for pain):
    ``position``, ``minutes``, ``skipped`` and ``hurt`` are the new place. Only a move may
    change the place, and an older move never replaces a newer one. ``completed``: a routine
    finished (its count and today's practice day); ``practised``: today's practice day only
    (a routine reached its end with a step done but too many skipped to count as finished).
    ``pace`` and ``disclaimer_version``: a preference chosen, a disclaimer heard.

    A move into a routine playing as audio also carries the stream's token and offset (ms).
    ``same_play``: a played change (the audio player's report, or a command on its stream):
    what its decision assumed, the play (and, in ``play``, the file), decided again against
    the record it is applied to by ``played_on``.
    """

    # Each field's kind is its schema (the session's wire form and its validation). A field
    # left at its default is left out of the wire form; ``at`` and ``write_id`` never are.
    at: int = field(metadata={"kind": COUNT})  # epoch seconds when the user did it
    write_id: str = field(default="", metadata={"kind": WRITE})  # made from ``at`` when not given
    moved: bool = field(default=False, metadata={"kind": FLAG})
    position: Position | None = field(default=None, metadata={"kind": PLACE_OF})
    minutes: int | None = field(default=None, metadata={"kind": OPTIONAL_COUNT})
    skipped: int = field(default=0, metadata={"kind": COUNT})  # steps skipped in this run, as bits
    hurt: bool = field(default=False, metadata={"kind": FLAG})  # stopped at this place because it hurt
    completed: str | None = field(default=None, metadata={"kind": TEXT})
    practised: bool = field(default=False, metadata={"kind": FLAG})
    # A preference chosen: kept on the record under the same name (``usual``: the value that
    # is the default, kept as no value at all).
    pace: str | None = field(default=None, metadata={"kind": TEXT, "prefers": True})
    cues: str | None = field(default=None, metadata={"kind": TEXT, "prefers": True, "usual": EVERY_CUE})
    bed: str | None = field(default=None, metadata={"kind": TEXT, "prefers": True, "usual": BED_ON})
    disclaimer_version: int = field(default=0, metadata={"kind": COUNT})
    play: str | None = field(default=None, metadata={"kind": TEXT})  # the stream at the new place
    offset: int = field(default=0, metadata={"kind": COUNT})  # where in that stream, ms
    # a played change: the play its decision assumed is the record's place (see played_on)
    same_play: str | None = field(default=None, metadata={"kind": TEXT})
    # a played change: a file of the play was heard to its end, and this is the step it plays
    heard_step: int | None = field(default=None, metadata={"kind": OPTIONAL_STEP})
    # a played routine's last file heard to its end: its main steps, as bits; the routine
    # (``completed``) counts, or is only a practice day, by the skips the record holds
    main_steps: int = field(default=0, metadata={"kind": COUNT})
    playback: str | None = field(default=None, metadata={"kind": TEXT, "prefers": True})  # STRAIGHT, STEPS
    # the user's day number of a practice day (None: ``at``'s UTC day)
    day: int | None = field(default=None, metadata={"kind": OPTIONAL_DAY})
    reminder: str | None = field(default=None, metadata={"kind": ALERT})  # a daily reminder set: its id
    forget_reminder: bool = field(default=False, metadata={"kind": FLAG})  # cancelled, or found deleted
    decline_reminder: bool = field(default=False, metadata={"kind": FLAG})  # no to the offer of one
    # check-in reminders set: their ids
    checkins: tuple[str, ...] = field(default_factory=tuple, metadata={"kind": ALERTS})
    forget_checkins: bool = field(default=False, metadata={"kind": FLAG})  # cancelled, or found gone
    zone: str | None = field(default=None, metadata={"kind": TEXT, "prefers": True})  # the device's, as read
    # with a practice day: the minutes practised, and the plans' gap rule (Library.plan_gap)
    spent: int = field(default=0, metadata={"kind": COUNT})
    plan_gap: int | None = field(default=None, metadata={"kind": OPTIONAL_COUNT})
    plan_back: int = field(default=0, metadata={"kind": COUNT})
    plan: str | None = field(default=None, metadata={"kind": TEXT})  # a plan begun (or taken up again)
    pause_plan: bool = field(default=False, metadata={"kind": FLAG})

    def __post_init__(self) -> None:
        if not self.write_id:
            object.__setattr__(self, "write_id", new_write_id(self.at))

    def applied_to(self, progress: Progress) -> Progress:
        if self.write_id in progress.recent_writes:
            return progress  # this change is in the record already: never twice
        if self.same_play is None:
            progress = self._moved(progress)
            completed, practised = self.completed, self.practised
        else:
            # a report of a play that is not the user's place: noted, nothing else
            progress, completed, practised = self.played_on(progress) or (progress, None, False)
        chosen: dict[str, Any] = {
            spec.name: None if value == spec.metadata.get("usual") else value
            for spec in PREFERENCES
            if (value := getattr(self, spec.name))
        }
        if chosen:
            progress = replace(progress, **chosen)
        if self.disclaimer_version > progress.disclaimer_version:
            progress = replace(progress, disclaimer_version=self.disclaimer_version)
        return self._noted(self._counted(self._planned(self._reminded(progress)), completed, practised))

    def _noted(self, progress: Progress) -> Progress:
        return replace(progress, recent_writes=kept_writes((*progress.recent_writes, self.write_id), self.at))

    def _moved(self, progress: Progress) -> Progress:
        """A move said or chosen in a session: it replaces any older one."""
        if not self.moved or self.at < progress.updated_at:
            return progress
        return progress.at(
            self.position,
            self.minutes,
            self.at,
            skipped=self.skipped,
            hurt=self.hurt,
            play=self.play,
            offset=self.offset,
        )

    def played_on(self, progress: Progress) -> tuple[Progress, str | None, bool] | None:
        """What a played change comes to on ``progress``: the record with its place moved, the
        routine it counts as finished and whether it is a practice day; None if it is about a
        play that is not the record's (``Progress.playing``). The rule for a played place, in
        one place, whatever order and overlap the player's reports come in:

        - within one play the device only plays forward, so the place only moves forward: a
          report of a file before the place (late, repeated) or of an earlier offset in it
          moves nothing;
        - a file heard to its end is done: the skip marks go from its step and every step from
          the place's to it (they were played on the way);
        - the last file heard to its end is the routine's end, however far behind the stored
          place was: counted (or only a practice day) by the skips the record holds;
        - a command's move to a new play (a jump) goes where it goes.
        """
        if not progress.playing(str(self.same_play)):
            return None
        here = Token.parse(progress.play)
        ours = here is not None and here.play == self.same_play
        routine = self.completed or (self.position.routine_id if self.position else None)
        skipped = progress.skipped if ours or progress.routine == routine else 0
        if self.heard_step is not None:
            first = min(progress.step, self.heard_step) if ours else self.heard_step
            skipped &= ~((1 << (self.heard_step + 1)) - (1 << first))
        moved_at = max(self.at, progress.updated_at)
        if self.main_steps:
            practised, counted = finished_run(skipped, self.main_steps)
            return progress.at(None, None, moved_at), routine if counted else None, practised
        there = Token.parse(self.play)
        if there is None or there.play != self.same_play:  # a jump: a new play from here
            skipped = self.skipped
        elif ours and here is not None and (there.file, self.offset) <= (here.file, progress.offset):
            return replace(progress, skipped=skipped), None, False  # never backward within a play
        place = progress.at(
            self.position, self.minutes, moved_at, skipped=skipped, play=self.play, offset=self.offset
        )
        return place, None, False

    def _reminded(self, progress: Progress) -> Progress:
        if self.reminder:
            progress = replace(progress, reminder=self.reminder)
        elif self.forget_reminder:
            progress = replace(progress, reminder=None)
        if self.decline_reminder:
            progress = replace(progress, reminder_declined=1)
        if self.checkins:
            progress = replace(progress, checkins=self.checkins)
        elif self.forget_checkins:
            progress = replace(progress, checkins=())
        return progress

    @property
    def on_day(self) -> int:
        """The user's day this change was made on."""
        return utc_day(self.at) if self.day is None else self.day

    def _planned(self, progress: Progress) -> Progress:
        """A plan begun (from its first day, from today), taken up again, or paused."""
        if self.plan and self.plan != progress.plan:
            return replace(
                progress, plan=self.plan, plan_start=self.on_day, plan_days=0, plan_last=0, plan_paused=0
            )
        if self.plan:
            return replace(progress, plan_paused=0)
        if self.pause_plan and progress.plan:
            return replace(progress, plan_paused=1)
        return progress

    def _counted(self, progress: Progress, completed: str | None, practised: bool) -> Progress:
        """A routine finished (its count and the practice day, its minutes, the plan's day),
        or only the practice day."""
        if completed:
            counts = dict(progress.completed)
            counts[completed] = counts.get(completed, 0) + 1
            progress = replace(progress, completed=counts)
        if completed or practised:
            day = self.on_day
            if self.spent:
                spent = progress.day_minutes.get(str(day), 0) + self.spent
                progress = replace(progress, day_minutes={**progress.day_minutes, str(day): spent})
            progress = progress.with_days({*progress.days, day}, today=max([day, *progress.days]))
            if self.plan_gap is not None:
                progress = progress.plan_counted(day, (self.plan_gap, self.plan_back))
        return progress

    def to_dict(self) -> dict[str, Any]:
        """The change as the session keeps it until it is stored."""
        return {
            spec.name: kind(spec).plain(getattr(self, spec.name))
            for spec in fields(self)
            if spec.name in REQUIRED or getattr(self, spec.name) != _default(spec)
        }

    @classmethod
    def from_dict(cls, record: Any) -> Change:
        """A change kept in the session; raise CorruptProgress if it is not one of ours."""
        if not isinstance(record, Mapping) or not record.keys() >= REQUIRED:
            raise CorruptProgress("unsaved change is malformed: not a change")
        values: dict[str, Any] = {}
        for spec in fields(cls):
            if spec.name in record:
                ok, values[spec.name] = kind(spec).check(record[spec.name])
                if not ok:
                    raise CorruptProgress(f"unsaved change is malformed: {spec.name}")
        return cls(**values)


def _default(spec: Any) -> Any:
    return spec.default_factory() if spec.default is MISSING else spec.default


REQUIRED = {"at", "write_id"}  # in every change's wire form
PREFERENCES = tuple(spec for spec in fields(Change) if spec.metadata.get("prefers"))


def applied(progress: Progress, changes: Iterable[Change]) -> Progress:
    """``progress`` with each change applied in turn (a change it holds already is skipped)."""
    for change in changes:
        progress = change.applied_to(progress)
    return progress


def completions(progress: Progress, changes: Iterable[Change]) -> tuple[str, ...]:
    """The routines ``changes`` count as finished when applied in turn to ``progress``."""
    counted: list[str] = []
    for change in changes:
        after = change.applied_to(progress)
        counted += [r for r, n in after.completed.items() if n > progress.completed.get(r, 0)]
        progress = after
    return tuple(counted)


def finished_run(skipped: int, main_steps: int) -> tuple[bool, bool]:
    """What a run that reached a routine's end counts as (``skipped``: the steps skipped, as
    bits; ``main_steps``: the routine's main steps, as bits): a practice day if a main step
    was done, a finished session if at most one was skipped. (practised, finished)"""
    skips = (skipped & main_steps).bit_count()
    practised = skips < main_steps.bit_count()
    return practised, practised and skips <= 1
