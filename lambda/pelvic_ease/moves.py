"""The moves the conversation (dialogue.py) and the audio player (playback.py) share: into a
routine playing as audio, and off a routine that reached its end (what counts as finished).

Pure Python: no ask-sdk types and no I/O.

What counts (docs/listening.md says the same): a step is done when the listener moves on
from its last part (or its file plays to its end); skipped with "skip", "last step", or
going on after pain. A routine that reaches its end counts as a practice day if at least
one of its main steps was done, and as a finished session if at most one was skipped
(``progress.finished_run``: for a played routine that is decided when its end is stored,
against the skips the record holds then).
"""

from __future__ import annotations

from typing import NamedTuple

from .audio import Token, Track
from .engine import Engine, Position
from .progress import Change, finished_run


class Stream(NamedTuple):
    """Audio to play (AudioPlayer.Play): the token, the file's path, where to start (ms)."""

    token: str
    path: str
    offset: int = 0

    @classmethod
    def of(cls, track: Track, token: Token, offset: int = 0) -> Stream:
        """The file of ``track`` that ``token`` names, from ``offset`` ms."""
        return cls(str(token), track.files[token.file].path, offset)


def into_stream(track: Track, token: Token, offset: int, skipped: int, now: int, **extra: object) -> Change:
    """The place moved to ``token``'s file of ``track``, at ``offset`` ms into it, with the
    stream's token kept (``skipped``: the steps skipped so far in this run, as bits)."""
    return Change(
        at=now,
        moved=True,
        position=Position(track.routine, track.files[token.file].step, 0),
        minutes=track.minutes,
        skipped=skipped,
        play=str(token),
        offset=offset,
        **extra,  # type: ignore[arg-type]
    )


def main_steps(engine: Engine, routine_id: str) -> int:
    """The routine's main steps, as bits (step i is 1 << i)."""
    return sum(1 << step for step in engine.main_steps(routine_id))


def routine_end(
    engine: Engine,
    routine_id: str,
    skipped: int,
    now: int,
    day: int | None = None,
    *,
    spent: int = 0,
    **extra: object,
) -> Change:
    """The move off a routine that reached its end: a practice day if a main step was done,
    a finished session if at most one was skipped (``skipped``: the steps skipped, as bits).
    ``day``: the user's day number now (in their time zone), for the practice day; ``spent``:
    the routine's minutes. A plan under way counts the day by the plans' gap rule."""
    practised, counted = finished_run(skipped, main_steps(engine, routine_id))
    away, back = engine.library.plan_gap
    return Change(
        at=now,
        moved=True,
        position=None,
        completed=routine_id if counted else None,
        practised=practised,
        day=day,
        spent=spent,
        plan_gap=away,
        plan_back=back,
        **extra,  # type: ignore[arg-type]
    )
