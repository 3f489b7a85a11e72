"""Request handlers: one class per intent, registered in the order of ``request_handlers``.

The SDK runs the first handler whose ``can_handle`` is true, so that order is behaviour:
specific handlers first, catch-alls last. ``can_handle`` only looks at the request.
"""

from __future__ import annotations

from dataclasses import replace

from ask_sdk_core.dispatch_components import AbstractExceptionHandler, AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import get_intent_name, get_request_type, is_intent_name, is_request_type
from ask_sdk_model import IntentRequest, Response, Slot
from ask_sdk_model.slu.entityresolution import StatusCode

from .engine import Position, Segment
from .observability import count, logger
from .progress import DAY, EVERY_CUE, FEWER_CUES, Progress
from .repository import ForgetIncomplete
from .speech import Script, join, say
from .turn import (
    ANOTHER_OFFER,
    EXTRA_OFFER,
    MENU,
    PAIN_OFFER,
    RESUME_OFFER,
    ROUTINE,
    SUGGEST_OFFER,
    Deps,
    Turn,
)

AREA_SLOT = "area"
MINUTES_SLOT = "minutes"
LENGTH_SLOT = "length"
PACE_SLOT = "pace"
LENGTH_MINUTES = {"short": 5, "medium": 10, "long": 20}
MAX_ECHO_CHARS = 40  # how much of an unrecognised area we repeat back


# -- flows shared by several handlers -----------------------------------------------------
def show_menu(turn: Turn, lead: Script = ()) -> Response:
    turn.mode = MENU
    return turn.respond(join(lead, turn.say("menu")), turn.say("menu_reprompt"))


def with_disclaimer(turn: Turn, progress: Progress) -> tuple[Script, int]:
    """The disclaimer and its version, if this user has not heard this version (else nothing, 0)."""
    library = turn.library
    if progress.disclaimer_version >= library.disclaimer_version:
        return (), 0
    count("DisclaimerRead")
    return say(library.disclaimer_text), library.disclaimer_version


def speak_segment(turn: Turn, progress: Progress, segment: Segment, lead: Script = ()) -> Response:
    """Say ``segment`` (after ``lead``) and store the position, or the completion."""
    disclaimer, heard = with_disclaimer(turn, progress)
    count("SegmentSpoken")
    routine_id = segment.position.routine_id
    logger.append_keys(routine=routine_id, step=segment.position.step + 1)
    speech = join(disclaimer, lead, segment.script)
    if segment.final:
        done = turn.save(turn.change(moved=True, completed=routine_id, disclaimer_version=heard))
        count("RoutineCompleted")
        turn.finished = routine_id
        turn.mode = ANOTHER_OFFER
        streak = done.streak(turn.now)
        praise = turn.say("streak_at_end", streak=streak) if streak >= 2 else ()
        return turn.respond(join(speech, praise, turn.say("another_offer")), turn.say("another_reprompt"))
    place = {"position": segment.position, "minutes": progress.minutes}
    turn.save(turn.change(moved=True, disclaimer_version=heard, **place))
    turn.mode = ROUTINE
    return turn.respond(speech, turn.say("invitation_reprompt"))


def start_routine(turn: Turn, routine_id: str, lead: Script = (), minutes: int | None = None) -> Response:
    progress = turn.progress()
    count("RoutineStarted")
    length = turn.engine.length(routine_id, minutes)
    if minutes is not None and length is None:
        lead = join(lead, turn.say("length_fixed", routine=turn.engine.routine(routine_id).name))
    elif length is not None:
        parts = turn.engine.part_count(routine_id, progress.pace, length, quiet=progress.quiet)
        lead = join(lead, turn.say("length_intro", minutes=length, parts=parts))
    progress = replace(progress, minutes=length)
    return speak_segment(
        turn, progress, turn.engine.start(routine_id, progress.pace, length, quiet=progress.quiet), lead
    )


def resume(turn: Turn) -> Response:
    """Carry on from the start of the stored step, or say there is nothing to carry on."""
    progress = turn.progress()
    position = progress.position
    if position is None:
        return show_menu(turn, turn.say("progress_unavailable" if turn.read_failed else "nothing_to_resume"))
    count("SessionResumed")
    # the step from its start, with how to get into position, and no routine opening again
    segment = turn.engine.step_start(
        position, progress.pace, progress.minutes, resumed=True, quiet=progress.quiet
    )
    return speak_segment(turn, progress, segment, turn.say("resume_intro", **turn.routine_fields(position)))


