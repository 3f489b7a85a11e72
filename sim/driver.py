"""The conversation driver: typed utterances in, Alexa request envelopes to the real handler.

It resolves an utterance the way Alexa would for this skill: against the interaction
model's own sample utterances and slot values (with an entity-resolution block shaped like
Alexa's), falling back to Alexa's built-in phrasings and then to AMAZON.FallbackIntent.
It carries session attributes between turns and can end a session the ways a device does.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .ssml_reader import Spoken, read_ssml

ROOT = Path(__file__).resolve().parent.parent
MODEL_PATH = ROOT / "skill_package" / "interactionModels" / "custom" / "en-US.json"
DEFAULT_SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-00000000c0de"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

# What Alexa itself understands for built-in intents, before any sample a skill adds.
BUILTIN_PHRASES: dict[str, tuple[str, ...]] = {
    "AMAZON.YesIntent": ("yes", "yep", "yes sure", "ok sure"),
    "AMAZON.NoIntent": ("no", "no way"),
    "AMAZON.NextIntent": ("next", "next one"),
    "AMAZON.PreviousIntent": ("previous", "go back one"),
    "AMAZON.RepeatIntent": ("repeat", "say it again", "repeat please"),
    "AMAZON.StartOverIntent": ("start over", "start from the beginning"),
    "AMAZON.PauseIntent": ("pause",),
    "AMAZON.ResumeIntent": ("resume please", "unpause"),
    "AMAZON.HelpIntent": ("help", "help me", "what do i say"),
    "AMAZON.StopIntent": ("stop", "quit", "exit", "goodbye", "shut up", "enough"),
    "AMAZON.CancelIntent": ("cancel", "never mind", "forget it"),
    "AMAZON.NavigateHomeIntent": ("go home", "home", "main menu"),
}


FILLER_WORDS = {"the", "a", "an", "my", "please", "some"}
NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "twenty five": 25,
    "thirty": 30, "forty": 40, "forty five": 45, "sixty": 60,
}  # fmt: skip


class Clock:
    """Time under the caller's control (epoch seconds): tests and scripts move it on."""

    def __init__(self, start: float = 1_795_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, days: float = 0, hours: float = 0, seconds: float = 0) -> None:
        self.now += days * 86_400 + hours * 3_600 + seconds


class DriverError(Exception):
    """The driver was asked for something a device could not do."""


def normalise(utterance: str) -> str:
    text = utterance.lower().replace("’", "'")
    text = re.sub(r"[^a-z0-9' {}-]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Resolved:
    intent: str
    slots: dict[str, dict[str, Any]]


class InteractionModel:
    """An interaction model file, compiled for matching typed utterances."""

    def __init__(self, path: Path = MODEL_PATH, skill_id: str = DEFAULT_SKILL_ID) -> None:
        language = json.loads(path.read_text(encoding="utf-8"))["interactionModel"]["languageModel"]
        self.invocation = normalise(language["invocationName"])
        self.skill_id = skill_id
        self.intents = {i["name"]: i for i in language["intents"]}
        self.slot_types: dict[str, str] = {}
        self.values: dict[str, dict[str, tuple[str, str]]] = {}  # type -> phrase -> (id, name)
        for slot_type in language.get("types", []):
            table: dict[str, tuple[str, str]] = {}
            for value in slot_type["values"]:
                name = value["name"]["value"]
                for phrase in (name, *value["name"].get("synonyms", [])):
                    table[normalise(phrase)] = (value.get("id", name), name)
            self.values[slot_type["name"]] = table
        self._literal: dict[str, str] = {}
        self._patterns: list[tuple[str, re.Pattern[str], bool]] = []
        for name, intent in self.intents.items():
            slot_types = {s["name"]: s["type"] for s in intent.get("slots", [])}
            self.slot_types.update({f"{name}.{s}": t for s, t in slot_types.items()})
            for sample in intent.get("samples", []):
                text = normalise(sample)
                if "{" not in text:
                    self._literal.setdefault(text, name)
                    continue
                regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>.+?)", re.escape(text))
                # A sample with no real words besides its slot ("{area}", "the {area} please")
                # is only taken for a known slot value, else everything would match it.
                bare = not set(re.sub(r"\{\w+\}", " ", text).split()) - FILLER_WORDS
                self._patterns.append((name, re.compile(f"^{regex}$"), bare))
        for name, phrases in BUILTIN_PHRASES.items():
            if name in self.intents:
                for phrase in phrases:
                    self._literal.setdefault(phrase, name)

    def resolve(self, utterance: str) -> Resolved:
        """Intent and slots for an utterance, or AMAZON.FallbackIntent if nothing matches."""
        text = normalise(utterance)
        if text in self._literal:
            return Resolved(self._literal[text], self._empty_slots(self._literal[text]))
        partial: Resolved | None = None
        for name, pattern, bare in self._patterns:
            match = pattern.match(text)
            if not match:
                continue
            slots = self._empty_slots(name)
            matched_all = True
            numbers_ok = True
            for slot_name, said in match.groupdict().items():
                slot = self.slot(name, slot_name, said)
                slots[slot_name] = slot
                if "resolutions" in slot:
                    status = slot["resolutions"]["resolutionsPerAuthority"][0]["status"]["code"]
                    matched_all &= status == "ER_SUCCESS_MATCH"
                else:  # a built-in type: Alexa fills it only with a value of that type
                    numbers_ok &= slot["value"] is not None
            if not numbers_ok:
                continue
            if matched_all:
                return Resolved(name, slots)
            if partial is None and not bare:
                partial = Resolved(name, slots)
        return partial or Resolved("AMAZON.FallbackIntent", {})

    def _empty_slots(self, intent: str) -> dict[str, dict[str, Any]]:
        return {
            s["name"]: {"name": s["name"], "confirmationStatus": "NONE"}
            for s in self.intents[intent].get("slots", [])
        }

    def slot(self, intent: str, slot_name: str, said: str) -> dict[str, Any]:
        """A filled slot as Alexa sends it, with ER_SUCCESS_MATCH or ER_SUCCESS_NO_MATCH."""
        slot_type = self.slot_types[f"{intent}.{slot_name}"]
        if slot_type == "AMAZON.NUMBER":  # Alexa sends digits, and no resolutions block
            text = normalise(said)
            number = int(text) if text.isdigit() else NUMBER_WORDS.get(text)
            value = str(number) if number is not None else None
            return {"name": slot_name, "value": value, "confirmationStatus": "NONE", "source": "USER"}
        authority = f"amzn1.er-authority.echo-sdk.{self.skill_id}.{slot_type}"
        found = self.values.get(slot_type, {}).get(normalise(said))
        resolution: dict[str, Any] = {"authority": authority}
        if found:
            resolution["status"] = {"code": "ER_SUCCESS_MATCH"}
            resolution["values"] = [{"value": {"name": found[1], "id": found[0]}}]
        else:
            resolution["status"] = {"code": "ER_SUCCESS_NO_MATCH"}
        return {
            "name": slot_name,
            "value": said,
            "confirmationStatus": "NONE",
            "source": "USER",
            "resolutions": {"resolutionsPerAuthority": [resolution]},
        }


