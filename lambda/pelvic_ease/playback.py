"""What the audio player's reports and the playback commands do, for a routine playing
straight through.

Pure Python: no ask-sdk types and no I/O. These requests come with no session: what plays
is in the stream's token (audio.Token), and the place is the stored record's.

Reports (``AudioPlayer.*``) need no record to decide: each becomes a played change that
carries what it assumed (its play, and in its stream token its file) and is decided again
against whatever record it is stored on (``progress.Change.played_on``, the one rule), so
any order or overlap of the reports comes out the same. A file that ends moves the place to
the next file's start and marks its step done (even one skipped before with next); the last
file's end is the routine's end, counted as the spoken routine's end is; stopped and failed
keep the offset (a failed stream is picked up there by the next resume); started moves
nothing (the place moved when the file before ended, or with our own Play), and nearly
finished queues the next file. Neither needs a read or a write.

Commands (the built-in intents said during playback, and the remote's buttons) act on this
device's stream while its play is the stored place: pause stops at once (the offset comes
with the stopped report); resume plays on from where this device stopped; next and previous
go to a step's boundary; start over to the beginning; each of these jumps starts a new play
(audio.py). Loop and shuffle are politely refused.

``implied``: what a request's context says the player did (a stream that finished or
stopped), so a report that could not be stored in its own turn is stored by the next
request from that device.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from .audio import PREVIOUS_RESTARTS_AFTER_MS, Token, Track, Tracks, new_play_id, stamp_time
from .engine import Engine, Position
from .moves import Stream, into_stream, main_steps, routine_end
from .progress import Change, DayOf, Progress, utc_day

STARTED, STOPPED, NEARLY_FINISHED, FINISHED, FAILED = "started", "stopped", "nearly", "finished", "failed"
PAUSE, RESUME, NEXT, PREVIOUS, START_OVER, LOOP = "pause", "resume", "next", "previous", "start_over", "loop"
REPORTS = (STARTED, STOPPED, NEARLY_FINISHED, FINISHED, FAILED)
COMMANDS = (PAUSE, RESUME, NEXT, PREVIOUS, START_OVER, LOOP)


class Report(NamedTuple):
    """What the player reported, or the command given, with the device's stream and offset."""

    what: str
    token: Token | None
    offset: int = 0


class Action(NamedTuple):
    """The answer: at most one directive, the change to progress, metrics, a prompt key
    (only for a command said aloud; a report gets no speech). A routine's completion is
    counted as a metric when its change is stored (turn.py), not here."""

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
    """``progress`` is called only for a command (the answer depends on the stored place):
    a report needs no read to decide."""
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
    if report.what == NEARLY_FINISHED:
        if token.file >= len(track.files) - 1:
            return Action()
        after = token.at_file(token.file + 1)
        return Action(enqueue=Stream.of(track, after), expected=str(token))
    if report.what in REPORTS:
        return Action(change=reported(engine, track, report, now, day_of=day_of))
    record = progress()
    if not record.playing(token.play):
        # this device's stream is no longer the place (another device, a new start, a
        # routine finished): a command goes by the stored place
        return Action(to_dialogue=True)
    return command(record, track, token, report, now)


def reported(
    engine: Engine,
    track: Track,
    report: Report,
    now: int,
    *,
    day_of: DayOf = utc_day,
    ended_at: int | None = None,
) -> Change | None:
    """The played change a report of ``track``'s stream makes, for its play only (None: a
    report that moves nothing). ``ended_at``: when the last file ended, if not ``now`` (the
    practice day is that day)."""
    token, what = report.token, report.what
    assert token is not None
    file = track.files[token.file]
    if what == FINISHED and token.file >= len(track.files) - 1:
        return routine_end(
            engine,
            track.routine,
            0,
            now,
            day=day_of(now if ended_at is None else ended_at),
            spent=max(1, round(track.ms / 60_000)),
            same_play=token.play,
            heard_step=file.step,
            main_steps=main_steps(engine, track.routine),
        )
    if what == FINISHED:
        after = token.at_file(token.file + 1)
        return into_stream(track, after, 0, 0, now, same_play=token.play, heard_step=file.step)
    if what in (STOPPED, FAILED):
        return into_stream(track, token, report.offset, 0, now, same_play=token.play)
    return None  # started: the place moved when the file before ended, or with our own Play


def implied(
    engine: Engine, tracks: Tracks | None, stream: Report, activity: str, now: int, *, day_of: DayOf = utc_day
) -> Change | None:
    """The report a device's context stands for (its stream, offset and activity, as any
    request from it carries them): a stream that finished or stopped. Stored by the next
    request when the report itself could not be, in its own turn. A last file's end is dated
    at the play's start plus the track's length, if that is earlier than now."""
    token = stream.token
    track = tracks.of(token) if tracks is not None and token is not None else None
    if token is None or track is None or activity not in ("FINISHED", "STOPPED"):
        return None
    what = FINISHED if activity == "FINISHED" else STOPPED
    began = stamp_time(token.play)
    ended_at = min(now, began + track.ms // 1000) if began is not None else now
    return reported(engine, track, Report(what, token, stream.offset), now, day_of=day_of, ended_at=ended_at)


def command(record: Progress, track: Track, token: Token, report: Report, now: int) -> Action:
    """Resume, next, previous or start over, on this device's stream (its play is the place)."""
    if report.what == RESUME:
        return jump(track, token, report.offset, record.skipped, now)
    if report.what == NEXT:
        if token.file >= len(track.files) - 1:
            return Action(say="at_last_step")  # the audio plays on
        skipped = record.skipped | 1 << track.files[token.file].step
        return jump(track, token.at_file(token.file + 1), 0, skipped, now)
    if report.what == PREVIOUS:
        back = token.file if report.offset > PREVIOUS_RESTARTS_AFTER_MS else max(0, token.file - 1)
        return jump(track, token.at_file(back), 0, record.skipped, now)
    return jump(track, token.at_file(0), 0, 0, now)  # START_OVER


def jump(track: Track, to: Token, offset: int, skipped: int, now: int) -> Action:
    """Play ``to``'s file from ``offset`` as a new play (the stream it replaces, which reports
    late, is then another play's), and move the place there: applied while ``to``'s play is
    still the place."""
    target = to._replace(play=new_play_id(now))
    change = into_stream(track, target, offset, skipped, now, same_play=to.play)
    return Action(play=Stream.of(track, target, offset), change=change, place=change.position)
