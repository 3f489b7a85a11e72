"""The dialogue core: from where the user is and what they said, what happens next.

Pure Python: no ask-sdk types and no I/O. ``decide(state, heard, facts)`` returns an
``Outcome``: what to say (and the reprompt, or that the session ends), the new ``State``,
the ``Change`` to progress, and the metric names to count. Handlers turn a request into a
``Heard`` and an outcome into a response; ``TABLE`` below is the whole conversation.

States (``State.mode``)
    OUTSIDE        no conversation under way: a new session, or a routine playing straight
                   through as audio (the session ends when it starts to play; what the
                   player reports is handled in playback.py, from the stored place).
    MENU           the menu was offered
    ROUTINE        a routine is under way: a part was just spoken
    EXTRA_OFFER    asked whether to do an optional extra ("Do you have a tennis ball handy?")
    PAIN_PAUSE     the user said it hurts: waiting for "skip" or "end", never going on alone
    SWITCH_OFFER   asked whether to leave the routine under way for another one
    RESUME_OFFER   asked whether to carry on from the stored place
    HURT_OFFER     resuming a place where the user stopped because it hurt: asked whether to skip it
    SUGGEST_OFFER  suggested one routine ("... about ten minutes. Shall we start?")
    ANOTHER_OFFER  a routine finished: asked whether to do another
    REMINDER_OFFER a routine finished for the second time (or later): asked, once, whether
                   to set a daily reminder
    REMINDER_TIME  asked what time the daily reminder should be (``State.back``: the mode
                   the conversation goes back to afterwards)

Reminders: the core asks the ``Reminders`` port (facts.reminders) to set, change, delete or
read the user's daily reminder and says what came of it; an answer that needs the user's
permission asks for it (``Outcome.ask_permission``), and the answer to that request comes
back as CONSENT with the time asked for.

What counts (the README says the same): a step is done when the listener moves on from
its last part; skipped with "skip", "last step", or going on after pain. A routine that
reaches its end counts as a practice day if at least one of its main steps was done, and
as a finished session if at most one was skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from .audio import Token, Track, Tracks, new_play_id
from .content import Library
from .engine import Engine, Position, Segment
from .moves import Stream, into_stream, routine_end
from .progress import DAY, EVERY_CUE, FEWER_CUES, STEPS, STRAIGHT, Change, DayOf, Progress, utc_day
from .reminders import (
    FORBIDDEN,
    NO_PERMISSION,
    NO_ZONE,
    NOT_FOUND,
    PERIODS,
    REFUSED,
    THROTTLED,
    DailyTime,
    NoReminders,
    Reminders,
)
from .speech import Script, join, say

# -- states ---------------------------------------------------------------------------------
OUTSIDE, MENU, ROUTINE = "outside", "menu", "routine"
EXTRA_OFFER, PAIN_PAUSE, SWITCH_OFFER = "extra_offer", "pain_offer", "switch_offer"
RESUME_OFFER, HURT_OFFER, SUGGEST_OFFER, ANOTHER_OFFER = (
    "resume_offer",
    "hurt_offer",
    "suggest_offer",
    "another_offer",
)
REMINDER_OFFER, REMINDER_TIME = "reminder_offer", "reminder_time"
REMINDER_MODES = (REMINDER_OFFER, REMINDER_TIME)
MODES = (
    OUTSIDE,
    MENU,
    ROUTINE,
    EXTRA_OFFER,
    PAIN_PAUSE,
    SWITCH_OFFER,
    RESUME_OFFER,
    HURT_OFFER,
    SUGGEST_OFFER,
    ANOTHER_OFFER,
    REMINDER_OFFER,
    REMINDER_TIME,
)
# A routine is under way in this session: its place is the one being spoken.
UNDER_WAY = (ROUTINE, EXTRA_OFFER, PAIN_PAUSE, SWITCH_OFFER)
# The stored place is the subject of the conversation (so "stop" says it is kept).
PLACE_KEPT = (*UNDER_WAY, RESUME_OFFER, HURT_OFFER)

# -- what the user said ---------------------------------------------------------------------
LAUNCH, RESUME, START, LIST, DISCLAIMER = "launch", "resume", "start", "list", "disclaimer"
YES, NO, NEXT, PREVIOUS, REPEAT, START_OVER = "yes", "no", "next", "previous", "repeat", "start_over"
PAUSE, HELP, STOP, PAIN, SKIP, PACE = "pause", "help", "stop", "pain", "skip", "pace"
REPEAT_SLOWLY, REPORT, WAIT, DONE, LAST_STEP = "repeat_slowly", "report", "wait", "done", "last_step"
HOW_LONG, SAFETY, WHY_NO_KEGELS, BY_LENGTH = "how_long", "safety", "why_no_kegels", "by_length"
CUES, HOME, FALLBACK, UNKNOWN = "cues", "home", "fallback", "unknown"
PLAY_STYLE = "play_style"  # "play it straight through", "step by step"
SET_REMINDER, CHANGE_REMINDER = "set_reminder", "move_reminder"
CANCEL_REMINDER, REMINDER_STATUS = "end_reminder", "has_reminder"
TIME_SAID = "time_said"  # a time said on its own ("8 pm"): the answer to "what time?"
CONSENT = "consent"  # the answer to our request for the reminders permission
ACCEPTED, DENIED, NOT_ANSWERED, UNSUPPORTED = "ACCEPTED", "DENIED", "NOT_ANSWERED", "UNSUPPORTED"
ENDED = "ended"  # the session closed without an answer (nothing can be said back)
ANY = "*"  # a row's default, for every state not listed


@dataclass(frozen=True)
class State:
    """What this session remembers between turns."""

    mode: str = OUTSIDE
    finished: str | None = None  # the routine completed last in this session
    suggested: tuple[str, int | None] | None = None  # routine and length asked about
    back: str | None = None  # REMINDER_TIME: the mode to go back to once the reminder is done


@dataclass(frozen=True)
class Heard:
    """What the user said, as the core needs it (slots already resolved to ids)."""

    intent: str
    routine: str | None = None  # the routine the area slot names
    words: str = ""  # what was said for the area, when it names no routine
    minutes: int | None = None  # "ten minutes", or a length word as minutes
    pace: str | None = None  # "slower", "faster", "normal"
    amount: str | None = None  # "less" or "more" talking
    style: str | None = None  # STRAIGHT or STEPS
    time: str | None = None  # AMAZON.TIME's value ("20:00", or "EV" for the evening)
    consent: str | None = None  # CONSENT: ACCEPTED, DENIED, NOT_ANSWERED or UNSUPPORTED


@dataclass(frozen=True)
class Facts:
    """What the turn knows besides the state: the record, the time, whether the read failed."""

    progress: Progress
    now: int
    read_failed: bool = False
    stale_after_days: int = 14
    # the rendered tracks, when the device can play audio (AudioPlayer); else None
    tracks: Tracks | None = None
    playing: bool = False  # a stream of ours is playing on this device
    local_day: DayOf = utc_day  # epoch seconds -> the user's day number (their time zone)
    reminders: Reminders = field(default_factory=NoReminders)
    can_remind: bool = False  # the Reminders API can be reached from this request
    fresh: bool = False  # a one-shot request opened this session: the answer ends it


# A played place this recent is what "it hurts" is about, though no session is under way.
PLAYED_RECENTLY_SECONDS = 1_800


@dataclass(frozen=True)
class Outcome:
    """What the core decided: what to say, the new state, the change to progress and what to do."""

    speech: Script
    reprompt: Script | None  # None: the session ends
    state: State
    change: Change | None = None
    counts: tuple[str, ...] = ()  # metric names
    place: Position | None = None  # the place spoken (for the log)
    play: Stream | None = None  # a routine to play straight through, after the speech
    stop_audio: bool = False  # stop the audio playing (it hurts)
    ask_permission: str | None = None  # ask for the reminders permission (the request's token)
    permission_card: bool = False  # send the Alexa app a card to grant the reminders permission

    @property
    def end(self) -> bool:
        return self.reprompt is None


@dataclass(frozen=True)
class Decision:
    """One decision's inputs and helpers (what every transition reads)."""

    engine: Engine
    state: State
    heard: Heard
    facts: Facts
    counts: list[str] = field(default_factory=list)

    @property
    def library(self) -> Library:
        return self.engine.library

    @property
    def progress(self) -> Progress:
        return self.facts.progress

    @property
    def under_way(self) -> Position | None:
        """The place of the routine under way in this session, else None."""
        return self.progress.position if self.state.mode in UNDER_WAY else None

    def say(self, key: str, **fields: object) -> Script:
        return say(self.library.say(key, **fields))

    def fields(self, position: Position) -> dict[str, object]:
        routine = self.engine.routine(position.routine_id)
        return {"routine": routine.name, "step": position.step + 1, "total": len(routine.steps)}

    def name(self, routine_id: str) -> str:
        return self.engine.routine(routine_id).name

    def reply(
        self,
        speech: Script,
        reprompt: Script | None,
        mode: str,
        change: Change | None = None,
        place: Position | None = None,
        **state: object,
    ) -> Outcome:
        return Outcome(
            speech,
            reprompt,
            replace(self.state, mode=mode, **state),  # type: ignore[arg-type]
            change,
            tuple(self.counts),
            place,
        )

    def end(self, speech: Script) -> Outcome:
        return self.reply(speech, None, self.state.mode)

    def change(self, **what: object) -> Change:
        return Change(at=self.facts.now, **what)  # type: ignore[arg-type]

    def stay(self, **mark: object) -> Change:
        """A move to the place the user is at, changing only what ``mark`` says (the steps
        skipped, that it hurt); anything not marked is cleared as by any move."""
        place = {"position": self.progress.position, "minutes": self.progress.minutes}
        return self.change(moved=True, **{"skipped": self.progress.skipped, **place, **mark})

    def segment_args(self) -> tuple[str | None, int | None]:
        return self.progress.pace, self.progress.minutes