def offer_resume(turn: Turn, progress: Progress, position: Position, lead: Script = ()) -> Response:
    days = (turn.now - progress.updated_at) // DAY
    fields = turn.routine_fields(position)
    if days >= turn.deps.settings.stale_after_days:
        question = turn.say("resume_offer_stale", days=days, **fields)
    else:
        question = turn.say("resume_offer", **fields)
    turn.mode = RESUME_OFFER
    return turn.respond(join(lead, question), turn.say("resume_reprompt"))


def current_position(turn: Turn) -> Position | None:
    """The routine position, only while a routine is under way in this session."""
    return turn.progress().position if turn.mode in (ROUTINE, PAIN_OFFER, EXTRA_OFFER) else None


def go_on(turn: Turn, progress: Progress, segment: Segment, lead: Script = ()) -> Response:
    """Speak ``segment``, or, when it starts an optional extra, ask first in a short reply."""
    question = turn.engine.offer(segment.position)
    if question is None:
        return speak_segment(turn, progress, segment, lead)
    turn.mode = EXTRA_OFFER
    return turn.respond(join(lead, say(question)), say(question))


def ask_extra_again(turn: Turn) -> Response:
    """The optional extra's question once more (after "repeat" or words that answer neither)."""
    progress = turn.progress()
    position = progress.position
    following = (
        turn.engine.next_step(position, progress.pace, progress.minutes, quiet=progress.quiet)
        if position
        else None
    )
    question = turn.engine.offer(following.position) if following else None
    if question is None:
        return show_menu(turn)
    return turn.respond(say(question), say(question))


def answer_extra(turn: Turn, accepted: bool) -> Response:
    """Yes to the optional extra: that step. No (or next, or skip): the routine's close."""
    progress = turn.progress()
    position = progress.position
    if position is None:
        return show_menu(turn)
    following = turn.engine.next_step(position, progress.pace, progress.minutes, quiet=progress.quiet)
    if accepted and following is not None:
        return speak_segment(turn, progress, following)
    return speak_segment(turn, progress, turn.engine.closing(position.routine_id))


def advance(turn: Turn) -> Response:
    progress = turn.progress()
    position = current_position(turn)
    if position is None:
        return show_menu(turn)
    if turn.mode == EXTRA_OFFER:  # "next" past the question: leave the extra out
        return answer_extra(turn, accepted=False)
    segment = turn.engine.advance(position, progress.pace, progress.minutes, quiet=progress.quiet)
    if segment is None:  # the record says finished already (e.g. another device): offer more
        return show_menu(turn)
    return go_on(turn, progress, segment)


def skip_step(turn: Turn) -> Response:
    """Past the rest of this step without marking it done; after the last, the closing cue."""
    progress = turn.progress()
    position = current_position(turn)
    if position is None:
        return show_menu(turn, turn.say("skip_nothing"))
    if turn.mode == EXTRA_OFFER:
        return answer_extra(turn, accepted=False)
    segment = turn.engine.next_step(position, progress.pace, progress.minutes, quiet=progress.quiet)
    if segment is None:  # past the last step: the routine's close
        return speak_segment(turn, progress, turn.engine.closing(position.routine_id), turn.say("skipped"))
    return go_on(turn, progress, segment, turn.say("skipped"))


def at_start(position: Position) -> bool:
    """The very start of a routine: its opening was part of what was said there."""
    return position.step == 0 and position.segment == 0


def number_slot(turn: Turn, name: str) -> int | None:
    value = slot_value(turn, name)
    return int(value) if value and value.isdigit() else None


def _slot(turn: Turn, name: str) -> Slot | None:
    request = turn.handler_input.request_envelope.request
    slots = request.intent.slots if isinstance(request, IntentRequest) and request.intent else None
    return (slots or {}).get(name)


def slot_value(turn: Turn, name: str) -> str | None:
    """What the user said for a slot, or None."""
    slot = _slot(turn, name)
    return slot.value.strip() if slot and isinstance(slot.value, str) and slot.value.strip() else None


def resolved_id(turn: Turn, name: str) -> str | None:
    """The canonical id Alexa matched for a custom slot, or None."""
    slot = _slot(turn, name)
    authorities = slot.resolutions.resolutions_per_authority if slot and slot.resolutions else None
    for authority in authorities or []:
        if authority.status and authority.status.code == StatusCode.ER_SUCCESS_MATCH:
            for resolved in authority.values or []:
                if resolved.value and resolved.value.id:
                    return str(resolved.value.id)
    return None


