"""The conversation driver: typed utterances in, Alexa request envelopes to the real handler.

It resolves an utterance the way Alexa would for this skill: against the interaction
model's own sample utterances and slot values (with an entity-resolution block shaped like
Alexa's), falling back to Alexa's built-in phrasings and then to AMAZON.FallbackIntent.
Real Alexa generalises beyond the samples; the driver does not, unless it is asked to
approximate (``InteractionModel(approximate=True)``, as ``make chat`` does): then an
utterance that matches no sample is taken as its nearest sample, and the resolution says so
(see ``InteractionModel``). Tests keep the exact matching, the default.
It carries session attributes between turns and can end a session the ways a device does.
"""

from __future__ import annotations

import functools
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .ssml_reader import Spoken, read_ssml

if TYPE_CHECKING:
    from .alexa_api import FakeAlexaApi
    from .player import Player

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "skill_package" / "interactionModels" / "custom"
MODEL_PATH = MODELS / "en-US.json"
LOCALES = tuple(sorted(path.stem for path in MODELS.glob("*.json")))


def model_path(locale: str = "en-US") -> Path:
    """The interaction model a device in ``locale`` is served by."""
    path = MODELS / f"{locale}.json"
    if not path.is_file():
        raise DriverError(f"no interaction model for {locale} (have: {', '.join(LOCALES)})")
    return path


DEFAULT_SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-00000000c0de"
SIMULATED_ACCESS_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.simulated-token"
CONSENT_TOKEN = "Atza|simulated-consent-token"
REMINDERS_SCOPE = "alexa::alerts:reminders:skill:readwrite"
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


# What a person says to the device while audio plays (or is paused), with no skill named:
# Alexa sends these built-in intents to the skill whose stream it is.
PLAYER_PHRASES: dict[str, str] = {
    "pause": "AMAZON.PauseIntent",
    "stop": "AMAZON.StopIntent",
    "cancel": "AMAZON.CancelIntent",
    "resume": "AMAZON.ResumeIntent",
    "continue": "AMAZON.ResumeIntent",
    "play": "AMAZON.ResumeIntent",
    "next": "AMAZON.NextIntent",
    "skip": "AMAZON.NextIntent",
    "previous": "AMAZON.PreviousIntent",
    "go back": "AMAZON.PreviousIntent",
    "start over": "AMAZON.StartOverIntent",
    "restart": "AMAZON.StartOverIntent",
    "loop": "AMAZON.LoopOnIntent",
    "loop on": "AMAZON.LoopOnIntent",
    "loop off": "AMAZON.LoopOffIntent",
    "shuffle": "AMAZON.ShuffleOnIntent",
    "shuffle on": "AMAZON.ShuffleOnIntent",
    "shuffle off": "AMAZON.ShuffleOffIntent",
}
AUDIO_REQUESTS = ("AudioPlayer.", "PlaybackController.", "System.")

FILLER_WORDS = {"the", "a", "an", "my", "please", "some"}
NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "twenty five": 25,
    "thirty": 30, "forty": 40, "forty five": 45, "sixty": 60,
}  # fmt: skip

HOURS = {word: number for word, number in NUMBER_WORDS.items() if 1 <= number <= 12}
MINUTE_WORDS = {"o'clock": 0, "oclock": 0, "fifteen": 15, "thirty": 30, "forty five": 45, "half": 30}
HALVES = {
    "am": 0, "a m": 0, "in the morning": 0,
    "pm": 12, "p m": 12, "in the afternoon": 12, "in the evening": 12, "at night": 12, "tonight": 12,
}  # fmt: skip
# Parts of the day said without a time, as AMAZON.TIME sends them.
TIME_PERIODS = {
    "morning": "MO", "the morning": "MO", "in the morning": "MO", "afternoon": "AF", "the afternoon": "AF",
    "in the afternoon": "AF", "evening": "EV", "the evening": "EV", "in the evening": "EV", "tonight": "EV",
    "night": "NI", "at night": "NI",
}  # fmt: skip
_TIME = re.compile(
    r"^(?:(?P<before>half past|quarter past|quarter to) )?(?P<hour>\d{1,2}|[a-z]+)"
    r"(?: (?P<minute>\d\d|o'clock|oclock|fifteen|thirty|forty five))?"
    r"(?: (?P<half>a m|am|p m|pm|in the morning|in the afternoon|in the evening|at night|tonight))?$"
)