Transition = Callable[[Decision], Outcome]


# -- flows ------------------------------------------------------------------------------------
def menu(t: Decision, lead: Script = ()) -> Outcome:
    return t.reply(join(lead, t.say("menu")), t.say("menu_reprompt"), MENU)


def disclaimer(t: Decision) -> tuple[Script, int]:
    """The disclaimer and its version, if this user has not heard this version (else nothing, 0)."""
    if t.progress.disclaimer_version >= t.library.disclaimer_version:
        return (), 0
    t.counts.append("DisclaimerRead")
    return say(t.library.disclaimer_text), t.library.disclaimer_version


def speak(t: Decision, segment: Segment, lead: Script = (), skipped: int | None = None) -> Outcome:
    """Say ``segment`` (after ``lead``) and move the place there, or finish the routine.
    ``skipped``: the steps skipped so far in this run (bits), when it changed."""
    notice, heard = disclaimer(t)
    t.counts.append("SegmentSpoken")
    progress = t.progress
    position = segment.position
    skips = progress.skipped if skipped is None else skipped
    speech = join(notice, lead, segment.script)
    if segment.final:
        return finish(t, position.routine_id, speech, skips, heard)
    change = t.change(
        moved=True,
        position=position,
        minutes=progress.minutes,
        skipped=skips,
        disclaimer_version=heard,
    )
    return t.reply(speech, t.say("invitation_reprompt"), ROUTINE, change, place=position)


def finish(t: Decision, routine_id: str, speech: Script, skipped: int, heard: int = 0) -> Outcome:
    """The routine's end: a practice day if a main step was done, a finished session if at
    most one was skipped; then the offer of another."""
    day = t.facts.local_day(t.facts.now)
    change = routine_end(t.engine, routine_id, skipped, t.facts.now, day=day, disclaimer_version=heard)
    after = change.applied_to(t.progress)
    streak = after.streak(t.facts.now, t.facts.local_day) if change.practised else 0
    praise = t.say("streak_at_end", streak=streak) if streak >= 2 else ()
    # the second finished routine offers a daily reminder, once; else the offer of another
    offer = REMINDER_OFFER if change.completed and reminder_offer_due(t, after) else ANOTHER_OFFER
    question, reprompt = (
        ("reminder_offer", "reminder_offer_reprompt") if offer == REMINDER_OFFER
        else ("another_offer", "another_reprompt")
    )  # fmt: skip
    return t.reply(
        join(speech, praise, t.say(question)),
        t.say(reprompt),
        offer,
        change,
        place=Position(routine_id, len(t.engine.routine(routine_id).steps) - 1, 0),
        finished=routine_id,
    )


def played_track(t: Decision, routine_id: str, length: int | None) -> Track | None:
    """The track to play ``routine_id`` straight through, if it is played on this device:
    the relaxation by default, every routine if the listener asked, none if they asked for
    step by step or the device has no audio player."""
    tracks = t.facts.tracks
    style = t.progress.playback
    if tracks is None or style == STEPS:
        return None
    routine = t.engine.routine(routine_id)
    whole = t.engine.routine(routine.parent or routine.id)
    if style != STRAIGHT and "relaxation" not in whole.areas:
        return None
    return tracks.get(routine_id, t.library.pace(t.progress.pace).id, length)


