"""Contract between the interaction model, the handlers and the content."""

from __future__ import annotations

import json
import re
from typing import Any

from pelvic_ease.content import load_library
from pelvic_ease.handlers import (
    FallbackHandler,
    IntentHandler,
    OtherRequestHandler,
    SessionEndedHandler,
    SkillDisabledHandler,
    UnknownIntentHandler,
    request_handlers,
)
from sim.driver import MODEL_PATH, InteractionModel

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


def handled_intents() -> set[str]:
    return {name for h in request_handlers(None) if isinstance(h, IntentHandler) for name in h.intents}  # type: ignore[arg-type]


def test_every_model_intent_has_a_handler_and_every_handler_intent_is_in_the_model() -> None:
    assert handled_intents() == MODEL_INTENTS


def test_the_model_has_every_required_builtin_and_custom_intent() -> None:
    custom = {"StartRoutineIntent", "ListRoutinesIntent", "ReadDisclaimerIntent", "ResumeRoutineIntent"}
    assert REQUIRED_BUILTINS | custom <= MODEL_INTENTS


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
    assert handlers[-3:] == [FallbackHandler, UnknownIntentHandler, OtherRequestHandler]
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


def test_every_slot_value_leads_to_exactly_one_routine_and_every_routine_is_reachable() -> None:
    values = LANGUAGE["types"][0]["values"]
    ids = [v["id"] for v in values]
    assert len(ids) == len(set(ids))
    reached = set()
    for area in ids:
        routine = LIB.routine_for_area(area)
        assert routine is not None, area
        reached.add(routine.id)
    assert reached == set(LIB.routines)
    declared = {a for r in LIB.routines.values() for a in r.areas}
    assert declared == set(ids)


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