def requested_minutes(turn: Turn) -> int | None:
    """ "A ten minute relaxation" (a number) or "a long relaxation" (a length word)."""
    minutes = number_slot(turn, MINUTES_SLOT)
    if minutes is not None:
        return minutes
    length = resolved_id(turn, LENGTH_SLOT)
    return LENGTH_MINUTES.get(length) if length else None


def spoken_minutes(seconds: float) -> int:
    return max(1, round(seconds / 60))


def routine_minutes(turn: Turn, routine_id: str, minutes: int | None = None) -> int:
    progress = turn.progress()
    length = turn.engine.length(routine_id, minutes)
    return spoken_minutes(turn.engine.total_seconds(routine_id, progress.pace, length, quiet=progress.quiet))


def spoken_list(items: list[str]) -> str:
    return ", ".join(items[:-1]) + f", and {items[-1]}" if len(items) > 1 else "".join(items)


def suggest(turn: Turn, routine_id: str, minutes: int | None = None, lead: Script = ()) -> Response:
    """One concrete thing, started on yes: "The daily massage takes about ten minutes. Shall we start?" """
    turn.mode = SUGGEST_OFFER
    turn.suggested = (routine_id, turn.engine.length(routine_id, minutes))
    name = turn.engine.routine(routine_id).name
    question = turn.say("suggest", routine=name, minutes=routine_minutes(turn, routine_id, minutes))
    return turn.respond(join(lead, question), turn.say("suggest_reprompt"))


def suggestion(turn: Turn) -> str:
    """What to suggest when someone just says yes: the daily massage, or the relaxation after it."""
    return "down_training" if turn.finished == "daily_massage" else "daily_massage"


def by_length(turn: Turn, minutes: int) -> tuple[str, int | None]:
    """The longest choice (a routine as written, or at one of its lengths) that fits ``minutes``;
    the shortest one if none does."""
    choices: list[tuple[str, int | None]] = [(r.id, None) for r in turn.library.whole_routines.values()]
    choices += [(r.id, m) for r in turn.library.whole_routines.values() for m in r.lengths]
    timed = [(routine_minutes(turn, routine_id, m), routine_id, m) for routine_id, m in choices]
    fitting = [choice for choice in timed if choice[0] <= minutes]
    _, routine_id, length = max(fitting) if fitting else min(timed)
    return routine_id, length


def back_to_routine(turn: Turn, answer: Script) -> Response:
    """An answer to a question asked mid-routine, then the way back into it; else the menu."""
    position = current_position(turn)
    if position is not None:
        back = turn.say("back_to_routine", routine=turn.engine.routine(position.routine_id).name)
        return turn.respond(join(answer, back), back)
    return show_menu(turn, answer)


def paces_slow_to_quick(turn: Turn) -> list[str]:
    paces = turn.library.paces.values()
    return [p.id for p in sorted(paces, key=lambda p: p.inhale + p.exhale + p.rest, reverse=True)]


def shifted_pace(turn: Turn, current: str | None, change: str) -> str:
    order = paces_slow_to_quick(turn)
    now = turn.library.pace(current).id
    if change == "normal":
        return turn.library.default_pace
    index = order.index(now) + (-1 if change == "slower" else 1)
    return order[max(0, min(index, len(order) - 1))]


def routine_from_slot(turn: Turn) -> tuple[str | None, str]:
    """(routine id, what the user said) from the area slot; id None if it matches nothing."""
    heard = slot_value(turn, AREA_SLOT) or ""
    area_id = resolved_id(turn, AREA_SLOT)
    routine = turn.library.routine_for_area(area_id) if area_id else None
    return (routine.id if routine else None), heard


# -- handlers ---------------------------------------------------------------------------
class Handler(AbstractRequestHandler):
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def handle(self, handler_input: HandlerInput) -> Response:
        return self.respond(Turn(handler_input, self.deps))

    def respond(self, turn: Turn) -> Response:
        raise NotImplementedError


class IntentHandler(Handler):
    intents: tuple[str, ...] = ()

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return any(is_intent_name(name)(handler_input) for name in self.intents)