def played_from(t: Decision, routine_id: str, step: int) -> tuple[Track, int] | None:
    """The track and file that play ``routine_id`` from ``step`` on this device (the next
    main step's file for an extra), or None: it is spoken here."""
    track = played_track(t, routine_id, t.progress.minutes)
    file = track.file_for_step(step) if track else None
    return (track, file) if track is not None and file is not None else None


def play(
    t: Decision,
    track: Track,
    file: int,
    offset: int,
    lead: Script,
    *,
    skipped: int,
    playback: str | None = None,
) -> Outcome:
    """Play ``track`` from ``file`` at ``offset`` ms, after ``lead``; the session ends (the
    audio plays on its own) and the place moves there, with the stream's token."""
    notice, heard = disclaimer(t)
    t.counts.append("RoutinePlayed")
    token = Token(track.routine, track.pace, track.minutes, file, new_play_id(t.facts.now))
    change = into_stream(
        track, token, offset, skipped, t.facts.now, disclaimer_version=heard, playback=playback
    )
    outcome = t.reply(join(notice, lead), None, OUTSIDE, change, place=change.position)
    return replace(outcome, play=Stream.of(track, token, offset))


def start(t: Decision, routine_id: str, minutes: int | None = None, lead: Script = ()) -> Outcome:
    """A routine from its opening (a fresh run: nothing skipped), played straight through
    where it plays so."""
    t.counts.append("RoutineStarted")
    pace = t.progress.pace
    quiet = t.progress.quiet
    length = t.engine.length(routine_id, minutes)
    track = played_track(t, routine_id, length)
    if track is not None:
        return play(t, track, 0, 0, join(lead, t.say("play_start", routine=t.name(routine_id))), skipped=0)
    if minutes is not None and length is None:
        lead = join(lead, t.say("length_fixed", routine=t.name(routine_id)))
    elif length is not None:
        parts = t.engine.part_count(routine_id, pace, length, quiet=quiet)
        lead = join(lead, t.say("length_intro", minutes=length, parts=parts))
    fresh = replace(t, facts=replace(t.facts, progress=replace(t.progress, minutes=length, skipped=0)))
    return speak(fresh, t.engine.start(routine_id, pace, length, quiet=quiet), lead, skipped=0)


def resume(t: Decision) -> Outcome:
    """Carry on from the start of the stored step (asking first where it hurt last time)."""
    position = t.progress.position
    if position is None:
        return menu(t, t.say("progress_unavailable" if t.facts.read_failed else "nothing_to_resume"))
    if t.progress.hurt and t.state.mode != HURT_OFFER:
        return hurt_offer(t, position)
    return resume_step(t, position)


def resume_step(t: Decision, position: Position, lead: Script = ()) -> Outcome:
    t.counts.append("SessionResumed")
    played = resume_played(t, position, lead)
    if played is not None:
        return played
    pace, minutes = t.segment_args()
    # the step from its start, with how to get into position, and no routine opening again
    segment = t.engine.step_start(position, pace, minutes, resumed=True, quiet=t.progress.quiet)
    return speak(t, segment, join(lead, t.say("resume_intro", **t.fields(position))))


def resume_played(t: Decision, position: Position, lead: Script = ()) -> Outcome | None:
    """Carry on a played routine: at the start of the cue that was playing when the stream
    stopped (a new play, so the old device's stream is no longer the place), or from the
    start of the step; None if this routine is not played here."""
    found = played_from(t, position.routine_id, position.step)
    if found is None:
        return None
    track, file = found
    stored = Token.parse(t.progress.play)
    offset = 0
    if stored is not None and stored.file == file and t.facts.tracks and t.facts.tracks.of(stored) == track:
        offset = track.files[file].back_to_cue(t.progress.offset)
    words = join(lead, t.say("resume_intro", **t.fields(position)))
    return play(t, track, file, offset, words, skipped=t.progress.skipped)


def offer_resume(t: Decision, lead: Script = ()) -> Outcome:
    progress = t.progress
    position = progress.position
    assert position is not None
    if progress.hurt:
        return hurt_offer(t, position, lead)
    days = (t.facts.now - progress.updated_at) // DAY
    if days >= t.facts.stale_after_days:
        question = t.say("resume_offer_stale", days=days, **t.fields(position))
    else:
        question = t.say("resume_offer", **t.fields(position))
    return t.reply(join(lead, question), t.say("resume_reprompt"), RESUME_OFFER)


def hurt_offer(t: Decision, position: Position, lead: Script = ()) -> Outcome:
    """Last time this step hurt: skip it, or try it again gently?"""
    question = t.say("hurt_offer", **t.fields(position))
    return t.reply(join(lead, question), t.say("hurt_reprompt"), HURT_OFFER)


def go_on(t: Decision, segment: Segment, lead: Script = (), skipped: int | None = None) -> Outcome:
    """Speak ``segment``, or, when it starts an optional extra, ask first in a short reply."""
    question = t.engine.offer(segment.position)
    if question is None:
        return speak(t, segment, lead, skipped)
    asked = say(question)
    if skipped is not None and skipped != t.progress.skipped:  # keep the skip, at the same place
        return t.reply(join(lead, asked), asked, EXTRA_OFFER, t.stay(skipped=skipped))
    return t.reply(join(lead, asked), asked, EXTRA_OFFER)


def following(t: Decision) -> Segment | None:
    position = t.progress.position
    if position is None:
        return None
    pace, minutes = t.segment_args()
    return t.engine.next_step(position, pace, minutes, quiet=t.progress.quiet)


def ask_extra_again(t: Decision) -> Outcome:
    """The optional extra's question once more (after "repeat" or words that answer neither)."""
    after = following(t)
    question = t.engine.offer(after.position) if after else None
    if question is None:
        return menu(t)
    return t.reply(say(question), say(question), EXTRA_OFFER)


def take_extra(t: Decision) -> Outcome:
    after = following(t)
    if after is None:
        return menu(t)
    return speak(t, after)


def decline_extra(t: Decision) -> Outcome:
    """No (or next, or skip) to the optional extra: the routine's close."""
    position = t.progress.position
    if position is None:
        return menu(t)
    return speak(t, t.engine.closing(position.routine_id))


def advance(t: Decision) -> Outcome:
    position = t.under_way
    if position is None:
        return menu(t)
    pace, minutes = t.segment_args()
    segment = t.engine.advance(position, pace, minutes, quiet=t.progress.quiet)
    if segment is None:  # the record says finished already (e.g. another device)
        return menu(t)
    # moving on from a step's last part: that step is done, even if it was skipped before
    skipped = t.progress.skipped & ~(1 << position.step) if segment.position.step != position.step else None
    return go_on(t, segment, skipped=skipped)


