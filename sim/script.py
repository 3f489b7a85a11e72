"""Play a conversation script through the real handler and print what Alexa would say.

A script is a plain text file, one line per thing a person or a device does:

    open pelvic ease          what the person says (any utterance)
    # a comment               ignored;  ## a heading  printed as a heading
    /timeout                  the session times out (SessionEndedRequest EXCEEDED_MAX_REPROMPTS)
    /end USER_INITIATED       the session ends for that reason (USER_INITIATED, ERROR, ...)
    /drop                     the session ends without any SessionEndedRequest
    /wait 3d | 2h | 90s       time passes
    /user NAME | /person ID   another user on the device, or a recognised voice profile
    /intent Name slot=value   send an intent directly
    /record                   show what is stored for this user
    /expect some words        the last reply must contain these words (else the script fails)
    /expect-open | /expect-closed   the microphone must be open / closed after the last reply

On a device with an audio player (``make chat``, ``make demo``), a routine that plays
straight through plays on the script clock: /wait lets it play (its reports go to the skill
as they happen), and "alexa pause", "alexa resume", "alexa next" act on it.

    /device [no-audio]        the same person on another device (with a player, or without)
    /button Pause|Play|Next|Previous   a remote's or a screen's playback button
    /fail                     the stream fails (the network dropped)
    /playing                  what the player is playing, and where
    /expect-playing | /expect-stopped   the player must be playing / stopped

The Alexa APIs (reminders, the device's time zone) are a local fake (sim/alexa_api.py):

    /consent yes|no|none|unsupported   Alexa's answer to the skill's permission request
    /api-fail 401|403|404|429|500      the fake answers the next reminders request so
    /api-delay 3                       ... or that many seconds late (past the time-out)
    /timezone Australia/Sydney         the device's time zone, as the settings API gives it
    /api-log                           what the fake received since the last /api-log
    /expect-api POST PUT ...           the fake's requests since the last /api-log, by method
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from pelvic_ease.repository import ProgressKey, ProgressTable

from .alexa_api import FakeAlexaApi
from .driver import Clock, Conversation, DriverError, InteractionModel, Reply
from .player import PLAYING, STOPPED, Player

_WAIT = re.compile(r"^(\d+(?:\.\d+)?)([dhms])$")
_UNITS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}


class ScriptFailure(Exception):
    """A script's expectation was not met, or a response broke Alexa's rules."""


def describe(reply: Reply, width: int = 100) -> str:
    """A reply as readable lines: speech with pauses, duration, microphone, reprompt."""
    lines = []
    if reply.ssml:
        body = textwrap.fill(
            reply.speech.text, width=width, initial_indent="alexa> ", subsequent_indent="       "
        )
        lines.append(body)
    else:
        lines.append("alexa> (no speech)")
    mic = "microphone open" if reply.session_open else "session ends"
    detail = f"       (≈ {reply.speech.seconds:.0f} s spoken, {mic}"
    if reply.reprompt_ssml:
        detail += f'; reprompt: "{reply.reprompt.words_only}"'
    lines.append(detail + ")")
    return "\n".join(lines)


@dataclass
class Simulator:
    handler: Callable[[dict[str, Any], Any], dict[str, Any]]
    table: ProgressTable
    clock: Clock
    out: TextIO
    conversation: Conversation = field(init=False)
    last: Reply | None = None
    model: InteractionModel | None = None  # None: the skill's model, matched exactly
    locale: str = "en-US"
    audio: bool = False  # the device has an audio player
    alexa_api: FakeAlexaApi | None = None  # the Alexa APIs the envelopes point at
    _api_seen: int = 0  # the fake's requests already shown

    def __post_init__(self) -> None:
        self.conversation = self.new_device(self.audio, "amzn1.ask.account.SIMULATED")

    def new_device(self, audio: bool, user_id: str) -> Conversation:
        return Conversation(
            self.handler,
            model=self.model,
            strict=False,
            user_id=user_id,
            locale=self.locale,
            player=Player(self.clock) if audio else None,
            alexa_api=self.alexa_api,
            clock=self.clock,
            reminders_granted=self.conversation.reminders_granted if hasattr(self, "conversation") else False,
        )

    @property
    def player(self) -> Player | None:
        return self.conversation.player

    def player_news(self) -> None:
        """What the player did since last asked: its reports and what they were answered with."""
        if self.player is None:
            return
        for line in self.player.log:
            self.print(f"       {line}")
        self.player.log.clear()

    def print(self, text: str) -> None:
        print(text, file=self.out)

    def run_line(self, line: str, echo: bool = True) -> None:
        line = line.strip()
        if not line or (line.startswith("#") and not line.startswith("##")):
            return
        if line.startswith("##"):
            self.print(f"\n=== {line.lstrip('#').strip()} ===")
            return
        if line.startswith("/"):
            self.command(line)
            return
        if echo:
            self.print(f"you> {line}")
        self.show(self.conversation.say(line))

    def show(self, reply: Reply) -> None:
        self.last = reply
        self.print(describe(reply))
        if reply.permission_request is not None:
            self.print(
                f"       (Connections.SendRequest AskFor, token {reply.permission_request.get('token')!r}:"
            )
            self.print(
                "        Alexa now asks for the reminders permission; answer with /consent yes|no|none)"
            )
        if reply.card is not None:
            self.print(f"       (card to the Alexa app: {reply.card.get('type')})")
        for directive in reply.audio_directives:
            item = directive.get("audioItem", {}).get("stream", {})
            detail = (
                f" {item.get('token')} from {item.get('offsetInMilliseconds', 0) / 1000:.1f} s"
                if item
                else ""
            )
            self.print(f"       ({directive['type']} {directive.get('playBehavior', '')}{detail})")
        self.player_news()
        if problems := reply.problems():
            raise ScriptFailure(f"the response breaks the rules: {problems}")
        for answer in self.conversation.replies:
            if answer is not reply and (problems := answer.problems()):
                raise ScriptFailure(f"an answer to the player breaks the rules: {problems}")

    def command(self, line: str) -> None:
        name, *args = line[1:].split()
        action = getattr(self, f"cmd_{name.replace('-', '_')}", None)
        if action is None:
            raise ScriptFailure(f"unknown command {line!r}")
        action(args)

    def cmd_timeout(self, args: list[str]) -> None:
        self.print("(the microphone closes: no answer, the session times out)")
        self.conversation.end_session("EXCEEDED_MAX_REPROMPTS")

    def cmd_end(self, args: list[str]) -> None:
        reason = args[0] if args else "USER_INITIATED"
        self.print(f"(the session ends: {reason})")
        self.conversation.end_session(reason)

    def cmd_drop(self, args: list[str]) -> None:
        self.print("(the session ends without a word to the skill)")
        self.conversation.drop_session()

    def cmd_wait(self, args: list[str]) -> None:
        match = _WAIT.match(args[0] if args else "")
        if not match:
            raise ScriptFailure("/wait needs a duration like 3d, 2h, 90s")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
        self.print(f"(time passes: {args[0]})")
        if self.player is not None:
            self.conversation.wait(seconds)  # the player plays on, reporting as it goes
            self.player_news()
        else:
            self.clock.advance(seconds=seconds)

    def cmd_user(self, args: list[str]) -> None:
        conv = self.conversation
        conv.user_id = f"amzn1.ask.account.{(args[0] if args else 'OTHER').upper()}"
        conv.drop_session()
        self.print(f"(another user: {conv.user_id})")

    def cmd_person(self, args: list[str]) -> None:
        conv = self.conversation
        conv.person_id = f"amzn1.ask.person.{args[0].upper()}" if args else None
        self.print(f"(voice profile: {conv.person_id or 'none'})")

    def cmd_intent(self, args: list[str]) -> None:
        if not args:
            raise ScriptFailure("/intent needs an intent name")
        slots = dict(arg.split("=", 1) for arg in args[1:])
        self.print(f"(sending {args[0]} {slots or ''})")
        self.show(self.conversation.intent(args[0], **slots))

    def cmd_device(self, args: list[str]) -> None:
        audio = not (args and args[0] == "no-audio")
        self.conversation = self.new_device(audio, self.conversation.user_id)
        self.print(f"(the same person on another device, {'with' if audio else 'without'} an audio player)")

    def _player(self) -> Player:
        if self.player is None:
            raise ScriptFailure("this device has no audio player")
        return self.player

    def cmd_button(self, args: list[str]) -> None:
        name = (args[0] if args else "").capitalize()
        if name not in ("Pause", "Play", "Next", "Previous"):
            raise ScriptFailure("/button needs Pause, Play, Next or Previous")
        self.print(f"(the {name} button is pressed)")
        self.show(self._player().button(name))

    def cmd_fail(self, args: list[str]) -> None:
        self.print("(the stream fails)")
        self.show(self._player().fail())

    def cmd_playing(self, args: list[str]) -> None:
        self.print(f"(playing: {self._player().describe()})")

    def cmd_expect_playing(self, args: list[str]) -> None:
        if self._player().activity != PLAYING:
            raise ScriptFailure(f"expected the audio to be playing: {self._player().describe()}")

    def cmd_expect_stopped(self, args: list[str]) -> None:
        if self._player().activity != STOPPED:
            raise ScriptFailure(f"expected the audio to be stopped: {self._player().describe()}")

    def cmd_record(self, args: list[str]) -> None:
        self.print(f"(stored: {self.stored_record()})")

    def cmd_expect(self, args: list[str]) -> None:
        wanted = " ".join(args).lower()
        heard = self.last.text.lower() if self.last else ""
        if wanted not in heard:
            raise ScriptFailure(f"expected to hear {wanted!r}, but Alexa said: {heard[:300]!r}")

    def cmd_expect_open(self, args: list[str]) -> None:
        if not (self.last and self.last.session_open):
            raise ScriptFailure("expected the microphone to be open after the last reply")

    def cmd_expect_closed(self, args: list[str]) -> None:
        if self.last is None or self.last.session_open:
            raise ScriptFailure("expected the session to end after the last reply")

    def _api(self) -> FakeAlexaApi:
        if self.alexa_api is None:
            raise ScriptFailure("no fake Alexa API here")
        return self.alexa_api

    def cmd_consent(self, args: list[str]) -> None:
        answers = {"yes": ("ACCEPTED", "200"), "no": ("DENIED", "200"), "none": ("NOT_ANSWERED", "200")}
        answer, code = answers.get(args[0] if args else "yes", ("NOT_ANSWERED", "400"))
        self.print(f"(Alexa: the permission question answered {answer}, status {code})")
        self.show(self.conversation.consent(answer, code))

    def cmd_api_fail(self, args: list[str]) -> None:
        status = int(args[0]) if args and args[0].isdigit() else 500
        self._api().fail_next(status, on="/v1/alerts/reminders")
        self.print(f"(the Reminders API will answer the next request {status})")

    def cmd_api_delay(self, args: list[str]) -> None:
        seconds = float(args[0]) if args else 3.0
        self._api().delay_next(seconds, on="/v1/alerts/reminders")
        self.print(f"(the Reminders API will answer the next request {seconds:g} s late)")

    def cmd_timezone(self, args: list[str]) -> None:
        self._api().time_zone = args[0] if args else "America/New_York"
        self.print(f"(the device's time zone: {self._api().time_zone})")

    def _new_api_calls(self) -> list[Any]:
        calls = self._api().requests[self._api_seen :]
        self._api_seen = len(self._api().requests)
        return calls

    def cmd_api_log(self, args: list[str]) -> None:
        for call in self._new_api_calls():
            body = f" {json.dumps(call.body)}" if call.body is not None else ""
            self.print(f"       (api: {call.method} {call.path}{body})")

    def cmd_expect_api(self, args: list[str]) -> None:
        methods = [call.method for call in self._new_api_calls() if call.path.startswith("/v1/alerts")]
        if methods != args:
            raise ScriptFailure(f"expected the Reminders API to get {args}, it got {methods}")

    def stored_record(self) -> dict[str, Any]:
        conv = self.conversation
        return self.table.get(ProgressKey.of(conv.user_id, conv.person_id)) or {}

    def run_script(self, lines: list[str]) -> None:
        for number, line in enumerate(lines, start=1):
            try:
                self.run_line(line)
            except (ScriptFailure, DriverError) as error:
                raise ScriptFailure(f"line {number} ({line.strip()!r}): {error}") from error