class SkillDisabledHandler(Handler):
    """The SkillDisabled event: delete everything stored for the account."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_request_type("AlexaSkillEvent.SkillDisabled")(handler_input))

    def respond(self, turn: Turn) -> Response:
        # ForgetIncomplete is not caught: the invocation fails, visibly, after deleting what it could
        deleted = self.deps.repository.forget(turn.user_id, turn.budget)
        logger.info("skill disabled: stored progress deleted", extra={"records": deleted})
        return turn.silent()


class SessionEndedHandler(Handler):
    """SessionEndedRequest: nothing to say; a change left unsaved by the session is stored."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_request_type("SessionEndedRequest")(handler_input))

    def respond(self, turn: Turn) -> Response:
        request = turn.handler_input.request_envelope.request
        reason = getattr(request, "reason", None)
        logger.info("session ended", extra={"reason": getattr(reason, "value", None)})
        turn.retry_unsaved()  # the last chance to store a change an earlier turn could not
        return turn.silent()


class LaunchHandler(Handler):
    """ "Open pelvic ease": disclaimer the first time, an offer to resume, or the menu."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_request_type("LaunchRequest")(handler_input))

    def respond(self, turn: Turn) -> Response:
        progress = turn.progress()
        if turn.read_failed:
            # Unknown user state: the disclaimer to be safe, and the truth about their place.
            lead = join(
                turn.say("welcome_new"), say(turn.library.disclaimer_text), turn.say("progress_unavailable")
            )
            turn.mode = MENU
            return turn.respond(lead, turn.say("menu_reprompt"))
        first_time = progress.version == 0
        disclaimer, heard = with_disclaimer(turn, progress)
        if disclaimer:
            progress = turn.save(turn.change(disclaimer_version=heard))
        welcome = turn.say("welcome_new" if first_time else "welcome_back")
        position = progress.position
        if position is not None:
            return offer_resume(turn, progress, position, disclaimer)
        return show_menu(turn, join(welcome, disclaimer))


class ResumeHandler(IntentHandler):
    """ "Resume", "continue my session", "pick up where I left off", "where was I"."""

    intents = ("ResumeRoutineIntent", "AMAZON.ResumeIntent")

    def respond(self, turn: Turn) -> Response:
        return resume(turn)


class StartRoutineHandler(IntentHandler):
    """ "Massage my inner thighs", "let's do the psoas release", "start a routine"."""

    intents = ("StartRoutineIntent",)

    def respond(self, turn: Turn) -> Response:
        routine_id, heard = routine_from_slot(turn)
        if routine_id is not None:
            return start_routine(turn, routine_id, minutes=requested_minutes(turn))
        if heard:
            lead = turn.say("unknown_area", heard=heard[:MAX_ECHO_CHARS])
        else:
            lead = turn.say("unknown_area_unheard")
        turn.mode = MENU
        choices = turn.say("area_choices")
        return turn.respond(join(lead, choices), choices)


class ListRoutinesHandler(IntentHandler):
    """ "What can you do", "what routines are there"."""

    intents = ("ListRoutinesIntent",)

    def respond(self, turn: Turn) -> Response:
        names = [r.name for r in turn.library.whole_routines.values()]
        spoken = spoken_list([f"the {n}" for n in names])
        turn.mode = MENU
        return turn.respond(
            turn.say("list_routines", count=len(names), routines=spoken), turn.say("menu_reprompt")
        )


class ReadDisclaimerHandler(IntentHandler):
    """ "Read the disclaimer": the whole disclaimer, at any time."""

    intents = ("ReadDisclaimerIntent",)

    def respond(self, turn: Turn) -> Response:
        progress = turn.progress()
        count("DisclaimerRead")
        if progress.disclaimer_version < turn.library.disclaimer_version:
            turn.save(turn.change(disclaimer_version=turn.library.disclaimer_version))
        text = say(turn.library.disclaimer_text)
        position = current_position(turn)
        if position is not None:
            back = turn.say("disclaimer_return_routine", **turn.routine_fields(position))
            return turn.respond(join(text, back), back)
        return show_menu(turn, text)


class YesHandler(IntentHandler):
    """ "Yes", "sure": carry on, after whatever question was asked."""

    intents = ("AMAZON.YesIntent",)

    def respond(self, turn: Turn) -> Response:
        if turn.mode == RESUME_OFFER:
            return resume(turn)
        if turn.mode == EXTRA_OFFER:
            return answer_extra(turn, accepted=True)
        if turn.mode == SUGGEST_OFFER and turn.suggested is not None:
            routine_id, minutes = turn.suggested
            return start_routine(turn, routine_id, minutes=minutes)
        if turn.mode == PAIN_OFFER:  # "yes" answers neither choice: ask again
            return turn.respond(turn.say("pain_reprompt"), turn.say("pain_reprompt"))
        if turn.mode == ROUTINE:
            return advance(turn)
        return suggest(turn, suggestion(turn))  # "yes" at the menu: one concrete thing to start


class NoHandler(IntentHandler):
    """ "No": to the menu after a resume offer, goodbye after "another routine?"."""

    intents = ("AMAZON.NoIntent",)

    def respond(self, turn: Turn) -> Response:
        if turn.mode == RESUME_OFFER:
            return show_menu(turn)
        if turn.mode == EXTRA_OFFER:
            return answer_extra(turn, accepted=False)
        if turn.mode == SUGGEST_OFFER:
            return show_menu(turn)
        if turn.mode == PAIN_OFFER:
            return stop_here(turn)
        if turn.mode == ROUTINE:
            return turn.respond(turn.say("fallback_routine"), turn.say("invitation_reprompt"))
        return turn.respond(turn.say("goodbye"), end=True)


class NextHandler(IntentHandler):
    """ "Next", "continue", "go on", "I'm ready"."""

    intents = ("AMAZON.NextIntent",)

    def respond(self, turn: Turn) -> Response:
        if turn.mode == RESUME_OFFER:
            return resume(turn)
        if turn.mode == PAIN_OFFER:  # going on after pain is the user's choice: past this step
            return skip_step(turn)
        if turn.mode in (ROUTINE, EXTRA_OFFER):
            return advance(turn)
        if turn.progress().position is not None:
            return resume(turn)
        return show_menu(turn)


class PreviousHandler(IntentHandler):
    """ "Go back", "previous": the start of this step, or the step before."""

    intents = ("AMAZON.PreviousIntent",)

    def respond(self, turn: Turn) -> Response:
        position = current_position(turn)
        if position is None:
            return show_menu(turn)
        progress = turn.progress()
        segment, moved = turn.engine.back(position, progress.pace, progress.minutes, quiet=progress.quiet)
        lead = () if moved else turn.say("at_first_step")
        return speak_segment(turn, progress, segment, lead)


class RepeatHandler(IntentHandler):
    """ "Repeat", "say that again": the last segment exactly, or the last question."""

    intents = ("AMAZON.RepeatIntent",)

    def respond(self, turn: Turn) -> Response:
        if turn.mode == PAIN_OFFER:
            position = current_position(turn)
            words = pain_words(turn, position) if position else turn.say("pain_stop")
            return turn.respond(words, turn.say("pain_reprompt"))
        if turn.mode == EXTRA_OFFER:
            return ask_extra_again(turn)
        position = current_position(turn)
        if position is not None:
            progress = turn.progress()
            segment = turn.engine.segment(
                position, progress.pace, progress.minutes, opening=at_start(position), quiet=progress.quiet
            )
            return turn.respond(segment.script, turn.say("invitation_reprompt"))
        if turn.mode == RESUME_OFFER:
            progress = turn.progress()
            if progress.position is not None:
                return offer_resume(turn, progress, progress.position)
        if turn.mode == ANOTHER_OFFER:
            return turn.respond(turn.say("another_offer"), turn.say("another_reprompt"))
        return show_menu(turn)


class StartOverHandler(IntentHandler):
    """ "Start over", "from the top": the current routine from its first step."""

    intents = ("AMAZON.StartOverIntent",)

    def respond(self, turn: Turn) -> Response:
        progress = turn.progress()
        position = progress.position if turn.mode in (ROUTINE, RESUME_OFFER) else None
        if position is None and turn.mode == ANOTHER_OFFER:
            position = Position(turn.finished, 0, 0) if turn.finished else None
        if position is None:
            return show_menu(turn, turn.say("nothing_to_start_over"))
        routine = turn.engine.routine(position.routine_id)
        return start_routine(turn, routine.id, turn.say("start_over", routine=routine.name))


class PauseHandler(IntentHandler):
    """ "Pause", "hold on": keep the place and end the session quietly."""

    intents = ("AMAZON.PauseIntent",)

    def respond(self, turn: Turn) -> Response:
        if current_position(turn) is None:
            return turn.respond(turn.say("goodbye"), end=True)
        return turn.respond(turn.say("pause"), end=True)


class HelpHandler(IntentHandler):
    """ "Help": what can be said here, inside a routine or at the menu."""

    intents = ("AMAZON.HelpIntent",)

    def respond(self, turn: Turn) -> Response:
        position = current_position(turn)
        if position is not None:
            return turn.respond(
                turn.say("help_routine", **turn.routine_fields(position)), turn.say("help_routine_reprompt")
            )
        if turn.mode != ROUTINE:
            turn.mode = MENU
        return turn.respond(turn.say("help_menu"), turn.say("menu_reprompt"))


class StopHandler(IntentHandler):
    """ "Stop", "cancel": a warm goodbye that says how to resume."""

    intents = ("AMAZON.StopIntent", "AMAZON.CancelIntent")

    def respond(self, turn: Turn) -> Response:
        return stop_here(turn)


def stop_here(turn: Turn) -> Response:
    """End the session; inside a routine, say where the place is kept and how to resume."""
    position = turn.progress().position if turn.mode in (ROUTINE, RESUME_OFFER, PAIN_OFFER) else None
    if position is not None:
        return turn.respond(turn.say("stop_in_routine", **turn.routine_fields(position)), end=True)
    return turn.respond(turn.say("goodbye"), end=True)


class PainHandler(IntentHandler):
    """ "It hurts", "that's painful", "ouch", "stop, this hurts": stop at once."""

    intents = ("PainIntent",)

    def respond(self, turn: Turn) -> Response:
        count("PainReported")  # a count only: nothing about it is stored
        position = current_position(turn)
        if position is None:  # the session stays open: advice, and a gentle option
            relaxation = relaxation_routine(turn)
            if relaxation is None:
                return turn.respond(turn.say("pain_outside"), end=True)
            return suggest(
                turn,
                relaxation,
                min(turn.engine.routine(relaxation).lengths, default=None),
                turn.say("pain_menu"),
            )
        turn.mode = PAIN_OFFER
        return turn.respond(pain_words(turn, position), turn.say("pain_reprompt"))


def relaxation_routine(turn: Turn) -> str | None:
    """The whole routine that is a relaxation (no massage), from the data."""
    return next((r.id for r in turn.library.whole_routines.values() if "relaxation" in r.areas), None)


def pain_words(turn: Turn, position: Position) -> Script:
    """Stop at once, in words that fit where the user is: there is no massage in the relaxation."""
    routine = turn.engine.routine(position.routine_id)
    whole = turn.engine.routine(routine.parent or routine.id)
    return turn.say("pain_stop_relaxation" if "relaxation" in whole.areas else "pain_stop")


class SkipStepHandler(IntentHandler):
    """ "Skip", "skip this step": on to the next step, this one not done."""

    intents = ("SkipStepIntent",)

    def respond(self, turn: Turn) -> Response:
        return skip_step(turn)


class ChangePaceHandler(IntentHandler):
    """ "Slower", "slow down", "faster", "normal pace", "longer breaths"."""

    intents = ("ChangePaceIntent",)

    def respond(self, turn: Turn) -> Response:
        change = resolved_id(turn, PACE_SLOT)
        in_routine = current_position(turn) is not None
        if change not in ("slower", "faster", "normal"):
            if in_routine:
                return turn.respond(turn.say("fallback_routine"), turn.say("invitation_reprompt"))
            return show_menu(turn, turn.say("fallback_menu"))
        progress = turn.progress()
        pace = shifted_pace(turn, progress.pace, change)
        name = turn.library.pace(pace).name
        if pace == turn.library.pace(progress.pace).id and change != "normal":
            lead = turn.say("pace_already", pace=name)
        else:
            turn.save(turn.change(pace=pace))
            lead = turn.say("pace_changed" if in_routine else "pace_changed_menu", pace=name)
        if in_routine:
            return turn.respond(join(lead, turn.say("pace_reprompt")), turn.say("invitation_reprompt"))
        return show_menu(turn, lead)


class RepeatSlowlyHandler(IntentHandler):
    """ "Say that again slowly": the last part again, at the slower pace (kept from now on)."""

    intents = ("RepeatSlowlyIntent",)

    def respond(self, turn: Turn) -> Response:
        position = current_position(turn)
        if position is None or turn.mode == PAIN_OFFER:
            return RepeatHandler(self.deps).respond(turn)
        progress = turn.progress()
        slower = shifted_pace(turn, progress.pace, "slower")
        if slower != turn.library.pace(progress.pace).id:
            progress = turn.save(turn.change(pace=slower))
        segment = turn.engine.segment(
            position, slower, progress.minutes, opening=at_start(position), quiet=progress.quiet
        )
        return turn.respond(segment.script, turn.say("invitation_reprompt"))


class ProgressReportHandler(IntentHandler):
    """ "How am I doing", "what's my streak"."""

    intents = ("ProgressReportIntent",)

    def respond(self, turn: Turn) -> Response:
        progress = turn.progress()
        total = progress.total_sessions()
        if total == 0:
            report = turn.say("report_none")
        else:
            report = turn.say("report", week=progress.days_this_week(turn.now), total=total)
            streak = progress.streak(turn.now)
            if streak >= 2:
                report = join(report, turn.say("report_streak", streak=streak))
        position = current_position(turn)
        if position is not None:
            back = turn.say("disclaimer_return_routine", **turn.routine_fields(position))
            return turn.respond(join(report, back), back)
        return show_menu(turn, report)


class WaitHandler(IntentHandler):
    """ "Wait", "hold on", "give me a minute": the place is kept, and how to come back said."""

    intents = ("WaitIntent",)

    def respond(self, turn: Turn) -> Response:
        position = current_position(turn)
        if position is None:
            return turn.respond(turn.say("wait_menu"), end=True)
        return turn.respond(turn.say("wait_routine", **turn.routine_fields(position)), end=True)


class DoneHandler(IntentHandler):
    """ "I'm done", "that's enough", "finish": end here, keeping the place."""

    intents = ("DoneIntent",)

    def respond(self, turn: Turn) -> Response:
        return stop_here(turn)


class LastStepHandler(IntentHandler):
    """ "Last step", "skip to the end": the routine's last main step (an extra is still asked)."""

    intents = ("LastStepIntent",)

    def respond(self, turn: Turn) -> Response:
        position = current_position(turn)
        if position is None:
            return show_menu(turn)
        progress = turn.progress()
        steps = turn.engine.routine(position.routine_id).steps
        last = max(i for i, step in enumerate(steps) if not step.optional)
        if position.step >= last:
            return turn.respond(turn.say("at_last_step"), turn.say("invitation_reprompt"))
        target = Position(position.routine_id, last, 0)
        segment = turn.engine.step_start(target, progress.pace, progress.minutes, quiet=progress.quiet)
        return speak_segment(turn, progress, segment, turn.say("last_step"))


