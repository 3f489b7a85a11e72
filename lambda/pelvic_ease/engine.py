"""The routine engine: where am I, what do I say next, and how long does it take.

Pure Python: no ask-sdk types and no I/O. Given a routine, a position and a pace it
produces the segment to speak. A step whose narration and breathing fit the budget of one
response is a single segment; a longer one is split into near-equal parts that each
carry a share of the breaths, so a person lying still is not asked to say "next" every
few seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from .content import Library, Pace, Routine, Step
from .speech import Pause, Script, Text, estimate_seconds, say

# Segments are sized to leave room, within the 240 s response cap, for what a handler may
# put in front of them (the disclaimer, a resume or pace sentence).
SEGMENT_BUDGET_SECONDS = 180


@dataclass(frozen=True)
class Position:
    routine_id: str
    step: int  # 0-based index into Routine.steps
    segment: int  # 0-based index into that step's segments


@dataclass(frozen=True)
class Segment:
    position: Position
    script: Script
    segment_count: int  # segments in this step at this pace
    final: bool  # the last segment of the routine: it carries the closing cue


class Engine:
    def __init__(self, library: Library, budget_seconds: float = SEGMENT_BUDGET_SECONDS):
        self.library = library
        self.budget_seconds = budget_seconds
        self._segments = lru_cache(maxsize=None)(self._build_segments)
        self._breath_plan = lru_cache(maxsize=None)(self._plan_breaths)

    # -- navigation -------------------------------------------------------------------
    def routine(self, routine_id: str) -> Routine:
        return self.library.routines[routine_id]

    def is_valid(self, position: Position) -> bool:
        routine = self.library.routines.get(position.routine_id)
        return routine is not None and 0 <= position.step < len(routine.steps) and position.segment >= 0

    def segment(self, position: Position, pace_id: str | None, minutes: int | None = None) -> Segment:
        """The segment at ``position``; a segment index past the step's end (after a pace
        change) is clamped to the step's last segment."""
        pace = self.library.pace(pace_id).id
        segments = self._segments(
            position.routine_id, position.step, pace, self.length(position.routine_id, minutes)
        )
        return segments[min(position.segment, len(segments) - 1)]

    def length(self, routine_id: str, minutes: int | None) -> int | None:
        """The routine's offered length nearest to ``minutes``, or None (as written)."""
        lengths = self.routine(routine_id).lengths
        if minutes is None or not lengths:
            return None
        return min(lengths, key=lambda offered: (abs(offered - minutes), offered))

    def part_count(self, routine_id: str, pace_id: str | None, minutes: int | None = None) -> int:
        routine = self.routine(routine_id)
        return sum(
            self.segment(Position(routine_id, step, 0), pace_id, minutes).segment_count
            for step in range(len(routine.steps))
        )

    def start(self, routine_id: str, pace_id: str | None, minutes: int | None = None) -> Segment:
        return self.segment(Position(routine_id, 0, 0), pace_id, minutes)

    def step_start(self, position: Position, pace_id: str | None, minutes: int | None = None) -> Segment:
        return self.segment(Position(position.routine_id, position.step, 0), pace_id, minutes)

    def advance(self, position: Position, pace_id: str | None, minutes: int | None = None) -> Segment | None:
        """The segment after ``position``, or None when the routine is finished."""
        current = self.segment(position, pace_id, minutes)
        if current.position.segment + 1 < current.segment_count:
            return self.segment(
                Position(position.routine_id, position.step, current.position.segment + 1), pace_id, minutes
            )
        return self.next_step(position, pace_id, minutes)

    def next_step(
        self, position: Position, pace_id: str | None, minutes: int | None = None
    ) -> Segment | None:
        """The start of the step after this one (skipping the rest of this step), or None."""
        if position.step + 1 < len(self.routine(position.routine_id).steps):
            return self.segment(Position(position.routine_id, position.step + 1, 0), pace_id, minutes)
        return None

    def closing(self, routine_id: str) -> Segment:
        """The routine's closing cue on its own (when its last step is skipped)."""
        routine = self.routine(routine_id)
        last = len(routine.steps) - 1
        return Segment(Position(routine_id, last, 0), say(routine.outro), segment_count=1, final=True)

    def back(
        self, position: Position, pace_id: str | None, minutes: int | None = None
    ) -> tuple[Segment, bool]:
        """Going back: from inside a step to its start, from a step's start to the step
        before. The flag is False when there was nowhere further back to go."""
        if position.segment > 0:
            return self.step_start(position, pace_id, minutes), True
        if position.step > 0:
            return self.segment(Position(position.routine_id, position.step - 1, 0), pace_id, minutes), True
        return self.step_start(position, pace_id, minutes), False

    # -- building segments ------------------------------------------------------------
    def _breath(self, routine: Routine, step: Step, pace: Pace, index: int) -> Script:
        inhales = self.library.prompts["breath_in"].split("|")
        exhales = self.library.prompts["breath_out"].split("|")
        own_cue = step.exhale_cue or routine.exhale_cue
        exhale = own_cue if own_cue and index % 2 == 0 else exhales[index % len(exhales)]
        return (
            Text(inhales[index % len(inhales)]),
            Pause(pace.inhale),
            Text(exhale),
            Pause(pace.exhale + pace.rest),
        )

    def _plan_breaths(self, routine_id: str, pace_id: str, minutes: int | None) -> tuple[int, ...]:
        """Breaths per step: as written, or scaled so the routine lasts about ``minutes``."""
        routine = self.library.routines[routine_id]
        written = tuple(step.breaths for step in routine.steps)
        if minutes is None:
            return written
        rate = self.library.paces[pace_id].rate

        def seconds(plan: tuple[int, ...]) -> float:
            return sum(
                estimate_seconds(script, rate)
                for index in range(len(plan))
                for script in self._step_scripts(routine_id, index, pace_id, plan[index], 1)
            )

        talk = seconds(tuple(0 for _ in written))
        breathing = seconds(written) - talk
        factor = max(0.0, (minutes * 60 - talk) / breathing)
        return tuple(max(1, round(b * factor)) if b else 0 for b in written)

    def _build_segments(
        self, routine_id: str, step_index: int, pace_id: str, minutes: int | None
    ) -> tuple[Segment, ...]:
        breaths = self._breath_plan(routine_id, pace_id, minutes)[step_index]
        routine = self.library.routines[routine_id]
        rate = self.library.paces[pace_id].rate
        whole = estimate_seconds(self._step_scripts(routine_id, step_index, pace_id, breaths, 1)[0], rate)
        parts = max(1, math.ceil(whole / self.budget_seconds))
        scripts = self._step_scripts(routine_id, step_index, pace_id, breaths, parts)
        while parts < max(1, breaths) and any(
            estimate_seconds(s, rate) > self.budget_seconds for s in scripts
        ):
            parts += 1
            scripts = self._step_scripts(routine_id, step_index, pace_id, breaths, parts)
        final_step = step_index == len(routine.steps) - 1
        return tuple(
            Segment(
                position=Position(routine_id, step_index, i),
                script=script,
                segment_count=parts,
                final=final_step and i == parts - 1,
            )
            for i, script in enumerate(scripts)
        )

    def _step_scripts(
        self, routine_id: str, step_index: int, pace_id: str, breath_count: int, parts: int
    ) -> list[Script]:
        """A step's narration and ``breath_count`` breaths, in ``parts`` near-equal parts."""
        lib = self.library
        routine = lib.routines[routine_id]
        pace = lib.paces[pace_id]
        step = routine.steps[step_index]
        total = len(routine.steps)
        final_step = step_index == total - 1

        header_key = "step_header_optional" if step.optional else "step_header"
        opening: Script = ()
        if step_index == 0:
            opening = say(lib.say("routine_start", routine=routine.name), routine.intro)
        narration = opening + say(
            lib.say(header_key, step=step_index + 1, total=total, title=step.title),
            step.position,
            step.instruction,
            step.caution,
        )
        resumed = say(lib.say("continue_header", title=step.title))
        invitation = say(lib.say("invitation"))
        breaths = [self._breath(routine, step, pace, i) for i in range(breath_count)]
        # Near-equal shares of the breaths, the larger shares first.
        shares = [breath_count // parts + (1 if i < breath_count % parts else 0) for i in range(parts)]
        scripts, taken = [], 0
        for i, share in enumerate(shares):
            head = narration if i == 0 else resumed
            tail = say(routine.outro) if (final_step and i == parts - 1) else invitation
            body = tuple(part for b in breaths[taken : taken + share] for part in b)
            scripts.append(head + body + tail)
            taken += share
        return scripts
