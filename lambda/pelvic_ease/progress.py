"""A user's stored progress: the whole of what Pelvic Ease keeps about a person.

Only routine progress and preferences: the disclaimer version acknowledged, where the
user is, the pace and the chosen length, when it changed, an item version for optimistic
locking, how many times each routine was completed, and the days a routine was completed
(the last DAY_WINDOW days as day numbers; older days only as a count). No health
information, nothing the user said.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .engine import Position

DAY = 86_400
DAY_WINDOW = 35  # practice days kept as dates; older ones are summarised as a count


class CorruptProgress(ValueError):
    """A stored or session record does not follow the schema."""


@dataclass(frozen=True)
class Progress:
    version: int = 0  # 0: never stored
    disclaimer_version: int = 0
    routine: str | None = None
    step: int = 0
    segment: int = 0
    pace: str | None = None
    updated_at: int = 0  # epoch seconds of the last change
    completed: dict[str, int] = field(default_factory=dict)
    minutes: int | None = None  # the length chosen for the routine under way, if any
    days: tuple[int, ...] = ()  # UTC day numbers with a completed routine, newest window only
    earlier_days: int = 0  # practice days older than the window
    run_before: int = 0  # unbroken practice days just before the oldest kept date

    @property
    def position(self) -> Position | None:
        return Position(self.routine, self.step, self.segment) if self.routine else None

    def at(self, position: Position | None, now: int) -> Progress:
        if position is None:
            return replace(self, routine=None, step=0, segment=0, minutes=None, updated_at=now)
        return replace(
            self, routine=position.routine_id, step=position.step, segment=position.segment, updated_at=now
        )

    def completing(self, routine_id: str, now: int) -> Progress:
        counts = dict(self.completed)
        counts[routine_id] = counts.get(routine_id, 0) + 1
        done = replace(self.at(None, now), completed=counts)
        return done.with_days({*self.days, now // DAY}, self.earlier_days, self.run_before, today=now // DAY)

    def with_days(self, days: set[int], earlier: int, run_before: int, today: int) -> Progress:
        """Keep the last DAY_WINDOW days as dates; count the older ones, and remember how long
        an unbroken run of them led up to the oldest kept date (so a long streak stays exact)."""
        recent = sorted(d for d in days if d > today - DAY_WINDOW)
        dropped = sorted(d for d in days if d <= today - DAY_WINDOW)
        if recent and dropped:
            run, day = 0, recent[0] - 1
            while day in dropped:
                run, day = run + 1, day - 1
            # the run reached the oldest dropped date: it continues the run known before it
            run_before = run + (run_before if run == len(dropped) else 0)
        elif not recent:
            run_before = 0
        return replace(self, days=tuple(recent), earlier_days=earlier + len(dropped), run_before=run_before)

    # -- practice history -------------------------------------------------------------------
    def total_sessions(self) -> int:
        return sum(self.completed.values())

    def days_this_week(self, now: int) -> int:
        today = now // DAY
        return len([d for d in self.days if today - 7 < d <= today])

    def streak(self, now: int) -> int:
        """Days in a row with practice, ending today (or yesterday, if not yet today)."""
        today = now // DAY
        practised = set(self.days)
        day = today if today in practised else today - 1
        run = 0
        while day in practised:
            run += 1
            day -= 1
        reached_oldest = bool(self.days) and run > 0 and day + 1 == self.days[0]
        return run + (self.run_before if reached_oldest else 0)

    def merged_onto(self, theirs: Progress, completed_now: str | None, moved: bool) -> Progress:
        """This turn's change re-applied on top of a record another device wrote meanwhile.

        If this turn moved the user (started, advanced, went back, finished), its position
        and pace win: it is the newest thing the user did. If it did not (it only
        acknowledged the disclaimer), the stored position stays. The disclaimer
        acknowledgement never goes backwards; completion counts are the stored ones plus
        the completion this turn adds, so no count is lost.
        """
        counts = dict(theirs.completed)
        if completed_now:
            counts[completed_now] = counts.get(completed_now, 0) + 1
        base = self if moved else theirs
        merged = replace(
            base,
            version=theirs.version,
            disclaimer_version=max(self.disclaimer_version, theirs.disclaimer_version),
            completed=counts,
        )
        today = max([*self.days, *theirs.days, 0])
        return merged.with_days(
            {*self.days, *theirs.days},
            max(self.earlier_days, theirs.earlier_days),
            max(self.run_before, theirs.run_before),
            today,
        )

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "version": self.version,
            "disclaimer_version": self.disclaimer_version,
            "updated_at": self.updated_at,
            "completed": dict(self.completed),
        }
        if self.routine:
            record.update(routine=self.routine, step=self.step, segment=self.segment)
        if self.pace:
            record["pace"] = self.pace
        if self.minutes:
            record["minutes"] = self.minutes
        if self.days:
            record["days"] = list(self.days)
        if self.earlier_days:
            record["earlier_days"] = self.earlier_days
        if self.run_before:
            record["run_before"] = self.run_before
        return record

    @classmethod
    def from_dict(cls, record: dict[str, Any] | None) -> Progress:
        """Validate and read a record; raise CorruptProgress if it breaks the schema."""
        if not record:
            return cls()
        if not isinstance(record, dict):
            raise CorruptProgress("progress must be a mapping")

        def number(key: str) -> int:
            value = record.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise CorruptProgress(f"{key} must be a non-negative whole number")
            return value

        def text(key: str) -> str | None:
            value = record.get(key)
            if value is not None and (not isinstance(value, str) or not value or len(value) > 64):
                raise CorruptProgress(f"{key} must be a short string")
            return value

        completed = record.get("completed") or {}
        if not isinstance(completed, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
            for k, v in completed.items()
        ):
            raise CorruptProgress("completed must map routine ids to counts")
        days = record.get("days") or []
        if not isinstance(days, list | tuple) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in days
        ):
            raise CorruptProgress("days must be a list of day numbers")
        if len(days) > DAY_WINDOW:
            raise CorruptProgress(f"days holds more than {DAY_WINDOW} entries")
        minutes = record.get("minutes")
        if minutes is not None and (
            isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0
        ):
            raise CorruptProgress("minutes must be a positive whole number")
        return cls(
            minutes=minutes,
            days=tuple(sorted(set(days))),
            earlier_days=number("earlier_days"),
            run_before=number("run_before"),
            version=number("version"),
            disclaimer_version=number("disclaimer_version"),
            routine=text("routine"),
            step=number("step"),
            segment=number("segment"),
            pace=text("pace"),
            updated_at=number("updated_at"),
            completed=dict(completed),
        )