class HowLongHandler(IntentHandler):
    """ "How long is this", "how much is left", "how long does the psoas release take"."""

    intents = ("HowLongIntent",)

    def respond(self, turn: Turn) -> Response:
        progress = turn.progress()
        position = current_position(turn)
        asked, _ = routine_from_slot(turn)
        if position is not None and asked in (None, position.routine_id):
            name = turn.engine.routine(position.routine_id).name
            left = turn.engine.seconds_left(position, progress.pace, progress.minutes, quiet=progress.quiet)
            minutes = spoken_minutes(left)
            answer = turn.say("time_left", routine=name, minutes=minutes) if minutes >= 2 else ()
            return back_to_routine(turn, answer or turn.say("time_left_short", routine=name))
        if asked is not None:
            return suggest(turn, asked)
        routines = [
            turn.library.say("routine_minutes", routine=r.name, minutes=routine_minutes(turn, r.id))
            for r in turn.library.whole_routines.values()
        ]
        return show_menu(turn, turn.say("routine_lengths", routines=spoken_list(routines)))


class SafetyQuestionHandler(IntentHandler):
    """ "Is this safe if I'm pregnant", "can I do this after surgery": a general answer, no advice."""

    intents = ("SafetyQuestionIntent",)

    def respond(self, turn: Turn) -> Response:
        return back_to_routine(turn, turn.say("safety_answer"))


