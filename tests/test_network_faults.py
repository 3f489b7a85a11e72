"""Faults on the wire: the real botocore client, through a fault-injecting proxy on 127.0.0.1
(tests/fault_proxy.py), to moto's DynamoDB server, under the real lambda_handler.

For each fault: every turn answers within 6.5 s by the Lambda context's own clock, the user
hears a valid answer, and once the network is well again the stored place and completion
count equal those of a twin conversation that met no fault. Run with -s for the table.
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from pelvic_ease import app
from pelvic_ease.content import load_library
from pelvic_ease.progress import Change, Progress
from pelvic_ease.repository import DynamoTable, ProgressKey, decode
from pelvic_ease.settings import Settings
from pelvic_ease.skill import build_skill, use_skill
from sim.driver import DEFAULT_SKILL_ID, Clock, Conversation, LambdaContext, Reply
from sim.local_dynamodb import LOCAL_TABLE, moto_server
from sim.local_skill import quietly
from tests.fault_proxy import FaultProxy

LIB = load_library()
DEADLINE_MS = 6_500  # Lambda's 7 s timeout, less room for the platform
UNAVAILABLE = LIB.say("progress_unavailable")
SAVE_FAILED = LIB.say("save_failed")
INNER_THIGH_STEPS = len(LIB.routines["inner_thigh"].steps)


@dataclass
class Network:
    moto_url: str
    proxy: FaultProxy
    turn_ms: list[int] = field(default_factory=list)

    def skill(self, clock: Clock) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
        """The real handler on a new DynamoTable whose default client (the deployed timeouts
        and retry settings) talks to the proxy; each turn's time is taken from its context."""
        table = DynamoTable(LOCAL_TABLE, clock=clock)
        skill = build_skill(Settings(LOCAL_TABLE, DEFAULT_SKILL_ID), table=table, clock=clock)
        handler = quietly(app.lambda_handler)

        def call(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
            use_skill(skill)
            result = handler(event, context)
            self.turn_ms.append(context.timeout_ms - context.get_remaining_time_in_millis())
            return result

        return call

    def record(self, user_id: str) -> Progress:
        """The stored record, straight from moto, not through the proxy."""
        key = ProgressKey.of(user_id)
        client = boto3.client("dynamodb", endpoint_url=self.moto_url)
        item = client.get_item(
            TableName=LOCAL_TABLE, Key={"user_id": {"S": key.user}, "profile": {"S": key.profile}}
        ).get("Item")
        return Progress.salvaged(decode(item) if item else None)[0]

    def stored(self, user_id: str) -> tuple[Any, dict[str, int]]:
        """(place, completions) straight from moto."""
        progress = self.record(user_id)
        return progress.position, progress.completed


@pytest.fixture(scope="module")
def network() -> Iterator[Network]:
    with moto_server() as url, FaultProxy(url, seed=11, atomic=True) as proxy:
        yield Network(url, proxy)
    use_skill(None)


@pytest.fixture
def wire(network: Network, monkeypatch: pytest.MonkeyPatch) -> Iterator[Network]:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", network.proxy.url)
    network.proxy.clear()
    network.turn_ms.clear()
    yield network
    network.proxy.clear()


def say(conv: Conversation, line: str) -> Reply:
    if conv.session_id is None and not line.startswith(("open ", "ask ")):
        conv.say("open pelvic ease")
    return conv.say(line)


# (faults armed for one turn, the conversation before it, the turn under fault, after recovery)
SETUP = ["open pelvic ease", "massage my inner thighs"]
MAIN_STEPS = len([step for step in LIB.routines["inner_thigh"].steps if not step.optional])
# every main step, then "next" asks about the optional extra: "no" is the completing turn
TO_THE_END = [*SETUP, *["next"] * MAIN_STEPS]
RESUME = "ask pelvic ease to resume"  # a new session: a read, and a write
BETWEEN = [*SETUP, "/end"]
Fault = tuple[str, str | None, int | None, float]  # fault, operation, times, seconds
LOST = ("lose_response", "PutItem", 1, 0.0)
CASES: dict[str, tuple[list[Fault], list[str], str, list[str]]] = {
    "response lost, completing turn": ([LOST], TO_THE_END, "no", ["help"]),
    "response lost, middle turn": ([LOST], SETUP, "next", ["next"]),
    "response lost, every retry reset": ([LOST, ("reset", "PutItem", None, 0)], TO_THE_END, "no", ["help"]),
    "throttling on every attempt": ([("throttle", None, None, 0)], BETWEEN, RESUME, ["next"]),
    "hung connection": ([("hang", None, None, 0)], BETWEEN, RESUME, ["next"]),
    "2 s latency per call": ([("latency", None, None, 2.0)], BETWEEN, RESUME, ["next"]),
    "3.5 s latency per call": ([("latency", None, None, 3.5)], BETWEEN, RESUME, ["next"]),
    "6 s latency per call": ([("latency", None, None, 6.0)], BETWEEN, RESUME, ["next"]),
    "6 s latency, new user's launch": ([("latency", None, None, 6.0)], [], "open pelvic ease", ["next"]),
    "reset on every call": ([("reset", None, None, 0)], BETWEEN, RESUME, ["next"]),
    "500 on every call": ([("server_error", None, None, 0)], BETWEEN, RESUME, ["next"]),
    "hang while writing, mid-routine": ([("hang", "PutItem", None, 0)], SETUP, "next", ["next"]),
    "answers cut short, orderly close": ([("cut_short", None, None, 0)], BETWEEN, RESUME, ["next"]),
}
TABLE: list[str] = []


def play(network: Network, user: str, faults: list[Fault], case: tuple[Any, ...]) -> tuple[Reply | None, int]:
    _, before, under_fault, after = case
    clock = Clock()
    conv = Conversation(network.skill(clock), user_id=user)
    for line in before:
        if line == "/end":
            conv.end_session()
        else:
            say(conv, line)
    for fault, operation, times, seconds in faults:
        network.proxy.inject(fault, operation, times=times, seconds=seconds)
    network.turn_ms.clear()
    seen = len(network.proxy.log)
    reply = say(conv, under_fault)
    if faults:  # the turn really met the fault on the wire
        assert any(applied != "pass" for _, applied in network.proxy.log[seen:])
    turn_ms = network.turn_ms[-1]
    network.proxy.clear()
    if UNAVAILABLE in reply.text:
        say(conv, under_fault)  # the user does as told: says it again, the network is well again
    for line in after:
        say(conv, line)
    return reply, turn_ms


@pytest.mark.parametrize("name", list(CASES))
def test_a_fault_on_the_wire_is_answered_in_time_and_progress_comes_out_exact(
    wire: Network, name: str
) -> None:
    faults = CASES[name][0]
    twin = f"amzn1.ask.account.TWIN{abs(hash(name))}"
    faulted = f"amzn1.ask.account.FAULT{abs(hash(name))}"
    play(wire, twin, [], CASES[name])
    twin_turns = list(wire.turn_ms)
    reply, turn_ms = play(wire, faulted, faults, CASES[name])

    assert reply is not None
    assert reply.problems() == []
    assert reply.text  # a real answer, spoken
    assert max([turn_ms, *wire.turn_ms, *twin_turns]) <= DEADLINE_MS
    assert wire.stored(faulted) == wire.stored(twin)  # the same place, the same completions
    heard = (
        "save warning"
        if SAVE_FAILED in reply.text
        else "unavailable"
        if UNAVAILABLE in reply.text
        else "normal"
    )
    TABLE.append(f"{name:40} {turn_ms:6d} ms  {heard:12} stored = twin: {wire.stored(faulted)[1] or '{}'}")
    print("\n" + TABLE[-1])


# -- two devices racing, with writes that land unseen ---------------------------------------------
PACE_WORDS = ["slower", "faster", "say that again slowly", "normal pace"]


# Free-running (turns truly in parallel in this process) is opt-in (FREE_RUNNING_RACE=1): it
# found a rare double count, about 1 run in 50 (a landed write's id pushed out of a 16-id
# window by the other device's writes before the retry; ids are now kept 10 minutes,
# tests/test_repository.py), too rare to show the fix holds in one CI run.
FREE_RUNNING = pytest.param(
    False,
    id="free-running",
    marks=pytest.mark.skipif(not os.environ.get("FREE_RUNNING_RACE"), reason="opt-in: FREE_RUNNING_RACE=1"),
)


def watched_turn(wire: Network, user: str, conv: Conversation, line: str) -> tuple[Reply, str | None]:
    """One turn, alone on the wire; and, if it moved the stored place to anywhere but this
    device's own unsaved place, how."""
    # A write from the other device's last turn may still be on the wire (its client timed
    # out under load, the write lands later): let it land before "before".
    wire.proxy.wait_idle()
    stored = wire.record(user)
    before = stored.position
    # A move this device could not store (every try of its write failed: "I couldn't save your
    # place") is stored by its next turn, whatever that turn is, as the README says, unless a
    # newer move is stored by then: that is this device's own carried-over place, not the turn
    # moving the place.
    unsaved = [Change.from_dict(change) for change in conv.session_attributes.get("unsaved", [])]
    carried = {change.position for change in unsaved if change.moved and change.at >= stored.updated_at}
    reply = say(conv, line)
    wire.proxy.wait_idle()
    after = wire.stored(user)[0]
    return reply, (f"{line}: {before} -> {after}" if after not in {before, *carried} else None)


@pytest.mark.parametrize("serialized", [pytest.param(True, id="turn-by-turn"), FREE_RUNNING])
def test_two_devices_racing_with_lost_responses_count_every_completion_once(
    wire: Network, serialized: bool
) -> None:
    """Two devices of one user, each on its own thread: one finishes the inner-thigh massage
    again and again with a pace change in every round, the other changes the pace and
    finishes the lower-back release. A sixth of the writes land but lose their answer.
    Completions stored == completions heard, except a completion the user was told might not
    be saved when every retry failed (zero think time, a sixth of answers lost). Turn by turn
    (a lock lets one turn run at a time, in a random order), each pace change is also checked
    not to move the place."""
    user = f"amzn1.ask.account.RACE{int(serialized)}"
    wire.proxy.inject("lose_response", "PutItem", probability=1 / 6)
    clock = Clock()
    handler = wire.skill(clock)
    lock = threading.Lock() if serialized else None
    heard: dict[str, int] = {"inner_thigh": 0, "lower_back": 0}
    # rounds whose completion the user was told might not be saved (every retry in the
    # completing turn and in the goodbye after it failed): the only completions that may be missing
    warned: dict[str, int] = {"inner_thigh": 0, "lower_back": 0}
    rewound: list[str] = []
    errors: list[BaseException] = []
    end_words = LIB.say("another_offer")

    def turn(conv: Conversation, line: str) -> Reply:
        # Time passes between turns, as it does for a person: a move made later is newer.
        # (With a frozen clock every move had the same time, so a move from an earlier turn
        # of one device, stored late with that turn's unsaved change, tied with the other
        # device's later move and could win: read as a pace change moving the place.)
        clock.advance(seconds=1)
        if lock is None:
            return say(conv, line)
        with lock:
            reply, moved = watched_turn(wire, user, conv, line)
            rewound.extend([moved] if moved and line in PACE_WORDS else [])
            return reply

    def device(routine_words: str, steps: int, rounds: int, seed: int) -> None:
        rng = random.Random(seed)
        try:
            conv = Conversation(handler, user_id=user)
            for _ in range(rounds):
                replies = [turn(conv, f"ask pelvic ease to {routine_words}")]
                for _ in range(steps - 1):
                    if rng.random() < 0.4:
                        replies.append(turn(conv, rng.choice(PACE_WORDS)))
                    replies.append(turn(conv, "next"))
                replies.append(turn(conv, "no"))  # no optional extra: the end of the routine
                replies.append(turn(conv, "no"))  # no other routine: goodbye
                routine = "inner_thigh" if "thigh" in routine_words else "lower_back"
                heard[routine] += sum(end_words in r.text for r in replies)
                warned[routine] += any(SAVE_FAILED in r.text for r in replies[-2:])
        except BaseException as error:  # reported below, with the thread's name
            errors.append(error)

    threads = [
        threading.Thread(target=device, args=("massage my inner thighs", INNER_THIGH_STEPS, 12, 1)),
        threading.Thread(
            target=device, args=("massage my lower back", len(LIB.routines["lower_back"].steps), 12, 2)
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    lost = wire.proxy.count("PutItem", "lose_response")
    turns = len(wire.turn_ms)
    print(f"\n{turns} turns, {lost} writes landed unseen, completions heard {heard}")
    assert lost > 0
    stored = wire.stored(user)[1]
    print(f"stored {stored}, told a save might have failed {warned}")
    for routine, count in heard.items():
        # never counted twice; never lost without the user having been told
        assert count - warned[routine] <= stored.get(routine, 0) <= count
    assert heard == {"inner_thigh": 12, "lower_back": 12}
    assert rewound == []
    assert max(wire.turn_ms) <= DEADLINE_MS
