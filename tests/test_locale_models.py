"""Each locale model against en-US's: the same intents, slots and ids, and its own phrasings."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from ask_sdk_core.serialize import DefaultSerializer
from ask_smapi_model.v1.skill.interaction_model.interaction_model_data import InteractionModelData

from sim.driver import InteractionModel, Resolved
from tests.support import ROOT

CUSTOM = ROOT / "skill_package" / "interactionModels" / "custom"
BASE_PATH = CUSTOM / "en-US.json"
SKILL_JSON = ROOT / "skill_package" / "skill.json"
MODEL_PATHS = sorted(CUSTOM.glob("*.json"))
INVOCATION = "pelvic ease"

# A few phrasings each locale has of its own: (utterance, intent, {slot: value id}).
LOCALE_PHRASES: dict[str, list[tuple[str, str, dict[str, str]]]] = {
    "en-US": [
        ("remind me every day at 8 pm", "SetReminderIntent", {}),
        ("massage my inner thighs", "StartRoutineIntent", {"area": "inner_thighs"}),
        ("resume", "ResumeRoutineIntent", {}),
        ("play it hands free", "PlayStyleIntent", {"style": "straight"}),
        ("step by step", "PlayStyleIntent", {"style": "steps"}),
    ],
    "en-GB": [
        ("remind me to practise every day at 7 pm", "SetReminderIntent", {}),
        ("get rid of my reminder", "CancelReminderIntent", {}),
        ("massage my bum", "StartRoutineIntent", {"area": "glutes"}),
        ("massage my bottom", "StartRoutineIntent", {"area": "glutes"}),
        ("massage my tummy", "StartRoutineIntent", {"area": "lower_abdomen"}),
        ("have a go at the relaxation", "StartRoutineIntent", {"area": "relaxation"}),
        ("I'd like to do the psoas", "StartRoutineIntent", {"area": "psoas"}),
        ("carry on where I left off", "ResumeRoutineIntent", {}),
        ("should I see a physio", "SafetyQuestionIntent", {}),
        ("how am I getting on", "ProgressReportIntent", {}),
        ("go on then", "AMAZON.YesIntent", {}),
        ("do it all in one go", "PlayStyleIntent", {"style": "straight"}),
        ("can we do it one bit at a time", "PlayStyleIntent", {"style": "steps"}),
        ("just crack on without waiting for me", "PlayStyleIntent", {}),
    ],
    "en-AU": [
        ("remind me to practise", "SetReminderIntent", {}),
        ("massage my bum", "StartRoutineIntent", {"area": "glutes"}),
        ("have a go at the relaxation", "StartRoutineIntent", {"area": "relaxation"}),
        ("how am I going", "ProgressReportIntent", {}),
        ("should I see a physio", "SafetyQuestionIntent", {}),
        ("yeah nah", "AMAZON.NoIntent", {}),
        ("run through it all in one go", "PlayStyleIntent", {"style": "straight"}),
        ("play it bit by bit", "PlayStyleIntent", {"style": "steps"}),
    ],
    "en-IN": [
        ("kindly remind me every day at 6 am", "SetReminderIntent", {}),
        ("massage my bottom", "StartRoutineIntent", {"area": "glutes"}),
        ("please start the relaxation", "StartRoutineIntent", {"area": "relaxation"}),
        ("do the massage for my hips", "StartRoutineIntent", {"area": "hips"}),
        ("have a go at the relaxation", "StartRoutineIntent", {"area": "relaxation"}),
        ("kindly resume", "ResumeRoutineIntent", {}),
        ("it is paining", "PainIntent", {}),
        ("should I consult a physiotherapist", "SafetyQuestionIntent", {}),
        ("kindly play it without any break", "PlayStyleIntent", {"style": "straight"}),
        ("please do it one by one", "PlayStyleIntent", {"style": "steps"}),
    ],
    "en-CA": [
        ("could you remind me daily at 9 pm", "SetReminderIntent", {}),
        ("massage my inner thighs", "StartRoutineIntent", {"area": "inner_thighs"}),
        ("I'd like to do the psoas", "StartRoutineIntent", {"area": "psoas"}),
        ("should I see a physiotherapist", "SafetyQuestionIntent", {}),
        ("for sure", "AMAZON.YesIntent", {}),
        ("can we do it hands free", "PlayStyleIntent", {"style": "straight"}),
        ("I'd like to do it step by step", "PlayStyleIntent", {"style": "steps"}),
    ],
}
# Not a yes anywhere: in Britain and Australia "cheers" is thanks, or goodbye.
NEVER_YES = ["cheers"]


def locale_of(path: Path) -> str:
    return path.stem


def language(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["interactionModel"]["languageModel"]
    return data


def intent_slots(path: Path) -> dict[str, dict[str, str]]:
    return {i["name"]: {s["name"]: s["type"] for s in i.get("slots", [])} for i in language(path)["intents"]}


def slot_value_ids(path: Path) -> dict[str, set[str]]:
    return {t["name"]: {v["id"] for v in t["values"]} for t in language(path)["types"]}


def samples(path: Path) -> list[str]:
    return [s for intent in language(path)["intents"] for s in intent.get("samples", [])]


def normalised(sample: str) -> str:
    return " ".join(sample.lower().split())


def slot_ids(resolved: Resolved) -> dict[str, str]:
    """The value id each filled custom slot resolved to."""
    ids: dict[str, str] = {}
    for name, slot in resolved.slots.items():
        for authority in slot.get("resolutions", {}).get("resolutionsPerAuthority", []):
            if authority["status"]["code"] == "ER_SUCCESS_MATCH":
                ids[name] = authority["values"][0]["value"]["id"]
    return ids


def skill_locales() -> dict[str, Any]:
    manifest = json.loads(SKILL_JSON.read_text())["manifest"]
    locales: dict[str, Any] = manifest["publishingInformation"]["locales"]
    return locales


@pytest.fixture(params=MODEL_PATHS, ids=locale_of)
def model_path(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path


def test_there_is_a_model_beside_en_us() -> None:
    assert BASE_PATH in MODEL_PATHS
    assert len(MODEL_PATHS) > 1


def test_same_intents_with_the_same_slot_names_and_types(model_path: Path) -> None:
    assert intent_slots(model_path) == intent_slots(BASE_PATH)


def test_same_slot_types_with_the_same_value_ids(model_path: Path) -> None:
    assert slot_value_ids(model_path) == slot_value_ids(BASE_PATH)


def test_invocation_name(model_path: Path) -> None:
    assert language(model_path)["invocationName"] == INVOCATION


def test_deserialises_with_ask_smapi_model(model_path: Path) -> None:
    model = DefaultSerializer().deserialize(model_path.read_text(encoding="utf-8"), InteractionModelData)
    assert model.interaction_model.language_model.invocation_name == INVOCATION


def test_no_sample_is_duplicated(model_path: Path) -> None:
    seen = [normalised(s) for s in samples(model_path)]
    assert sorted({s for s in seen if seen.count(s) > 1}) == []


def test_samples_keep_alexas_rules(model_path: Path) -> None:
    word = r"(?:[a-zA-Z]+(?:'[a-z]+)?\.?|\{[a-zA-Z]+\})"
    for intent in language(model_path)["intents"]:
        slots = {s["name"] for s in intent.get("slots", [])}
        for sample in intent.get("samples", []):
            assert re.fullmatch(rf"{word}(?: {word})*", sample), (intent["name"], sample)
            assert len(sample) <= 200, sample
            assert set(re.findall(r"\{(\w+)\}", sample)) <= slots, (intent["name"], sample)


def test_builtin_intents_have_samples_only_where_en_us_has_them(model_path: Path) -> None:
    def with_samples(path: Path) -> set[str]:
        intents = language(path)["intents"]
        return {i["name"] for i in intents if i["name"].startswith("AMAZON.") and i["samples"]}

    assert with_samples(model_path) <= with_samples(BASE_PATH)


def test_no_model_is_a_thin_copy(model_path: Path) -> None:
    assert len(samples(model_path)) >= 0.95 * len(samples(BASE_PATH))


def test_loads_in_the_simulator_and_resolves_its_own_phrasings(model_path: Path) -> None:
    model = InteractionModel(path=model_path)
    assert model.invocation == INVOCATION
    for utterance, intent, ids in LOCALE_PHRASES.get(locale_of(model_path), []):
        resolved = model.resolve(utterance)
        assert resolved.intent == intent, utterance
        assert slot_ids(resolved) == ids, utterance
    for utterance in NEVER_YES:
        assert model.resolve(utterance).intent != "AMAZON.YesIntent", utterance


def test_every_model_has_phrasings_to_check() -> None:
    assert {locale_of(p) for p in MODEL_PATHS} <= set(LOCALE_PHRASES)


def test_skill_json_locales_and_model_files_match() -> None:
    assert set(skill_locales()) == {locale_of(p) for p in MODEL_PATHS}


def test_privacy_locales_match_the_published_locales() -> None:
    manifest = json.loads(SKILL_JSON.read_text())["manifest"]
    assert set(manifest["privacyAndCompliance"]["locales"]) == set(skill_locales())


@pytest.mark.parametrize("locale", sorted(skill_locales()))
def test_every_example_phrase_resolves_in_its_locale(locale: str) -> None:
    model = InteractionModel(path=CUSTOM / f"{locale}.json")
    phrases = skill_locales()[locale]["examplePhrases"]
    assert phrases[0] == f"Alexa, open {INVOCATION}"
    assert "not a substitute for professional medical advice" in skill_locales()[locale]["description"]
    for phrase in phrases[1:]:
        text = phrase.lower().replace("alexa, ", "")
        rest = text.split(f"ask {model.invocation} to ", 1)[1]
        assert model.resolve(rest).intent != "AMAZON.FallbackIntent", phrase