class WhyNoKegelsHandler(IntentHandler):
    """ "Why no kegels", "should I do kegels": why this practice lets go instead of squeezing."""

    intents = ("WhyNoKegelsIntent",)

    def respond(self, turn: Turn) -> Response:
        return back_to_routine(turn, turn.say("why_no_kegels"))


class ChooseByLengthHandler(IntentHandler):
    """ "Ten minutes", "I only have five minutes", "something short": a routine that fits."""

    intents = ("ChooseByLengthIntent",)

    def respond(self, turn: Turn) -> Response:
        minutes = requested_minutes(turn)
        if minutes is None:
            return show_menu(turn, turn.say("fallback_menu"))
        routine_id, length = by_length(turn, minutes)
        return suggest(turn, routine_id, length)


class LessTalkingHandler(IntentHandler):
    """ "Less talking", "fewer cues", "more quiet"; "more guidance": how many breaths are spoken."""

    intents = ("LessTalkingIntent",)

    def respond(self, turn: Turn) -> Response:
        amount = resolved_id(turn, "amount")
        if amount not in ("less", "more"):
            return back_to_routine(turn, turn.say("cues_unclear"))
        cues = FEWER_CUES if amount == "less" else EVERY_CUE
        turn.save(turn.change(cues=cues))
        return back_to_routine(turn, turn.say("cues_fewer" if cues == FEWER_CUES else "cues_every"))