def skip(t: Decision, lead: Script | None = None) -> Outcome:
    """Past the rest of this step without marking it done; after the last, the closing cue."""
    position = t.progress.position
    if position is None:
        return menu(t, t.say("skip_nothing"))
    lead = t.say("skipped") if lead is None else lead
    skipped = t.progress.skipped | 1 << position.step
    after = following(t)
    if after is None:  # past the last step: the routine's close
        return finish(
            t, position.routine_id, join(lead, t.engine.closing(position.routine_id).script), skipped
        )
    return go_on(t, after, lead, skipped)


def skip_here(t: Decision) -> Outcome:
    return skip(t) if t.under_way else menu(t, t.say("skip_nothing"))


def back(t: Decision) -> Outcome:
    position = t.under_way
    if position is None:
        return menu(t)
    pace, minutes = t.segment_args()
    segment, moved = t.engine.back(position, pace, minutes, quiet=t.progress.quiet)
    return speak(t, segment, () if moved else t.say("at_first_step"))


def last_step(t: Decision) -> Outcome:
    """The routine's last main step; the steps jumped over count as skipped."""
    position = t.under_way
    if position is None:
        return menu(t)
    last = max(t.engine.main_steps(position.routine_id))
    if position.step >= last:
        return t.reply(t.say("at_last_step"), t.say("invitation_reprompt"), ROUTINE)
    skipped = t.progress.skipped
    for step in range(position.step, last):
        skipped |= 1 << step
    pace, minutes = t.segment_args()
    target = Position(position.routine_id, last, 0)
    segment = t.engine.step_start(target, pace, minutes, quiet=t.progress.quiet)
    return speak(t, segment, t.say("last_step"), skipped)


def repeat_part(t: Decision, pace: str | None = None) -> Outcome:
    position = t.under_way
    assert position is not None
    segment = t.engine.segment(
        position,
        pace or t.progress.pace,
        t.progress.minutes,
        opening=position.at_start,
        quiet=t.progress.quiet,
    )
    return t.reply(segment.script, t.say("invitation_reprompt"), ROUTINE)


def back_to_routine(t: Decision, answer: Script, change: Change | None = None) -> Outcome:
    """An answer to a question asked mid-routine, then the way back into it; else the menu."""
    position = t.under_way
    if position is None:
        outcome = menu(t, answer)
        return replace(outcome, change=change)
    back_line = t.say("back_to_routine", routine=t.name(position.routine_id))
    return t.reply(join(answer, back_line), back_line, ROUTINE, change)


def stop_here(t: Decision) -> Outcome:
    """End the session; with a place under discussion, say it is kept and how to resume."""
    position = t.progress.position if t.state.mode in PLACE_KEPT else None
    if position is not None:
        return t.end(t.say("stop_in_routine", **t.fields(position)))
    return t.end(t.say("goodbye"))


def spoken_minutes(seconds: float) -> int:
    return max(1, round(seconds / 60))


def routine_minutes(t: Decision, routine_id: str, minutes: int | None = None) -> int:
    length = t.engine.length(routine_id, minutes)
    return spoken_minutes(t.engine.total_seconds(routine_id, t.progress.pace, length, quiet=t.progress.quiet))


def suggest(t: Decision, routine_id: str, minutes: int | None = None, lead: Script = ()) -> Outcome:
    """One concrete thing, started on yes: "The daily massage takes about ten minutes. Shall we start?" """
    length = t.engine.length(routine_id, minutes)
    question = t.say("suggest", routine=t.name(routine_id), minutes=routine_minutes(t, routine_id, minutes))
    reprompt = t.say("suggest_reprompt")
    return t.reply(join(lead, question), reprompt, SUGGEST_OFFER, suggested=(routine_id, length))


def relaxation(library: Library) -> str | None:
    """The whole routine that is a relaxation (no massage), from the data."""
    return next((r.id for r in library.whole_routines.values() if "relaxation" in r.areas), None)


def by_length(t: Decision, minutes: int, massage: bool = False) -> tuple[str, int | None]:
    """The longest choice (a routine as written, or at one of its lengths) that fits
    ``minutes``; the shortest one if none does. ``massage``: not the relaxation."""
    whole = [r for r in t.library.whole_routines.values() if not massage or "relaxation" not in r.areas]
    choices: list[tuple[str, int | None]] = [(r.id, None) for r in whole]
    choices += [(r.id, m) for r in whole for m in r.lengths]
    timed = [(routine_minutes(t, routine_id, m), routine_id, m) for routine_id, m in choices]
    fitting = [choice for choice in timed if choice[0] <= minutes]
    _, routine_id, length = max(fitting) if fitting else min(timed)
    return routine_id, length


def spoken_list(library: Library, items: list[str]) -> str:
    if len(items) < 2:
        return "".join(items)
    return library.say("list_join", head=", ".join(items[:-1]), last=items[-1])


def shifted_pace(library: Library, current: str | None, change: str) -> str:
    if change == "normal":
        return library.default_pace
    order = [p.id for p in sorted(library.paces.values(), key=lambda p: p.inhale + p.exhale + p.rest)]
    order.reverse()  # slow to quick
    index = order.index(library.pace(current).id) + (-1 if change == "slower" else 1)
    return order[max(0, min(index, len(order) - 1))]


def pain_words(t: Decision, position: Position) -> Script:
    """Stop at once, in words that fit where the user is: there is no massage in the relaxation."""
    routine = t.engine.routine(position.routine_id)
    whole = t.engine.routine(routine.parent or routine.id)
    return t.say("pain_stop_relaxation" if "relaxation" in whole.areas else "pain_stop")


# -- transitions: one function per (state, what was said) that needs its own -----------------
def launch(t: Decision) -> Outcome:
    """ "Open Pelvic Ease": the disclaimer the first time, an offer to resume, or the menu."""
    t = replace(t, state=State())
    if t.facts.read_failed:
        # Unknown user state: the disclaimer to be safe, and the truth about their place.
        lead = join(t.say("welcome_new"), say(t.library.disclaimer_text), t.say("progress_unavailable"))
        return t.reply(lead, t.say("menu_reprompt"), MENU)
    first_time = t.progress.version == 0
    notice, heard = disclaimer(t)
    change = t.change(disclaimer_version=heard) if notice else None
    if t.progress.position is not None:
        return replace(offer_resume(t, notice), change=change)
    welcome = t.say("welcome_new" if first_time else "welcome_back")
    return replace(menu(t, join(welcome, notice)), change=change)


