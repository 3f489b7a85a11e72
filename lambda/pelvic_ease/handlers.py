"""Request handlers: one class per intent, registered in the order of ``request_handlers``.

The SDK runs the first handler whose ``can_handle`` is true, so that order is behaviour:
specific handlers first, catch-alls last. ``can_handle`` only looks at the request.
A handler only translates: the request into the dialogue core's ``Heard`` (``dialogue.py``
decides what happens), and the core's outcome into stored progress and a response.
"""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractExceptionHandler, AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import get_intent_name, get_request_type, is_intent_name, is_request_type
from ask_sdk_model import IntentRequest, Response, Slot
from ask_sdk_model.interfaces.connections import ConnectionsResponse
from ask_sdk_model.slu.entityresolution import StatusCode

from . import dialogue, playback
from .audio import Token, whole_ms
from .dialogue import Facts, Heard, Outcome, decide
from .observability import count, logger
from .progress import STEPS, STRAIGHT
from .reminders import DailyTime
from .repository import ForgetIncomplete
from .turn import Deps, Turn

AREA_SLOT = "area"
MINUTES_SLOT = "minutes"
LENGTH_SLOT = "length"
PACE_SLOT = "pace"
TIME_SLOT = "time"


# -- reading the request -----------------------------------------------------------
def number_slot(handler_input: HandlerInput, name: str) -> int | None:
    value = slot_value(handler_input, name)
    return int(value) if value and value.isdigit() else None


def _slot(handler_input: HandlerInput, name: str) -> Slot | None:
    request = handler_input.request_envelope.request
    slots = request.intent.slots if isinstance(request, IntentRequest) and request.intent else None
    return (slots or {}).get(name)


def slot_value(handler_input: HandlerInput, name: str) -> str | None:
    """What the user said for a slot, or None."""
    slot = _slot(handler_input, name)
    return slot.value.strip() if slot and isinstance(slot.value, str) and slot.value.strip() else None


def resolved_id(handler_input: HandlerInput, name: str) -> str | None:
    """The canonical id Alexa matched for a custom slot, or None."""
    slot = _slot(handler_input, name)
    authorities = slot.resolutions.resolutions_per_authority if slot and slot.resolutions else None
    for authority in authorities or []:
        if authority.status and authority.status.code == StatusCode.ER_SUCCESS_MATCH:
            for resolved in authority.values or []:
                if resolved.value and resolved.value.id:
                    return str(resolved.value.id)
    return None


def requested_minutes(turn: Turn) -> int | None:
    """ "A ten minute relaxation" (a number) or "a long relaxation" (a length word)."""
    minutes = number_slot(turn.handler_input, MINUTES_SLOT)
    if minutes is not None:
        return minutes
    length = resolved_id(turn.handler_input, LENGTH_SLOT)
    return turn.library.length_minutes.get(length) if length else None


def routine_from_slot(turn: Turn) -> tuple[str | None, str]:
    """(routine id, what the user said) from the area slot; id None if it matches nothing."""
    heard = slot_value(turn.handler_input, AREA_SLOT) or ""
    area_id = resolved_id(turn.handler_input, AREA_SLOT)
    routine = turn.library.routine_for_area(area_id) if area_id else None
    return (routine.id if routine else None), heard


def carry_out(turn: Turn, heard: Heard) -> Outcome:
    """Ask the dialogue core what happens, then do it: store the change, keep the new state,
    count, and log the place."""
    facts = Facts(
        turn.progress(),
        turn.now,
        turn.read_failed,
        turn.deps.settings.stale_after_days,
        turn.tracks(),
        playing=turn.our_stream_playing(),
        local_day=turn.local_day,
        reminders=turn.reminders(),
        can_remind=turn.can_remind,
        fresh=turn.fresh,
    )
    outcome = decide(turn.engine, turn.state, heard, facts)
    if outcome.change is not None:
        turn.save(outcome.change)
    turn.state = outcome.state
    for name in outcome.counts:
        count(name)
    if outcome.place is not None:
        logger.append_keys(routine=outcome.place.routine_id, step=outcome.place.step + 1)
    return outcome


