"""Every recorded envelope in events/ gets a valid response through the real handler."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from sim.driver import MODEL_PATH, LambdaContext, Reply
from tests.support import EVENTS, load_event

NAMES = sorted(p.stem for p in EVENTS.glob("*.json"))
MODEL_INTENTS = {
    i["name"] for i in json.loads(MODEL_PATH.read_text())["interactionModel"]["languageModel"]["intents"]
}


def test_events_cover_every_request_type_and_intent() -> None:
    seen_types, seen_intents = set(), set()
    for name in NAMES:
        request = load_event(name)["request"]
        seen_types.add(request["type"])
        if request["type"] == "IntentRequest":
            seen_intents.add(request["intent"]["name"])
    assert {
        "LaunchRequest",
        "IntentRequest",
        "SessionEndedRequest",
        "AlexaSkillEvent.SkillDisabled",
    } <= seen_types
    assert seen_intents >= MODEL_INTENTS
    assert seen_intents - MODEL_INTENTS  # an unknown intent is recorded too


@pytest.mark.parametrize("name", NAMES)
def test_event_gets_a_valid_response(name: str, handler: Callable[..., dict[str, Any]]) -> None:
    event = load_event(name)
    reply = Reply(event, handler(event, LambdaContext()))
    assert reply.problems() == []
    if event["request"]["type"] in ("LaunchRequest", "IntentRequest"):
        assert reply.text
        assert "shouldEndSession" in reply.response