class NavigateHomeHandler(IntentHandler):
    """ "Go home", "main menu": the menu; the place in a routine is kept."""

    intents = ("AMAZON.NavigateHomeIntent",)

    def respond(self, turn: Turn) -> Response:
        return show_menu(turn)


class FallbackHandler(IntentHandler):
    """Anything the model does not understand (AMAZON.FallbackIntent)."""

    intents = ("AMAZON.FallbackIntent",)

    def respond(self, turn: Turn) -> Response:
        if turn.mode == PAIN_OFFER:
            return turn.respond(turn.say("pain_reprompt"), turn.say("pain_reprompt"))
        if turn.mode == EXTRA_OFFER:
            return ask_extra_again(turn)
        if current_position(turn) is not None:
            return turn.respond(turn.say("fallback_routine"), turn.say("invitation_reprompt"))
        return show_menu(turn, turn.say("fallback_menu"))


class UnknownIntentHandler(Handler):
    """An intent this code does not know (a model newer than the code): say so, carry on."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_request_type("IntentRequest")(handler_input))

    def respond(self, turn: Turn) -> Response:
        logger.warning("unknown intent", extra={"intent": get_intent_name(turn.handler_input)})
        if current_position(turn) is not None:
            return turn.respond(
                join(turn.say("unhandled"), turn.say("invitation_reprompt")), turn.say("invitation_reprompt")
            )
        return show_menu(turn, turn.say("unhandled"))


class OtherRequestHandler(Handler):
    """Any other request type (new device events, unknown types): nothing to say."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return True

    def respond(self, turn: Turn) -> Response:
        logger.info("request type not handled", extra={"request_type": get_request_type(turn.handler_input)})
        return turn.silent()