def start_asked(t: Decision) -> Outcome:
    """ "Massage my hips": that routine (asking first if another one is under way)."""
    asked = t.heard.routine
    if asked is None and not t.heard.words and t.heard.minutes is not None:
        # "a ten minute massage": no area, but a length (the model's only such sample is a massage)
        return suggest(t, *by_length(t, t.heard.minutes, massage=True))
    if asked is None:
        heard = t.heard.words[:MAX_ECHO_CHARS]
        lead = t.say("unknown_area", heard=heard) if heard else t.say("unknown_area_unheard")
        choices = t.say("area_choices")
        return t.reply(join(lead, choices), choices, MENU)
    position = t.under_way
    if position is not None and not position.at_start and t.state.mode != SWITCH_OFFER:
        if asked == position.routine_id:
            return back_to_routine(t, t.say("already_in_routine", **t.fields(position)))
        return switch_offer(t, position, asked, t.engine.length(asked, t.heard.minutes))
    return start(t, asked, t.heard.minutes)


def switch_offer(t: Decision, position: Position, asked: str, minutes: int | None) -> Outcome:
    """Another routine asked for while one is under way: its place is not dropped unasked."""
    question = t.say("switch_offer", asked=t.name(asked), **t.fields(position))
    return t.reply(
        question, t.say("switch_reprompt", asked=t.name(asked)), SWITCH_OFFER, suggested=(asked, minutes)
    )


def start_suggested(t: Decision) -> Outcome:
    if t.state.suggested is None:
        return menu(t)
    routine_id, minutes = t.state.suggested
    return start(t, routine_id, minutes)


def yes_at_menu(t: Decision) -> Outcome:
    """ "Yes" with nothing asked: one concrete thing to start (the relaxation after the massage)."""
    after_massage = t.state.finished == "daily_massage"
    return suggest(t, "down_training" if after_massage else "daily_massage")


def ask_pain_again(t: Decision) -> Outcome:
    return t.reply(t.say("pain_reprompt"), t.say("pain_reprompt"), PAIN_PAUSE)


def no_to_switch(t: Decision) -> Outcome:
    return back_to_routine(t, ())


def try_again_gently(t: Decision) -> Outcome:
    position = t.progress.position
    if position is None:
        return menu(t)
    return resume_step(t, position, t.say("hurt_try_again"))


def skip_hurt(t: Decision) -> Outcome:
    """Resuming past the step that hurt: the next step from scratch (or the close)."""
    position = t.progress.position
    if position is None:
        return menu(t)
    t.counts.append("SessionResumed")
    skipped = t.progress.skipped | 1 << position.step
    lead = t.say("hurt_skipped", **t.fields(position))
    after = Position(position.routine_id, position.step + 1, 0)
    if not t.engine.is_valid(after):
        closing = t.engine.closing(position.routine_id).script
        return finish(t, position.routine_id, join(lead, closing), skipped)
    found = played_from(t, position.routine_id, after.step)
    if found is not None:
        return play(t, *found, 0, lead, skipped=skipped)
    pace, minutes = t.segment_args()
    segment = t.engine.step_start(after, pace, minutes, resumed=True, quiet=t.progress.quiet)
    return go_on(t, segment, lead, skipped)


def fallback_in_routine(t: Decision) -> Outcome:
    return t.reply(t.say("fallback_routine"), t.say("invitation_reprompt"), ROUTINE)


def goodbye(t: Decision) -> Outcome:
    return t.end(t.say("goodbye"))


def resume_if_any(t: Decision) -> Outcome:
    """ "Next" with no routine under way: carry on from the stored place, or the menu."""
    return resume(t) if t.progress.position is not None else menu(t)


def repeat_pain(t: Decision) -> Outcome:
    position = t.under_way
    words = pain_words(t, position) if position else t.say("pain_stop")
    return t.reply(words, t.say("pain_reprompt"), PAIN_PAUSE)


def repeat_switch(t: Decision) -> Outcome:
    if t.state.suggested is None or t.under_way is None:
        return menu(t)
    return switch_offer(t, t.under_way, *t.state.suggested)


def repeat_in_routine(t: Decision) -> Outcome:
    return repeat_part(t) if t.under_way else menu(t)


def repeat_resume_offer(t: Decision) -> Outcome:
    return offer_resume(t) if t.progress.position is not None else menu(t)


def repeat_hurt_offer(t: Decision) -> Outcome:
    position = t.progress.position
    return hurt_offer(t, position) if position is not None else menu(t)


def repeat_suggestion(t: Decision) -> Outcome:
    return suggest(t, *t.state.suggested) if t.state.suggested is not None else menu(t)


def another_again(t: Decision) -> Outcome:
    return t.reply(t.say("another_offer"), t.say("another_reprompt"), ANOTHER_OFFER)


def reminder_offer_again(t: Decision) -> Outcome:
    return t.reply(t.say("reminder_offer"), t.say("reminder_offer_reprompt"), REMINDER_OFFER)


def again(t: Decision) -> Outcome:
    """What "repeat" says in this state (the table's REPEAT row): the last part, or the last question."""
    return transition(t.state.mode, REPEAT)(t)


def start_over(t: Decision) -> Outcome:
    """ "Start over": the routine under discussion (or just finished) from its first step."""
    routine_id: str | None = None
    if t.state.mode in PLACE_KEPT and t.progress.position is not None:
        routine_id = t.progress.position.routine_id
    elif t.state.mode == ANOTHER_OFFER:
        routine_id = t.state.finished
    if routine_id is None:
        return menu(t, t.say("nothing_to_start_over"))
    return start(t, routine_id, t.progress.minutes, t.say("start_over", routine=t.name(routine_id)))


def pause(t: Decision) -> Outcome:
    return t.end(t.say("pause" if t.under_way else "goodbye"))


def wait(t: Decision) -> Outcome:
    position = t.progress.position if t.state.mode in PLACE_KEPT else None
    if position is None:
        return t.end(t.say("wait_menu"))
    return t.end(t.say("wait_routine", **t.fields(position)))


def help_here(t: Decision) -> Outcome:
    position = t.under_way
    if position is not None:
        return t.reply(t.say("help_routine", **t.fields(position)), t.say("help_routine_reprompt"), ROUTINE)
    return t.reply(t.say("help_menu"), t.say("menu_reprompt"), MENU)


