"""Fault injection: every DynamoDB call site x every error class x every request kind.

Each case plays a conversation twice, on two stores: once with the fault armed for one turn,
once without. The user must be answered in that turn, and after one more turn that
changes progress (the fault has cleared) the stored progress must equal the fault-free one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pelvic_ease import app
from pelvic_ease.content import load_library
from pelvic_ease.progress import Progress
from pelvic_ease.repository import DynamoTable, ForgetIncomplete, decode
from pelvic_ease.settings import Settings
from pelvic_ease.skill import build_skill, use_skill
from sim.driver import DEFAULT_SKILL_ID, Clock, Conversation, Reply
from sim.memory_dynamodb import MemoryDynamoDB
from tests.support import FAULTS, TABLE_NAME, FaultyClient

SITES = ["get_item", "put_item", "query", "delete_item"]
UNAVAILABLE = load_library().say("progress_unavailable")


# (request kind, turns before, the turn under fault, the follow-up that changes progress)
SETUP = ["open pelvic ease", "release my psoas", "next"]
PSOAS_MAIN_STEPS = len([step for step in load_library().routines["psoas_release"].steps if not step.optional])
KINDS: dict[str, tuple[list[str], str, str]] = {
    "launch": ([*SETUP, "/end"], "open pelvic ease", "yes"),
    "one-shot-resume": ([*SETUP, "/end"], "ask pelvic ease to resume", "next"),
    "start-routine": (SETUP, "massage my lower back", "next"),
    "next": (SETUP, "next", "next"),
    "previous": (SETUP, "go back", "next"),
    "start-over": (SETUP, "start over", "next"),
    "repeat": (SETUP, "repeat", "next"),
    "help": (SETUP, "help", "next"),
    "read-disclaimer": (SETUP, "read the disclaimer", "next"),
    # every main step of the psoas release, then "next" asks about the tennis ball: "no" completes
    "complete-routine": ([*SETUP, *["next"] * (PSOAS_MAIN_STEPS - 1)], "no", "massage my lower back"),
    "session-ended": (SETUP, "/end", "ask pelvic ease to resume"),
    "skill-disabled": (SETUP, "/disable", "/disable"),
}
CASES = [(kind, site, fault) for kind in KINDS for site in SITES for fault in FAULTS]


def build(clock: Clock, client: Any) -> Callable[..., dict[str, Any]]:
    table = DynamoTable(TABLE_NAME, client_factory=lambda: client, clock=clock)
    skill = build_skill(Settings(TABLE_NAME, DEFAULT_SKILL_ID), table=table, clock=clock)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        use_skill(skill)
        return app.lambda_handler(event, context)

    return handler


def act(conv: Conversation, line: str) -> Reply | None:
    if line == "/end":
        return conv.end_session("EXCEEDED_MAX_REPROMPTS") if conv.session_id else None
    if line == "/disable":
        return conv.disable_skill()
    if conv.session_id is None and not line.startswith(("open ", "ask ")):
        conv.say("open pelvic ease")
    return conv.say(line)


def stored(client: MemoryDynamoDB) -> list[dict[str, Any]]:
    """What a user would notice of the stored progress (not versions or timestamps)."""
    out = []
    for item in client.scan(TableName=TABLE_NAME)["Items"]:
        progress = Progress.from_dict(decode(item))
        out.append(
            {
                "disclaimer": progress.disclaimer_version,
                "position": progress.position,
                "completed": progress.completed,
            }
        )
    return out


@pytest.mark.parametrize(("kind", "site", "fault"), CASES, ids=["-".join(c) for c in CASES])
def test_fault_at_call_site_is_answered_and_progress_recovers(kind: str, site: str, fault: str) -> None:
    before, under_fault, follow_up = KINDS[kind]
    results = []
    for inject in (False, True):
        memory = MemoryDynamoDB()
        faulty = FaultyClient(memory)
        conv = Conversation(build(Clock(), faulty), user_id="amzn1.ask.account.FAULTS")
        for line in before:
            act(conv, line)
        if inject:
            faulty.fail(site, FAULTS[fault], times=None)
        if inject and kind == "skill-disabled" and site in ("query", "delete_item"):
            with pytest.raises(ForgetIncomplete):  # records left behind fail the invocation, visibly
                act(conv, under_fault)
            reply = None
        else:
            reply = act(conv, under_fault)
        faulty.clear()
        if reply is not None:
            assert reply.problems() == []
            if reply.request["request"]["type"] in ("LaunchRequest", "IntentRequest"):
                assert reply.text  # the user is answered
            if UNAVAILABLE in reply.text:
                assert inject  # said only when the read really failed
                act(conv, under_fault)  # the user does as told: says it again, the fault has cleared
        act(conv, follow_up)
        results.append(stored(memory))
    clean, recovered = results
    assert recovered == clean
    if kind == "complete-routine":  # the turn under fault really is the completing one
        assert clean[0]["completed"] == {"psoas_release": 1}
    use_skill(None)