def time_value(said: str, *, asked: bool = False) -> str | None:
    """What Alexa sends for AMAZON.TIME: "20:00" for "8 pm" or "eight in the evening", "MO" for
    "in the morning"; None for words that are no time. An hour of twelve or less needs
    "am", "pm", "o'clock", minutes or a part of the day, as a bare number is not heard as a time,
    except as the answer to the time being asked for (``asked``: the slot elicited), where
    "eight" is taken as the hour, "08:00" (an assumption: see docs/simulator.md)."""
    text = normalise(said).replace(".", "")
    if text in ("noon", "midday", "12 noon"):
        return "12:00"
    if text == "midnight":
        return "00:00"
    if text in TIME_PERIODS:
        return TIME_PERIODS[text]
    match = _TIME.match(text)
    if not match:
        return None
    hour_text, minute_text, half = match.group("hour"), match.group("minute"), match.group("half")
    hour = int(hour_text) if hour_text.isdigit() else HOURS.get(hour_text)
    if hour is None or hour > 23:
        return None
    before = match.group("before")
    if before is not None and (minute_text is not None or not 1 <= hour <= 12):
        return None  # "half past eight thirty", "quarter to 20"
    minute = MINUTE_WORDS.get(minute_text or "o'clock")
    if minute is None:
        minute = int(str(minute_text))
    bare = half is None and minute_text is None and before is None and hour <= 12
    if minute > 59 or (bare and not asked):
        return None
    if before is not None:
        # "quarter to eight" is 7:45; the hour keeps its half of the day below
        minute = {"half past": 30, "quarter past": 15, "quarter to": 45}[before]
        hour = hour - 1 if before == "quarter to" else hour
        hour = hour or 12
    if half is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + HALVES[half]
    return f"{hour:02d}:{minute:02d}"


# The nearest-sample measure (see InteractionModel): a score below this stays a fallback.
# "what is the weather" shares half its words with "what is the disclaimer" (0.5) and must
# not be read as that; "massage my hips please" or "I want to relax" score 0.75 and more.
APPROXIMATION_THRESHOLD = 0.6
# Words that say nothing about the intent, ignored by the measure on both sides: articles and
# pronouns, and the discourse markers and intensifiers a speaker wraps around what they mean
# ("oh", "okay", "really", "kind of"), which a statistical NLU gives little weight.
APPROXIMATION_FILLER = FILLER_WORDS | {"i", "me", "to", "just", "now", "can", "you", "could", "would"} | {
    "oh", "okay", "ok", "um", "uh", "er", "erm", "well", "really", "very", "so", "quite", "super", "pretty",
    "actually", "hey", "right", "kind", "sort", "of", "little",
}  # fmt: skip
# Contractions and their long forms are the same words to the measure ("I'm" is "I am",
# "can't" is "can not"), as speech recognisers write either: the last letters of a word, and
# what they stand for (the first matching row wins).
CONTRACTIONS = (
    ("let's", "let us"), ("can't", "can not"), ("cannot", "can not"), ("won't", "will not"),
    ("n't", " not"), ("'m", " am"), ("'re", " are"), ("'ve", " have"), ("'ll", " will"), ("'d", " would"),
    ("'s", " is"),
)  # fmt: skip


def spelled_out(text: str) -> str:
    """Normalised text with its contractions written out: "i'm" -> "i am"."""
    return " ".join(_spelled_word(word) for word in text.split())


def stem(word: str) -> str:
    """A word as the measure compares it: without an -ing, a plural -s or a final -e, so
    "using", "uses" and "use" are one word, as they are to an NLU that knows inflection."""
    if word.endswith("ing") and len(word) >= 5 and re.search("[aeiouy]", word[:-3]):
        word = word[:-3]
        if len(word) >= 3 and word[-1] == word[-2] and word[-1] not in "aeiousl":
            word = word[:-1]  # "getting" -> "get"
    elif word.endswith("s") and len(word) >= 4 and not word.endswith("ss"):
        word = word[:-1]
    if word.endswith("e") and len(word) >= 3 and word != "one":  # "one" is not "on"
        word = word[:-1]
    return word


