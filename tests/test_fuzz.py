"""Property-based tests through the real handler (issue: Reliability and security).

Random conversations and mutated envelopes; after every turn: nothing escapes the handler
but the SDK's own skill-id rejection, the response has Alexa's shape, its SSML parses and
keeps Alexa's limits with only our own tags, shouldEndSession is set, and every stored
record follows the schema and names a real routine step.

FUZZ_EXAMPLES sets the number of conversations (default 2,000; more for a long run). Each
property runs in shards, each drawing its own random examples, so that the suite's parallel
workers share the run.
"""

from __future__ import annotations

import copy
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from ask_sdk_core.exceptions import AskSdkException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pelvic_ease import app
from pelvic_ease.content import load_library
from pelvic_ease.engine import Engine
from pelvic_ease.memory_table import MemoryTable
from pelvic_ease.progress import Progress
from pelvic_ease.settings import Settings
from pelvic_ease.skill import build_skill, use_skill
from sim.driver import DEFAULT_SKILL_ID, MODEL_PATH, Clock, Conversation, DriverError, LambdaContext, Reply
from tests.support import EVENTS, TABLE_NAME

LIB = load_library()
ENGINE = Engine(LIB)
CONVERSATIONS = int(os.environ.get("FUZZ_EXAMPLES", "2000"))
ENVELOPES = int(os.environ.get("FUZZ_ENVELOPES", str(CONVERSATIONS // 2)))
CONVERSATION_SHARDS, ENVELOPE_SHARDS = 4, 2
OUR_TAGS = {"speak", "prosody", "s", "break"}
LANGUAGE = json.loads(MODEL_PATH.read_text())["interactionModel"]["languageModel"]
INTENTS = [i["name"] for i in LANGUAGE["intents"]]
AREA_WORDS = [
    p for v in LANGUAGE["types"][0]["values"] for p in [v["name"]["value"], *v["name"].get("synonyms", [])]
]
UTTERANCES = sorted(
    {s.replace("{area}", AREA_WORDS[i % len(AREA_WORDS)]) for i, s in enumerate(
        s for intent in LANGUAGE["intents"] for s in intent.get("samples", [])
    )}
    | {"next", "yes", "no", "stop", "cancel", "help", "repeat", "start over", "pause", "go home", "previous"}
)  # fmt: skip
HOSTILE = [
    '<audio src="https://evil.example/x.mp3"/>',
    "&",
    "]]>",
    "<![CDATA[x]]>",
    '"/><break time="100s"/>',
    "a" * 5000,
    "massage my \u202eelbow\u202c 🙂 ñ 中文",
    "",
    "   ",
]
REASONS = ["USER_INITIATED", "ERROR", "EXCEEDED_MAX_REPROMPTS"]

slot_values = st.one_of(st.sampled_from(AREA_WORDS), st.sampled_from(HOSTILE), st.text(max_size=80))
actions = st.one_of(
    st.tuples(st.just("say"), st.sampled_from(UTTERANCES)),
    st.tuples(st.just("say"), st.text(max_size=60)),
    st.tuples(st.just("intent"), st.sampled_from([*INTENTS, "AMAZON.ShuffleOnIntent", "Bogus"]), slot_values),
    st.tuples(st.just("intent_no_slot"), st.sampled_from(["StartRoutineIntent", *INTENTS])),
    st.tuples(st.just("launch")),
    st.tuples(st.just("one_shot"), st.sampled_from(UTTERANCES)),
    st.tuples(st.just("end"), st.sampled_from(REASONS)),
    st.tuples(st.just("drop")),
    st.tuples(st.just("wait"), st.integers(min_value=0, max_value=30)),
    st.tuples(st.just("other_user")),
)


def check_reply(reply: Reply) -> None:
    assert reply.problems() == [], reply.problems()
    for ssml in (reply.ssml, reply.reprompt_ssml):
        tags = set(re.findall(r"<\s*([a-zA-Z:-]+)", ssml))
        assert tags <= OUR_TAGS, tags  # nothing from a slot became markup


@pytest.fixture
def memory(clock: Clock) -> Iterator[MemoryTable]:
    """The real handler on the repository's in-memory table (tests/test_repository.py ties it to moto)."""
    table = MemoryTable()
    use_skill(build_skill(Settings(TABLE_NAME, DEFAULT_SKILL_ID), table=table, clock=clock))
    yield table
    use_skill(None)


def check_store(memory: MemoryTable) -> None:
    for record in memory.records.values():
        progress = Progress.from_dict(record)  # raises if the schema is broken
        if progress.position is not None:
            assert ENGINE.is_valid(progress.position), progress
        assert progress.disclaimer_version <= LIB.disclaimer_version


def play(conv: Conversation, action: tuple[Any, ...], clock: Clock) -> Reply | None:
    kind = action[0]
    if kind == "wait":
        clock.advance(days=action[1])
        return None
    if kind == "drop":
        conv.drop_session()
        return None
    if kind == "launch":
        return conv.say("open pelvic ease")
    if kind == "one_shot":
        return conv.say(f"ask pelvic ease to {action[1]}")
    if conv.session_id is None:
        conv.say("open pelvic ease")
    if kind == "end":
        return conv.end_session(action[1])
    if kind == "say":
        try:
            return conv.say(action[1])
        except DriverError:
            return None
    if kind == "intent":
        slots = {"area": action[2]} if action[1] == "StartRoutineIntent" else {}
        return conv.intent(action[1], **slots)
    return conv.intent(action[1])


def per_shard(examples: int, shards: int) -> int:
    """Examples for each of ``shards`` so that together they run at least ``examples``."""
    return max(1, -(-examples // shards))


def shards(count: int) -> list[Any]:
    """Shard 0 counts for coverage; the others run the same checks untraced: tracing doubles
    their cost (about 15 s of the suite's CPU), and more random examples reach almost no line
    the first shard does not (measured: 8 branches of 13,779, different each run)."""
    return [0, *(pytest.param(shard, marks=pytest.mark.no_cover) for shard in range(1, count))]


@pytest.mark.parametrize("shard", shards(CONVERSATION_SHARDS))
@settings(
    max_examples=per_shard(CONVERSATIONS, CONVERSATION_SHARDS),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=st.lists(actions, min_size=1, max_size=10))
def test_random_conversations_keep_every_invariant(
    shard: int, script: list[tuple[Any, ...]], memory: MemoryTable, clock: Clock
) -> None:
    memory.records.clear()
    handler = app.lambda_handler
    account = f"amzn1.ask.account.FUZZ{uuid.uuid4().hex.upper()}"
    people = [Conversation(handler, user_id=account, strict=False), Conversation(handler, strict=False)]
    current = 0
    for action in script:
        if action[0] == "other_user":
            current = 1 - current
            continue
        reply = play(people[current], action, clock)
        if reply is not None:
            check_reply(reply)
    check_store(memory)


# -- malformed and hostile envelopes ---------------------------------------------------------
BASE_EVENTS = [json.loads(p.read_text()) for p in sorted(EVENTS.glob("*.json"))]
WRONG_VALUES = [
    None,
    0,
    -1,
    True,
    "",
    "x" * 10_000,
    [],
    {},
    [1, 2],
    {"a": 1},
    "Ünïcødé 🙂",
    '<audio src="x"/>',
]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, (*prefix, index))
    return found


@st.composite
def mutated_envelopes(draw: st.DrawFn) -> dict[str, Any]:
    event = copy.deepcopy(draw(st.sampled_from(BASE_EVENTS)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        all_paths = paths(event)
        if not all_paths:
            break
        path = draw(st.sampled_from(all_paths))
        parent = event
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(draw(st.sampled_from(WRONG_VALUES)))
    return event


SPECIAL = [
    {"version": "1.0"},
    {},
    {"version": "1.0", "request": {"type": "Alexa.Presentation.APL.UserEvent", "requestId": "r1"}},
    {
        "version": "1.0",
        "request": {"type": "IntentRequest", "requestId": "r2", "intent": {"name": "NoSuchIntent"}},
    },
]


@pytest.mark.parametrize(
    "event",
    SPECIAL
    + [
        dict(e, context={"System": {"application": e["context"]["System"]["application"]}})
        for e in BASE_EVENTS[:3]
    ],
)
def test_special_envelopes_are_answered_or_rejected(event: dict[str, Any], memory: MemoryTable) -> None:
    answer_or_reject(event, app.lambda_handler)
    check_store(memory)


def answer_or_reject(event: dict[str, Any], handler: Callable[..., dict[str, Any]]) -> None:
    try:
        response = handler(copy.deepcopy(event), LambdaContext())
    except AskSdkException as rejection:  # the only exception allowed out: a rejected caller
        message = str(rejection)
    else:
        message = ""
    if message:
        assert "Skill ID" in message or "rejected" in message
        return
    json.dumps(response)  # valid JSON
    assert response["version"] == "1.0"
    reply = Reply(event, response)
    if reply.ssml:
        check_reply(reply)
        assert "shouldEndSession" in reply.response


@pytest.mark.parametrize("shard", shards(ENVELOPE_SHARDS))
@settings(
    max_examples=per_shard(ENVELOPES, ENVELOPE_SHARDS),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(event=mutated_envelopes())
def test_mutated_envelopes_are_answered_or_rejected(
    shard: int, event: dict[str, Any], memory: MemoryTable
) -> None:
    answer_or_reject(event, app.lambda_handler)
    check_store(memory)
