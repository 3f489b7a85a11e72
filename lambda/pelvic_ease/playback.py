"""What the audio player's reports and the playback commands do, for a routine playing
straight through.

Pure Python: no ask-sdk types and no I/O. These requests come with no session: what plays
is in the stream's token (audio.Token), and the place is the stored record's. Every change
made here is for one play (``Change.same_play``): applied to the newest record only while
its place is still that play, so an old device's report, or a stream another start
replaced, changes nothing.

Reports (``AudioPlayer.*``): started moves the place to that file; stopped and failed, of
the file that is the place, keep the offset (a failed stream is picked up there by the
next resume; a late report of a file since left changes nothing); a file played to its end
is a step done, even one skipped before with next;
nearly finished queues the next file; finished, after the last file, is the routine's end
and counts as the spoken routine's end does. Commands (the built-in intents said during
playback, and the remote's buttons): pause stops at once (the offset comes with the
stopped report); resume plays on from where this device stopped; next and previous go to
a step's boundary; start over to the beginning. Loop and shuffle are politely refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .audio import PREVIOUS_RESTARTS_AFTER_MS, Token, Track, Tracks
from .engine import Engine, Position
from .moves import Stream, into_stream, routine_end
from .progress import Change, DayOf, Progress, utc_day

STARTED, STOPPED, NEARLY_FINISHED, FINISHED, FAILED = "started", "stopped", "nearly", "finished", "failed"
PAUSE, RESUME, NEXT, PREVIOUS, START_OVER, LOOP = "pause", "resume", "next", "previous", "start_over", "loop"
REPORTS = (STARTED, STOPPED, NEARLY_FINISHED, FINISHED, FAILED)
COMMANDS = (PAUSE, RESUME, NEXT, PREVIOUS, START_OVER, LOOP)


@dataclass(frozen=True)
class Report:
    """What the player reported, or the command given, with the device's stream and offset."""

    what: str
    token: Token | None
    offset: int = 0


@dataclass(frozen=True)
class Action:
    """The answer: at most one directive, the change to progress, metrics, a prompt key
    (only for a command said aloud; a report gets no speech)."""

    play: Stream | None = None  # Play, REPLACE_ALL
    enqueue: Stream | None = None  # Play, ENQUEUE after ``expected``
    expected: str | None = None
    stop: bool = False
    change: Change | None = None
    counts: tuple[str, ...] = ()
    say: str | None = None
    place: Position | None = None
    # a command the conversation answers instead (this device's stream is not the place)
    to_dialogue: bool = False


def decide(
    engine: Engine,
    tracks: Tracks | None,
    progress: Callable[[], Progress],
    report: Report,
    now: int,
    *,
    day_of: DayOf = utc_day,
) -> Action:
    """``progress`` is called only when the answer depends on the record (not for a pause
    or the next file's queueing), so those need no read."""
    if report.what == PAUSE:
        return Action(stop=True)
    if report.what == LOOP:
        return Action(say="play_not_this")
    token = report.token
    track = tracks.of(token) if tracks is not None and token is not None else None
    if token is None or track is None:
        # not a stream of ours (or of a manifest since replaced): a command said aloud is
        # answered as the conversation would answer it; a report changes nothing
        return Action(to_dialogue=report.what in COMMANDS)
    last = len(track.files) - 1
    if report.what == NEARLY_FINISHED:
        if token.file >= last:
            return Action()
        after = token.at_file(token.file + 1)
        return Action(enqueue=Stream.of(track, after), expected=str(token))
    record = progress()
    if record.play_id != token.play:
        # this device's stream is no longer the place (another device, a new start, a
        # routine finished): a report changes nothing, a command goes by the stored place
        return Action(to_dialogue=report.what in COMMANDS)
    if report.what == STARTED:
        return Action(change=moved(track, token, report.offset, record.skipped, now))
    if record.play != str(token):
        return Action()  # a late report of a file the place has moved on from
    heard = record.skipped & ~(1 << track.files[token.file].step)  # played to its end: done
    if report.what == FINISHED:
        if token.file >= last:
            return finished(engine, heard, track, token, now, day=day_of(now))
        return Action(change=moved(track, token, track.files[token.file].ms, heard, now))
    if report.what in (STOPPED, FAILED):
        return Action(change=moved(track, token, report.offset, record.skipped, now))
    return command(record, track, token, report, now)


def command(record: Progress, track: Track, token: Token, report: Report, now: int) -> Action:
    """Resume, next, previous or start over, on the stream that is the place."""
    if report.what == RESUME:
        return jump(track, token.at_file(token.file), report.offset, record.skipped, now)
    if report.what == NEXT:
        if token.file >= len(track.files) - 1:
            return Action(say="at_last_step")  # the audio plays on
        skipped = record.skipped | 1 << track.files[token.file].step
        return jump(track, token.at_file(token.file + 1), 0, skipped, now)
    if report.what == PREVIOUS:
        back = token.file if report.offset > PREVIOUS_RESTARTS_AFTER_MS else max(0, token.file - 1)
        return jump(track, token.at_file(back), 0, record.skipped, now)
    return jump(track, token.at_file(0), 0, 0, now)  # START_OVER


def moved(track: Track, token: Token, offset: int, skipped: int, now: int) -> Change:
    """The place moved to ``token``'s file at ``offset`` ms, for that play only."""
    return into_stream(track, token, offset, skipped, now, same_play=token.play)


def jump(track: Track, target: Token, offset: int, skipped: int, now: int) -> Action:
    """Play ``target`` (a file of the same play) from ``offset``, and move the place there."""
    change = moved(track, target, offset, skipped, now)
    return Action(play=Stream.of(track, target, offset), change=change, place=change.position)


def finished(engine: Engine, skipped: int, track: Track, token: Token, now: int, *, day: int) -> Action:
    """The last file played to its end: the routine's end, counted as the spoken routine's
    end is (``skipped``: the steps skipped, as bits). Nothing follows: the device goes quiet."""
    change = routine_end(engine, track.routine, skipped, now, day=day, same_play=token.play)
    return Action(change=change, counts=("RoutineCompleted",) if change.completed else ())