@dataclass
class LambdaContext:
    """What the Lambda runtime passes as ``context``, enough for Powertools."""

    function_name: str = "pelvic-ease-local"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:pelvic-ease-local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timeout_ms: int = 7000  # template.yaml's Timeout
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        """As Lambda's: the function's timeout less the time since the invocation began."""
        return max(0, self.timeout_ms - int((time.monotonic() - self.started) * 1000))


@dataclass
class Reply:
    """One response, read as a listener would hear it."""

    request: dict[str, Any]
    envelope: dict[str, Any]

    @property
    def response(self) -> dict[str, Any]:
        value: dict[str, Any] = self.envelope.get("response") or {}
        return value

    @property
    def ssml(self) -> str:
        return str((self.response.get("outputSpeech") or {}).get("ssml", ""))

    @property
    def reprompt_ssml(self) -> str:
        reprompt = self.response.get("reprompt") or {}
        return str((reprompt.get("outputSpeech") or {}).get("ssml", ""))

    @property
    def speech(self) -> Spoken:
        return read_ssml(self.ssml) if self.ssml else Spoken((), 100, ())

    @property
    def reprompt(self) -> Spoken:
        return read_ssml(self.reprompt_ssml) if self.reprompt_ssml else Spoken((), 100, ())

    @property
    def text(self) -> str:
        return self.speech.words_only

    @property
    def session_open(self) -> bool:
        return self.response.get("shouldEndSession") is False

    @property
    def session_attributes(self) -> dict[str, Any]:
        value: dict[str, Any] = self.envelope.get("sessionAttributes") or {}
        return value

    def problems(self) -> list[str]:
        """Every way this response breaks Alexa's rules or ours."""
        found: list[str] = []
        if self.envelope.get("version") != "1.0":
            found.append("response version is not 1.0")
        request = self.request.get("request")
        request_type = request.get("type") if isinstance(request, dict) else None
        expects_speech = request_type in ("LaunchRequest", "IntentRequest")
        if "shouldEndSession" not in self.response and expects_speech:
            found.append("shouldEndSession is not set")
        if expects_speech and not self.ssml:
            found.append("no speech")
        if self.session_open and not self.reprompt_ssml:
            found.append("session left open without a reprompt")
        for label, ssml in (("speech", self.ssml), ("reprompt", self.reprompt_ssml)):
            if ssml:
                found.extend(f"{label}: {p}" for p in read_ssml(ssml).problems)
        return found