def pain(t: Decision) -> Outcome:
    """ "It hurts": stop at once. In a routine the place is marked, so a resume asks about
    that step; outside one the session stays open with the advice and a gentle option."""
    t.counts.append("PainReported")
    position = t.under_way
    played = t.progress.position if t.progress.play else None
    recent = t.facts.now - t.progress.updated_at < PLAYED_RECENTLY_SECONDS
    if position is None and played is not None and t.facts.tracks is not None and (recent or t.facts.playing):
        # a routine was playing here (or just stopped): stop it, keep the place, never play on
        outcome = t.end(t.say("pain_played", **t.fields(played)))
        return replace(outcome, change=t.stay(hurt=True), stop_audio=True)
    if position is None and t.facts.playing:
        # a stream of ours this device is playing, though no longer the place: stopped first
        return replace(pain_outside_routine(t), stop_audio=True)
    if position is None:
        return pain_outside_routine(t)
    return t.reply(pain_words(t, position), t.say("pain_reprompt"), PAIN_PAUSE, t.stay(hurt=True))


def pain_outside_routine(t: Decision) -> Outcome:
    """The advice, and a gentle option: the relaxation, if the user wants it."""
    gentle = relaxation(t.library)
    if gentle is None:
        return t.end(t.say("pain_outside"))
    lengths = t.engine.routine(gentle).lengths
    return suggest(t, gentle, min(lengths, default=None), t.say("pain_menu"))


def change_pace(t: Decision) -> Outcome:
    """ "Slower", "faster", "normal pace": from the next part on, and remembered."""
    in_routine = t.under_way is not None
    asked = t.heard.pace
    if asked not in ("slower", "faster", "normal"):
        return fallback_in_routine(t) if in_routine else menu(t, t.say("fallback_menu"))
    current = t.library.pace(t.progress.pace).id
    pace = shifted_pace(t.library, t.progress.pace, asked)
    name = t.library.pace(pace).name
    change = None
    if pace == current and asked != "normal":
        lead = t.say("pace_already", pace=name)
    else:
        change = t.change(pace=pace)
        lead = t.say("pace_changed" if in_routine else "pace_changed_menu", pace=name)
    if in_routine:
        return t.reply(join(lead, t.say("pace_reprompt")), t.say("invitation_reprompt"), ROUTINE, change)
    return replace(menu(t, lead), change=change)


def repeat_slowly(t: Decision) -> Outcome:
    """ "Say that again slowly": the last part again at the slower pace (kept from now on)."""
    if t.state.mode != ROUTINE or t.under_way is None:
        return again(t)
    slower = shifted_pace(t.library, t.progress.pace, "slower")
    change = t.change(pace=slower) if slower != t.library.pace(t.progress.pace).id else None
    return replace(repeat_part(t, slower), change=change)


def report(t: Decision) -> Outcome:
    """ "How am I doing": days this week, sessions finished, the streak."""
    progress = t.progress
    total = progress.total_sessions()
    if total == 0 and not progress.days:
        words = t.say("report_none")
    else:
        words = t.say("report", week=progress.days_this_week(t.facts.now, t.facts.local_day), total=total)
        streak = progress.streak(t.facts.now, t.facts.local_day)
        if streak >= 2:
            words = join(words, t.say("report_streak", streak=streak))
    return back_to_routine(t, words)


def how_long(t: Decision) -> Outcome:
    """ "How long is this", "how much is left", "how long does the psoas release take"."""
    position = t.under_way
    asked = t.heard.routine
    if position is not None and asked in (None, position.routine_id):
        name = t.name(position.routine_id)
        pace, minutes = t.segment_args()
        left = spoken_minutes(t.engine.seconds_left(position, pace, minutes, quiet=t.progress.quiet))
        answer = t.say("time_left", routine=name, minutes=left) if left >= 2 else ()
        return back_to_routine(t, answer or t.say("time_left_short", routine=name))
    if asked is not None:
        return suggest(t, asked)
    routines = [
        t.library.say("routine_minutes", routine=r.name, minutes=routine_minutes(t, r.id))
        for r in t.library.whole_routines.values()
    ]
    return menu(t, t.say("routine_lengths", routines=spoken_list(t.library, routines)))


def list_routines(t: Decision) -> Outcome:
    names = [t.library.say("the_routine", routine=r.name) for r in t.library.whole_routines.values()]
    return t.reply(
        t.say("list_routines", count=len(names), routines=spoken_list(t.library, names)),
        t.say("menu_reprompt"),
        MENU,
    )


def read_disclaimer(t: Decision) -> Outcome:
    t.counts.append("DisclaimerRead")
    version = t.library.disclaimer_version
    change = t.change(disclaimer_version=version) if t.progress.disclaimer_version < version else None
    text = say(t.library.disclaimer_text)
    position = t.under_way
    if position is not None:
        back_line = t.say("disclaimer_return_routine", **t.fields(position))
        return t.reply(join(text, back_line), back_line, ROUTINE, change)
    return replace(menu(t, text), change=change)


def by_length_asked(t: Decision) -> Outcome:
    if t.heard.minutes is None:
        return menu(t, t.say("fallback_menu"))
    return suggest(t, *by_length(t, t.heard.minutes))


def cues(t: Decision) -> Outcome:
    amount = t.heard.amount
    if amount not in ("less", "more"):
        return back_to_routine(t, t.say("cues_unclear"))
    fewer = amount == "less"
    change = t.change(cues=FEWER_CUES if fewer else EVERY_CUE)
    return back_to_routine(t, t.say("cues_fewer" if fewer else "cues_every"), change)


def play_style(t: Decision) -> Outcome:
    """ "Play it straight through" / "step by step": remembered; a routine under way goes
    on in the new way from the start of its step."""
    style = STEPS if t.heard.style == STEPS else STRAIGHT
    change = t.change(playback=style)
    if style == STRAIGHT and t.facts.tracks is None:
        answer = t.say("play_style_unavailable")
    else:
        answer = t.say("play_style_straight" if style == STRAIGHT else "play_style_steps")
    if t.state.mode == PAIN_PAUSE:
        # after "it hurts" only skip or end go on: the choice is kept for later
        return t.reply(join(answer, t.say("pain_reprompt")), t.say("pain_reprompt"), PAIN_PAUSE, change)
    position = t.under_way
    if style == STRAIGHT and position is not None:
        chosen = replace(t, facts=replace(t.facts, progress=change.applied_to(t.progress)))
        found = played_from(chosen, position.routine_id, position.step)
        if found is not None:
            return play(chosen, *found, 0, answer, skipped=t.progress.skipped, playback=style)
    return back_to_routine(t, answer, change)


def fallback(t: Decision) -> Outcome:
    return fallback_in_routine(t) if t.under_way else menu(t, t.say("fallback_menu"))


def unknown(t: Decision) -> Outcome:
    if t.under_way:
        reprompt = t.say("invitation_reprompt")
        return t.reply(join(t.say("unhandled"), reprompt), reprompt, ROUTINE)
    return menu(t, t.say("unhandled"))