def _spelled_word(word: str) -> str:
    for short, long in CONTRACTIONS:
        if word == short:
            return long
        if short.startswith(("'", "n'")) and word.endswith(short):
            return word[: -len(short)] + long
    return word


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
    """An utterance resolved to an intent; ``approximation`` is the sample used when none matched."""

    intent: str
    slots: dict[str, dict[str, Any]]
    approximation: str | None = None  # the sample as written in the model, e.g. "massage my {area}"
    score: float | None = None  # the measure between the utterance and that sample, 0 to 1

    @property
    def approximate(self) -> bool:
        return self.approximation is not None

    def said(self) -> dict[str, str]:
        """The filled slots as the person said them: {"area": "belly"}."""
        return {name: str(slot["value"]) for name, slot in self.slots.items() if slot.get("value")}


@dataclass(frozen=True)
class _Sample:
    """A sample utterance compiled for the nearest-sample measure."""

    intent: str
    text: str  # as written in the model
    words: frozenset[str]  # its words after normalise(), less APPROXIMATION_FILLER
    slots: tuple[str, ...]  # its slots, in the order they appear


def _slot_unit(name: str) -> str:
    # normalise() removes "<" and ">", so no typed word can be mistaken for a slot.
    return f"<{name}>"


def _jaccard(heard: frozenset[str], sample: frozenset[str]) -> float:
    union = heard | sample
    return len(heard & sample) / len(union) if union else 0.0


def _unresolved(resolved: Resolved) -> bool:
    """Whether Alexa would send this with a custom slot value it does not know."""
    return any(
        authority["status"]["code"] == "ER_SUCCESS_NO_MATCH"
        for slot in resolved.slots.values()
        for authority in slot.get("resolutions", {}).get("resolutionsPerAuthority", [])
    )


def _answer_pattern(sample: str) -> re.Pattern[str]:
    """A slot's own sample ("at {time}") as a pattern whose group ``said`` is the slot."""
    return re.compile("^" + re.sub(r"\\\{\w+\\\}", "(?P<said>.+?)", re.escape(normalise(sample))) + "$")


def _compile_sample(intent: str, sample: str) -> _Sample:
    text = spelled_out(normalise(sample))
    slots = tuple(re.findall(r"\{(\w+)\}", text))
    words = {stem(word) for word in set(re.sub(r"\{\w+\}", " ", text).split()) - APPROXIMATION_FILLER}
    return _Sample(intent, sample, frozenset(words | {_slot_unit(slot) for slot in slots}), slots)