class Conversation:
    """A person talking to the skill on one device, one session after another."""

    def __init__(
        self,
        handler: Handler,
        *,
        model: InteractionModel | None = None,
        user_id: str | None = None,
        person_id: str | None = None,
        skill_id: str = DEFAULT_SKILL_ID,
        strict: bool = True,
    ) -> None:
        self.handler = handler
        self.model = model or InteractionModel(skill_id=skill_id)
        self.skill_id = skill_id
        self.user_id = user_id or f"amzn1.ask.account.{uuid.uuid4().hex.upper()}"
        self.person_id = person_id
        self.device_id = f"amzn1.ask.device.{uuid.uuid4().hex.upper()}"
        self.strict = strict
        self.session_id: str | None = None
        self.session_attributes: dict[str, Any] = {}
        self._new = False
        self.replies: list[Reply] = []

    # -- what a person says -----------------------------------------------------------
    def say(self, utterance: str) -> Reply:
        """Speak to the device: "open pelvic ease", "ask pelvic ease to resume", "next"."""
        text = normalise(utterance)
        name = re.escape(self.model.invocation)
        if re.fullmatch(rf"(?:alexa )?(?:open|launch|start|begin) {name}", text):
            self.start_session()
            return self.send({"type": "LaunchRequest"})
        one_shot = re.fullmatch(
            rf"(?:alexa )?(?:ask|tell) {name}(?: (?:to|for|that|about|if))? (?P<rest>.+)", text
        )
        if one_shot:
            self.start_session()
            return self.intent_request(self.model.resolve(one_shot.group("rest")))
        if self.session_id is None:
            raise DriverError(
                f"the microphone is closed: say 'open {self.model.invocation}' or "
                f"'ask {self.model.invocation} to ...' first ({utterance!r})"
            )
        return self.intent_request(self.model.resolve(utterance))

    def intent(self, name: str, **slots: str) -> Reply:
        """Send an intent directly, slots resolved against the model as Alexa would."""
        if self.session_id is None:
            self.start_session()
        filled = self.model._empty_slots(name) if name in self.model.intents else {}
        for slot_name, said in slots.items():
            filled[slot_name] = self.model.slot(name, slot_name, said)
        return self.intent_request(Resolved(name, filled))

    # -- what a device does -------------------------------------------------------------
    def start_session(self) -> None:
        self.session_id = f"amzn1.echo-api.session.{uuid.uuid4()}"
        self.session_attributes = {}
        self._new = True

    def end_session(self, reason: str = "EXCEEDED_MAX_REPROMPTS") -> Reply:
        """The session ends as a device ends it: a timeout, the user's "stop", or an error."""
        if self.session_id is None:
            raise DriverError("no session is open")
        request: dict[str, Any] = {"type": "SessionEndedRequest", "reason": reason}
        if reason == "ERROR":
            request["error"] = {"type": "INVALID_RESPONSE", "message": "simulated error"}
        reply = self.send(request)
        self.session_id = None
        return reply

    def drop_session(self) -> None:
        """The session ends with no SessionEndedRequest at all (some devices never send it)."""
        self.session_id = None

    def disable_skill(self) -> Reply:
        """The user disables the skill: an AlexaSkillEvent.SkillDisabled without a session."""
        self.session_id = None
        return self.send(
            {
                "type": "AlexaSkillEvent.SkillDisabled",
                "eventCreationTime": "2026-11-21T10:00:00Z",
                "eventPublishingTime": "2026-11-21T10:00:01Z",
                "body": {"userInformationPersistenceStatus": "NOT_PERSISTED"},
            }
        )

    # -- envelopes --------------------------------------------------------------------
    def intent_request(self, resolved: Resolved) -> Reply:
        return self.send(
            {
                "type": "IntentRequest",
                "intent": {"name": resolved.intent, "confirmationStatus": "NONE", "slots": resolved.slots},
            }
        )

    def envelope(self, request: dict[str, Any]) -> dict[str, Any]:
        system: dict[str, Any] = {
            "application": {"applicationId": self.skill_id},
            "user": {"userId": self.user_id},
            "device": {"deviceId": self.device_id, "supportedInterfaces": {}},
            "apiEndpoint": "https://api.amazonalexa.com",
            "apiAccessToken": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.simulated-token",
        }
        if self.person_id:
            system["person"] = {"personId": self.person_id}
        body = {
            "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
            "timestamp": "2026-11-21T10:00:00Z",
            "locale": "en-US",
            **request,
        }
        envelope: dict[str, Any] = {"version": "1.0", "context": {"System": system}, "request": body}
        if self.session_id is not None and request["type"] != "AlexaSkillEvent.SkillDisabled":
            envelope["session"] = {
                "new": self._new,
                "sessionId": self.session_id,
                "application": {"applicationId": self.skill_id},
                "attributes": self.session_attributes,
                "user": {"userId": self.user_id},
            }
        return envelope

    def send(self, request: dict[str, Any]) -> Reply:
        envelope = self.envelope(request)
        reply = Reply(envelope, self.handler(envelope, LambdaContext()))
        self._new = False
        self.replies.append(reply)
        if self.strict and (problems := reply.problems()):
            raise AssertionError(f"invalid response to {request['type']}: {problems}")
        if self.session_id is not None:
            self.session_attributes = reply.session_attributes
            if not reply.session_open:
                self.session_id = None
        return reply