def answer(key: str) -> Transition:
    """A general answer (safety, kegels), then back to where the user was."""
    return lambda t: back_to_routine(t, t.say(key))


def unanswered(t: Decision) -> Outcome:
    """The session closed with nothing more to do: nothing stored, nothing said."""
    return t.reply((), None, t.state.mode)


def extra_unanswered(t: Decision) -> Outcome:
    """The session closed at the optional extra's question: every main step was heard, so the
    routine is finished (the extra is only ever asked about)."""
    position = t.progress.position
    if position is None:
        return unanswered(t)
    outcome = finish(t, position.routine_id, (), t.progress.skipped)
    return replace(outcome, speech=(), reprompt=None)


def question_again(t: Decision) -> Outcome:
    """Words that answer none of a yes/no question: sorry, and the question again."""
    asked = again(t)
    return replace(asked, speech=join(t.say("fallback_menu"), asked.speech))


MAX_ECHO_CHARS = 40  # how much of an unrecognised area we repeat back


# -- the daily reminder -------------------------------------------------------------------------
def reminder_offer_due(t: Decision, after: Progress) -> bool:
    """Offer a daily reminder once a second routine is finished: never after a no, never
    while one is set, and only where the Reminders API can be reached."""
    return (
        t.facts.can_remind
        and after.total_sessions() >= 2
        and after.reminder is None
        and not after.reminder_declined
    )


def spoken_time(library: Library, time: DailyTime) -> str:
    """ "8 p.m.", "7:30 a.m.", "noon", in the locale's words."""
    if time == DailyTime(12, 0):
        return library.say("time_noon")
    if time == DailyTime(0, 0):
        return library.say("time_midnight")
    hour = time.hour % 12 or 12
    half = library.say("time_am" if time.hour < 12 else "time_pm")
    if time.minute == 0:
        return library.say("time_on_the_hour", hour=hour, half=half)
    return library.say("time_with_minutes", hour=hour, minute=f"{time.minute:02d}", half=half)


def returning_to(t: Decision) -> str | None:
    """The mode the conversation goes back to once the reminder is dealt with: the one kept
    while the time was asked for, else the one it is in."""
    return t.state.back if t.state.mode in REMINDER_MODES else t.state.mode


def follow_up(t: Decision, words: Script, change: Change | None = None, card: bool = False) -> Outcome:
    """What was said about the reminder, then the way back to where the conversation was:
    the offer of another routine, the routine under way, the end of a one-shot, or the menu."""
    mode = returning_to(t)
    back = replace(t, state=replace(t.state, mode=mode or OUTSIDE, back=None))
    if mode == ANOTHER_OFFER or (mode is None and t.state.finished):
        outcome = back.reply(join(words, t.say("another_offer")), t.say("another_reprompt"), ANOTHER_OFFER)
    elif mode == PAIN_PAUSE:  # after "it hurts" only skip or end go on
        outcome = back.reply(join(words, t.say("pain_reprompt")), t.say("pain_reprompt"), PAIN_PAUSE)
    elif mode in UNDER_WAY and back.under_way is not None:
        outcome = back_to_routine(back, words)
    elif t.facts.fresh and mode in (OUTSIDE, None):
        outcome = back.end(words)
    else:
        outcome = menu(back, words)
    return replace(outcome, change=change, permission_card=card)


def ask_time(t: Decision, lead: Script = ()) -> Outcome:
    """ "What time each day?", remembering where to go back to afterwards."""
    back = returning_to(t)
    question = t.say("reminder_ask_time")
    return t.reply(join(lead, question), t.say("reminder_time_reprompt"), REMINDER_TIME, back=back)


def set_reminder(t: Decision) -> Outcome:
    """ "Remind me every day at 8 pm", "set a daily reminder" (asks the time), or the answer
    to "what time?"."""
    time = DailyTime.parse(t.heard.time)
    if time is not None:
        return put_reminder(t, time)
    period = PERIODS.get(t.heard.time or "")
    if period is not None:
        return ask_time(t, t.say("reminder_which_time", period=period))
    if t.heard.time:
        return ask_time(t, t.say("reminder_time_unclear"))
    if t.heard.intent == CHANGE_REMINDER and t.progress.reminder:
        return ask_time(t, t.say("reminder_change_lead"))
    return ask_time(t)


def put_reminder(t: Decision, time: DailyTime) -> Outcome:
    """The reminder set (or moved) to ``time`` every day, and said back with its time."""
    existing = t.progress.reminder
    result = t.facts.reminders.put(time, existing)
    spoken = spoken_time(t.library, time)
    if result.ok and result.token:
        key = "reminder_set" if existing is None else "reminder_changed"
        if existing is not None and result.created:
            key = "reminder_replaced"  # the stored one had been deleted in the Alexa app
        return follow_up(t, t.say(key, time=spoken), t.change(reminder=result.token))
    if result.status == NO_PERMISSION and t.heard.intent != CONSENT:
        # Alexa asks the user; the answer comes back as CONSENT, with the time in its token
        outcome = t.reply((), None, t.state.mode)
        return replace(outcome, ask_permission=time.consent_token())
    return reminder_failed(t, result.status)


def reminder_failed(t: Decision, status: str) -> Outcome:
    """A short answer for every way the Reminders API can fail; nothing else is affected."""
    if status == NO_PERMISSION:
        return follow_up(t, t.say("reminder_no_access"), card=True)
    if status == FORBIDDEN:
        return follow_up(t, t.say("reminder_forbidden"), card=True)
    if status == NO_ZONE:
        return follow_up(t, t.say("reminder_no_zone"))
    if status == REFUSED:  # trying again would not help: not "try again later"
        return follow_up(t, t.say("reminder_refused"))
    return follow_up(t, t.say("reminder_busy" if status == THROTTLED else "reminder_unavailable"))


def decline_reminder(t: Decision) -> Outcome:
    """No to the offer: never offered again."""
    return follow_up(t, t.say("reminder_declined"), t.change(decline_reminder=True))


def not_now(t: Decision) -> Outcome:
    """No to "what time?": nothing set."""
    return follow_up(t, t.say("reminder_not_now"))


def time_said(t: Decision) -> Outcome:
    """A time said on its own where no time was asked for: how to ask for a reminder."""
    time = DailyTime.parse(t.heard.time)
    if time is None:
        return fallback(t)
    return follow_up(t, t.say("reminder_time_hint", time=spoken_time(t.library, time)))


def cancel_reminder(t: Decision) -> Outcome:
    """ "Cancel my reminder": every reminder of ours deleted, the one the record knows or not
    (its id may not have been stored); one already deleted in the Alexa app is forgotten."""
    token = t.progress.reminder
    result = t.facts.reminders.delete(token)
    if result.ok or (result.status == NOT_FOUND and token is not None):
        return follow_up(t, t.say("reminder_cancelled"), t.change(forget_reminder=True))
    if result.status == NOT_FOUND:
        return follow_up(t, t.say("reminder_none"))
    return reminder_failed(t, result.status)