class InteractionModel:
    """An interaction model file, compiled for matching typed utterances.

    Exact (the default): an utterance is a literal sample, a sample with slots whose slots
    take what was said, or one of Alexa's built-in phrasings; else AMAZON.FallbackIntent.

    Approximate (``approximate=True``): when the exact resolution is AMAZON.FallbackIntent,
    or fills a custom slot with a value the model does not know, the utterance is taken as
    its nearest sample, by this measure:

    * both sides are split into words after ``normalise()``, contractions are written out
      (``spelled_out``: "I'm" is "I am"), APPROXIMATION_FILLER words ("the", "my", "please",
      "i", "to", "oh", "really", ...) are dropped, and each word is compared by its ``stem``
      ("using", "uses" and "use" are one word);
    * a slot of the sample may absorb one run of the utterance's words that is a value or
      synonym of its slot type ("belly" for {area}, "twenty" for {minutes}), the slots in the
      order the sample has them (an ``AMAZON.SearchQuery`` slot absorbs nothing here: it takes
      any words only behind its whole carrier, as an exact match); an absorbed run counts as
      the slot, one shared word; a slot left empty is one word the utterance lacks;
    * the score is the Jaccard similarity of the two sets of words, |shared| / |either|,
      taking for each sample the slot filling that scores best (then fills most slots);
    * the best score over every sample, then Alexa's built-in phrasings, wins; a tie goes to
      the sample that comes first in the model, so the result never varies;
    * below APPROXIMATION_THRESHOLD (0.6) the utterance stays AMAZON.FallbackIntent; an
      exact resolution with an unknown slot value gives way to a near enough sample of another
      intent (the near sample is more evidence than a value the model does not know), and to
      one of its own intent only if that fills a slot.

    The resolution then carries the sample used (``Resolved.approximation``) and its score.
    """

    def __init__(
        self,
        path: Path = MODEL_PATH,
        skill_id: str = DEFAULT_SKILL_ID,
        *,
        approximate: bool = False,
        on_approximation: Callable[[str, Resolved], None] | None = None,
    ) -> None:
        """``on_approximation(utterance, resolved)`` is told each time an approximation is used."""
        self.approximate = approximate
        self.on_approximation = on_approximation
        language = json.loads(path.read_text(encoding="utf-8"))["interactionModel"]["languageModel"]
        self.invocation = normalise(language["invocationName"])
        self.skill_id = skill_id
        self.intents = {i["name"]: i for i in language["intents"]}
        self.slot_types: dict[str, str] = {}
        self.values: dict[str, dict[str, tuple[str, str]]] = {}  # type -> phrase -> (id, name)
        self._spelled: dict[str, dict[str, str]] = {}  # type -> phrase spelled out -> phrase
        for slot_type in language.get("types", []):
            table: dict[str, tuple[str, str]] = {}
            for value in slot_type["values"]:
                name = value["name"]["value"]
                for phrase in (name, *value["name"].get("synonyms", [])):
                    table[normalise(phrase)] = (value.get("id", name), name)
            self.values[slot_type["name"]] = table
            # each phrase with its contractions written out, as the nearest-sample measure reads it
            self._spelled[slot_type["name"]] = {spelled_out(phrase): phrase for phrase in table}
        # a slot's own samples ("{time}", "at {time}"), heard only while Alexa elicits that slot
        self.slot_samples: dict[tuple[str, str], list[re.Pattern[str]]] = {}
        self._literal: dict[str, str] = {}
        self._patterns: list[tuple[str, re.Pattern[str], bool]] = []
        self._samples: list[_Sample] = []
        for name, intent in self.intents.items():
            slot_types = {s["name"]: s["type"] for s in intent.get("slots", [])}
            for slot in intent.get("slots", []):
                self.slot_samples[(name, slot["name"])] = [
                    _answer_pattern(text) for text in slot.get("samples", [])
                ]
            self.slot_types.update({f"{name}.{s}": t for s, t in slot_types.items()})
            for sample in intent.get("samples", []):
                text = normalise(sample)
                self._samples.append(_compile_sample(name, sample))
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
                    self._samples.append(_compile_sample(name, phrase))

    def resolve(self, utterance: str) -> Resolved:
        """Intent and slots for an utterance, or AMAZON.FallbackIntent if nothing matches.

        In approximate mode, what matches nothing (or leaves a slot value unknown) is taken
        as its nearest sample if that is near enough: see the class's docstring.
        """
        exact = self._resolve_exactly(normalise(utterance))
        if not self.approximate:
            return exact
        if exact.intent != "AMAZON.FallbackIntent" and not _unresolved(exact):
            return exact
        nearest = self.nearest(utterance)
        if nearest is None or (nearest.score or 0.0) < APPROXIMATION_THRESHOLD:
            return exact
        if exact.intent == nearest.intent and not nearest.said():
            return exact  # keep the value the person said rather than drop it
        if self.on_approximation is not None:
            self.on_approximation(utterance, nearest)
        return nearest

    def elicited(self, utterance: str, intent: str, slot_name: str) -> Resolved | None:
        """The answer to Alexa asking for ``slot_name`` of ``intent`` (Dialog.ElicitSlot), if one
        of that slot's samples takes it: the intent with the slot filled; else None (then the
        utterance is understood as any other)."""
        text = normalise(utterance)
        for pattern in self.slot_samples.get((intent, slot_name), []):
            match = pattern.match(text)
            if not match:
                continue
            slot = self.slot(intent, slot_name, match.group("said"), asked=True)
            if slot.get("value") is None or _unresolved(Resolved(intent, {slot_name: slot})):
                continue
            slots = self._empty_slots(intent)
            slots[slot_name] = slot
            return Resolved(intent, slots)
        return None

    def nearest(self, utterance: str) -> Resolved | None:
        """The nearest sample's resolution, whatever its score; None if nothing is shared."""
        words = spelled_out(normalise(utterance)).split()
        best: tuple[float, int, _Sample, dict[str, str]] | None = None
        for sample in self._samples:
            for heard, fills in self._readings(sample, words):
                rank = (_jaccard(heard, sample.words), len(fills))
                if best is None or rank > best[:2]:
                    best = (*rank, sample, fills)
        if best is None or best[0] == 0.0:
            return None
        score, _, sample, fills = best
        slots = self._empty_slots(sample.intent)
        for slot_name, run in fills.items():
            slot_type = self.slot_types[f"{sample.intent}.{slot_name}"]
            said = self._spelled.get(slot_type, {}).get(run, run)  # as the model writes it
            slots[slot_name] = self.slot(sample.intent, slot_name, said)
        return Resolved(sample.intent, slots, approximation=sample.text, score=round(score, 3))

    def _readings(self, sample: _Sample, words: list[str]) -> Iterator[tuple[frozenset[str], dict[str, str]]]:
        """Each way the sample's slots can absorb runs of the words: (the words as heard, fills)."""
        choices: list[list[tuple[int, int] | None]] = [
            [None, *self._runs(self.slot_types[f"{sample.intent}.{slot}"], words)] for slot in sample.slots
        ]
        for spans in product(*choices):
            taken = [span for span in spans if span is not None]
            if [start for start, _ in taken] != sorted(start for start, _ in taken):
                continue  # the slots in the sample's order
            covered = [i for start, end in taken for i in range(start, end)]
            if len(covered) != len(set(covered)):
                continue  # two slots cannot absorb the same word
            kept = (w for i, w in enumerate(words) if i not in covered and w not in APPROXIMATION_FILLER)
            left = {stem(w) for w in kept}
            fills = {
                slot: " ".join(words[span[0] : span[1]])
                for slot, span in zip(sample.slots, spans, strict=True)
                if span is not None
            }
            yield frozenset(left | {_slot_unit(slot) for slot in fills}), fills

    def _runs(self, slot_type: str, words: list[str]) -> list[tuple[int, int]]:
        """Every run of words (start, end) that is a value or synonym of the slot type."""
        if slot_type == "AMAZON.TIME":
            return [
                (start, end)
                for start in range(len(words))
                for end in range(start + 1, min(len(words), start + 5) + 1)
                if time_value(" ".join(words[start:end])) is not None
            ]
        if slot_type == "AMAZON.SearchQuery":
            # any phrase at all, but only behind its whole carrier phrase (exact matching): as
            # a near match it would take any sentence sharing a word with the carrier
            return []
        if slot_type == "AMAZON.NUMBER":
            known = {str(number) for number in range(1000)} | set(NUMBER_WORDS)
        else:
            known = set(self._spelled.get(slot_type, {}))
        return [
            (start, end)
            for start in range(len(words))
            for end in range(start + 1, len(words) + 1)
            if " ".join(words[start:end]) in known
        ]

    def _resolve_exactly(self, text: str) -> Resolved:
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

    def slot(self, intent: str, slot_name: str, said: str, *, asked: bool = False) -> dict[str, Any]:
        """A filled slot as Alexa sends it, with ER_SUCCESS_MATCH or ER_SUCCESS_NO_MATCH
        (``asked``: the answer to this slot being elicited)."""
        slot_type = self.slot_types[f"{intent}.{slot_name}"]
        if slot_type == "AMAZON.TIME":  # Alexa sends "20:00" (or "EV"), and no resolutions block
            return {
                "name": slot_name,
                "value": time_value(said, asked=asked),
                "confirmationStatus": "NONE",
                "source": "USER",
            }
        if slot_type == "AMAZON.SearchQuery":  # the words as said, and no resolutions block
            return {"name": slot_name, "value": said, "confirmationStatus": "NONE", "source": "USER"}
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

    @property
    def audio_directives(self) -> list[dict[str, Any]]:
        directives = self.response.get("directives") or []
        return [d for d in directives if str(d.get("type", "")).startswith("AudioPlayer.")]

    @property
    def permission_request(self) -> dict[str, Any] | None:
        """The Connections.SendRequest asking for a permission, if the response carries one."""
        directives = self.response.get("directives") or []
        return next((d for d in directives if d.get("type") == "Connections.SendRequest"), None)

    @property
    def elicited(self) -> tuple[str, str] | None:
        """(intent, slot) a Dialog.ElicitSlot in this response asks Alexa to hear the answer as."""
        for directive in self.response.get("directives") or []:
            if directive.get("type") == "Dialog.ElicitSlot":
                return str(directive["updatedIntent"]["name"]), str(directive["slotToElicit"])
        return None

    @property
    def card(self) -> dict[str, Any] | None:
        card: dict[str, Any] | None = self.response.get("card")
        return card

    def problems(self) -> list[str]:
        """Every way this response breaks Alexa's rules or ours."""
        found: list[str] = []
        if self.envelope.get("version") != "1.0":
            found.append("response version is not 1.0")
        request = self.request.get("request")
        request_type = request.get("type") if isinstance(request, dict) else None
        # Alexa itself speaks after a Connections.SendRequest (the permission question)
        expects_speech = (
            request_type in ("LaunchRequest", "IntentRequest")
            and not self.audio_directives
            and not self.permission_request
        )
        if isinstance(request_type, str) and request_type.startswith(AUDIO_REQUESTS):
            # Alexa refuses any speech, reprompt or card in answer to the player
            found.extend(
                f"{name} in the answer to {request_type}"
                for name in ("outputSpeech", "reprompt", "card")
                if name in self.response
            )
        if "shouldEndSession" not in self.response and expects_speech:
            found.append("shouldEndSession is not set")
        if expects_speech and not self.ssml:
            found.append("no speech")
        if self.session_open and not self.reprompt_ssml:
            found.append("session left open without a reprompt")
        if self.permission_request and ("reprompt" in self.response or self.session_open):
            found.append("a permission request with a reprompt or an open session")
        for label, ssml in (("speech", self.ssml), ("reprompt", self.reprompt_ssml)):
            if ssml:
                found.extend(f"{label}: {p}" for p in read_ssml(ssml).problems)
        return found