def converse(turn: Turn, heard: Heard) -> Response:
    """The core's outcome for ``heard``, spoken (and a routine played, or the audio stopped)."""
    outcome = carry_out(turn, heard)
    spoken_move = outcome.change is not None and outcome.change.moved and outcome.play is None
    if outcome.stop_audio or (spoken_move and turn.our_stream_playing()):
        turn.stop_audio()  # never a stream of ours playing on under a spoken routine
    if outcome.play is not None:
        turn.play(outcome.play)
    if outcome.permission_card:
        turn.permission_card()
    if outcome.ask_permission is not None:
        return turn.ask_permission(outcome.ask_permission)
    return turn.respond(outcome.speech, outcome.reprompt, end=outcome.end)


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
    """SessionEndedRequest: nothing to say. What the silence means is stored (a routine left at
    its optional extra's question is finished), and any change the session left unsaved."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_request_type("SessionEndedRequest")(handler_input))

    def respond(self, turn: Turn) -> Response:
        request = turn.handler_input.request_envelope.request
        reason = getattr(request, "reason", None)
        logger.info("session ended", extra={"reason": getattr(reason, "value", None)})
        carry_out(turn, Heard(dialogue.ENDED))
        turn.retry_unsaved()  # the last chance to store a change an earlier turn could not
        return turn.silent()


class LaunchHandler(Handler):
    """ "Open pelvic ease": disclaimer the first time, an offer to resume, or the menu."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_request_type("LaunchRequest")(handler_input))

    def respond(self, turn: Turn) -> Response:
        return converse(turn, Heard(dialogue.LAUNCH))


class DialogueHandler(IntentHandler):
    """An intent the dialogue core answers: ``said`` is its name there."""

    said = ""

    def respond(self, turn: Turn) -> Response:
        return converse(turn, self.heard(turn))

    def heard(self, turn: Turn) -> Heard:
        return Heard(self.said)


class ResumeHandler(DialogueHandler):
    """ "Resume", "continue my session", "pick up where I left off", "where was I"."""

    intents = ("ResumeRoutineIntent", "AMAZON.ResumeIntent")
    said = dialogue.RESUME


class StartRoutineHandler(DialogueHandler):
    """ "Massage my inner thighs", "let's do the psoas release", "a ten minute relaxation"."""

    intents = ("StartRoutineIntent",)
    said = dialogue.START

    def heard(self, turn: Turn) -> Heard:
        routine_id, words = routine_from_slot(turn)
        return Heard(self.said, routine=routine_id, words=words, minutes=requested_minutes(turn))


class ListRoutinesHandler(DialogueHandler):
    """ "What can you do", "what routines are there"."""

    intents = ("ListRoutinesIntent",)
    said = dialogue.LIST


class ReadDisclaimerHandler(DialogueHandler):
    """ "Read the disclaimer": the whole disclaimer, at any time."""

    intents = ("ReadDisclaimerIntent",)
    said = dialogue.DISCLAIMER


class YesHandler(DialogueHandler):
    """ "Yes", "sure", "okay": whatever was asked, accepted; at the menu, a suggestion."""

    intents = ("AMAZON.YesIntent",)
    said = dialogue.YES


class NoHandler(DialogueHandler):
    """ "No": whatever was asked, declined; goodbye after "another routine?"."""

    intents = ("AMAZON.NoIntent",)
    said = dialogue.NO


class NextHandler(DialogueHandler):
    """ "Next", "continue", "go on", "I'm ready"."""

    intents = ("AMAZON.NextIntent",)
    said = dialogue.NEXT


class PreviousHandler(DialogueHandler):
    """ "Go back", "previous": the start of this step, or the step before."""

    intents = ("AMAZON.PreviousIntent",)
    said = dialogue.PREVIOUS


class RepeatHandler(DialogueHandler):
    """ "Repeat", "say that again": the last part exactly, or the last question."""

    intents = ("AMAZON.RepeatIntent",)
    said = dialogue.REPEAT


class StartOverHandler(DialogueHandler):
    """ "Start over", "from the top": the current routine from its first step."""

    intents = ("AMAZON.StartOverIntent",)
    said = dialogue.START_OVER


class PauseHandler(DialogueHandler):
    """ "Pause": keep the place and end the session quietly."""

    intents = ("AMAZON.PauseIntent",)
    said = dialogue.PAUSE


class HelpHandler(DialogueHandler):
    """ "Help": what can be said here, inside a routine or at the menu."""

    intents = ("AMAZON.HelpIntent",)
    said = dialogue.HELP


class StopHandler(DialogueHandler):
    """ "Stop", "cancel": a warm goodbye that says how to resume."""

    intents = ("AMAZON.StopIntent", "AMAZON.CancelIntent")
    said = dialogue.STOP


class PainHandler(DialogueHandler):
    """ "It hurts", "that's painful", "ouch", "stop, this hurts": stop at once."""

    intents = ("PainIntent",)
    said = dialogue.PAIN


class SkipStepHandler(DialogueHandler):
    """ "Skip", "skip this step": on to the next step, this one not done."""

    intents = ("SkipStepIntent",)
    said = dialogue.SKIP


