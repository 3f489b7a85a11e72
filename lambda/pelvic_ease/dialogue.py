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
                   to set a daily reminder; or (``State.times``) asked whether to set
                   check-in reminders at those times
    REMINDER_TIME  asked what time the daily reminder should be (``State.back``: the mode
                   the conversation goes back to afterwards)

Reminders: the core asks the ``Reminders`` port (facts.reminders) to set, change, delete or
read the user's daily reminder or check-ins and says what came of it; an answer that needs the user's
permission asks for it (``Outcome.ask_permission``), and the answer to that request comes
back as CONSENT with the time (or the check-ins' times) asked for.

What counts (the README says the same): a step is done when the listener moves on from
its last part; skipped with "skip", "last step", or going on after pain. A routine that
reaches its end counts as a practice day if at least one of its main steps was done, and
as a finished session if at most one was skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import NamedTuple

from .audio import Sound, Token, Track, Tracks, new_play_id
from .content import Library, Plan, Routine
from .engine import Engine, Position, Segment
from .moves import Stream, into_stream, routine_end
from .progress import (
    BED_OFF,
    BED_ON,
    DAY,
    EVERY_CUE,
    FEWER_CUES,
    GUIDED,
    STEPS,
    STRAIGHT,
    Change,
    DayOf,
    Progress,
    utc_day,
)
from .reminders import (
    CHECKIN_DEFAULTS,
    FORBIDDEN,
    MAX_CHECKINS,
    NO_PERMISSION,
    NO_ZONE,
    NOT_FOUND,
    PERIOD_TIMES,
    PERIODS,
    REFUSED,
    THROTTLED,
    DailyTime,
    NoReminders,
    ReminderResult,
    Reminders,
    checkin_times,
    checkins_consent_token,
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
# asked, before the first massage on a device with an audio player, whether it should play
# straight through (State.suggested: the massage and length asked for)
PLAY_OFFER = "play_offer"
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
    PLAY_OFFER,
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
BACKGROUND = "background"  # "without background sound", "with background sound"
SET_REMINDER, CHANGE_REMINDER = "set_reminder", "move_reminder"
CANCEL_REMINDER, REMINDER_STATUS = "end_reminder", "has_reminder"
SET_CHECKINS, CANCEL_CHECKINS = "set_checkins", "end_checkins"  # check-in reminders through the day
TIME_SAID = "time_said"  # a time said on its own ("8 pm"): the answer to "what time?"
CONSENT = "consent"  # the answer to our request for the reminders permission
SYMPTOM = "symptom"  # "I feel dizzy", "I'm bleeding": a red flag or another symptom
QUESTION, WHY, WHATS_NEXT = "question", "why", "whats_next"  # answered from the content
THANKS, ASLEEP, VOLUME, MUSIC = "thanks", "asleep", "volume", "music"
NO_BALL, OTHER_SIDE, LATER = "no_ball", "other_side", "later"
# the plan: "start the plan", "what should I do today", "how is my plan going", "pause the
# plan", "how did I do this week"
START_PLAN, TODAY, PLAN_STATUS, PAUSE_PLAN, WEEK = "start_plan", "today", "plan_status", "pause_plan", "week"
UNKNOWN_TOPIC = "?"  # a question about something the model's topics do not hold
# Said in a one-shot while our stream plays on this device: it stops there.
STOPS_OUR_STREAM = (STOP, DONE, NO, WAIT, LATER)
ACCEPTED, DENIED, NOT_ANSWERED, UNSUPPORTED = "ACCEPTED", "DENIED", "NOT_ANSWERED", "UNSUPPORTED"
ENDED = "ended"  # the session closed without an answer (nothing can be said back)
ANY = "*"  # a row's default, for every state not listed


class State(NamedTuple):
    """What this session remembers between turns."""

    mode: str = OUTSIDE
    finished: str | None = None  # the routine completed last in this session
    suggested: tuple[str, int | None] | None = None  # routine and length asked about
    back: str | None = None  # REMINDER_TIME: the mode to go back to once the reminder is done
    period: str | None = None  # REMINDER_TIME: the part of the day said ("EV"), to place an hour in
    times: tuple[str, ...] | None = None  # REMINDER_OFFER: the check-ins offered ("10:30", ...)


class Heard(NamedTuple):
    """What the user said, as the core needs it (slots already resolved to ids)."""

    intent: str
    routine: str | None = None  # the routine the area slot names
    words: str = ""  # what was said for the area, when it names no routine
    minutes: int | None = None  # "ten minutes", or a length word as minutes
    pace: str | None = None  # "slower", "faster", "normal"
    amount: str | None = None  # "less" or "more" talking
    style: str | None = None  # STRAIGHT or STEPS
    time: str | None = None  # AMAZON.TIME's value ("20:00", or "EV" for the evening)
    times: tuple[str, ...] = ()  # check-ins: the times said (AMAZON.TIME's values), or consented to
    per_day: int | None = None  # check-ins: how many a day ("three times a day")
    consent: str | None = None  # CONSENT: ACCEPTED, DENIED, NOT_ANSWERED or UNSUPPORTED
    area: str | None = None  # the AREA id said, when the model knows it (a routine or not)
    symptom: str | None = None  # the SYMPTOM id (None: a symptom the model did not recognise)
    part: str | None = None  # the BODY_PART id a symptom is in ("my chest is tight")
    condition: str | None = None  # a condition said or asked about (None: a general question)
    topic: str | None = None  # the TOPIC id of a question
    bed: str | None = None  # BED_ON or BED_OFF: the ambient bed under played routines


class Facts(NamedTuple):
    """What the turn knows besides the state: the record, the time, whether the read failed."""

    progress: Progress
    now: int
    read_failed: bool = False
    stale_after_days: int = 14
    # the rendered tracks, when the device can play audio (AudioPlayer); else None
    tracks: Tracks | None = None
    playing: bool = False  # a stream of ours is playing on this device
    local_day: DayOf = utc_day  # epoch seconds -> the user's day number (their time zone)
    reminders: Reminders = NoReminders()  # stateless: one for every turn without the API
    can_remind: bool = False  # the Reminders API can be reached from this request
    fresh: bool = False  # a one-shot request opened this session: the answer ends it
    stream: tuple[Token, int] | None = None  # this device's stream of ours and its offset (ms), when it plays


# A played routine resumed after a break this long starts its step again, from how to get into
# position, rather than mid-breath where it stopped.
RESUME_AFRESH_SECONDS = 600
# A played place this recent is what "it hurts" is about, though no session is under way.
PLAYED_RECENTLY_SECONDS = 1_800


class Outcome(NamedTuple):
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


class Decision(NamedTuple):
    """One decision's inputs and helpers (what every transition reads)."""

    engine: Engine
    state: State
    heard: Heard
    facts: Facts
    counts: list[str]  # metric names, added to as the decision goes

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
            # the check-ins offered are forgotten unless offered again
            self.state._replace(mode=mode, **{"times": None, **state}),  # type: ignore[arg-type]
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
    spent = routine_minutes(t, routine_id, t.progress.minutes)
    change = routine_end(
        t.engine, routine_id, skipped, t.facts.now, day=day, spent=spent, disclaimer_version=heard
    )
    after = change.applied_to(t.progress)
    streak = after.streak(t.facts.now, t.facts.local_day) if change.practised else 0
    praise = t.say("streak_at_end", streak=streak) if streak >= 2 else ()
    # the second finished routine offers a daily reminder, once; else the offer of another
    # (with a plan under way: the plan's day done and what comes next)
    offer = REMINDER_OFFER if change.completed and reminder_offer_due(t, after) else ANOTHER_OFFER
    question, reprompt = (
        ("reminder_offer", "reminder_offer_reprompt") if offer == REMINDER_OFFER
        else ("another_offer", "another_reprompt")
    )  # fmt: skip
    planned = plan_counted(t, after) if after.plan_last == day else ()
    if planned and offer == ANOTHER_OFFER:
        question = "plan_another_offer"
    return t.reply(
        join(speech, praise, planned, t.say(question)),
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
    if style != STRAIGHT and not is_relaxation(t, routine_id):
        return None
    pace = t.library.pace(t.progress.pace).id
    # the sound the listener chose (the bed or not, every breath or every other one); a
    # library rendered before the other sounds has only the default
    sound = Sound(bed=t.progress.bed != BED_OFF, quiet=t.progress.quiet)
    return tracks.get(routine_id, pace, length, sound) or tracks.get(routine_id, pace, length)


def hands_free_unasked(t: Decision, routine_id: str, length: int | None) -> bool:
    """A massage that could play straight through here, for a listener who has never said how
    they like routines to play: asked once, in a short question, before it starts."""
    if t.progress.playback is not None or t.state.mode == PLAY_OFFER or is_relaxation(t, routine_id):
        return False
    chosen = t._replace(facts=t.facts._replace(progress=replace(t.progress, playback=STRAIGHT)))
    return played_track(chosen, routine_id, length) is not None


def play_offer_answered(t: Decision) -> Outcome:
    """Yes, no, "play it straight through" or "step by step" to the offer: remembered, and the
    massage started that way."""
    if t.state.suggested is None:
        return menu(t)
    straight = t.heard.intent == YES or (t.heard.intent == PLAY_STYLE and t.heard.style != STEPS)
    # no (or "next"): massages step by step, the relaxation still plays
    style = STRAIGHT if straight else GUIDED
    change = t.change(playback=style)
    chosen = t._replace(facts=t.facts._replace(progress=change.applied_to(t.progress)))
    outcome = start(chosen, *t.state.suggested)
    # the choice goes with the start's own change (one write), or alone
    both = Change(**{**vars(outcome.change), "playback": style}) if outcome.change else change
    return outcome._replace(change=both)


def repeat_play_offer(t: Decision) -> Outcome:
    if t.state.suggested is None:
        return menu(t)
    routine_id, _ = t.state.suggested
    question = t.say("play_offer", routine=t.name(routine_id))
    return t.reply(question, t.say("play_offer_reprompt"), PLAY_OFFER)


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
    token = Token(track.routine, track.pace, track.minutes, file, new_play_id(t.facts.now), track.sound)
    change = into_stream(
        track, token, offset, skipped, t.facts.now, disclaimer_version=heard, playback=playback
    )
    outcome = t.reply(join(notice, lead), None, OUTSIDE, change, place=change.position)
    return outcome._replace(play=Stream.of(track, token, offset))


def start(t: Decision, routine_id: str, minutes: int | None = None, lead: Script = ()) -> Outcome:
    """A routine from its opening (a fresh run: nothing skipped), played straight through
    where it plays so."""
    length = t.engine.length(routine_id, minutes)
    if hands_free_unasked(t, routine_id, length):
        question = t.say("play_offer", routine=t.name(routine_id))
        return t.reply(
            join(lead, question), t.say("play_offer_reprompt"), PLAY_OFFER, suggested=(routine_id, length)
        )
    t.counts.append("RoutineStarted")
    pace = t.progress.pace
    quiet = t.progress.quiet
    track = played_track(t, routine_id, length)
    if track is not None:
        return play(t, track, 0, 0, join(lead, t.say("play_start", routine=t.name(routine_id))), skipped=0)
    if minutes is not None and length is None and minutes != routine_minutes(t, routine_id):
        lead = join(lead, t.say("length_fixed", routine=t.name(routine_id)))
    elif length is not None:
        parts = t.engine.part_count(routine_id, pace, length, quiet=quiet)
        lead = join(lead, t.say("length_intro", minutes=length, parts=parts))
    fresh = t._replace(facts=t.facts._replace(progress=replace(t.progress, minutes=length, skipped=0)))
    return speak(fresh, t.engine.start(routine_id, pace, length, quiet=quiet), lead, skipped=0)


def resume(t: Decision) -> Outcome:
    """Carry on from the start of the stored step (asking first where it hurt last time); while
    our stream plays here, it simply plays on (a resume never rewinds what is playing)."""
    position = t.progress.position
    if plays_the_place(t) and t.under_way is None:
        return t.end(t.say("already_playing"))
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
    a_break = t.facts.now - t.progress.updated_at >= RESUME_AFRESH_SECONDS
    same = (
        stored is not None and stored.file == file and t.facts.tracks and t.facts.tracks.of(stored) == track
    )
    if same and not a_break:
        offset = track.files[file].back_to_cue(t.progress.offset)
    words = join(lead, t.say("resume_intro", **t.fields(position)))
    if offset == 0:  # the step from its start: first, how to get into position from scratch
        words = join(words, say(t.engine.routine(position.routine_id).steps[track.files[file].step].setup))
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
    """Speak ``segment``, or, when it starts an optional extra, ask first in a short reply (the
    place waits on the step before the extra, so yes gives the extra)."""
    question = t.engine.offer(segment.position)
    if question is None:
        return speak(t, segment, lead, skipped)
    asked = say(question)
    before = Position(segment.position.routine_id, segment.position.step - 1, 0)
    moved = before.step != _step_of(t.progress.position)
    if moved or (skipped is not None and skipped != t.progress.skipped):
        mark = {"skipped": t.progress.skipped if skipped is None else skipped}
        return t.reply(join(lead, asked), asked, EXTRA_OFFER, t.stay(position=before, **mark))
    return t.reply(join(lead, asked), asked, EXTRA_OFFER)


def _step_of(position: Position | None) -> int | None:
    return position.step if position is not None else None


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


def hold_extra(t: Decision) -> Outcome:
    """ "Hang on, let me get one" at the tennis-ball question: the question stays open."""
    asked = ask_extra_again(t)
    return asked._replace(speech=t.say("hold_extra"))


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


def skip(t: Decision) -> Outcome:
    """Past the rest of this step without marking it done; after the last, the closing cue."""
    position = t.progress.position
    if position is None:
        return menu(t, t.say("skip_nothing"))
    lead = t.say("skipped")
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
    """An answer to a question asked mid-routine, then the way back to where the user was: the
    routine (next goes on from the same place), the question after pain or about the extra
    still open; a one-shot while our routine plays ends (it plays on); else the menu."""
    position = t.under_way
    if position is None and t.facts.playing and t.facts.fresh:
        return t.end(answer)._replace(change=change)
    if position is None:
        outcome = menu(t, answer)
        return outcome._replace(change=change)
    if t.state.mode == PAIN_PAUSE:
        return t.reply(join(answer, t.say("pain_reprompt")), t.say("pain_reprompt"), PAIN_PAUSE, change)
    if t.state.mode == EXTRA_OFFER:
        asked = ask_extra_again(t)
        return asked._replace(speech=join(answer, asked.speech), change=change)
    back_line = t.say("back_to_routine", routine=t.name(position.routine_id))
    return t.reply(join(answer, back_line), back_line, ROUTINE, change)


def stop_here(t: Decision) -> Outcome:
    """End the session; with a place under discussion (or playing here), say it is kept and how
    to resume."""
    position = place_in_question(t)
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


def is_massage(routine: Routine) -> bool:
    """A routine that massages: its steps work body areas (not the relaxation, not the check-in)."""
    return any(step.areas for step in routine.steps)


def relaxation(library: Library) -> str | None:
    """The whole routine that is a relaxation (no massage), from the data."""
    return next((r.id for r in library.whole_routines.values() if "relaxation" in r.areas), None)


def by_length(t: Decision, minutes: int, massage: bool = False) -> tuple[str, int | None]:
    """The longest choice (a routine as written, or at one of its lengths) that fits
    ``minutes``; the shortest one if none does. ``massage``: not the relaxation."""
    whole = [r for r in t.library.whole_routines.values() if not massage or is_massage(r)]
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
    return t.say("pain_stop_relaxation" if is_relaxation(t, position.routine_id) else "pain_stop")


# -- transitions: one function per (state, what was said) that needs its own -----------------
def launch(t: Decision) -> Outcome:
    """ "Open Pelvic Ease": the disclaimer the first time, an offer to resume, or the menu."""
    t = t._replace(state=State())
    if t.facts.read_failed:
        # Unknown user state: the disclaimer to be safe, and the truth about their place.
        lead = join(t.say("welcome_new"), say(t.library.disclaimer_text), t.say("progress_unavailable"))
        return t.reply(lead, t.say("menu_reprompt"), MENU)
    first_time = t.progress.version == 0
    notice, heard = disclaimer(t)
    change = t.change(disclaimer_version=heard) if notice else None
    if t.progress.position is not None:
        return offer_resume(t, notice)._replace(change=change)
    welcome = t.say("welcome_new" if first_time else "welcome_back")
    if running_plan(t) is not None:  # a returning user on a plan: today's session first
        return offer_today(t, join(welcome, notice))._replace(change=change)
    return menu(t, join(welcome, notice))._replace(change=change)


def start_asked(t: Decision) -> Outcome:
    """ "Massage my hips": that routine (asking first if another one is under way)."""
    asked = t.heard.routine
    if asked is None and not t.heard.words and t.heard.minutes is not None:
        # "a ten minute massage": no area, but a length (the model's only such sample is a massage)
        return suggest(t, *by_length(t, t.heard.minutes, massage=True))
    if asked is None:
        return no_routine_for(t)
    position = t.under_way
    if position is not None and not position.at_start and t.state.mode != SWITCH_OFFER:
        if asked == position.routine_id:
            return back_to_routine(t, t.say("already_in_routine", **t.fields(position)))
        return switch_offer(t, position, asked, t.engine.length(asked, t.heard.minutes))
    return start(t, asked, t.heard.minutes)


def no_routine_for(t: Decision) -> Outcome:
    """An area no routine serves: what this product never does, declined as such (Kegels,
    internal work); a body area it has no routine for, named; anything else, what it covers.
    Never "yet". In a routine, then back to it."""
    declined = t.library.declined.get(t.heard.area or "")
    if declined is not None:
        return back_to_routine(t, t.say(declined))
    if t.heard.area is not None:
        lead = t.say("unknown_area", heard=t.heard.words[:MAX_ECHO_CHARS])
    else:
        lead = t.say("area_not_offered" if t.heard.words else "unknown_area_unheard")
    if t.under_way is not None or t.facts.playing:
        return back_to_routine(t, lead)
    choices = t.say("area_choices")
    return t.reply(join(lead, choices), choices, MENU)


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
    """Resuming past the step that hurt (and the steps right after it that work the same place):
    the next step from scratch (or the close)."""
    t.counts.append("SessionResumed")
    return after_pain(t, resumed=True)


def after_pain(t: Decision, resumed: bool = False) -> Outcome:
    """Going on after pain: never straight back to the same place. Past the step that hurt and
    every step right after it that works the same area (``Engine.past_the_area``), each counted
    skipped, with words that say so and to go gently; a new session picks the step up from
    scratch (played, where it plays so)."""
    position = t.progress.position
    if position is None:
        return menu(t, t.say("skip_nothing"))
    landed = t.engine.past_the_area(position)
    skipped = t.progress.skipped
    for step in range(position.step, landed):
        skipped |= 1 << step
    more = landed > position.step + 1
    if resumed:
        lead = t.say("hurt_skipped_area" if more else "hurt_skipped", **t.fields(position))
    else:
        lead = t.say("skipped_area" if more else "skipped")
    lead = join(lead, t.say("go_gently"))
    target = Position(position.routine_id, landed, 0)
    if not t.engine.is_valid(target):
        closing = t.engine.closing(position.routine_id).script
        return finish(t, position.routine_id, join(lead, closing), skipped)
    found = played_from(t, position.routine_id, landed) if resumed else None
    if found is not None:
        return play(t, *found, 0, lead, skipped=skipped)
    pace, minutes = t.segment_args()
    segment = t.engine.step_start(target, pace, minutes, resumed=resumed or more, quiet=t.progress.quiet)
    return go_on(t, segment, lead, skipped)


def fallback_in_routine(t: Decision) -> Outcome:
    return t.reply(t.say("fallback_routine"), t.say("invitation_reprompt"), ROUTINE)


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
    if t.state.times:
        return offer_checkins(t, checkin_times(t.state.times))
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
    position = place_in_question(t)
    if position is None:
        return t.end(t.say("wait_menu"))
    return t.end(t.say("wait_routine", **t.fields(position)))


def help_here(t: Decision) -> Outcome:
    position = t.under_way
    if position is not None:
        return t.reply(t.say("help_routine", **t.fields(position)), t.say("help_routine_reprompt"), ROUTINE)
    return t.reply(t.say("help_menu"), t.say("menu_reprompt"), MENU)


def played_place(t: Decision) -> Position | None:
    """The place of a routine playing straight through here (or just stopped), when no routine
    is under way in this session: what a one-shot ("Alexa, tell Pelvic Ease it hurts") is about."""
    played = t.progress.position if t.progress.play else None
    recent = t.facts.now - t.progress.updated_at < PLAYED_RECENTLY_SECONDS
    here = t.facts.tracks is not None and (recent or t.facts.playing)
    return played if t.under_way is None and here else None


def plays_the_place(t: Decision) -> bool:
    """This device plays the stored place's own stream (not an old device's, or a replaced one)."""
    stream = t.facts.stream
    return t.facts.playing and stream is not None and stream[0].play == t.progress.play_id


def place_in_question(t: Decision) -> Position | None:
    """The place the conversation is about: under discussion in this session, or playing here."""
    if t.state.mode in PLACE_KEPT and t.progress.position is not None:
        return t.progress.position
    return played_place(t)


def is_relaxation(t: Decision, routine_id: str) -> bool:
    routine = t.engine.routine(routine_id)
    return "relaxation" in t.engine.routine(routine.parent or routine.id).areas


def pain(t: Decision) -> Outcome:
    """ "It hurts": stop at once. In a routine the place is marked, so a resume asks about
    that step; outside one the session stays open with the advice and a gentle option."""
    t.counts.append("PainReported")
    position = t.under_way
    played = played_place(t)
    if played is not None:
        # a routine was playing here (or just stopped): stop it, keep the place, never play on
        outcome = t.end(t.say("pain_played", **t.fields(played)))
        return outcome._replace(change=t.stay(hurt=True), stop_audio=True)
    if position is None and t.facts.playing:
        # a stream of ours this device is playing, though no longer the place: stopped first
        return pain_outside_routine(t)._replace(stop_audio=True)
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
    """ "Slower", "faster", "normal pace": from the next part on, and remembered (while a routine
    plays straight through here, from the next time: what plays is not changed)."""
    in_routine = t.under_way is not None
    asked = t.heard.pace
    if asked not in ("slower", "faster", "normal"):
        return not_understood(t)
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
    if t.facts.playing and t.facts.fresh:
        return t.end(t.say("pace_next_time", pace=name) if change else lead)._replace(change=change)
    return menu(t, lead)._replace(change=change)


def repeat_slowly(t: Decision) -> Outcome:
    """ "Say that again slowly": the last part again at the slower pace (kept from now on)."""
    if t.state.mode != ROUTINE or t.under_way is None:
        return again(t)
    slower = shifted_pace(t.library, t.progress.pace, "slower")
    change = t.change(pace=slower) if slower != t.library.pace(t.progress.pace).id else None
    return repeat_part(t, slower)._replace(change=change)


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
    """ "How long is this", "how much is left", "how long does the psoas release take": the
    minutes and steps left of the routine under way, or playing here (from its offset)."""
    position = t.under_way
    asked = t.heard.routine
    if position is not None and asked in (None, position.routine_id):
        pace, minutes = t.segment_args()
        seconds = t.engine.seconds_left(position, pace, minutes, quiet=t.progress.quiet)
        return back_to_routine(t, time_left(t, position, seconds))
    played = played_left(t) if asked is None else None
    if played is not None:
        return back_to_routine(t, time_left(t, *played))
    if asked is not None:
        return suggest(t, asked)
    return menu(t, t.say("routine_lengths", routines=routine_lengths(t)))


def time_left(t: Decision, position: Position, seconds: float) -> Script:
    """ "About 6 more minutes of the psoas release. 3 more steps after this one." """
    name = t.name(position.routine_id)
    left = spoken_minutes(seconds)
    if left >= 2:
        words = t.say("time_left", routine=name, minutes=left)
    else:
        words = t.say("time_left_short", routine=name)
    steps = [i for i in t.engine.main_steps(position.routine_id) if i > position.step]
    if not steps:
        return join(words, t.say("at_last_step"))
    return join(words, t.say("one_step_left") if len(steps) == 1 else t.say("steps_left", count=len(steps)))


def played_left(t: Decision) -> tuple[Position, float] | None:
    """The place and seconds left of the routine this device plays straight through, from its offset."""
    stream = t.facts.stream
    track = t.facts.tracks.of(stream[0]) if stream is not None and t.facts.tracks is not None else None
    if stream is None or track is None or not 0 <= stream[0].file < len(track.files):
        return None
    token, offset = stream
    playing = track.files[token.file]
    left_ms = max(0, playing.ms - offset) + sum(f.ms for f in track.files[token.file + 1 :])
    return Position(track.routine, playing.step, 0), left_ms / 1000


def routine_lengths(t: Decision) -> str:
    """Each whole routine with its length: "the psoas release, about 6 minutes, and ..." """
    return spoken_list(
        t.library,
        [
            t.library.say("routine_minutes", routine=r.name, minutes=routine_minutes(t, r.id))
            for r in t.library.whole_routines.values()
        ],
    )


def list_routines(t: Decision) -> Outcome:
    """ "What can you do": each routine and its length; in a routine, then back to it."""
    if t.under_way is not None or t.facts.playing:
        return back_to_routine(t, t.say("routine_lengths", routines=routine_lengths(t)))
    count = len(t.library.whole_routines)
    return t.reply(
        t.say("list_routines", count=count, routines=routine_lengths(t)), t.say("menu_reprompt"), MENU
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
    return menu(t, text)._replace(change=change)


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
    words = t.say("cues_fewer" if fewer else "cues_every")
    if t.facts.playing and t.facts.fresh and t.under_way is None:  # what plays is not changed
        return t.end(join(words, t.say("sound_next_time")))._replace(change=change)
    return back_to_routine(t, words, change)


def background_sound(t: Decision) -> Outcome:
    """ "Without background sound", "with background sound": the ambient bed under the voice of
    a routine played straight through, remembered (while one plays here, from the next time)."""
    setting = t.heard.bed
    if setting not in (BED_ON, BED_OFF):
        return back_to_routine(t, t.say("bed_unclear"))
    change = t.change(bed=setting)
    words = t.say("bed_off" if setting == BED_OFF else "bed_on")
    if t.facts.playing and t.facts.fresh and t.under_way is None:
        return t.end(join(words, t.say("sound_next_time")))._replace(change=change)
    return back_to_routine(t, words, change)


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
        chosen = t._replace(facts=t.facts._replace(progress=change.applied_to(t.progress)))
        found = played_from(chosen, position.routine_id, position.step)
        if found is not None:
            return play(chosen, *found, 0, answer, skipped=t.progress.skipped, playback=style)
    return back_to_routine(t, answer, change)


def fallback(t: Decision) -> Outcome:
    return fallback_in_routine(t) if t.under_way else menu(t, t.say("fallback_menu"))


def not_understood(t: Decision) -> Outcome:
    """Words heard as an intent whose slot made no sense: as if nothing was understood here."""
    return transition(t.state.mode, FALLBACK)(t)


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
    return outcome._replace(speech=(), reprompt=None)


def question_again(t: Decision) -> Outcome:
    """Words that answer none of a yes/no question: sorry, and the question again."""
    asked = again(t)
    return asked._replace(speech=join(t.say("fallback_menu"), asked.speech))


MAX_ECHO_CHARS = 40  # how much of an unrecognised area we repeat back


# -- what people say to a guide: symptoms, conditions, questions, everyday words ----------------
def symptom(t: Decision) -> Outcome:
    """ "I feel dizzy", "I'm bleeding": stop at once, in every state. A red flag ([symptoms] in
    the prompts says which) says how to get safe and to get help now if it does not pass; any
    other symptom (or one the model did not recognise), to rest and come back gently. A routine
    under way or playing here stops, its place marked as pain marks it (the next resume asks).
    A feeling the content only soothes ("I'm cold": [symptoms] soothed) gets its answer."""
    soothing = t.library.soothed.get(t.heard.symptom or "")
    if soothing is not None:  # "I'm cold": a word of help, and on as before
        return back_to_routine(t, t.say(soothing))
    red = t.heard.symptom in t.library.red_flags or t.heard.part in t.library.red_flag_parts
    if not red and t.heard.symptom in t.library.pains:  # "a pain in my leg": as "it hurts" is
        return pain(t)
    t.counts.append("RedFlagReported" if red else "SymptomReported")
    words = t.say("red_flag" if red else "symptom_stop")
    place = t.under_way or played_place(t)
    if place is None:
        return t.end(words)._replace(stop_audio=t.facts.playing)
    kept = () if red else t.say("place_kept", **t.fields(place))
    return t.end(join(words, kept))._replace(change=t.stay(hurt=True))


def check_first(t: Decision) -> Outcome:
    """ "I'm pregnant", "is this safe after surgery": the general safety answer. A massage under
    way (or playing here) stops, and the only thing offered is the relaxation, never a massage;
    in the spoken relaxation, or for a question naming no condition, the place is kept."""
    t.counts.append("SafetyAnswered")
    answer = t.say("safety_answer")
    position = t.under_way
    played = played_place(t)
    if position is not None and (t.heard.condition is None or is_relaxation(t, position.routine_id)):
        return back_to_routine(t, answer)
    if position is not None:
        return offer_relaxation(t, join(t.say("check_first_stop"), answer))
    if played is not None:
        stopped = join(answer, t.say("played_kept"))
        outcome = t.end(stopped) if is_relaxation(t, played.routine_id) else offer_relaxation(t, stopped)
        return outcome._replace(stop_audio=True)
    return offer_relaxation(t, answer)


def offer_relaxation(t: Decision, lead: Script) -> Outcome:
    """The one gentle thing to offer after a safety answer: the relaxation, which has no massage."""
    gentle = relaxation(t.library)
    if gentle is None:
        return t.end(lead)
    lengths = t.engine.routine(gentle).lengths
    return suggest(t, gentle, min(lengths, default=None), join(lead, t.say("relaxation_instead")))


def question(t: Decision) -> Outcome:
    """ "What is the psoas", "can I do this in bed": the answer from the content ([answers]),
    and back to where the user was. About "this" routine: its summary."""
    answer = t.library.answers.get(t.heard.topic or "")
    if answer is not None:
        return back_to_routine(t, say(answer))
    if t.heard.topic == UNKNOWN_TOPIC:  # "what is the weather": not something we answer
        return not_understood(t)
    position = t.under_way or played_place(t)
    if position is None:
        return list_routines(t)
    routine = t.engine.routine(position.routine_id)
    return back_to_routine(t, t.say("about_routine", routine=routine.name, summary=routine.summary))


def why(t: Decision) -> Outcome:
    """ "Why should I do this": the answer from the content, and back to where the user was."""
    answer = t.library.answers.get("why")
    return back_to_routine(t, say(answer) if answer else t.say("unhandled"))


def whats_next(t: Decision) -> Outcome:
    """ "What's next": the next step's title (this step if the user is at the last); with no
    routine here, the stored place offered (never moved by a question)."""
    position = t.under_way or played_place(t)
    if position is None:
        return offer_resume(t) if t.progress.position is not None else menu(t)
    steps = t.engine.routine(position.routine_id).steps
    after = position.step + 1
    if after >= len(steps):
        return back_to_routine(t, t.say("at_last_step"))
    words = t.say("whats_next", step=after + 1, total=len(steps), title=steps[after].title)
    return back_to_routine(t, words)


def thanks(t: Decision) -> Outcome:
    """ "Thank you": you're welcome, and in a routine, back to it; else goodbye (what plays
    plays on)."""
    if t.under_way is not None:
        return back_to_routine(t, t.say("thanks"))
    if t.facts.playing:
        return t.end(t.say("thanks"))
    return t.end(join(t.say("thanks"), t.say("goodbye")))


def fell_asleep(t: Decision) -> Outcome:
    """ "I fell asleep": back to the start of the step they drifted off in (spoken, or played
    from that file's start); with no routine here, the stored place as a resume offers it."""
    lead = t.say("asleep_lead")
    position = t.under_way
    if position is not None:
        pace, minutes = t.segment_args()
        return speak(t, t.engine.step_start(position, pace, minutes, quiet=t.progress.quiet), lead)
    played = played_place(t)
    found = played_from(t, played.routine_id, played.step) if played is not None else None
    if found is not None:
        return play(t, *found, 0, lead, skipped=t.progress.skipped)
    if t.progress.position is not None:
        return offer_resume(t)
    return menu(t)


def other_side(t: Decision) -> Outcome:
    """ "Do the other side": a one-sided step on its first side goes to the first step done on
    the second side (the steps jumped over count as skipped); else says why not."""
    position = t.under_way
    if position is None:
        return back_to_routine(t, t.say("other_side_none"))
    step = t.engine.routine(position.routine_id).steps[position.step]
    target = t.engine.second_side(position)
    if target is None:
        key = "other_side_none" if not step.sided else "other_side_already"
        return back_to_routine(t, t.say(key))
    skipped = t.progress.skipped
    for jumped in range(position.step + 1, target):
        skipped |= 1 << jumped
    pace, minutes = t.segment_args()
    second = Position(position.routine_id, target, 0)
    return speak(t, t.engine.step_start(second, pace, minutes, quiet=t.progress.quiet), skipped=skipped)


def later(t: Decision) -> Outcome:
    """ "Let's start again tomorrow": the place kept, how to resume, and how to get a daily
    reminder (unless one is set or was declined). What plays here stops."""
    position = place_in_question(t)
    if position is None:
        return t.end(t.say("wait_menu"))
    words = t.say("later", **t.fields(position))
    if t.progress.reminder is None and not t.progress.reminder_declined:
        words = join(words, t.say("later_reminder"))
    return t.end(words)


# -- the plan ----------------------------------------------------------------------------------
def running_plan(t: Decision) -> Plan | None:
    """The plan under way (not paused), from the data; None if there is none."""
    return plan_of(t.library, t.progress) if t.progress.plan_running else None


def plan_of(library: Library, progress: Progress) -> Plan | None:
    """The plan the record names (running or paused), from the data; None if it names none."""
    return library.plans.get(progress.plan or "")


def today(t: Decision) -> int:
    """The user's day number now (the request's time, in their time zone)."""
    return t.facts.local_day(t.facts.now)


def session_words(t: Decision, session: tuple[str, int | None]) -> str:
    """ "a 10-minute relaxation", "the daily pelvic massage" """
    routine_id, minutes = session
    if minutes is not None:
        return t.library.say("plan_session_minutes", minutes=minutes)
    return t.library.say("plan_session_routine", routine=t.name(routine_id))


def offer_today(t: Decision, lead: Script = ()) -> Outcome:
    """Today's session of the plan, offered (yes starts it); or, if today's is done, what
    comes next time."""
    plan = running_plan(t)
    assert plan is not None
    progress, day = t.progress, today(t)
    if progress.plan_last == day:
        words = t.say(
            "plan_done_today",
            day=min(progress.plan_days, plan.days),
            total=plan.days,
            session=session_words(t, plan.session(progress.plan_days)),
        )
        return menu(t, join(lead, words))
    done = progress.plan_done_on(day, t.library.plan_gap)
    stepped = t.say("plan_stepped_back") if done < progress.plan_days else ()
    session = plan.session(done)
    if done >= plan.days:
        offer = t.say("plan_kept_up", session=session_words(t, session))
    else:
        offer = t.say("plan_today", day=done + 1, total=plan.days, session=session_words(t, session))
    routine_id, minutes = session
    return t.reply(
        join(lead, stepped, offer),
        t.say("plan_today_reprompt"),
        SUGGEST_OFFER,
        suggested=(routine_id, t.engine.length(routine_id, minutes)),
    )


def plan_counted(t: Decision, after: Progress) -> Script:
    """At a routine's end, a plan's day counted: which one, and what comes next time."""
    plan = plan_of(t.library, after)
    if plan is None or not after.plan_running:
        return ()
    if after.plan_days == plan.days and t.progress.plan_days < plan.days:
        return t.say("plan_complete", total=plan.days, session=session_words(t, plan.session(plan.days)))
    return t.say(
        "plan_next",
        day=min(after.plan_days, plan.days),
        total=plan.days,
        session=session_words(t, plan.session(after.plan_days)),
    )


def start_plan(t: Decision) -> Outcome:
    """ "Start the plan": the plan explained in two sentences and begun, from today; a paused
    plan taken up where it was; the plan under way, today's session."""
    plan_id = t.progress.plan or t.library.default_plan
    if plan_id is None or plan_id not in t.library.plans:
        return back_to_routine(t, t.say("plan_unavailable"))
    if t.progress.plan == plan_id and not t.progress.plan_paused:
        return offer_today(t, t.say("plan_already"))
    change = t.change(plan=plan_id, day=today(t))
    begun = t._replace(facts=t.facts._replace(progress=change.applied_to(t.progress)))
    lead = t.say("plan_resumed") if t.progress.plan == plan_id else t.say("plan_intro")
    return offer_today(begun, lead)._replace(change=change)


def today_asked(t: Decision) -> Outcome:
    """ "What should I do today": the plan's session; with no plan, the routine done least
    often, the relaxation at a length that fits the streak."""
    if running_plan(t) is not None:
        return offer_today(t)
    done = t.progress.completed
    # a day's practice: the relaxation or a massage (the check-in is for any moment)
    whole = [r.id for r in t.library.whole_routines.values() if is_massage(r) or "relaxation" in r.areas]
    routine_id = min(whole, key=lambda r: (done.get(r, 0), whole.index(r)))
    streak = t.progress.streak(t.facts.now, t.facts.local_day)
    lengths = t.engine.routine(routine_id).lengths
    minutes = max((m for m in lengths if m <= 5 * (1 + streak // 3)), default=None) if lengths else None
    return suggest(t, routine_id, minutes, lead=t.say("today_no_plan"))


def plan_status(t: Decision) -> Outcome:
    """ "How is my plan going": days done of the plan, this week's and next week's session
    length, the minutes of the last seven days."""
    plan = plan_of(t.library, t.progress)
    if plan is None:
        return back_to_routine(t, join(t.say("plan_none"), t.say("plan_intro"), t.say("plan_how_to_start")))
    done = t.progress.plan_days
    week = plan.week_of(done)
    words = t.say("plan_status", done=min(done, plan.days), total=plan.days, minutes=plan.weeks[week][0])
    if done >= plan.days:
        words = t.say("plan_status_complete", total=plan.days)
    elif week + 1 < len(plan.weeks):
        words = join(words, t.say("plan_status_next", minutes=plan.weeks[week + 1][0]))
    minutes = t.progress.minutes_since(today(t) - 6)
    paused = t.say("plan_paused_note") if t.progress.plan_paused else ()
    spent = t.say("minutes_this_week", minutes=minutes) if minutes else ()
    return back_to_routine(t, join(words, spent, paused))


def pause_plan(t: Decision) -> Outcome:
    """ "Stop the plan", "pause the plan": paused where it is (nothing lost); "start the plan"
    takes it up again."""
    plan = running_plan(t)
    if plan is None:
        return back_to_routine(t, t.say("plan_none_to_pause"))
    words = t.say("plan_paused", day=min(t.progress.plan_days, plan.days), total=plan.days)
    return back_to_routine(t, words, t.change(pause_plan=True))


def week(t: Decision) -> Outcome:
    """ "How did I do this week": the practice days and minutes of the last seven days, and
    the plan's progress."""
    progress = t.progress
    days = progress.days_this_week(t.facts.now, t.facts.local_day)
    if days == 0:
        words = t.say("week_none")
    else:
        words = t.say("week_summary", days=days, minutes=progress.minutes_since(today(t) - 6))
    plan = plan_of(t.library, progress)
    if plan is not None:
        words = join(words, t.say("week_plan", done=min(progress.plan_days, plan.days), total=plan.days))
    return back_to_routine(t, words)


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
    back = t._replace(state=t.state._replace(mode=mode or OUTSIDE, back=None))
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
    return outcome._replace(change=change, permission_card=card)


def ask_time(t: Decision, lead: Script = (), period: str | None = None) -> Outcome:
    """ "What time each day?", remembering where to go back to afterwards (and the part of the
    day already said, so "eight" after "in the evening" is 8 p.m.)."""
    back = returning_to(t)
    question = t.say("reminder_ask_time")
    reprompt = t.say("reminder_time_reprompt")
    return t.reply(join(lead, question), reprompt, REMINDER_TIME, back=back, period=period)


def in_period(time: DailyTime, period: str | None) -> DailyTime:
    """An hour said after a part of the day, in that part: 8:00 after "in the evening" is 20:00."""
    afternoon = period in ("AF", "EV") or (period == "NI" and time.hour >= 6)
    if afternoon and 1 <= time.hour < 12:
        return DailyTime(time.hour + 12, time.minute)
    return time


def set_reminder(t: Decision) -> Outcome:
    """ "Remind me every day at 8 pm", "set a daily reminder" (asks the time), or the answer
    to "what time?"."""
    time = DailyTime.parse(t.heard.time)
    if time is not None:
        return put_reminder(t, in_period(time, t.state.period if t.state.mode == REMINDER_TIME else None))
    period = PERIODS.get(t.heard.time or "")
    if period is not None:
        return ask_time(t, t.say("reminder_which_time", period=period), period=t.heard.time)
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
        return outcome._replace(ask_permission=time.consent_token())
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
    """ "Do I have a reminder", "what reminders do I have": the daily one's time and the
    check-ins', read from Alexa (the record's ids kept up to date), or that there are none."""
    daily = t.facts.reminders.read(t.progress.reminder)
    if not daily.ok and daily.status != NOT_FOUND:
        return reminder_failed(t, daily.status)
    words, learnt = daily_status(t, daily)
    more, learnt_too = checkins_status(t, t.facts.reminders.read_checkins(t.progress.checkins))
    known = {**learnt, **learnt_too}
    return follow_up(t, join(words, more), t.change(**known) if known else None)


def daily_status(t: Decision, result: ReminderResult) -> tuple[Script, dict[str, object]]:
    """What to say of the daily reminder read, and what the record learns of it."""
    token = t.progress.reminder
    if result.ok:
        known: dict[str, object] = {"reminder": result.token} if result.token != token else {}
        if result.time is not None:
            return t.say("reminder_status", time=spoken_time(t.library, result.time)), known
        return t.say("reminder_status_unread"), known
    if token is not None:
        return t.say("reminder_gone"), {"forget_reminder": True}
    return t.say("reminder_none"), {}


def checkins_status(t: Decision, result: ReminderResult) -> tuple[Script, dict[str, object]]:
    """What to say of the check-ins read (nothing if there are none), and what the record
    learns of them."""
    stored = t.progress.checkins
    if result.ok:
        tokens = result.tokens[:MAX_CHECKINS]
        known: dict[str, object] = {"checkins": tokens} if set(tokens) != set(stored) else {}
        words = t.say("checkins_status", times=spoken_times(t.library, result.times)) if result.times else ()
        return words, known
    if result.status == NOT_FOUND and stored:
        return t.say("checkins_gone"), {"forget_checkins": True}
    return (), {}


def consent(t: Decision) -> Outcome:
    """Alexa's answer to our request for the reminders permission."""
    answer = t.heard.consent
    if answer == ACCEPTED and t.heard.times:
        return put_checkins(t, checkin_times(t.heard.times))
    if answer == ACCEPTED:
        time = DailyTime.parse(t.heard.time)
        return put_reminder(t, time) if time is not None else ask_time(t)
    if answer == DENIED:
        return follow_up(t, t.say("reminder_permission_denied"), t.change(decline_reminder=True))
    if answer == NOT_ANSWERED:
        return follow_up(t, t.say("reminder_permission_unanswered"))
    # voice consent is not possible here: the card, and how to grant it in the Alexa app
    return follow_up(t, t.say("reminder_permission_in_app"), card=True)


# -- check-in reminders -----------------------------------------------------------------------
def spoken_times(library: Library, times: tuple[DailyTime, ...]) -> str:
    """ "10:30 a.m., 2 p.m., and 6 p.m." """
    return spoken_list(library, [spoken_time(library, time) for time in times])


def set_checkins(t: Decision) -> Outcome:
    """ "Remind me to check in at 10 am and 3 pm" (set at once: the times said are the yes),
    "remind me to check in three times a day", "set check-in reminders" (the usual times
    offered, set on a yes); times that are none, or too many, are said so, then offered."""
    said = [PERIOD_TIMES.get(value, value) for value in t.heard.times]
    times = checkin_times(said)
    count = t.heard.per_day
    if said and len(times) < len(set(said)):
        return offer_checkins(t, default_checkins(len(said)), t.say("checkins_time_unclear"))
    if len(times) > MAX_CHECKINS or (not times and count is not None and not 1 <= count <= MAX_CHECKINS):
        return offer_checkins(t, default_checkins(MAX_CHECKINS), t.say("checkins_at_most"))
    if times:
        return put_checkins(t, times)
    return offer_checkins(t, default_checkins(count or MAX_CHECKINS))


def default_checkins(count: int) -> tuple[DailyTime, ...]:
    return checkin_times(CHECKIN_DEFAULTS[min(max(count, 1), MAX_CHECKINS)])


def offer_checkins(t: Decision, times: tuple[DailyTime, ...], lead: Script = ()) -> Outcome:
    """ "How about a check-in every day at 10:30 a.m., 2 p.m., and 6 p.m.?": a yes sets them."""
    spoken = spoken_times(t.library, times)
    return t.reply(
        join(lead, t.say("checkins_offer", times=spoken)),
        t.say("checkins_offer_reprompt", times=spoken),
        REMINDER_OFFER,
        back=returning_to(t),
        times=tuple(time.clock for time in times),
    )


def yes_to_reminder_offer(t: Decision) -> Outcome:
    """Yes to the offer: the check-ins offered set, or the daily reminder's time asked for."""
    return put_checkins(t, checkin_times(t.state.times)) if t.state.times else ask_time(t)


def no_to_reminder_offer(t: Decision) -> Outcome:
    """No to the offer: no check-ins now, or no daily reminder (never offered again)."""
    return follow_up(t, t.say("checkins_not_now")) if t.state.times else decline_reminder(t)


def put_checkins(t: Decision, times: tuple[DailyTime, ...]) -> Outcome:
    """A check-in reminder every day at each of ``times``, said back with the times; the
    permission asked for if it is missing (the answer comes back with the times)."""
    result = t.facts.reminders.put_checkins(times, t.progress.checkins)
    if result.ok and result.tokens:
        words = t.say("checkins_set", times=spoken_times(t.library, times))
        return follow_up(t, words, t.change(checkins=result.tokens))
    if result.status == NO_PERMISSION and t.heard.intent != CONSENT:
        outcome = t.reply((), None, t.state.mode)
        return outcome._replace(ask_permission=checkins_consent_token(times))
    return reminder_failed(t, result.status)


def cancel_checkins(t: Decision) -> Outcome:
    """ "Cancel my check-ins": every check-in of ours deleted (the daily reminder stays)."""
    stored = t.progress.checkins
    result = t.facts.reminders.delete_checkins(stored)
    if result.ok or (result.status == NOT_FOUND and stored):
        return follow_up(t, t.say("checkins_cancelled"), t.change(forget_checkins=True))
    if result.status == NOT_FOUND:
        return follow_up(t, t.say("checkins_none"))
    return reminder_failed(t, result.status)


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
        REMINDER_OFFER: yes_to_reminder_offer,
        REMINDER_TIME: ask_time,
        EXTRA_OFFER: take_extra,
        PAIN_PAUSE: ask_pain_again,
        SWITCH_OFFER: start_suggested,
        RESUME_OFFER: resume,
        HURT_OFFER: skip_hurt,
        SUGGEST_OFFER: start_suggested,
        PLAY_OFFER: play_offer_answered,
        ANY: yes_at_menu,
    },
    NO: {
        ROUTINE: fallback_in_routine,
        REMINDER_OFFER: no_to_reminder_offer,
        REMINDER_TIME: not_now,
        EXTRA_OFFER: decline_extra,
        PAIN_PAUSE: stop_here,
        SWITCH_OFFER: no_to_switch,
        RESUME_OFFER: menu,
        HURT_OFFER: try_again_gently,
        SUGGEST_OFFER: menu,
        PLAY_OFFER: play_offer_answered,
        ANY: stop_here,
    },
    NEXT: {
        ROUTINE: advance,
        EXTRA_OFFER: decline_extra,
        PAIN_PAUSE: after_pain,  # going on after pain: past this step and the same place, gently
        SWITCH_OFFER: advance,
        RESUME_OFFER: resume,
        HURT_OFFER: skip_hurt,
        PLAY_OFFER: play_offer_answered,  # "next": go on as before, step by step
        ANY: resume_if_any,
    },
    PREVIOUS: {PAIN_PAUSE: ask_pain_again, ANY: back},
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
        PLAY_OFFER: repeat_play_offer,
        ANY: menu,
    },
    START_OVER: {ANY: start_over},
    PAUSE: {ANY: pause},
    HELP: {ANY: help_here},
    STOP: {ANY: stop_here},
    DONE: {ANY: stop_here},
    WAIT: {EXTRA_OFFER: hold_extra, ANY: wait},
    PAIN: {ANY: pain},
    SKIP: {EXTRA_OFFER: decline_extra, HURT_OFFER: skip_hurt, PAIN_PAUSE: after_pain, ANY: skip_here},
    PACE: {ANY: change_pace},
    REPEAT_SLOWLY: {ANY: repeat_slowly},
    REPORT: {ANY: report},
    START_PLAN: {ANY: start_plan},
    TODAY: {ANY: today_asked},
    PLAN_STATUS: {ANY: plan_status},
    PAUSE_PLAN: {ANY: pause_plan},
    WEEK: {ANY: week},
    LAST_STEP: {EXTRA_OFFER: ask_extra_again, ANY: last_step},
    HOW_LONG: {ANY: how_long},
    SAFETY: {ANY: check_first},
    SYMPTOM: {ANY: symptom},
    QUESTION: {ANY: question},
    WHY: {ANY: why},
    WHATS_NEXT: {ANY: whats_next},
    THANKS: {ANY: thanks},
    ASLEEP: {PAIN_PAUSE: ask_pain_again, EXTRA_OFFER: ask_extra_again, ANY: fell_asleep},
    VOLUME: {ANY: answer("volume_answer")},
    MUSIC: {ANY: answer("no_music")},
    NO_BALL: {EXTRA_OFFER: decline_extra, ANY: answer("no_ball")},
    OTHER_SIDE: {ANY: other_side},
    LATER: {ANY: later},
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
        PLAY_OFFER: question_again,
        ANY: fallback,
    },
    PLAY_STYLE: {PLAY_OFFER: play_offer_answered, ANY: play_style},
    BACKGROUND: {ANY: background_sound},
    SET_REMINDER: {ANY: set_reminder},
    CHANGE_REMINDER: {ANY: set_reminder},
    CANCEL_REMINDER: {ANY: cancel_reminder},
    REMINDER_STATUS: {ANY: reminder_status},
    SET_CHECKINS: {ANY: set_checkins},
    CANCEL_CHECKINS: {ANY: cancel_checkins},
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
    turn = Decision(engine, state._replace(mode=mode), heard, facts, [])
    outcome = transition(mode, heard.intent)(turn)
    # never a stream of ours playing on under a spoken routine: a spoken move stops it
    spoken_move = outcome.change is not None and outcome.change.moved and outcome.play is None
    # "I'm done", "no", "hang on", "tomorrow" said while it plays: it stops there
    stops = outcome.end and heard.intent in STOPS_OUR_STREAM
    if (spoken_move or stops) and facts.playing:
        return outcome._replace(stop_audio=True)
    return outcome