@functools.cache
def exact_model(skill_id: str = DEFAULT_SKILL_ID, locale: str = "en-US") -> InteractionModel:
    """The locale's model with exact matching, compiled once (a conversation is cheap to make)."""
    return InteractionModel(model_path(locale), skill_id=skill_id)


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
        locale: str = "en-US",
        player: Player | None = None,
        alexa_api: FakeAlexaApi | None = None,
        reminders_granted: bool = False,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """``alexa_api``: the local fake of the Alexa APIs the envelopes point at (None: the
        envelopes name no API endpoint, so the skill calls none). ``reminders_granted``: the
        user has already given the skill the reminders permission. ``clock``: the device's
        time, stamped on every request as Alexa does (None: requests carry no timestamp,
        and the skill counts by its own clock)."""
        self.handler = handler
        self.clock = clock
        self.alexa_api = alexa_api
        self.reminders_granted = reminders_granted
        if alexa_api is not None and reminders_granted:
            alexa_api.grant()
        self.player = player
        if player is not None:
            player.conversation = self
        self.locale = locale
        self.model = model or exact_model(skill_id, locale)
        self.skill_id = skill_id
        self.user_id = user_id or f"amzn1.ask.account.{uuid.uuid4().hex.upper()}"
        self.person_id = person_id
        self.device_id = f"amzn1.ask.device.{uuid.uuid4().hex.upper()}"
        self.strict = strict
        self.session_id: str | None = None
        self.session_attributes: dict[str, Any] = {}
        self._new = False
        self.eliciting: tuple[str, str] | None = None  # (intent, slot) Alexa was told to ask for
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
        spoken_to_player = PLAYER_PHRASES.get(re.sub(r"^alexa ", "", text))
        if self.session_id is None and spoken_to_player and self.player and self.player.holds_stream:
            # "Alexa, pause" while our audio plays: a built-in intent, in a new session
            self.start_session()
            return self.intent_request(Resolved(spoken_to_player, {}))
        if self.session_id is not None and self.eliciting is not None:
            answer = self.model.elicited(utterance, *self.eliciting)
            if answer is not None:
                return self.intent_request(answer, dialog_state="IN_PROGRESS")
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
    def intent_request(self, resolved: Resolved, dialog_state: str | None = None) -> Reply:
        request: dict[str, Any] = {
            "type": "IntentRequest",
            "intent": {"name": resolved.intent, "confirmationStatus": "NONE", "slots": resolved.slots},
        }
        if dialog_state is not None:
            request["dialogState"] = dialog_state
        return self.send(request)

    def envelope(self, request: dict[str, Any]) -> dict[str, Any]:
        system: dict[str, Any] = {
            "application": {"applicationId": self.skill_id},
            "user": {"userId": self.user_id},
            "device": {"deviceId": self.device_id, "supportedInterfaces": self.interfaces()},
            "apiAccessToken": self.api_access_token,
        }
        if self.alexa_api is not None:
            system["apiEndpoint"] = self.alexa_api.url
        if self.reminders_granted:
            system["user"]["permissions"] = {
                "consentToken": CONSENT_TOKEN,
                "scopes": {REMINDERS_SCOPE: {"status": "GRANTED"}},
            }
        if self.person_id:
            system["person"] = {"personId": self.person_id}
        body = {"requestId": f"amzn1.echo-api.request.{uuid.uuid4()}", "locale": self.locale, **request}
        if self.clock is not None:
            stamp = datetime.fromtimestamp(self.clock(), UTC).replace(tzinfo=None)
            body["timestamp"] = stamp.isoformat(timespec="seconds") + "Z"
        envelope: dict[str, Any] = {"version": "1.0", "context": {"System": system}, "request": body}
        if self.player is not None:
            envelope["context"]["AudioPlayer"] = self.player.context()
        skill_event = request["type"] == "AlexaSkillEvent.SkillDisabled" or request["type"].startswith(
            AUDIO_REQUESTS
        )
        if self.session_id is not None and not skill_event:
            envelope["session"] = {
                "new": self._new,
                "sessionId": self.session_id,
                "application": {"applicationId": self.skill_id},
                "attributes": self.session_attributes,
                "user": {"userId": self.user_id},
            }
        return envelope

    @property
    def api_access_token(self) -> str:
        return self.alexa_api.access_token if self.alexa_api is not None else SIMULATED_ACCESS_TOKEN

    def consent(self, answer: str = "ACCEPTED", code: str = "200") -> Reply:
        """Alexa's answer to the skill's last Connections.SendRequest (the user said yes, no, or
        nothing to the permission question; a code other than 200: voice consent failed). It
        arrives in a new session, with the request's token."""
        asked = next((r.permission_request for r in reversed(self.replies) if r.permission_request), None)
        if asked is None:
            raise DriverError("the skill has not asked for a permission")
        if answer == "ACCEPTED" and code == "200":
            self.reminders_granted = True
            if self.alexa_api is not None:
                self.alexa_api.grant()
        self.start_session()
        scopes = asked.get("payload", {}).get("permissionScopes", [])
        return self.send(
            {
                "type": "Connections.Response",
                "name": asked.get("name", "AskFor"),
                "status": {"code": code, "message": "OK" if code == "200" else "Voice consent failed"},
                "payload": {"permissionScopes": scopes, "status": answer},
                "token": asked.get("token", ""),
            }
        )

    def interfaces(self) -> dict[str, Any]:
        return {"AudioPlayer": {}} if self.player is not None else {}

    def send_event(self, request: dict[str, Any]) -> Reply:
        """A request from the device itself (the player's reports, its buttons): no session."""
        envelope = self.envelope(request)
        reply = Reply(envelope, self.handler(envelope, LambdaContext()))
        self.replies.append(reply)
        if self.strict and (problems := reply.problems()):
            raise AssertionError(f"invalid response to {request['type']}: {problems}")
        return reply

    def wait(self, seconds: float) -> None:
        """Time passes on the device: its player plays on (and reports) meanwhile."""
        if self.player is not None:
            self.player.wait(seconds)

    def send(self, request: dict[str, Any]) -> Reply:
        envelope = self.envelope(request)
        reply = Reply(envelope, self.handler(envelope, LambdaContext()))
        self._new = False
        self.replies.append(reply)
        if self.strict and (problems := reply.problems()):
            raise AssertionError(f"invalid response to {request['type']}: {problems}")
        self.eliciting = None
        if self.session_id is not None:
            self.session_attributes = reply.session_attributes
            if not reply.session_open:
                self.session_id = None
            else:
                self.eliciting = reply.elicited
        if self.player is not None:
            self.player.carry_out(reply)
        return reply
