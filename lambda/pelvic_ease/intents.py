"""What each intent of the interaction model means: one table (``INTENTS``) from the Alexa
intent, with a reader of its slots, to the dialogue core's input (``dialogue.Heard``), and for
the built-ins Alexa sends while audio plays, to the playback command it is about our stream.

A new intent is a row here, a row in ``dialogue.TABLE`` with its transition and prompt, and
its samples in each locale's model. ``handlers.IntentHandler`` serves every row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import IntentRequest, Slot

from . import dialogue, playback
from .audio import Token
from .dialogue import Heard
from .progress import STEPS, STRAIGHT
from .turn import Turn

AREA_SLOT = "area"
MINUTES_SLOT = "minutes"
LENGTH_SLOT = "length"
PACE_SLOT = "pace"
TIME_SLOT = "time"
CHECKIN_SLOTS = ("time", "second", "third")  # the check-ins' times said ("at 10 am, 1 and 4 pm")
COUNT_SLOT = "count"  # check-ins: how many a day
AMOUNT_SLOT = "amount"
STYLE_SLOT = "style"
SETTING_SLOT = "setting"
SYMPTOM_SLOT = "symptom"
PART_SLOT = "part"
CONDITION_SLOT = "condition"
TOPIC_SLOT = "topic"
UNKNOWN_CONDITION = "other"  # a condition said that the model's list does not hold
UNKNOWN_TOPIC = dialogue.UNKNOWN_TOPIC


# -- reading the request -----------------------------------------------------------
MAX_DIGITS = 4  # of a number said for a slot (minutes): anything longer is no length of ours


def number_slot(handler_input: HandlerInput, name: str) -> int | None:
    """A whole number said for a slot: ASCII digits only ("²" and "①" are digits to Python, not
    to int), and short (5,000 digits is no length, and more than int() will read)."""
    value = slot_value(handler_input, name)
    ok = value is not None and value.isascii() and value.isdigit() and len(value) <= MAX_DIGITS
    return int(value) if ok and value is not None else None


def _slot(handler_input: HandlerInput, name: str) -> Slot | None:
    request = handler_input.request_envelope.request
    slots = request.intent.slots if isinstance(request, IntentRequest) and request.intent else None
    return (slots or {}).get(name)


def slot_value(handler_input: HandlerInput, name: str) -> str | None:
    """What the user said for a slot, or None."""
    slot = _slot(handler_input, name)
    return slot.value.strip() if slot and isinstance(slot.value, str) and slot.value.strip() else None


def matched(code: object) -> bool:
    """An entity-resolution status of a match (by its value: a request with no resolved slot,
    a launch among them, never loads the resolution models)."""
    return getattr(code, "value", code) == "ER_SUCCESS_MATCH"


def _resolved(handler_input: HandlerInput, name: str, field: str) -> str | None:
    """``field`` ("id" or "name") of the first value Alexa matched for a custom slot, or None."""
    slot = _slot(handler_input, name)
    authorities = slot.resolutions.resolutions_per_authority if slot and slot.resolutions else None
    for authority in authorities or []:
        if authority.status and matched(authority.status.code):
            for resolved in authority.values or []:
                value = getattr(resolved.value, field, None) if resolved.value else None
                if value:
                    return str(value)
    return None


def resolved_id(handler_input: HandlerInput, name: str) -> str | None:
    """The canonical id Alexa matched for a custom slot, or None."""
    return _resolved(handler_input, name, "id")


def requested_minutes(turn: Turn) -> int | None:
    """ "A ten minute relaxation" (a number) or "a long relaxation" (a length word)."""
    minutes = number_slot(turn.handler_input, MINUTES_SLOT)
    if minutes is not None:
        return minutes
    length = resolved_id(turn.handler_input, LENGTH_SLOT)
    return turn.library.length_minutes.get(length) if length else None


def resolved_name(handler_input: HandlerInput, name: str) -> str | None:
    """The canonical name of the value Alexa matched for a custom slot, or None."""
    return _resolved(handler_input, name, "name")


def routine_from_slot(turn: Turn) -> tuple[str | None, str]:
    """(routine id, what the user said) from the area slot; id None if it matches nothing."""
    heard = slot_value(turn.handler_input, AREA_SLOT) or ""
    area_id = resolved_id(turn.handler_input, AREA_SLOT)
    routine = turn.library.routine_for_area(area_id) if area_id else None
    return (routine.id if routine else None), heard


# -- what each intent means ------------------------------------------------------------------
def nothing(turn: Turn) -> dict[str, Any]:
    return {}


def area_and_length(turn: Turn) -> dict[str, Any]:
    """ "Massage my inner thighs", "a ten minute relaxation": the routine, the area and its
    name (what was said, if the model does not know it), a length."""
    routine_id, words = routine_from_slot(turn)
    area_id = resolved_id(turn.handler_input, AREA_SLOT)
    name = resolved_name(turn.handler_input, AREA_SLOT) if area_id else None
    minutes = requested_minutes(turn)
    return {"routine": routine_id, "area": area_id, "words": name or words, "minutes": minutes}


def area(turn: Turn) -> dict[str, Any]:
    return {"routine": routine_from_slot(turn)[0]}


def length(turn: Turn) -> dict[str, Any]:
    return {"minutes": requested_minutes(turn)}


def pace(turn: Turn) -> dict[str, Any]:
    return {"pace": resolved_id(turn.handler_input, PACE_SLOT)}


def amount(turn: Turn) -> dict[str, Any]:
    return {"amount": resolved_id(turn.handler_input, AMOUNT_SLOT)}


def style(turn: Turn) -> dict[str, Any]:
    # the slotless samples ("don't stop between steps") all mean straight through
    return {"style": STEPS if resolved_id(turn.handler_input, STYLE_SLOT) == STEPS else STRAIGHT}


def background(turn: Turn) -> dict[str, Any]:
    return {"bed": resolved_id(turn.handler_input, SETTING_SLOT)}


def time(turn: Turn) -> dict[str, Any]:
    return {"time": slot_value(turn.handler_input, TIME_SLOT)}


def checkins(turn: Turn) -> dict[str, Any]:
    """ "At 10 am and 3 pm" (the times, as AMAZON.TIME sends them), "three times a day"."""
    said = (slot_value(turn.handler_input, name) for name in CHECKIN_SLOTS)
    return {"times": tuple(v for v in said if v), "per_day": number_slot(turn.handler_input, COUNT_SLOT)}


def symptom(turn: Turn) -> dict[str, Any]:
    """The SYMPTOM id (None for a symptom the model did not recognise: still a symptom) and
    the BODY_PART it is in."""
    return {
        "symptom": resolved_id(turn.handler_input, SYMPTOM_SLOT),
        "part": resolved_id(turn.handler_input, PART_SLOT),
    }


def condition(turn: Turn) -> dict[str, Any]:
    """The CONDITION id, UNKNOWN_CONDITION for one the list does not hold, None for a general
    safety question that names none ("is this safe")."""
    said = slot_value(turn.handler_input, CONDITION_SLOT)
    found = resolved_id(turn.handler_input, CONDITION_SLOT)
    return {"condition": found or (UNKNOWN_CONDITION if said else None)}


def topic(turn: Turn) -> dict[str, Any]:
    """The TOPIC id, UNKNOWN_TOPIC for a topic the model does not know ("what is the weather"),
    None for a question that names none ("how do I find it")."""
    said = slot_value(turn.handler_input, TOPIC_SLOT)
    return {"topic": resolved_id(turn.handler_input, TOPIC_SLOT) or (UNKNOWN_TOPIC if said else None)}


class Meaning(NamedTuple):
    """What an intent means: the dialogue core's input (``said``, with what ``read`` takes from
    the slots) and, for the built-ins Alexa sends while audio plays, the playback command it
    is when it is about our stream (``audio``; see ``about_our_stream``)."""

    said: str
    read: Callable[[Turn], dict[str, Any]] = nothing
    audio: str | None = None

    def heard(self, turn: Turn) -> Heard:
        return Heard(self.said, **self.read(turn))


# Every intent of the interaction model, and what it means. A new intent is a row here, a row
# in dialogue.TABLE (with its transition and prompt), and its samples in each model.
INTENTS: dict[str, Meaning] = {
    "StartRoutineIntent": Meaning(dialogue.START, area_and_length),
    "ResumeRoutineIntent": Meaning(dialogue.RESUME),
    "ListRoutinesIntent": Meaning(dialogue.LIST),
    "ReadDisclaimerIntent": Meaning(dialogue.DISCLAIMER),
    "PainIntent": Meaning(dialogue.PAIN),
    "SkipStepIntent": Meaning(dialogue.SKIP),
    "ChangePaceIntent": Meaning(dialogue.PACE, pace),
    "RepeatSlowlyIntent": Meaning(dialogue.REPEAT_SLOWLY),
    "ProgressReportIntent": Meaning(dialogue.REPORT),
    "StartPlanIntent": Meaning(dialogue.START_PLAN),
    "TodayIntent": Meaning(dialogue.TODAY),
    "PlanStatusIntent": Meaning(dialogue.PLAN_STATUS),
    "PausePlanIntent": Meaning(dialogue.PAUSE_PLAN),
    "WeekSummaryIntent": Meaning(dialogue.WEEK),
    "WaitIntent": Meaning(dialogue.WAIT),
    "DoneIntent": Meaning(dialogue.DONE),
    "LastStepIntent": Meaning(dialogue.LAST_STEP),
    "HowLongIntent": Meaning(dialogue.HOW_LONG, area),
    "SafetyQuestionIntent": Meaning(dialogue.SAFETY, condition),
    "SymptomIntent": Meaning(dialogue.SYMPTOM, symptom),
    "QuestionIntent": Meaning(dialogue.QUESTION, topic),
    "WhyIntent": Meaning(dialogue.WHY),
    "WhatsNextIntent": Meaning(dialogue.WHATS_NEXT),
    "ThanksIntent": Meaning(dialogue.THANKS),
    "FellAsleepIntent": Meaning(dialogue.ASLEEP),
    "VolumeIntent": Meaning(dialogue.VOLUME),
    "MusicIntent": Meaning(dialogue.MUSIC),
    "NoBallIntent": Meaning(dialogue.NO_BALL),
    "OtherSideIntent": Meaning(dialogue.OTHER_SIDE),
    "LaterIntent": Meaning(dialogue.LATER),
    "WhyNoKegelsIntent": Meaning(dialogue.WHY_NO_KEGELS),
    "ChooseByLengthIntent": Meaning(dialogue.BY_LENGTH, length),
    "LessTalkingIntent": Meaning(dialogue.CUES, amount),
    "PlayStyleIntent": Meaning(dialogue.PLAY_STYLE, style),
    "BackgroundSoundIntent": Meaning(dialogue.BACKGROUND, background),
    "SetReminderIntent": Meaning(dialogue.SET_REMINDER, time),
    "ChangeReminderIntent": Meaning(dialogue.CHANGE_REMINDER, time),
    "ReminderTimeIntent": Meaning(dialogue.TIME_SAID, time),
    "CancelReminderIntent": Meaning(dialogue.CANCEL_REMINDER),
    "ReminderStatusIntent": Meaning(dialogue.REMINDER_STATUS),
    "SetCheckInsIntent": Meaning(dialogue.SET_CHECKINS, checkins),
    "CancelCheckInsIntent": Meaning(dialogue.CANCEL_CHECKINS),
    "AMAZON.YesIntent": Meaning(dialogue.YES),
    "AMAZON.NoIntent": Meaning(dialogue.NO),
    "AMAZON.RepeatIntent": Meaning(dialogue.REPEAT),
    "AMAZON.HelpIntent": Meaning(dialogue.HELP),
    "AMAZON.NavigateHomeIntent": Meaning(dialogue.HOME),
    "AMAZON.FallbackIntent": Meaning(dialogue.FALLBACK),
    "AMAZON.ResumeIntent": Meaning(dialogue.RESUME, audio=playback.RESUME),
    "AMAZON.NextIntent": Meaning(dialogue.NEXT, audio=playback.NEXT),
    "AMAZON.PreviousIntent": Meaning(dialogue.PREVIOUS, audio=playback.PREVIOUS),
    "AMAZON.StartOverIntent": Meaning(dialogue.START_OVER, audio=playback.START_OVER),
    "AMAZON.PauseIntent": Meaning(dialogue.PAUSE, audio=playback.PAUSE),
    "AMAZON.StopIntent": Meaning(dialogue.STOP, audio=playback.PAUSE),  # "Alexa, stop" pauses audio
    "AMAZON.CancelIntent": Meaning(dialogue.STOP, audio=playback.PAUSE),
    # loop and shuffle are not something this skill does: politely refused either way
    "AMAZON.LoopOnIntent": Meaning(dialogue.UNKNOWN, audio=playback.LOOP),
    "AMAZON.LoopOffIntent": Meaning(dialogue.UNKNOWN, audio=playback.LOOP),
    "AMAZON.ShuffleOnIntent": Meaning(dialogue.UNKNOWN, audio=playback.LOOP),
    "AMAZON.ShuffleOffIntent": Meaning(dialogue.UNKNOWN, audio=playback.LOOP),
}


def about_our_stream(handler_input: HandlerInput) -> bool:
    """A playback built-in ("Alexa, pause", "Alexa, next") is about the audio when our stream is
    the device's and no conversation is under way (no session, or one this request opened); in
    a session already under way it keeps its conversational meaning."""
    session = handler_input.request_envelope.session
    context = handler_input.request_envelope.context
    player = context.audio_player if context else None
    ours = player is not None and Token.parse(player.token) is not None
    return ours and (session is None or bool(session.new))