def reminder_status(t: Decision) -> Outcome:
    """ "Do I have a reminder": its time, read from Alexa (the record's id kept up to date), or
    that there is none."""
    token = t.progress.reminder
    result = t.facts.reminders.read(token)
    known = t.change(reminder=result.token) if result.ok and result.token != token else None
    if result.ok and result.time is not None:
        return follow_up(t, t.say("reminder_status", time=spoken_time(t.library, result.time)), known)
    if result.ok:
        return follow_up(t, t.say("reminder_status_unread"), known)
    if result.status == NOT_FOUND and token is not None:
        return follow_up(t, t.say("reminder_gone"), t.change(forget_reminder=True))
    if result.status == NOT_FOUND:
        return follow_up(t, t.say("reminder_none"))
    return reminder_failed(t, result.status)


def consent(t: Decision) -> Outcome:
    """Alexa's answer to our request for the reminders permission."""
    answer = t.heard.consent
    if answer == ACCEPTED:
        time = DailyTime.parse(t.heard.time)
        return put_reminder(t, time) if time is not None else ask_time(t)
    if answer == DENIED:
        return follow_up(t, t.say("reminder_permission_denied"), t.change(decline_reminder=True))
    if answer == NOT_ANSWERED:
        return follow_up(t, t.say("reminder_permission_unanswered"))
    # voice consent is not possible here: the card, and how to grant it in the Alexa app
    return follow_up(t, t.say("reminder_permission_in_app"), card=True)


# -- the table ----------------------------------------------------------------------------------
# For each thing the user can say: the transition in each state, ANY for the rest.
TABLE: dict[str, dict[str, Transition]] = {
    LAUNCH: {ANY: launch},
    RESUME: {HURT_OFFER: try_again_gently, ANY: resume},
    START: {ANY: start_asked},
    LIST: {ANY: list_routines},
    DISCLAIMER: {ANY: read_disclaimer},
    YES: {
        ROUTINE: advance,
        REMINDER_OFFER: ask_time,
        REMINDER_TIME: ask_time,
        EXTRA_OFFER: take_extra,
        PAIN_PAUSE: ask_pain_again,
        SWITCH_OFFER: start_suggested,
        RESUME_OFFER: resume,
        HURT_OFFER: skip_hurt,
        SUGGEST_OFFER: start_suggested,
        ANY: yes_at_menu,
    },
    NO: {
        ROUTINE: fallback_in_routine,
        REMINDER_OFFER: decline_reminder,
        REMINDER_TIME: not_now,
        EXTRA_OFFER: decline_extra,
        PAIN_PAUSE: stop_here,
        SWITCH_OFFER: no_to_switch,
        RESUME_OFFER: menu,
        HURT_OFFER: try_again_gently,
        SUGGEST_OFFER: menu,
        ANY: goodbye,
    },
    NEXT: {
        ROUTINE: advance,
        EXTRA_OFFER: decline_extra,
        PAIN_PAUSE: skip,  # going on after pain is the user's choice: past this step
        SWITCH_OFFER: advance,
        RESUME_OFFER: resume,
        HURT_OFFER: skip_hurt,
        ANY: resume_if_any,
    },
    PREVIOUS: {ANY: back},
    REPEAT: {
        ROUTINE: repeat_in_routine,
        PAIN_PAUSE: repeat_pain,
        EXTRA_OFFER: ask_extra_again,
        SWITCH_OFFER: repeat_switch,
        RESUME_OFFER: repeat_resume_offer,
        HURT_OFFER: repeat_hurt_offer,
        SUGGEST_OFFER: repeat_suggestion,
        ANOTHER_OFFER: another_again,
        REMINDER_OFFER: reminder_offer_again,
        REMINDER_TIME: ask_time,
        ANY: menu,
    },
    START_OVER: {ANY: start_over},
    PAUSE: {ANY: pause},
    HELP: {ANY: help_here},
    STOP: {ANY: stop_here},
    DONE: {ANY: stop_here},
    WAIT: {ANY: wait},
    PAIN: {ANY: pain},
    SKIP: {EXTRA_OFFER: decline_extra, HURT_OFFER: skip_hurt, ANY: skip_here},
    PACE: {ANY: change_pace},
    REPEAT_SLOWLY: {ANY: repeat_slowly},
    REPORT: {ANY: report},
    LAST_STEP: {EXTRA_OFFER: ask_extra_again, ANY: last_step},
    HOW_LONG: {ANY: how_long},
    SAFETY: {ANY: answer("safety_answer")},
    WHY_NO_KEGELS: {ANY: answer("why_no_kegels")},
    BY_LENGTH: {ANY: by_length_asked},
    CUES: {ANY: cues},
    HOME: {ANY: menu},
    FALLBACK: {
        EXTRA_OFFER: question_again,
        PAIN_PAUSE: ask_pain_again,
        SWITCH_OFFER: question_again,
        RESUME_OFFER: question_again,
        HURT_OFFER: question_again,
        SUGGEST_OFFER: question_again,
        REMINDER_OFFER: question_again,
        REMINDER_TIME: question_again,
        ANY: fallback,
    },
    PLAY_STYLE: {ANY: play_style},
    SET_REMINDER: {ANY: set_reminder},
    CHANGE_REMINDER: {ANY: set_reminder},
    CANCEL_REMINDER: {ANY: cancel_reminder},
    REMINDER_STATUS: {ANY: reminder_status},
    TIME_SAID: {REMINDER_TIME: set_reminder, ANY: time_said},
    CONSENT: {ANY: consent},
    UNKNOWN: {ANY: unknown},
    ENDED: {EXTRA_OFFER: extra_unanswered, ANY: unanswered},
}


def transition(mode: str, intent: str) -> Transition:
    row = TABLE[intent]
    return row.get(mode, row[ANY])


def decide(engine: Engine, state: State, heard: Heard, facts: Facts) -> Outcome:
    """What happens when the user in ``state`` says ``heard``."""
    mode = state.mode if state.mode in MODES else OUTSIDE
    turn = Decision(engine, replace(state, mode=mode), heard, facts)
    outcome = transition(mode, heard.intent)(turn)
    # never a stream of ours playing on under a spoken routine: a spoken move stops it
    spoken_move = outcome.change is not None and outcome.change.moved and outcome.play is None
    if spoken_move and facts.playing:
        return replace(outcome, stop_audio=True)
    return outcome
