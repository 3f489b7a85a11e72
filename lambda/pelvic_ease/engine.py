"""The routine engine: where am I, what do I say next, and how long does it take.

Pure Python: no ask-sdk types and no I/O. Given a routine, a position and a pace it
produces the segment to speak. A step whose narration and breathing fit the budget of one
response is a single segment; a longer one is split into near-equal parts that each
carry a share of the breaths and of its silence, so a person lying still is not asked to
say "next" every few seconds.

A step's first part is said in one of three ways: as the routine's opening (``start``,
with the welcome line and the intro), plainly (``segment``, ``advance``, ``back``), or
resumed from scratch (``step_start(..., resumed=True)``: the step's ``setup`` instead of
its ``position``). All three have the same parts, so a stored position means the same
place whichever way it was reached.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Literal, NamedTuple

from .content import FIRST_SIDE, SECOND_SIDE, Library, Pace, Routine, Step
from .speech import (
    MAX_SILENCE_RUN_SECONDS,
    Pause,
    Script,
    Text,
    cap_silence,
    estimate_seconds,
    even_split,
    say,
    words,
)

# A step's quiet this long or longer is a long quiet: played audio marks its end with a chime.
LONG_QUIET_SECONDS = MAX_SILENCE_RUN_SECONDS
# Segments are sized to leave room, within the 240 s response cap, for what a handler may
# put in front of them (the disclaimer, a resume or pace sentence).
SEGMENT_BUDGET_SECONDS = 180

Variant = Literal["plain", "opening", "resumed"]
PLAIN: Variant = "plain"
OPENING: Variant = "opening"  # the first step as a fresh start hears it
RESUMED: Variant = "resumed"  # a step picked up from scratch: its setup, no switch of sides
VARIANTS: tuple[Variant, ...] = (PLAIN, OPENING, RESUMED)


class Position(NamedTuple):
    """A place in a routine: the step and the segment within it."""

    routine_id: str
    step: int  # 0-based index into Routine.steps
    segment: int  # 0-based index into that step's segments

    @property
    def at_start(self) -> bool:
        """The very start of a routine: its opening was part of what was said there."""
        return self.step == 0 and self.segment == 0


class StepKey(NamedTuple):
    """A step as said at one pace, length and amount of talk (the segment cache's key)."""

    routine_id: str
    step: int
    pace_id: str
    minutes: int | None
    quiet: bool


class Segment(NamedTuple):
    """The part of a routine one response speaks, from a position."""

    position: Position
    script: Script
    segment_count: int  # segments in this step at this pace
    final: bool  # the last segment of the routine: it carries the closing cue


def same_place(a: Step, b: Step) -> bool:
    """Two steps work the same place: an area in common (the routine files' step ``areas``),
    and not one side's step and the other side's."""
    if not set(a.areas) & set(b.areas):
        return False
    return not (a.side and b.side and a.side != b.side)


class Engine:
    def __init__(self, library: Library, budget_seconds: float = SEGMENT_BUDGET_SECONDS):
        self.library = library
        self.budget_seconds = budget_seconds
        self._segments = lru_cache(maxsize=None)(self._build_segments)
        self._timing = lru_cache(maxsize=None)(self._plan_timing)
        self._parts = lru_cache(maxsize=None)(self._count_parts)

    # -- navigation -------------------------------------------------------------------
    def routine(self, routine_id: str) -> Routine:
        return self.library.routines[routine_id]

    def main_steps(self, routine_id: str) -> list[int]:
        """The indexes of the routine's steps that are not optional extras."""
        return [i for i, step in enumerate(self.routine(routine_id).steps) if not step.optional]

    def is_valid(self, position: Position) -> bool:
        routine = self.library.routines.get(position.routine_id)
        return routine is not None and 0 <= position.step < len(routine.steps) and position.segment >= 0

    def segment(
        self,
        position: Position,
        pace_id: str | None,
        minutes: int | None = None,
        *,
        quiet: bool = False,
        opening: bool = False,
    ) -> Segment:
        """The segment at ``position``; a segment index past the step's end (after a pace
        change) is clamped to the step's last segment. ``opening`` says the first step
        as ``start`` does (to repeat a start word for word)."""
        variant = OPENING if opening and position.step == 0 else PLAIN
        return self._at(position, pace_id, minutes, quiet, variant)

    def length(self, routine_id: str, minutes: int | None) -> int | None:
        """The routine's offered length nearest to ``minutes``, or None (as written)."""
        lengths = self.routine(routine_id).lengths
        if minutes is None or not lengths:
            return None
        return min(lengths, key=lambda offered: (abs(offered - minutes), offered))

    def part_count(
        self, routine_id: str, pace_id: str | None, minutes: int | None = None, *, quiet: bool = False
    ) -> int:
        pace = self.library.pace(pace_id).id
        length = self.length(routine_id, minutes)
        steps = range(len(self.routine(routine_id).steps))
        return sum(self._parts(StepKey(routine_id, step, pace, length, quiet)) for step in steps)

    def start(
        self, routine_id: str, pace_id: str | None, minutes: int | None = None, *, quiet: bool = False
    ) -> Segment:
        """The first segment of a fresh start: the only one that carries the routine's opening."""
        return self._at(Position(routine_id, 0, 0), pace_id, minutes, quiet, OPENING)

    def step_start(
        self,
        position: Position,
        pace_id: str | None,
        minutes: int | None = None,
        *,
        resumed: bool = False,
        quiet: bool = False,
    ) -> Segment:
        """The first segment of the step at ``position``. ``resumed``: picked up from scratch
        (another session), so the step's ``setup`` says how to get into position."""
        return self._at(
            Position(position.routine_id, position.step, 0),
            pace_id,
            minutes,
            quiet,
            RESUMED if resumed else PLAIN,
        )

    def advance(
        self, position: Position, pace_id: str | None, minutes: int | None = None, *, quiet: bool = False
    ) -> Segment | None:
        """The segment after ``position``, or None when the routine is finished."""
        current = self.segment(position, pace_id, minutes, quiet=quiet)
        if current.position.segment + 1 < current.segment_count:
            return self.segment(
                Position(position.routine_id, position.step, current.position.segment + 1),
                pace_id,
                minutes,
                quiet=quiet,
            )
        return self.next_step(position, pace_id, minutes, quiet=quiet)

    def next_step(
        self, position: Position, pace_id: str | None, minutes: int | None = None, *, quiet: bool = False
    ) -> Segment | None:
        """The start of the step after this one (skipping the rest of this step), or None."""
        if position.step + 1 < len(self.routine(position.routine_id).steps):
            return self.segment(
                Position(position.routine_id, position.step + 1, 0), pace_id, minutes, quiet=quiet
            )
        return None

    def past_the_area(self, position: Position) -> int:
        """Where going on after pain at ``position`` lands: the first step after it that does
        not work the same place (``same_place``); the number of steps when none is left."""
        steps = self.routine(position.routine_id).steps
        hurt = steps[position.step]
        landed = position.step + 1
        while landed < len(steps) and same_place(hurt, steps[landed]):
            landed += 1
        return landed

    def second_side(self, position: Position) -> int | None:
        """The first step done on the second side after ``position`` (a one-sided step on its
        first side), else None."""
        steps = self.routine(position.routine_id).steps
        if steps[position.step].side != FIRST_SIDE:
            return None
        return next((i for i in range(position.step + 1, len(steps)) if steps[i].side == SECOND_SIDE), None)

    def closing(self, routine_id: str) -> Segment:
        """The routine's closing cue on its own (its last step skipped or an extra declined)."""
        routine = self.routine(routine_id)
        last = len(routine.steps) - 1
        return Segment(Position(routine_id, last, 0), say(routine.outro), segment_count=1, final=True)

    def offer(self, position: Position) -> str | None:
        """The yes/no question to ask instead of starting the optional step at ``position``
        (None for any other step, or past the start of the step: it was accepted)."""
        routine = self.library.routines.get(position.routine_id)
        if routine is None or not 0 <= position.step < len(routine.steps) or position.segment != 0:
            return None
        step = routine.steps[position.step]
        return step.ask if step.optional and step.ask else None

    def back(
        self, position: Position, pace_id: str | None, minutes: int | None = None, *, quiet: bool = False
    ) -> tuple[Segment, bool]:
        """Going back: from inside a step to its start, from a step's start to the step
        before. The flag is False when there was nowhere further back to go. Never the
        routine's opening again."""
        if position.segment > 0:
            return self.step_start(position, pace_id, minutes, quiet=quiet), True
        if position.step > 0:
            before = Position(position.routine_id, position.step - 1, 0)
            return self.segment(before, pace_id, minutes, quiet=quiet), True
        return self.step_start(position, pace_id, minutes, quiet=quiet), False

    def played(
        self,
        routine_id: str,
        pace_id: str | None,
        minutes: int | None = None,
        *,
        quiet: bool = False,
        longest_silence: float | None = None,
    ) -> tuple[Script, ...]:
        """The routine as audio that plays straight through, one script per main step (an
        optional extra is only ever asked about, so it is not played): from the opening to
        the close. Silences are as long as the practice needs; a step's quiet of
        ``LONG_QUIET_SECONDS`` or more, and the close, end in a chime (``Pause.chime``).
        ``quiet``: the "less talking" guide (every other breath unspoken).
        ``longest_silence``: for audio with nothing under the voice, no unbroken silence
        longer than this, with a soft word from ``silence_cues`` where two runs meet."""
        pace = self.library.pace(pace_id).id
        length = self.length(routine_id, minutes)
        breaths_and_silence = self._timing(routine_id, pace, length, quiet, True)
        scripts = tuple(
            self._step_scripts(
                StepKey(routine_id, step, pace, length, quiet),
                *breaths_and_silence[step],
                1,
                OPENING,
                played=True,
            )[0]
            for step in self.main_steps(routine_id)
        )
        if longest_silence is None:
            return scripts
        cues = self.library.prompts["silence_cues"].split("|")
        return tuple(cap_silence(script, cues, longest_silence) for script in scripts)

    # -- durations --------------------------------------------------------------------
    def seconds_left(
        self, position: Position, pace_id: str | None, minutes: int | None = None, *, quiet: bool = False
    ) -> float:
        """Estimated seconds from the start of the segment at ``position`` to the end of the
        routine, optional extras included."""
        return sum(
            self._duration(segment, pace_id) for segment in self._from(position, pace_id, minutes, quiet)
        )

    def total_seconds(
        self, routine_id: str, pace_id: str | None, minutes: int | None = None, *, quiet: bool = False
    ) -> float:
        """Estimated seconds of the whole routine from a fresh start, optional extras included."""
        return sum(
            self._duration(segment, pace_id)
            for segment in self.walk(routine_id, pace_id, minutes, quiet=quiet)
        )

    def walk(
        self, routine_id: str, pace_id: str | None, minutes: int | None = None, *, quiet: bool = False
    ) -> list[Segment]:
        """Every segment a listener hears from a fresh start to the end, saying yes to extras."""
        first = self.start(routine_id, pace_id, minutes, quiet=quiet)
        rest = self._from(first.position, pace_id, minutes, quiet)[1:]
        return [first, *rest]

    def _from(
        self, position: Position, pace_id: str | None, minutes: int | None, quiet: bool
    ) -> list[Segment]:
        out: list[Segment] = []
        segment: Segment | None = self.segment(position, pace_id, minutes, quiet=quiet)
        while segment is not None:
            out.append(segment)
            segment = self.advance(segment.position, pace_id, minutes, quiet=quiet)
        return out

    def _duration(self, segment: Segment, pace_id: str | None) -> float:
        return estimate_seconds(segment.script, self.library.pace(pace_id).rate)

    # -- building segments ------------------------------------------------------------
    def _at(
        self, position: Position, pace_id: str | None, minutes: int | None, quiet: bool, variant: Variant
    ) -> Segment:
        pace = self.library.pace(pace_id).id
        length = self.length(position.routine_id, minutes)
        segments = self._segments(StepKey(position.routine_id, position.step, pace, length, quiet), variant)
        return segments[min(position.segment, len(segments) - 1)]

    def _breath(self, routine: Routine, step: Step, pace: Pace, index: int, quiet: bool) -> Script:
        if quiet and index % 2 == 1:
            # a quieter guide: every other breath keeps its time but has no words
            return (Pause(pace.inhale), Pause(pace.exhale + pace.rest))
        inhales = self.library.prompts["breath_in"].split("|")
        exhales = self.library.prompts["breath_out"].split("|")
        own_cue = step.exhale_cue or routine.exhale_cue
        exhale = own_cue if own_cue and index % 2 == 0 else exhales[index % len(exhales)]
        return (
            *say(inhales[index % len(inhales)]),
            Pause(pace.inhale),
            *say(exhale),
            Pause(pace.exhale + pace.rest),
        )

    def _plan_timing(
        self, routine_id: str, pace_id: str, minutes: int | None, quiet: bool, played: bool = False
    ) -> tuple[tuple[int, int], ...]:
        """(breaths, seconds of silence) per step: as written, or scaled together so the
        routine lasts about ``minutes``. ``played``: as audio that plays straight through
        lasts (its main steps, the settling between them, the narration at the pace's
        ``narration_wpm``)."""
        routine = self.library.routines[routine_id]
        written = tuple((step.breaths, step.silence) for step in routine.steps)
        if minutes is None:
            return written
        pace = self.library.paces[pace_id]
        steps = self.main_steps(routine_id) if played else range(len(written))

        def estimate(script: Script) -> float:
            if not played:
                return estimate_seconds(script, pace.rate)
            spoken = sum(words(part.text) for part in script if isinstance(part, Text))
            return spoken * 60 / pace.narration_wpm + sum(p.seconds for p in script if isinstance(p, Pause))

        def seconds(plan: tuple[tuple[int, int], ...]) -> float:
            return sum(
                estimate(
                    self._step_scripts(
                        StepKey(routine_id, index, pace_id, None, quiet),
                        *plan[index],
                        1,
                        OPENING,
                        played=played,
                    )[0]
                )
                for index in steps
            )

        talk = seconds(tuple((0, 0) for _ in written))
        timed = seconds(written) - talk
        factor = max(0.0, (minutes * 60 - talk) / timed) if timed > 0 else 1.0
        # whole breaths: the total rounded once, each step's share by the largest remainder, so
        # the rounding of six steps does not add up to most of a minute
        exact = [breaths * factor for breaths, _ in written]
        counts = [int(share) for share in exact]
        by_remainder = sorted(range(len(exact)), key=lambda i: exact[i] - counts[i], reverse=True)
        for index in by_remainder[: round(sum(exact)) - sum(counts)]:
            counts[index] += 1
        return tuple(
            (max(1, count) if breaths else 0, round(silence * factor))
            for count, (breaths, silence) in zip(counts, written, strict=True)
        )

    def _count_parts(self, key: StepKey) -> int:
        """How many parts the step needs so that every way of saying it fits the budget.
        Sized on the fully spoken (not quiet) words, so quiet never needs more parts."""
        breaths, silence = self._timing(key.routine_id, key.pace_id, key.minutes, key.quiet)[key.step]
        rate = self.library.paces[key.pace_id].rate
        units = breaths + (len(even_split(silence, MAX_SILENCE_RUN_SECONDS)) if silence else 0)
        spoken_in_full = key._replace(quiet=False)

        def longest(parts: int) -> float:
            return max(
                estimate_seconds(script, rate)
                for variant in VARIANTS
                for script in self._step_scripts(spoken_in_full, breaths, silence, parts, variant)
            )

        parts = max(1, math.ceil(longest(1) / self.budget_seconds))
        while parts < max(1, units) and longest(parts) > self.budget_seconds:
            parts += 1
        return parts

    def _build_segments(self, key: StepKey, variant: Variant) -> tuple[Segment, ...]:
        breaths, silence = self._timing(key.routine_id, key.pace_id, key.minutes, key.quiet)[key.step]
        parts = self._parts(key)
        scripts = self._step_scripts(key, breaths, silence, parts, variant)
        final_step = key.step == len(self.library.routines[key.routine_id].steps) - 1
        return tuple(
            Segment(
                position=Position(key.routine_id, key.step, i),
                script=script,
                segment_count=parts,
                final=final_step and i == parts - 1,
            )
            for i, script in enumerate(scripts)
        )

    def _header(self, routine: Routine, step_index: int, continued: bool) -> str:
        lib = self.library
        step = routine.steps[step_index]
        side = lib.say("side_second" if step.side == SECOND_SIDE else "side_first") if step.side else ""
        if continued:
            if side:
                return lib.say("continue_header_side", title=step.title, side=side)
            return lib.say("continue_header", title=step.title)
        fields = {"step": step_index + 1, "total": len(routine.steps), "title": step.title}
        if step.optional:
            return lib.say("step_header_optional", **fields)
        if side:
            return lib.say("step_header_side", side=side, **fields)
        return lib.say("step_header", **fields)

    def _transition(self, step: Step) -> str:
        """How a step that plays on from the one before begins: its title, in a few words."""
        lib = self.library
        if step.side:
            side = lib.say("side_second" if step.side == SECOND_SIDE else "side_first")
            return lib.say("played_step_side", title=step.title, side=side)
        return lib.say("played_step", title=step.title)

    def _step_scripts(
        self,
        key: StepKey,
        breath_count: int,
        silence: int,
        parts: int,
        variant: Variant,
        *,
        played: bool = False,
    ) -> list[Script]:
        """A step's narration, ``breath_count`` breaths and ``silence`` seconds of quiet, in
        ``parts`` near-equal parts (``key.minutes`` is not used: the counts are planned).
        ``played``: for audio that plays straight through (one part): no invitation to say
        next, silences whole, a settling pause at the end (the close after the last main step)."""
        lib = self.library
        routine = lib.routines[key.routine_id]
        pace = lib.paces[key.pace_id]
        step_index = key.step
        step = routine.steps[step_index]
        final_step = step_index == len(routine.steps) - 1

        opening: Script = ()
        if variant == OPENING and step_index == 0:
            notice = lib.say("played_intro") if played else ""
            opening = say(lib.say("routine_start", routine=routine.name), notice, routine.intro)
        switching = (
            variant != RESUMED
            and step.side == SECOND_SIDE
            and (step_index == 0 or routine.steps[step_index - 1].side != SECOND_SIDE)
        )
        switch = say(lib.say("switch_sides")) if switching else ()
        where = step.setup if variant == RESUMED and step.setup else step.position
        if played:
            # no "Step 3 of 6" inside audio that plays on: a plain word of what comes next,
            # or nothing where the opening or the switch of sides already leads in
            header = "" if opening or switch else self._transition(step)
        else:
            header = self._header(routine, step_index, continued=False)
        narration = opening + switch + say(header, where, step.instruction, step.caution)
        continued = say(self._header(routine, step_index, continued=True))
        invitation = say(lib.say("invitation"))
        cues = lib.prompts["silence_cues"].split("|")
        units = [self._breath(routine, step, pace, i, key.quiet) for i in range(breath_count)]
        if silence and played:
            units.append((Pause(silence, chime=silence >= LONG_QUIET_SECONDS),))
        elif silence:
            units += [(Pause(run),) for run in even_split(silence, MAX_SILENCE_RUN_SECONDS)]
        # Near-equal shares of the breaths and quiet runs, the larger shares first.
        count = len(units)
        shares = [count // parts + (1 if i < count % parts else 0) for i in range(parts)]
        scripts, taken = [], 0
        if played:
            last_main = step_index == max(self.main_steps(key.routine_id))
            # between steps a settling pause; after the close, the same with a chime
            tail = (
                (*say(routine.outro), Pause(pace.settle, chime=True)) if last_main else (Pause(pace.settle),)
            )
            return [narration + tuple(part for unit in units for part in unit) + tail]
        for i, share in enumerate(shares):
            head = narration if i == 0 else continued
            tail = say(routine.outro) if (final_step and i == parts - 1) else invitation
            body = tuple(part for unit in units[taken : taken + share] for part in unit)
            scripts.append(cap_silence(head + body + tail, cues))
            taken += share
        return scripts