def request_handlers(deps: Deps) -> list[Handler]:
    """Every handler, in the order the SDK tries them: specific first, catch-alls last."""
    return [
        SkillDisabledHandler(deps),
        SessionEndedHandler(deps),
        PainHandler(deps),
        LaunchHandler(deps),
        ResumeHandler(deps),
        StartRoutineHandler(deps),
        ListRoutinesHandler(deps),
        ReadDisclaimerHandler(deps),
        YesHandler(deps),
        NoHandler(deps),
        NextHandler(deps),
        PreviousHandler(deps),
        RepeatHandler(deps),
        StartOverHandler(deps),
        PauseHandler(deps),
        HelpHandler(deps),
        StopHandler(deps),
        SkipStepHandler(deps),
        ChangePaceHandler(deps),
        RepeatSlowlyHandler(deps),
        ProgressReportHandler(deps),
        WaitHandler(deps),
        DoneHandler(deps),
        LastStepHandler(deps),
        HowLongHandler(deps),
        SafetyQuestionHandler(deps),
        WhyNoKegelsHandler(deps),
        ChooseByLengthHandler(deps),
        LessTalkingHandler(deps),
        NavigateHomeHandler(deps),
        FallbackHandler(deps),
        UnknownIntentHandler(deps),
        OtherRequestHandler(deps),
    ]


class CatchAllExceptionHandler(AbstractExceptionHandler):
    """Any exception a handler raised: apologise, log it, keep the session usable."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        # Records left behind after SkillDisabled must fail the invocation (app.answer re-raises).
        return not isinstance(exception, ForgetIncomplete)

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        logger.exception("handler failed", exc_info=exception)
        count("ErrorSpoken")
        turn = Turn(handler_input, self.deps)
        if get_request_type(handler_input) not in ("LaunchRequest", "IntentRequest"):
            return turn.silent()
        return turn.respond(turn.say("error"), turn.say("error_reprompt"))
