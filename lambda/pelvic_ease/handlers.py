"""Request handlers: one class per kind of request that really behaves differently, in the
order of ``request_handlers``.

Every intent goes through one ``IntentHandler``: what it means is data (``intents.INTENTS``).
The classes kept are the requests that differ: the audio player's reports and buttons (no
session, no speech), the answer to a permission request, the session's end, the skill being
disabled, a launch, and the catch-alls. ``can_handle`` only looks at the request. A handler
only translates: the request into the dialogue core's ``Heard`` (``dialogue.py`` decides what
happens) or a playback ``Report`` (``playback.py``), and the outcome into stored progress and
a response.
"""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractExceptionHandler, AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import get_intent_name, get_request_type, is_request_type
from ask_sdk_model import Response

from . import dialogue, playback
from .audio import Token, whole_ms
from .dialogue import Facts, Heard, Outcome, decide
from .intents import INTENTS, about_our_stream
from .observability import count, log_failure, logger
from .reminders import DailyTime, checkins_from_consent_token
from .repository import ForgetIncomplete
from .turn import Deps, Turn


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
        stream=our_stream(turn),
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


# The slot Alexa is asked to hear the answer to "What time each day?" as (the model's dialog).
ELICITED_TIME = ("SetReminderIntent", "time")


def our_stream(turn: Turn) -> tuple[Token, int] | None:
    """This device's stream of ours and its offset, while it plays."""
    token, offset, _ = turn.device_stream()
    return (token, offset) if token is not None and turn.our_stream_playing() else None


def converse(turn: Turn, heard: Heard) -> Response:
    """The core's outcome for ``heard``, spoken (and a routine played, or the audio stopped)."""
    outcome = carry_out(turn, heard)
    if outcome.stop_audio:
        turn.stop_audio()
    if outcome.play is not None:
        turn.play(outcome.play)
    if outcome.permission_card:
        turn.permission_card()
    if outcome.ask_permission is not None:
        return turn.ask_permission(outcome.ask_permission)
    if outcome.state.mode == dialogue.REMINDER_TIME and not outcome.end:
        turn.elicit(ELICITED_TIME[0], ELICITED_TIME[1])  # "What time?": the answer is a time
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
    """Every intent of the model (INTENTS): what it means, carried out by the dialogue core, or
    by the playback decisions when it is about our stream."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_request_type("IntentRequest")(handler_input)) and intent_of(handler_input) in INTENTS

    def respond(self, turn: Turn) -> Response:
        meaning = INTENTS[intent_of(turn.handler_input)]
        if meaning.audio is not None and about_our_stream(turn.handler_input):
            return carry_out_playback(turn, meaning.audio, said=meaning.said)
        return converse(turn, meaning.heard(turn))


def intent_of(handler_input: HandlerInput) -> str:
    return str(get_intent_name(handler_input))


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


CONSENT_ANSWERS = (dialogue.ACCEPTED, dialogue.DENIED, dialogue.NOT_ANSWERED)


class PermissionAnswerHandler(Handler):
    """Connections.Response to our AskFor: the reminders permission granted, denied or not
    answered; any other status means voice consent is not possible here."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        # by the request's type, not its class: other requests never import the connections models
        request = handler_input.request_envelope.request
        answered = is_request_type("Connections.Response")(handler_input)
        return answered and getattr(request, "name", "") == "AskFor"

    def respond(self, turn: Turn) -> Response:
        from ask_sdk_model.interfaces.connections import ConnectionsResponse  # noqa: PLC0415

        request = turn.handler_input.request_envelope.request
        assert isinstance(request, ConnectionsResponse)  # can_handle said so
        code = str(getattr(request.status, "code", ""))
        payload = request.payload if isinstance(request.payload, dict) else {}
        answer = payload.get("status") if code == "200" else None
        logger.info("permission answered", extra={"status_code": code, "answer": answer})
        time = DailyTime.from_consent_token(request.token)
        checkins = checkins_from_consent_token(request.token)
        return converse(
            turn,
            Heard(
                dialogue.CONSENT,
                time=time.clock if time else None,
                times=tuple(t.clock for t in checkins),
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


def carry_out_playback(turn: Turn, what: str, said: str | None = None) -> Response:
    """A player report or a playback command (a button, or ``said`` aloud: then its
    conversational meaning answers when this device's stream is not the place): the playback
    decision, carried out."""
    spoken = said is not None
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
    if action.to_dialogue and said is not None:
        return converse(turn, Heard(said))
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
        return carry_out_playback(turn, what)


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
    """Every handler, in the order the SDK tries them. Each takes its own request type, so the
    order decides nothing but that the catch-alls come last."""
    return [
        SkillDisabledHandler(deps),
        SessionEndedHandler(deps),
        PlayerReportHandler(deps),
        ExceptionEncounteredHandler(deps),
        LaunchHandler(deps),
        PermissionAnswerHandler(deps),
        IntentHandler(deps),
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
        log_failure("handler failed", exception)
        count("ErrorSpoken")
        turn = Turn(handler_input, self.deps)
        request_type = str(get_request_type(handler_input))
        if request_type.startswith(SILENT_REQUESTS):
            return turn.directives_only()  # no speech, and no session flag, to the device itself
        if request_type not in ("LaunchRequest", "IntentRequest", "Connections.Response"):
            return turn.silent()
        return turn.respond(turn.say("error"), turn.say("error_reprompt"))