class ChangePaceHandler(DialogueHandler):
    """ "Slower", "slow down", "faster", "normal pace", "longer breaths"."""

    intents = ("ChangePaceIntent",)
    said = dialogue.PACE

    def heard(self, turn: Turn) -> Heard:
        return Heard(self.said, pace=resolved_id(turn.handler_input, PACE_SLOT))


class RepeatSlowlyHandler(DialogueHandler):
    """ "Say that again slowly": the last part again, at the slower pace (kept from now on)."""

    intents = ("RepeatSlowlyIntent",)
    said = dialogue.REPEAT_SLOWLY


class ProgressReportHandler(DialogueHandler):
    """ "How am I doing", "what's my streak"."""

    intents = ("ProgressReportIntent",)
    said = dialogue.REPORT


class WaitHandler(DialogueHandler):
    """ "Wait", "hold on", "give me a minute": the place is kept, and how to come back said."""

    intents = ("WaitIntent",)
    said = dialogue.WAIT


class DoneHandler(DialogueHandler):
    """ "I'm done", "that's enough", "finish": end here, keeping the place."""

    intents = ("DoneIntent",)
    said = dialogue.DONE


class LastStepHandler(DialogueHandler):
    """ "Last step", "skip to the end": the routine's last main step (an extra is still asked)."""

    intents = ("LastStepIntent",)
    said = dialogue.LAST_STEP


class HowLongHandler(DialogueHandler):
    """ "How long is this", "how much is left", "how long does the psoas release take"."""

    intents = ("HowLongIntent",)
    said = dialogue.HOW_LONG

    def heard(self, turn: Turn) -> Heard:
        routine_id, _ = routine_from_slot(turn)
        return Heard(self.said, routine=routine_id)


class SafetyQuestionHandler(DialogueHandler):
    """ "Is this safe if I'm pregnant", "can I do this after surgery": a general answer, no advice."""

    intents = ("SafetyQuestionIntent",)
    said = dialogue.SAFETY


class WhyNoKegelsHandler(DialogueHandler):
    """ "Why no kegels", "should I do kegels": why this practice lets go instead of squeezing."""

    intents = ("WhyNoKegelsIntent",)
    said = dialogue.WHY_NO_KEGELS


class ChooseByLengthHandler(DialogueHandler):
    """ "Ten minutes", "I only have five minutes", "something short": a routine that fits."""

    intents = ("ChooseByLengthIntent",)
    said = dialogue.BY_LENGTH

    def heard(self, turn: Turn) -> Heard:
        return Heard(self.said, minutes=requested_minutes(turn))


class LessTalkingHandler(DialogueHandler):
    """ "Less talking", "fewer cues", "more quiet"; "more guidance": how many breaths are spoken."""

    intents = ("LessTalkingIntent",)
    said = dialogue.CUES

    def heard(self, turn: Turn) -> Heard:
        return Heard(self.said, amount=resolved_id(turn.handler_input, "amount"))


class NavigateHomeHandler(DialogueHandler):
    """ "Go home", "main menu": the menu; the place in a routine is kept."""

    intents = ("AMAZON.NavigateHomeIntent",)
    said = dialogue.HOME


class FallbackHandler(DialogueHandler):
    """Anything the model does not understand (AMAZON.FallbackIntent)."""

    intents = ("AMAZON.FallbackIntent",)
    said = dialogue.FALLBACK


class PlayStyleHandler(DialogueHandler):
    """ "Play it straight through", "hands-free", "step by step": how routines play, remembered."""

    intents = ("PlayStyleIntent",)
    said = dialogue.PLAY_STYLE

    def heard(self, turn: Turn) -> Heard:
        style = resolved_id(turn.handler_input, "style")
        # the slotless samples ("don't stop between steps") all mean straight through
        return Heard(self.said, style=STEPS if style == STEPS else STRAIGHT)


class SetReminderHandler(DialogueHandler):
    """ "Remind me every day at 8 pm", "set a daily reminder" (the time is asked for)."""

    intents = ("SetReminderIntent",)
    said = dialogue.SET_REMINDER

    def heard(self, turn: Turn) -> Heard:
        return Heard(self.said, time=slot_value(turn.handler_input, TIME_SLOT))


class ChangeReminderHandler(SetReminderHandler):
    """ "Change my reminder to 7 in the morning", "move my reminder"."""

    intents = ("ChangeReminderIntent",)
    said = dialogue.CHANGE_REMINDER


