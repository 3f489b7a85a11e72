"""Every recorded envelope in events/ gets a valid response through the real handler."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

import pytest

from pelvic_ease.content import default_library
from pelvic_ease.markets import LOCALES
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
        assert reply.text or reply.audio_directives  # "Alexa, pause": the audio stops, silently
        assert "shouldEndSession" in reply.response


@pytest.mark.parametrize("locale", [locale for locale in LOCALES if locale != "en-US"])
def test_each_locale_has_a_launch_and_a_start_routine_event_answered_in_its_words(
    locale: str, handler: Callable[..., dict[str, Any]]
) -> None:
    library = default_library(locale)
    launch = load_event(f"launch_{locale}")
    assert launch["request"]["locale"] == locale
    reply = Reply(launch, handler(launch, LambdaContext()))
    assert library.disclaimer_text in reply.text
    start = load_event(f"start_routine_{locale}")
    assert start["request"]["locale"] == locale
    started = Reply(start, handler(start, LambdaContext()))
    assert started.text.startswith(
        library.say("routine_start", routine=library.routines["daily_massage.hips"].name)
    )


def test_no_test_reaches_a_host_but_this_machine() -> None:
    # The recorded envelopes name Amazon's apiEndpoint; conftest.py refuses every look-up and
    # connection off 127.0.0.1, so a call that escaped the local fake fails instead.
    assert load_event("set_reminder")["context"]["System"]["apiEndpoint"] == "https://api.amazonalexa.com"
    with pytest.raises(OSError, match=r"only 127\.0\.0\.1"):
        socket.create_connection(("api.amazonalexa.com", 443), timeout=1)
    with pytest.raises(OSError, match=r"only 127\.0\.0\.1"):
        socket.create_connection(("52.94.236.248", 443), timeout=1)
    with socket.create_server(("127.0.0.1", 0)) as server:
        socket.create_connection(server.getsockname()[:2], timeout=1).close()
