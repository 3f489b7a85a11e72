"""A user's stored progress: the whole of what Pelvic Ease keeps about a person.

Only routine progress and preferences: the disclaimer version acknowledged, where the
user is, the pace, when it changed, an item version for optimistic locking, and how many
times each routine was completed. No health information, nothing the user said.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .engine import Position


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

    @property
    def position(self) -> Position | None:
        return Position(self.routine, self.step, self.segment) if self.routine else None

    def at(self, position: Position | None, now: int) -> Progress:
        if position is None:
            return replace(self, routine=None, step=0, segment=0, updated_at=now)
        return replace(
            self, routine=position.routine_id, step=position.step, segment=position.segment, updated_at=now
        )

    def completing(self, routine_id: str, now: int) -> Progress:
        counts = dict(self.completed)
        counts[routine_id] = counts.get(routine_id, 0) + 1
        return replace(self.at(None, now), completed=counts)

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
        return replace(
            base,
            version=theirs.version,
            disclaimer_version=max(self.disclaimer_version, theirs.disclaimer_version),
            completed=counts,
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
        return cls(
            version=number("version"),
            disclaimer_version=number("disclaimer_version"),
            routine=text("routine"),
            step=number("step"),
            segment=number("segment"),
            pace=text("pace"),
            updated_at=number("updated_at"),
            completed=dict(completed),
        )