class ReminderTimeHandler(SetReminderHandler):
    """A time on its own ("8 pm", "at seven in the morning"): the answer to "what time?"."""

    intents = ("ReminderTimeIntent",)
    said = dialogue.TIME_SAID


class CancelReminderHandler(DialogueHandler):
    """ "Cancel my reminder", "stop reminding me"."""

    intents = ("CancelReminderIntent",)
    said = dialogue.CANCEL_REMINDER


class ReminderStatusHandler(DialogueHandler):
    """ "Do I have a reminder", "when is my reminder"."""

    intents = ("ReminderStatusIntent",)
    said = dialogue.REMINDER_STATUS


CONSENT_ANSWERS = (dialogue.ACCEPTED, dialogue.DENIED, dialogue.NOT_ANSWERED)


class PermissionAnswerHandler(Handler):
    """Connections.Response to our AskFor: the reminders permission granted, denied or not
    answered; any other status means voice consent is not possible here."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        request = handler_input.request_envelope.request
        return isinstance(request, ConnectionsResponse) and request.name == "AskFor"

    def respond(self, turn: Turn) -> Response:
        request = turn.handler_input.request_envelope.request
        assert isinstance(request, ConnectionsResponse)  # can_handle said so
        code = str(getattr(request.status, "code", ""))
        payload = request.payload if isinstance(request.payload, dict) else {}
        answer = payload.get("status") if code == "200" else None
        logger.info("permission answered", extra={"status_code": code, "answer": answer})
        time = DailyTime.from_consent_token(request.token)
        return converse(
            turn,
            Heard(
                dialogue.CONSENT,
                time=time.clock if time else None,
                consent=answer if answer in CONSENT_ANSWERS else dialogue.UNSUPPORTED,
            ),
        )


# -- playback: a routine playing straight through ------------------------------------------
PLAYER_REPORTS = {
    "AudioPlayer.PlaybackStarted": playback.STARTED,
    "AudioPlayer.PlaybackStopped": playback.STOPPED,
    "AudioPlayer.PlaybackNearlyFinished": playback.NEARLY_FINISHED,
    "AudioPlayer.PlaybackFinished": playback.FINISHED,
    "AudioPlayer.PlaybackFailed": playback.FAILED,
    "PlaybackController.PlayCommandIssued": playback.RESUME,
    "PlaybackController.PauseCommandIssued": playback.PAUSE,
    "PlaybackController.NextCommandIssued": playback.NEXT,
    "PlaybackController.PreviousCommandIssued": playback.PREVIOUS,
}
PLAYBACK_INTENTS = {
    "AMAZON.PauseIntent": playback.PAUSE,
    "AMAZON.StopIntent": playback.PAUSE,
    "AMAZON.CancelIntent": playback.PAUSE,
    "AMAZON.ResumeIntent": playback.RESUME,
    "AMAZON.NextIntent": playback.NEXT,
    "AMAZON.PreviousIntent": playback.PREVIOUS,
    "AMAZON.StartOverIntent": playback.START_OVER,
    "AMAZON.LoopOnIntent": playback.LOOP,
    "AMAZON.LoopOffIntent": playback.LOOP,
    "AMAZON.ShuffleOnIntent": playback.LOOP,
    "AMAZON.ShuffleOffIntent": playback.LOOP,
}


class LoopShuffleHandler(DialogueHandler):
    """ "Loop", "shuffle" with no routine playing: not something this skill does (while one
    plays, PlaybackIntentHandler answers them)."""

    intents = tuple(name for name, what in PLAYBACK_INTENTS.items() if what == playback.LOOP)
    said = dialogue.UNKNOWN


# A playback command the conversation answers when the device's stream is not the place.
AS_SAID = {
    playback.RESUME: dialogue.RESUME,
    playback.NEXT: dialogue.NEXT,
    playback.PREVIOUS: dialogue.PREVIOUS,
    playback.START_OVER: dialogue.START_OVER,
}


# Requests from the device itself (the audio player, its buttons, its errors): Alexa refuses
# any speech in their answers.
SILENT_REQUESTS = ("AudioPlayer.", "PlaybackController.", "System.")


def error_type(handler_input: HandlerInput) -> str | None:
    """The error type a device reports (PlaybackFailed, System.ExceptionEncountered), for the log."""
    error = getattr(handler_input.request_envelope.request, "error", None)
    return getattr(getattr(error, "object_type", None), "value", None)


def reported_stream(turn: Turn, what: str) -> tuple[Token | None, int]:
    """The stream a request is about and its offset: a report's own token and offset (for
    PlaybackFailed, its currentPlaybackState's), else the device's context."""
    token, offset, _ = turn.device_stream()
    if what not in playback.REPORTS:
        return token, offset
    request = turn.handler_input.request_envelope.request
    reported = Token.parse(getattr(request, "token", None))
    state = getattr(request, "current_playback_state", None)
    source = state if what == playback.FAILED else request
    if reported is not None and reported != token:
        token, offset = reported, 0  # the context's offset is another stream's
    if what != playback.FAILED or Token.parse(getattr(state, "token", None)) == token:
        offset = whole_ms(getattr(source, "offset_in_milliseconds", None), offset)
    return token, offset


def carry_out_playback(turn: Turn, what: str, spoken: bool) -> Response:
    """A player report or a playback command: the playback decision, carried out."""
    token, offset = reported_stream(turn, what)
    if what == playback.FAILED:
        count("PlaybackFailed")
        logger.error("audio playback failed; progress kept", extra={"error": error_type(turn.handler_input)})
    action = playback.decide(
        turn.engine,
        turn.deps.audio.tracks(turn.library.locale),
        turn.progress,
        playback.Report(what, token, offset),
        turn.now,
        day_of=turn.local_day,
    )
    if action.to_dialogue and spoken:
        return converse(turn, Heard(AS_SAID[what]))
    if action.change is not None:
        turn.save(action.change)
    for name in action.counts:
        count(name)
    if action.place is not None:
        logger.append_keys(routine=action.place.routine_id, step=action.place.step + 1)
    if action.stop:
        turn.stop_audio()
    if action.play is not None:
        turn.play(action.play)
    if action.enqueue is not None:
        turn.play(action.enqueue, enqueue_after=action.expected)
    if spoken and action.say:
        return turn.respond(turn.say(action.say), end=True)
    if spoken:
        turn.handler_input.response_builder.set_should_end_session(True)
    return turn.directives_only()


class PlayerReportHandler(Handler):
    """AudioPlayer reports and the remote's buttons (PlaybackController): no session, no speech."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return str(get_request_type(handler_input)) in PLAYER_REPORTS

    def respond(self, turn: Turn) -> Response:
        what = PLAYER_REPORTS[str(get_request_type(turn.handler_input))]
        return carry_out_playback(turn, what, spoken=False)


