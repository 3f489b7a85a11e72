"""Contract between the interaction model, the handlers and the content."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from ask_sdk_core.serialize import DefaultSerializer
from ask_smapi_model.v1.skill.interaction_model.interaction_model_data import InteractionModelData

from pelvic_ease.content import load_library
from pelvic_ease.dialogue import TABLE
from pelvic_ease.handlers import (
    IntentHandler,
    OtherRequestHandler,
    SessionEndedHandler,
    SkillDisabledHandler,
    UnknownIntentHandler,
    request_handlers,
)
from pelvic_ease.intents import INTENTS as MEANINGS
from sim.driver import BUILTIN_PHRASES, LOCALES, MODEL_PATH, InteractionModel, Resolved, model_path

LIB = load_library()
LANGUAGE: dict[str, Any] = json.loads(MODEL_PATH.read_text())["interactionModel"]["languageModel"]
MODEL_INTENTS = {intent["name"] for intent in LANGUAGE["intents"]}
REQUIRED_BUILTINS = {
    f"AMAZON.{name}Intent"
    for name in (
        [
            "Cancel",
            "Help",
            "Stop",
            "NavigateHome",
            "Fallback",
            "Next",
            "Previous",
            "Repeat",
            "StartOver",
            "Pause",
            "Resume",
            "Yes",
            "No",
        ]
    )
}


# What an AudioPlayer skill must take, in every locale: Alexa sends these while audio plays.
AUDIO_PLAYER_BUILTINS = {
    f"AMAZON.{name}Intent"
    for name in (
        "Pause", "Resume", "Next", "Previous", "StartOver", "LoopOn", "LoopOff", "ShuffleOn", "ShuffleOff",
        "Cancel", "Stop",
    )
}  # fmt: skip


@pytest.mark.parametrize("intent", sorted(MODEL_INTENTS | set(MEANINGS)))
def test_every_model_intent_has_a_meaning_and_every_meaning_is_in_the_model(intent: str) -> None:
    assert intent in MEANINGS
    assert intent in MODEL_INTENTS


@pytest.mark.parametrize("intent", sorted(MEANINGS))
def test_every_meaning_is_something_the_dialogue_core_takes(intent: str) -> None:
    assert MEANINGS[intent].said in TABLE


def test_the_model_has_every_required_builtin_and_custom_intent() -> None:
    custom = {"StartRoutineIntent", "ListRoutinesIntent", "ReadDisclaimerIntent", "ResumeRoutineIntent"}
    assert REQUIRED_BUILTINS | custom <= MODEL_INTENTS


@pytest.mark.parametrize("locale", LOCALES)
def test_every_model_has_the_audio_player_builtins(locale: str) -> None:
    language = json.loads(model_path(locale).read_text(encoding="utf-8"))["interactionModel"]["languageModel"]
    assert sorted(AUDIO_PLAYER_BUILTINS - {intent["name"] for intent in language["intents"]}) == []


def test_invocation_name_follows_the_rules() -> None:
    name = LANGUAGE["invocationName"]
    assert name == "pelvic ease"
    assert name == name.lower()
    assert len(name.split()) >= 2
    assert not {"alexa", "amazon", "echo", "skill", "app", "ask", "open"} & set(name.split())


def test_registry_order_puts_catch_alls_last() -> None:
    handlers = [type(h) for h in request_handlers(None)]  # type: ignore[arg-type]
    assert handlers[0] is SkillDisabledHandler
    assert handlers[1] is SessionEndedHandler
    assert handlers[-3:] == [IntentHandler, UnknownIntentHandler, OtherRequestHandler]
    assert len(set(handlers)) == len(handlers)


def test_start_routine_has_natural_samples_with_and_without_the_slot() -> None:
    samples = next(i for i in LANGUAGE["intents"] if i["name"] == "StartRoutineIntent")["samples"]
    assert len(samples) >= 20
    assert any("{area}" not in s for s in samples)
    for wanted in (
        "massage my {area}",
        "let's do the {area}",
        "I want to relax my {area}",
        "start a routine",
    ):
        assert wanted in samples


# Areas people ask for that no routine covers: the skill says it has no routine for that body
# area (and what it does cover), or, for what it never does, why not (prompts.toml [declined]).
AREAS_WITHOUT_A_ROUTINE = {
    "glutes", "neck", "shoulders", "upper_back", "feet", "calves", "knees", "legs", "arms", "head",
    *LIB.declined,
}  # fmt: skip


def test_every_slot_value_leads_to_exactly_one_routine_and_every_routine_is_reachable() -> None:
    values = LANGUAGE["types"][0]["values"]
    ids = [v["id"] for v in values]
    assert len(ids) == len(set(ids))
    reached = set()
    for area in ids:
        routine = LIB.routine_for_area(area)
        assert (routine is None) == (area in AREAS_WITHOUT_A_ROUTINE), area
        if routine is not None:
            reached.add(routine.id)
    assert reached == set(LIB.routines)
    declared = {a for r in LIB.routines.values() for a in r.areas}
    assert declared == set(ids) - AREAS_WITHOUT_A_ROUTINE


SAID_AREAS = [
    "belly", "tummy", "stomach", "lower abdomen", "hips", "hip bones", "inner thighs", "adductors",
    "groin muscles", "psoas", "hip flexors", "front of the hip", "lower back", "back", "down training",
    "relaxation", "pelvic floor", "full routine", "daily routine",
]  # fmt: skip


def test_synonyms_people_say_are_in_the_slot_type() -> None:
    phrases = {
        p.lower()
        for v in LANGUAGE["types"][0]["values"]
        for p in [v["name"]["value"], *v["name"].get("synonyms", [])]
    }
    for said in SAID_AREAS:
        assert said in phrases, said


def test_no_sample_is_claimed_by_two_intents() -> None:
    owners: dict[str, str] = {}
    for intent in LANGUAGE["intents"]:
        for sample in intent.get("samples", []):
            key = re.sub(r"\s+", " ", sample.lower())
            assert owners.setdefault(key, intent["name"]) == intent["name"], sample


def test_driver_resolves_like_alexa() -> None:
    model = InteractionModel()
    hit = model.resolve("massage my tummy")
    assert hit.intent == "StartRoutineIntent"
    resolution = hit.slots["area"]["resolutions"]["resolutionsPerAuthority"][0]
    assert resolution["status"]["code"] == "ER_SUCCESS_MATCH"
    assert resolution["values"][0]["value"] == {"name": "lower abdomen", "id": "lower_abdomen"}
    miss = model.resolve("massage my elbow")
    assert (
        miss.slots["area"]["resolutions"]["resolutionsPerAuthority"][0]["status"]["code"]
        == "ER_SUCCESS_NO_MATCH"
    )
    assert miss.slots["area"]["value"] == "elbow"
    assert model.resolve("start a routine").slots == {
        name: {"name": name, "confirmationStatus": "NONE"} for name in ("area", "minutes", "length")
    }
    timed = model.resolve("ten minutes of down training").slots["minutes"]
    assert timed["value"] == "10"
    assert "resolutions" not in timed  # AMAZON.NUMBER: digits, no entity resolution
    assert model.resolve("where was I").intent == "ResumeRoutineIntent"
    assert model.resolve("go on").intent == "AMAZON.NextIntent"
    assert model.resolve("the quick brown fox").intent == "AMAZON.FallbackIntent"


# -- the model is one Alexa will build ------------------------------------------------------
INTENTS: dict[str, dict[str, Any]] = {intent["name"]: intent for intent in LANGUAGE["intents"]}
TYPES: dict[str, dict[str, Any]] = {slot_type["name"]: slot_type for slot_type in LANGUAGE["types"]}
# A sample's words: a {slot}, a word with at most one apostrophe ("let's"), or a letter said
# on its own, written with a period ("c. section"); Alexa refuses digits and other marks.
SAMPLE_WORD = re.compile(r"\{\w+\}|[A-Za-z]+(?:'[A-Za-z]+)?|[A-Za-z]\.")
VALUE_WORD = re.compile(r"[a-z]+(?:['-][a-z]+)*|[a-z]\.")
KNOWN_KEYS = {
    "intent": {"name", "slots", "samples"},
    "slot": {"name", "type", "samples"},
    "type": {"name", "values"},
    "value": {"id", "name"},
    "value name": {"value", "synonyms"},
}


def said(text: str) -> str:
    """A sample or phrase as Alexa compares them: case and spacing do not count."""
    return re.sub(r"\s+", " ", text.strip().lower())


def slot_names(sample: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", sample)


def test_the_model_deserialises_with_ask_smapi_model_and_loses_nothing() -> None:
    model = DefaultSerializer().deserialize(MODEL_PATH.read_text(), InteractionModelData)
    language = model.interaction_model.language_model
    assert language.invocation_name == LANGUAGE["invocationName"]
    assert [
        (i.name, [(s.name, s.object_type) for s in i.slots or []], i.samples or []) for i in language.intents
    ] == [
        (i["name"], [(s["name"], s["type"]) for s in i.get("slots", [])], i.get("samples", []))
        for i in LANGUAGE["intents"]
    ]
    assert [
        (t.name, [(v.id, v.name.value, v.name.synonyms or []) for v in t.values]) for t in language.types
    ] == [
        (t["name"], [(v["id"], v["name"]["value"], v["name"].get("synonyms", [])) for v in t["values"]])
        for t in LANGUAGE["types"]
    ]
    # A misspelt key ("sample", "synonym") is dropped by the deserialiser without a word.
    for intent in LANGUAGE["intents"]:
        assert set(intent) <= KNOWN_KEYS["intent"], intent["name"]
        for slot in intent.get("slots", []):
            assert set(slot) <= KNOWN_KEYS["slot"], (intent["name"], slot)
    for slot_type in LANGUAGE["types"]:
        assert set(slot_type) <= KNOWN_KEYS["type"], slot_type["name"]
        for value in slot_type["values"]:
            assert set(value) <= KNOWN_KEYS["value"], value
            assert set(value["name"]) <= KNOWN_KEYS["value name"], value


@pytest.mark.parametrize("name", sorted(INTENTS))
def test_intent_samples_are_ones_alexa_accepts(name: str) -> None:
    intent = INTENTS[name]
    declared = {slot["name"]: slot["type"] for slot in intent.get("slots", [])}
    assert re.fullmatch(r"AMAZON\.[A-Za-z]+Intent|[A-Z][A-Za-z]*Intent", name)
    for slot_type in declared.values():
        assert slot_type.startswith("AMAZON.") or slot_type in TYPES, slot_type
    samples = intent.get("samples", [])
    assert len({said(s) for s in samples}) == len(samples), "a sample is repeated"
    used: set[str] = set()
    for sample in samples:
        assert sample == sample.strip()
        assert "  " not in sample
        words = sample.split(" ")
        assert all(SAMPLE_WORD.fullmatch(word) for word in words), sample
        slots = slot_names(sample)
        assert len(slots) == len(set(slots)), sample
        assert set(slots) <= set(declared), sample
        used.update(slots)
    assert used == set(declared), "a declared slot is in no sample"


@pytest.mark.parametrize("name", sorted(TYPES))
def test_slot_type_values_have_stable_ids_and_phrases_said_once(name: str) -> None:
    values = TYPES[name]["values"]
    ids = [value["id"] for value in values]
    assert all(re.fullmatch(r"[a-z][a-z_]*", i) for i in ids), ids
    assert len(ids) == len(set(ids))
    phrases = [said(p) for v in values for p in [v["name"]["value"], *v["name"].get("synonyms", [])]]
    assert len(phrases) == len(set(phrases)), [p for p in phrases if phrases.count(p) > 1]
    for phrase in phrases:
        assert all(VALUE_WORD.fullmatch(word) for word in phrase.split(" ")), phrase
    assert any(slot["type"] == name for i in INTENTS.values() for slot in i.get("slots", [])), "unused"


def test_no_sample_is_a_builtin_phrasing_of_another_intent() -> None:
    builtin = {phrase: intent for intent, phrases in BUILTIN_PHRASES.items() for phrase in phrases}
    for intent in LANGUAGE["intents"]:
        for sample in intent.get("samples", []):
            assert builtin.get(said(sample), intent["name"]) == intent["name"], sample


# -- every sample, filled with every value of its slots, reaches its own intent -----------------
SPOKEN_NUMBERS = [("ten", "10"), ("twenty five", "25")]
# AMAZON.TIME: what a person says, what Alexa sends (a time, or a part of the day)
SPOKEN_TIMES = [("8 pm", "20:00"), ("seven in the morning", "07:00")]


def slot_outcomes(resolved: Resolved) -> dict[str, str]:
    """The filled slots: a custom slot's resolved id (it must match), a number's digits."""
    outcomes: dict[str, str] = {}
    for name, slot in resolved.slots.items():
        if "resolutions" in slot:
            authority = slot["resolutions"]["resolutionsPerAuthority"][0]
            assert authority["status"]["code"] == "ER_SUCCESS_MATCH", slot
            outcomes[name] = authority["values"][0]["value"]["id"]
        elif slot.get("value") is not None:
            outcomes[name] = slot["value"]
    return outcomes


def phrases_of(slot_type: str) -> list[tuple[str, str]]:
    """(what a person says, what the skill receives) for each value of a slot type."""
    if slot_type == "AMAZON.NUMBER":
        return SPOKEN_NUMBERS
    if slot_type == "AMAZON.TIME":
        return SPOKEN_TIMES
    if slot_type == "AMAZON.SearchQuery":
        return [("fix my pillow", "fix my pillow")]
    return [
        (phrase, value["id"])
        for value in TYPES[slot_type]["values"]
        for phrase in [value["name"]["value"], *value["name"].get("synonyms", [])]
    ]


def fillings(intent: str, sample: str) -> list[tuple[str, dict[str, str]]]:
    """The sample with each value of each slot in turn (its other slots on their first value)."""
    types = {slot["name"]: slot["type"] for slot in INTENTS[intent].get("slots", [])}
    choices: dict[str, list[tuple[str, str]]] = {}
    for slot in slot_names(sample):
        options = phrases_of(types[slot])
        if f"{{{slot}}} {{" in sample:
            # The driver gives the first of two adjacent slots the shortest run of words, so
            # it cannot hear "a full length daily massage"; Alexa can. Fill it with one word.
            options = [(phrase, outcome) for phrase, outcome in options if " " not in phrase]
        choices[slot] = options
    if not choices:
        return [(sample, {})]
    result = []
    for varied, options in choices.items():
        for option in options:
            chosen = {slot: option if slot == varied else opts[0] for slot, opts in choices.items()}
            text = sample
            for slot, (phrase, _) in chosen.items():
                text = text.replace(f"{{{slot}}}", phrase)
            result.append((text, {slot: outcome for slot, (_, outcome) in chosen.items()}))
    return result


EVERY_SAMPLE = [
    (intent["name"], sample) for intent in LANGUAGE["intents"] for sample in intent.get("samples", [])
]


@pytest.mark.parametrize(("intent", "sample"), EVERY_SAMPLE)
def test_every_sample_resolves_to_its_own_intent_whatever_fills_its_slots(intent: str, sample: str) -> None:
    model = EXACT
    for utterance, outcomes in fillings(intent, sample):
        resolved = model.resolve(utterance)
        assert (resolved.intent, slot_outcomes(resolved)) == (intent, outcomes), utterance


# -- what a new user says -------------------------------------------------------------------
EXACT = InteractionModel()
MINIMUM_SAMPLES = {
    "WaitIntent": 8,
    "DoneIntent": 8,
    "LastStepIntent": 4,
    "HowLongIntent": 10,
    "SafetyQuestionIntent": 60,
    "SymptomIntent": 60,
    "QuestionIntent": 40,
    "WhyIntent": 15,
    "WhatsNextIntent": 10,
    "ThanksIntent": 10,
    "FellAsleepIntent": 10,
    "VolumeIntent": 15,
    "MusicIntent": 15,
    "NoBallIntent": 8,
    "OtherSideIntent": 10,
    "LaterIntent": 15,
    "WhyNoKegelsIntent": 6,
    "ChooseByLengthIntent": 8,
    "LessTalkingIntent": 6,
    "PlayStyleIntent": 15,
    "SetReminderIntent": 15,
    "ChangeReminderIntent": 10,
    "ReminderTimeIntent": 6,
    "CancelReminderIntent": 10,
    "ReminderStatusIntent": 10,
}
NEW_SLOTS = {
    "HowLongIntent": [("area", "AREA")],
    "SafetyQuestionIntent": [("condition", "CONDITION"), ("weeks", "AMAZON.NUMBER")],
    "SymptomIntent": [("symptom", "SYMPTOM"), ("part", "BODY_PART")],
    "QuestionIntent": [("topic", "TOPIC")],
    "WaitIntent": [("errand", "AMAZON.SearchQuery")],
    "ChooseByLengthIntent": [("minutes", "AMAZON.NUMBER"), ("length", "LENGTH")],
    "LessTalkingIntent": [("amount", "TALKING")],
    "PlayStyleIntent": [("style", "PLAY_STYLE")],
    "SetReminderIntent": [("time", "AMAZON.TIME")],
    "ChangeReminderIntent": [("time", "AMAZON.TIME")],
    "ReminderTimeIntent": [("time", "AMAZON.TIME")],
}
# (what a person lying down says, the intent Alexa sends, its filled slots: custom ids, numbers)
NEW_USER_PHRASES: list[tuple[str, str, dict[str, str]]] = [
    *[
        (phrase, "WaitIntent", {})
        for phrase in (
            "wait", "hold on", "hang on", "one moment", "just a moment", "give me a minute",
            "give me a second", "wait a minute", "give me a moment", "let me get comfortable",
        )
    ],
    *[
        (phrase, "DoneIntent", {})
        for phrase in (
            "I'm done", "that's enough", "finish", "I'm finished", "that's enough for today",
            "let's stop here", "I want to stop for today", "I'm all done",
        )
    ],
    *[
        (phrase, "LastStepIntent", {})
        for phrase in ("last step", "go to the last step", "skip to the end", "the final step")
    ],
    *[
        (phrase, "HowLongIntent", {})
        for phrase in (
            "how long is this", "how much is left", "how long does this take", "how long will it take",
            "how many steps are left", "how much longer",
        )
    ],
    ("how long is the psoas", "HowLongIntent", {"area": "psoas"}),
    ("how long is the tummy", "HowLongIntent", {"area": "lower_abdomen"}),
    ("how long does the lower back take", "HowLongIntent", {"area": "lower_back"}),
    *[(phrase, "SafetyQuestionIntent", {}) for phrase in ("is this safe", "should I see a doctor")],
    ("is this safe if I'm pregnant", "SafetyQuestionIntent", {"condition": "pregnant"}),
    ("can I do this while pregnant", "SafetyQuestionIntent", {"condition": "pregnant"}),
    ("I'm pregnant", "SafetyQuestionIntent", {"condition": "pregnant"}),
    ("I'm twenty weeks pregnant", "SafetyQuestionIntent", {"condition": "pregnant", "weeks": "20"}),
    ("can I do this after surgery", "SafetyQuestionIntent", {"condition": "surgery"}),
    ("I had surgery last week", "SafetyQuestionIntent", {"condition": "surgery"}),
    ("is it okay after giving birth", "SafetyQuestionIntent", {"condition": "postpartum"}),
    ("is this safe after a c section", "SafetyQuestionIntent", {"condition": "c_section"}),
    ("is this safe after a c. section", "SafetyQuestionIntent", {"condition": "c_section"}),
    ("can I do this if I have a hernia", "SafetyQuestionIntent", {"condition": "hernia"}),
    ("I have an IUD", "SafetyQuestionIntent", {"condition": "iud"}),
    ("is it okay on my period", "SafetyQuestionIntent", {"condition": "period"}),
    ("I have endometriosis", "SafetyQuestionIntent", {"condition": "recurring"}),
    # symptoms: a red flag or not is the content's call (prompts.toml [symptoms])
    ("I'm bleeding", "SymptomIntent", {"symptom": "bleeding"}),
    ("I can't breathe", "SymptomIntent", {"symptom": "breathless"}),
    ("I feel faint", "SymptomIntent", {"symptom": "faint"}),
    ("I feel dizzy", "SymptomIntent", {"symptom": "dizzy"}),
    ("I feel sick", "SymptomIntent", {"symptom": "sick"}),
    ("my leg is numb", "SymptomIntent", {"symptom": "numb", "part": "leg"}),
    ("it's tingling", "SymptomIntent", {"symptom": "tingling"}),
    ("this is uncomfortable", "SymptomIntent", {"symptom": "uncomfortable"}),
    ("I'm cold", "SymptomIntent", {"symptom": "cold"}),
    ("what is the psoas", "QuestionIntent", {"topic": "psoas"}),
    ("can I do this in bed", "QuestionIntent", {"topic": "bed"}),
    ("what if I fall asleep", "QuestionIntent", {"topic": "asleep"}),
    ("why bother", "WhyIntent", {}),
    ("what is the point", "QuestionIntent", {"topic": "why"}),
    ("what's next", "WhatsNextIntent", {}),
    ("what did you say", "AMAZON.RepeatIntent", {}),
    ("go back a bit", "AMAZON.PreviousIntent", {}),
    ("thank you", "ThanksIntent", {}),
    ("bye", "AMAZON.StopIntent", {}),
    ("I fell asleep", "FellAsleepIntent", {}),
    ("louder", "VolumeIntent", {}),
    ("can you play music", "MusicIntent", {}),
    ("I don't have a ball", "NoBallIntent", {}),
    ("let me get one", "WaitIntent", {}),
    ("do the other side", "OtherSideIntent", {}),
    ("start again tomorrow", "LaterIntent", {}),
    ("do a kegel", "StartRoutineIntent", {"area": "kegels"}),
    ("massage my vagina", "StartRoutineIntent", {"area": "internal"}),
    *[
        (phrase, "WhyNoKegelsIntent", {})
        for phrase in (
            "why no kegels", "should I do kegels", "what about kegels", "can I do kegels",
            "why don't you do kegels", "do kegels help",
        )
    ],
    ("ten minutes", "ChooseByLengthIntent", {"minutes": "10"}),
    ("I have five minutes", "ChooseByLengthIntent", {"minutes": "5"}),
    ("I only have fifteen minutes", "ChooseByLengthIntent", {"minutes": "15"}),
    ("something short", "ChooseByLengthIntent", {"length": "short"}),
    ("something quick", "ChooseByLengthIntent", {"length": "short"}),
    ("a long one", "ChooseByLengthIntent", {"length": "long"}),
    ("give me something brief", "ChooseByLengthIntent", {"length": "short"}),
    *[
        (phrase, "LessTalkingIntent", {"amount": "less"})
        for phrase in (
            "less talking", "fewer cues", "more quiet", "talk less", "more silence", "quieter",
            "please talk less", "can you talk less", "a bit quieter", "less talking please",
        )
    ],
    *[
        (phrase, "LessTalkingIntent", {"amount": "more"})
        for phrase in ("more cues", "more guidance", "talk more", "I'd like more talking", "a bit more")
    ],
    ("a ten minute massage", "StartRoutineIntent", {"minutes": "10"}),
    ("start a relaxation", "StartRoutineIntent", {"area": "relaxation"}),
    ("start a short relaxation", "StartRoutineIntent", {"area": "relaxation", "length": "short"}),
    ("massage my tummy", "StartRoutineIntent", {"area": "lower_abdomen"}),
    ("massage my lower abdomen", "StartRoutineIntent", {"area": "lower_abdomen"}),
    ("relax my hips", "StartRoutineIntent", {"area": "hips"}),
    ("relax", "StartRoutineIntent", {"area": "relaxation"}),
    *[
        (f"massage my {said_area}", "StartRoutineIntent", {"area": "glutes"})
        for said_area in ("glutes", "butt", "bum", "buttocks", "backside")
    ],
    *[
        (phrase, "ListRoutinesIntent", {})
        for phrase in ("what can you do", "what routines are there", "what do you have")
    ],
    *[
        (phrase, "AMAZON.YesIntent", {})
        for phrase in ("sure", "okay", "ok", "yes please", "go ahead", "let's do it")
    ],
    *[(phrase, "AMAZON.NoIntent", {}) for phrase in ("no thanks", "not now", "nope")],
    # What the new intents took over leaves the old ones with their own words.
    ("pause", "AMAZON.PauseIntent", {}),
    ("pause please", "AMAZON.PauseIntent", {}),
    ("go back", "AMAZON.PreviousIntent", {}),
    ("the step before", "AMAZON.PreviousIntent", {}),
    ("go on", "AMAZON.NextIntent", {}),
    ("next step", "AMAZON.NextIntent", {}),
    ("end here", "AMAZON.StopIntent", {}),
    ("finish my routine", "ResumeRoutineIntent", {}),
    ("go slower", "ChangePaceIntent", {"pace": "slower"}),
    ("is this medical advice", "ReadDisclaimerIntent", {}),
    *[
        (phrase, "PlayStyleIntent", {"style": "straight"})
        for phrase in (
            "play it straight through", "hands-free", "hands free", "straight through", "without stopping",
            "play it without stopping", "play the routine hands free", "go nonstop", "do it in one go",
        )
    ],
    *[
        (phrase, "PlayStyleIntent", {"style": "steps"})
        for phrase in ("step by step", "one step at a time", "play it step by step", "switch to step by step")
    ],
    # With no style said, the skill plays straight through: these samples must all mean that.
    *[
        (phrase, "PlayStyleIntent", {})
        for phrase in ("don't stop between steps", "keep going without me saying next")
    ],
    # A daily reminder: AMAZON.TIME sends "20:00" for "8 pm", "EV" for "in the evening".
    ("remind me every day at 8 pm", "SetReminderIntent", {"time": "20:00"}),
    ("remind me every day at eight p.m.", "SetReminderIntent", {"time": "20:00"}),
    ("set a daily reminder", "SetReminderIntent", {}),
    ("remind me to practice at 7 30 am", "SetReminderIntent", {"time": "07:30"}),
    ("change my reminder to 7 in the morning", "ChangeReminderIntent", {"time": "07:00"}),
    ("move my reminder to noon", "ChangeReminderIntent", {"time": "12:00"}),
    ("at 8 pm", "ReminderTimeIntent", {"time": "20:00"}),
    ("at six thirty in the evening", "ReminderTimeIntent", {"time": "18:30"}),
    ("how about 8 pm", "ReminderTimeIntent", {"time": "20:00"}),  # a time alone: only when asked (a dialog)
    *[
        (phrase, "CancelReminderIntent", {})
        for phrase in (
            "cancel my reminder", "stop reminding me", "delete my reminder", "turn off my reminder",
        )
    ],
    *[
        (phrase, "ReminderStatusIntent", {})
        for phrase in ("do I have a reminder", "when is my reminder", "what time is my reminder")
    ],
    # A number on its own is no time: the length of a routine keeps its words.
    ("ten minutes", "ChooseByLengthIntent", {"minutes": "10"}),
    # The words a step by step session is driven with keep their intents.
    ("wait for me", "WaitIntent", {}),
    ("keep going", "AMAZON.NextIntent", {}),
]  # fmt: skip


@pytest.mark.parametrize(("utterance", "intent", "slots"), NEW_USER_PHRASES)
def test_what_a_new_user_says_reaches_the_intended_intent(
    utterance: str, intent: str, slots: dict[str, str]
) -> None:
    resolved = EXACT.resolve(utterance)
    assert (resolved.intent, slot_outcomes(resolved)) == (intent, slots)
    assert resolved.approximation is None


@pytest.mark.parametrize(("intent", "minimum"), sorted(MINIMUM_SAMPLES.items()))
def test_new_intents_have_enough_varied_samples(intent: str, minimum: int) -> None:
    assert len(INTENTS[intent].get("samples", [])) >= minimum
    declared = [(slot["name"], slot["type"]) for slot in INTENTS[intent].get("slots", [])]
    assert declared == NEW_SLOTS.get(intent, [])


@pytest.mark.parametrize(
    ("intent", "sample"),
    [
        ("AMAZON.PauseIntent", "hold on"),
        ("AMAZON.PauseIntent", "wait"),
        ("AMAZON.NextIntent", "I'm done"),
        ("AMAZON.NextIntent", "finish"),
        ("AMAZON.PreviousIntent", "last step"),
        ("AMAZON.StopIntent", "that's enough for today"),
    ],
)
def test_a_phrase_moved_to_a_new_intent_left_its_old_one(intent: str, sample: str) -> None:
    assert said(sample) not in {said(s) for s in INTENTS[intent].get("samples", [])}


def test_talking_says_less_or_more() -> None:
    values = {v["id"]: v["name"] for v in TYPES["TALKING"]["values"]}
    assert set(values) == {"less", "more"}
    assert {
        "fewer cues", "less talking", "more quiet", "more silence", "quieter", "talk less",
    } <= {values["less"]["value"], *values["less"]["synonyms"]}  # fmt: skip
    assert {"more cues", "more guidance", "talk more", "more talking"} <= {
        values["more"]["value"],
        *values["more"]["synonyms"],
    }


def test_play_style_is_straight_through_or_step_by_step() -> None:
    values = {v["id"]: v["name"] for v in TYPES["PLAY_STYLE"]["values"]}
    assert set(values) == {"straight", "steps"}
    assert {
        "straight through", "hands-free", "hands free", "without stopping", "continuously",
        "all the way through", "in one go", "nonstop", "as audio",
    } <= {values["straight"]["value"], *values["straight"]["synonyms"]}  # fmt: skip
    assert {
        "step by step", "one step at a time", "with pauses", "at my pace", "stopping between steps",
    } <= {values["steps"]["value"], *values["steps"]["synonyms"]}  # fmt: skip


# -- what the content says about what people say, held to the model's ids ----------------------
def ids_of(type_name: str) -> set[str]:
    return {value["id"] for value in TYPES[type_name]["values"]}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_topic_has_its_answer_and_every_answer_a_topic(locale: str) -> None:
    library = load_library(locale=locale)
    # "routine" is answered from the routine under way (its summary)
    assert set(library.answers) == ids_of("TOPIC") - {"routine"}


def test_the_contents_classifications_name_the_models_ids() -> None:
    assert LIB.red_flags <= ids_of("SYMPTOM")
    assert LIB.pains <= ids_of("SYMPTOM")
    assert set(LIB.soothed) <= ids_of("SYMPTOM")
    assert not LIB.red_flags & LIB.pains
    assert not LIB.red_flags & set(LIB.soothed)
    assert LIB.red_flag_parts <= ids_of("BODY_PART")
    assert set(LIB.declined) <= ids_of("AREA")
    for area in LIB.declined:
        assert LIB.routine_for_area(area) is None


def test_no_sample_is_a_bare_built_in_slot() -> None:
    """ "{time}" alone would take any speech as a time: only as a slot's own sample, heard while
    the dialog asks for that slot."""
    for intent in LANGUAGE["intents"]:
        types = {slot["name"]: slot["type"] for slot in intent.get("slots", [])}
        for sample in intent.get("samples", []):
            words = [word for word in sample.split() if word.lower() not in {"please", "the", "a"}]
            if len(words) == 1 and (slot := slot_names(sample)[:1]):
                assert not types[slot[0]].startswith("AMAZON."), (intent["name"], sample)


def test_the_time_question_is_a_dialog_with_the_slots_own_samples() -> None:
    model = json.loads(MODEL_PATH.read_text())["interactionModel"]
    elicited = {
        (intent["name"], slot["name"])
        for intent in model["dialog"]["intents"]
        for slot in intent["slots"]
        if slot.get("elicitationRequired")
    }
    assert elicited == {("SetReminderIntent", "time")}
    [time] = [s for s in INTENTS["SetReminderIntent"]["slots"] if s["name"] == "time"]
    assert "{time}" in time["samples"]
    assert {p["id"] for p in model["prompts"]} == {
        slot["prompts"]["elicitation"] for intent in model["dialog"]["intents"] for slot in intent["slots"]
    }