class PlaybackIntentHandler(Handler):
    """ "Alexa, pause", "Alexa, resume", "Alexa, next" while our stream is the device's:
    about the audio, not a conversation (a session already under way keeps its meaning)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        if not is_request_type("IntentRequest")(handler_input):
            return False
        if get_intent_name(handler_input) not in PLAYBACK_INTENTS:
            return False
        session = handler_input.request_envelope.session
        context = handler_input.request_envelope.context
        player = context.audio_player if context else None
        ours = player is not None and Token.parse(player.token) is not None
        return ours and (session is None or bool(session.new))

    def respond(self, turn: Turn) -> Response:
        what = PLAYBACK_INTENTS[str(get_intent_name(turn.handler_input))]
        return carry_out_playback(turn, what, spoken=True)


class ExceptionEncounteredHandler(Handler):
    """System.ExceptionEncountered: a directive of ours was refused. Logged; nothing to answer."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_request_type("System.ExceptionEncountered")(handler_input))

    def respond(self, turn: Turn) -> Response:
        logger.error("a directive was refused by the device", extra={"error": error_type(turn.handler_input)})
        count("DirectiveRefused")
        return turn.directives_only()


class UnknownIntentHandler(Handler):
    """An intent this code does not know (a model newer than the code): say so, carry on."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_request_type("IntentRequest")(handler_input))

    def respond(self, turn: Turn) -> Response:
        logger.warning("unknown intent", extra={"intent": get_intent_name(turn.handler_input)})
        return converse(turn, Heard(dialogue.UNKNOWN))


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
        PlayerReportHandler(deps),
        ExceptionEncounteredHandler(deps),
        PainHandler(deps),
        PlaybackIntentHandler(deps),
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
        PlayStyleHandler(deps),
        SetReminderHandler(deps),
        ChangeReminderHandler(deps),
        ReminderTimeHandler(deps),
        CancelReminderHandler(deps),
        ReminderStatusHandler(deps),
        PermissionAnswerHandler(deps),
        LoopShuffleHandler(deps),
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
        request_type = str(get_request_type(handler_input))
        if request_type.startswith(SILENT_REQUESTS):
            return turn.directives_only()  # no speech, and no session flag, to the device itself
        if request_type not in ("LaunchRequest", "IntentRequest", "Connections.Response"):
            return turn.silent()
        return turn.respond(turn.say("error"), turn.say("error_reprompt"))
