"""Progress in DynamoDB and resuming by voice (issue: Progress in DynamoDB, and resuming)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from pelvic_ease import app
from pelvic_ease.content import load_library
from pelvic_ease.engine import Position
from pelvic_ease.progress import Change, CorruptProgress
from pelvic_ease.repository import ATTEMPTS, DynamoTable, ForgetIncomplete, decode, encode
from pelvic_ease.settings import Settings
from pelvic_ease.skill import build_skill, use_skill
from sim.driver import DEFAULT_SKILL_ID, Conversation
from sim.local_dynamodb import LOCAL_TABLE, moto_server
from tests.conftest import stored_items
from tests.support import FAULTS as ALL_FAULTS
from tests.support import TABLE_NAME, Clock, FaultyClient, dynamodb_item_size

LIB = load_library()
PSOAS_STEPS = len(LIB.routines["psoas_release"].steps)


def item_of(dynamodb: Any) -> dict[str, Any]:
    items = stored_items(dynamodb)
    assert len(items) == 1, items
    return decode(items[0])


class CallCounter:
    """Counts DynamoDB operations at the botocore level (before-call events)."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        client.meta.events.register("before-call.dynamodb", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def take(self) -> Counter[str]:
        taken, self.calls = self.calls, Counter()
        return taken


# -- cost discipline -----------------------------------------------------------------------
def test_one_read_per_session_and_one_write_per_progress_turn(conv: Conversation, dynamodb: Any) -> None:
    counter = CallCounter(dynamodb)
    conv.say("open pelvic ease")  # first use: read, and write the disclaimer acknowledgement
    assert counter.take() == Counter(GetItem=1, PutItem=1)
    conv.say("help")
    conv.say("what can you do")
    assert counter.take() == Counter()  # no read again, no write on help or a list
    conv.say("release my psoas")
    assert counter.take() == Counter(PutItem=1)
    conv.say("repeat")
    conv.say("purple monkey dishwasher")
    conv.say("help")
    assert counter.take() == Counter()  # no write on repeat, fallback or help
    conv.say("go back")
    assert counter.take() == Counter(PutItem=1)  # going back is a change of progress
    for _ in range(PSOAS_STEPS - 1):
        conv.say("next")
    # the last "next" asks about the tennis-ball extra: a question, no write
    assert counter.take() == Counter(PutItem=PSOAS_STEPS - 2)
    conv.say("no")
    assert counter.take() == Counter(PutItem=1)  # no extra: the routine is complete
    conv.say("no")
    assert counter.take() == Counter()  # no other routine: nothing to store
    print(f"one full psoas release (first use): reads 1, writes {1 + 1 + 1 + PSOAS_STEPS - 1}")


def test_a_returning_session_reads_once(conv: Conversation, dynamodb: Any) -> None:
    conv.say("ask pelvic ease to release my psoas")
    conv.end_session()
    counter = CallCounter(dynamodb)
    conv.say("open pelvic ease")
    conv.say("yes")
    conv.say("next")
    assert counter.take() == Counter(GetItem=1, PutItem=2)


def test_session_ended_writes_nothing(conv: Conversation, dynamodb: Any) -> None:
    conv.say("ask pelvic ease to release my psoas")
    counter = CallCounter(dynamodb)
    conv.end_session("EXCEEDED_MAX_REPROMPTS")
    assert counter.take() == Counter()


def test_stored_item_holds_only_progress_and_is_small(
    conv: Conversation, dynamodb: Any, clock: Clock
) -> None:
    conv.say("open pelvic ease")
    conv.say("release my psoas")
    conv.say("next")
    raw = stored_items(dynamodb)[0]
    assert set(raw) == {
        "user_id", "profile", "version", "disclaimer_version", "routine", "step", "segment",
        "updated_at", "completed", "recent_writes", "expires_at",
    }  # fmt: skip
    assert len(raw["recent_writes"]["L"]) == 3  # the ids of the last writes: disclaimer, start, next
    assert conv.user_id not in str(raw)  # the raw Alexa user id is never stored
    size = dynamodb_item_size(raw)
    print(f"stored item: about {size} bytes")
    assert size < 1024
    assert int(raw["expires_at"]["N"]) == int(clock.now) + 365 * 86_400


def test_each_use_pushes_the_expiry_out(conv: Conversation, dynamodb: Any, clock: Clock) -> None:
    conv.say("ask pelvic ease to release my psoas")
    conv.end_session()
    clock.advance(days=40)
    conv.say("ask pelvic ease to resume")
    assert int(stored_items(dynamodb)[0]["expires_at"]["N"]) == int(clock.now) + 365 * 86_400


# -- resuming -----------------------------------------------------------------------------
def advance_to_step(conv: Conversation, routine_utterance: str, nexts: int) -> None:
    conv.say("open pelvic ease")
    conv.say(routine_utterance)
    for _ in range(nexts):
        conv.say("next")


ENDINGS: dict[str, Callable[[Conversation], None]] = {
    "timeout": lambda c: c.end_session("EXCEEDED_MAX_REPROMPTS") and None,
    "user stop": lambda c: c.say("stop") and None,
    "error": lambda c: c.end_session("ERROR") and None,
    "no SessionEndedRequest": lambda c: c.drop_session(),
}


@pytest.mark.parametrize("ending", list(ENDINGS))
@pytest.mark.parametrize("resume_by", ["launch", "one-shot", "in-session"])
def test_resume_mid_step_after_every_kind_of_ending(
    conv: Conversation, dynamodb: Any, ending: str, resume_by: str
) -> None:
    advance_to_step(conv, "release my psoas", nexts=2)  # on step 3
    ENDINGS[ending](conv)
    assert (item_of(dynamodb)["routine"], item_of(dynamodb)["step"]) == ("psoas_release", 2)

    if resume_by == "launch":
        offer = conv.say("open pelvic ease")
        assert offer.text == LIB.say("resume_offer", step=3, total=PSOAS_STEPS, routine="psoas release")
        reply = conv.say("yes")
    elif resume_by == "one-shot":
        reply = conv.say("ask pelvic ease to pick up where I left off")
    else:
        conv.say("open pelvic ease")
        reply = conv.say("where was I")
    step = LIB.routines["psoas_release"].steps[2]
    assert reply.text.startswith(
        f"{LIB.say('resume_intro', routine='psoas release')} Step 3 of {PSOAS_STEPS}"
    )
    assert (step.setup or step.position) in reply.text  # how to get into position, from scratch
    assert item_of(dynamodb)["step"] == 2
    assert "Step 4" in conv.say("next").text


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_resume_mid_segment_goes_back_to_the_start_of_that_step(
    conv: Conversation, dynamodb: Any, ending: str
) -> None:
    advance_to_step(conv, "down training", nexts=3)  # step 3 (two parts), second part
    stored = item_of(dynamodb)
    assert (stored["step"], stored["segment"]) == (2, 1)
    ENDINGS[ending](conv)
    reply = conv.say("ask pelvic ease to resume")
    assert "Step 3 of 6: softening the pelvic floor." in reply.text
    stored = item_of(dynamodb)
    assert (stored["step"], stored["segment"]) == (2, 0)


def test_after_the_last_step_there_is_nothing_to_resume(conv: Conversation, dynamodb: Any) -> None:
    advance_to_step(conv, "release my psoas", nexts=PSOAS_STEPS - 1)
    conv.say("no")  # no tennis ball: the end
    conv.end_session()
    reply = conv.say("ask pelvic ease to resume")
    assert reply.text == f"{LIB.say('nothing_to_resume')} {LIB.say('menu')}"
    assert item_of(dynamodb)["completed"] == {"psoas_release": 1}
    assert conv.say("stop").text == LIB.say("goodbye")


def test_interrupted_during_the_disclaimer_it_is_not_read_again(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    conv.end_session("EXCEEDED_MAX_REPROMPTS")
    reply = conv.say("open pelvic ease")
    assert LIB.disclaimer_text not in reply.text
    assert reply.text == f"{LIB.say('welcome_back')} {LIB.say('menu')}"


def test_no_to_the_offer_keeps_the_old_progress_until_a_new_routine_starts(
    conv: Conversation, dynamodb: Any
) -> None:
    advance_to_step(conv, "release my psoas", nexts=2)
    conv.end_session()
    conv.say("open pelvic ease")
    assert conv.say("no").text == LIB.say("menu")
    assert item_of(dynamodb)["routine"] == "psoas_release"
    conv.say("massage my lower back")
    assert (item_of(dynamodb)["routine"], item_of(dynamodb)["step"]) == ("lower_back", 0)


def test_old_progress_is_offered_as_carry_on_or_start_again(conv: Conversation, clock: Clock) -> None:
    advance_to_step(conv, "release my psoas", nexts=2)
    conv.end_session()
    clock.advance(days=15)
    offer = conv.say("open pelvic ease")
    assert offer.text == LIB.say(
        "resume_offer_stale", days=15, step=3, total=PSOAS_STEPS, routine="psoas release"
    )
    again = conv.say("start over")
    assert f"Step 1 of {PSOAS_STEPS}" in again.text


def test_nothing_to_resume_for_a_new_user(conv: Conversation) -> None:
    reply = conv.say("ask pelvic ease to resume")
    assert LIB.disclaimer_text not in reply.text  # nothing spoken of a routine, so no write needed
    assert reply.text.endswith(LIB.say("menu"))


def test_resume_builtin_intent_in_session(conv: Conversation) -> None:
    advance_to_step(conv, "massage my lower back", nexts=1)
    conv.say("stop")
    conv.say("open pelvic ease")
    assert "Step 2 of 4" in conv.intent("AMAZON.ResumeIntent").text


# -- who is who ----------------------------------------------------------------------------
def test_voice_profiles_keep_separate_progress(handler: Any, dynamodb: Any) -> None:
    account = "amzn1.ask.account.HOUSEHOLD"
    alex = Conversation(handler, user_id=account, person_id="amzn1.ask.person.ALEX")
    sam = Conversation(handler, user_id=account, person_id="amzn1.ask.person.SAM")
    advance_to_step(alex, "release my psoas", nexts=2)
    advance_to_step(sam, "massage my lower back", nexts=1)
    assert "psoas release" in alex.say("ask pelvic ease to resume").text
    assert "lower-back release" in sam.say("ask pelvic ease to resume").text
    assert len(stored_items(dynamodb)) == 2
    assert all(item["user_id"] == stored_items(dynamodb)[0]["user_id"] for item in stored_items(dynamodb))


def test_disabling_the_skill_deletes_every_record_of_the_account(handler: Any, dynamodb: Any) -> None:
    account = "amzn1.ask.account.LEAVING"
    for person in (None, "amzn1.ask.person.ONE", "amzn1.ask.person.TWO"):
        advance_to_step(Conversation(handler, user_id=account, person_id=person), "release my psoas", nexts=1)
    advance_to_step(Conversation(handler, user_id="amzn1.ask.account.STAYING"), "release my psoas", nexts=1)
    assert len(stored_items(dynamodb)) == 4
    reply = Conversation(handler, user_id=account).disable_skill()
    assert "outputSpeech" not in reply.response
    assert len(stored_items(dynamodb)) == 1


# -- two devices ----------------------------------------------------------------------------
def test_two_devices_the_latest_move_wins_and_no_completion_is_lost(handler: Any, dynamodb: Any) -> None:
    user = "amzn1.ask.account.TWODEVICES"
    kitchen = Conversation(handler, user_id=user)
    bedroom = Conversation(handler, user_id=user)
    kitchen.say("open pelvic ease")
    bedroom.say("open pelvic ease")  # both sessions now hold the same version
    kitchen.say("massage my inner thighs")
    for _ in range(3):
        kitchen.say("next")
    kitchen.say("no")  # no sitting version: the inner-thigh massage is complete on the kitchen device
    assert item_of(dynamodb)["completed"] == {"inner_thigh": 1}

    bedroom_start = bedroom.say("release my psoas")  # stale version: conflict, merged
    assert f"Step 1 of {PSOAS_STEPS}" in bedroom_start.text
    assert LIB.say("save_failed") not in bedroom_start.text
    stored = item_of(dynamodb)
    assert (stored["routine"], stored["step"]) == ("psoas_release", 0)
    assert stored["completed"] == {"inner_thigh": 1}  # the kitchen's completion survives

    kitchen.say("massage my lower back")  # the kitchen moves again: its move is the newest
    assert item_of(dynamodb)["routine"] == "lower_back"
    bedroom.say("next")
    stored = item_of(dynamodb)
    assert (stored["routine"], stored["step"]) == ("psoas_release", 1)
    assert stored["completed"] == {"inner_thigh": 1}


# -- faults ------------------------------------------------------------------------------------
# The error classes these tests were written for; tests/test_faults.py covers all of FAULTS.
PROGRESS_FAULTS = {
    name: ALL_FAULTS[name] for name in ("capacity", "internal-error", "read-timeout", "access-denied")
}


@pytest.fixture
def faulty(table: DynamoTable, dynamodb: Any) -> FaultyClient:
    client = FaultyClient(dynamodb)
    table._client = client
    return client


TRANSIENT = ["capacity", "internal-error", "read-timeout"]  # worth another try within the turn


@pytest.mark.parametrize("fault", list(PROGRESS_FAULTS))
def test_put_item_down_for_the_whole_turn_the_routine_goes_on_and_the_next_write_is_right(
    conv: Conversation, dynamodb: Any, faulty: FaultyClient, fault: str
) -> None:
    advance_to_step(conv, "release my psoas", nexts=1)  # step 2 stored
    faulty.fail("put_item", PROGRESS_FAULTS[fault], times=None)
    reply = conv.say("next")
    faulty.clear()
    assert faulty.fired == (ATTEMPTS if fault in TRANSIENT else 1)  # access denied is not retried
    assert reply.text.startswith(LIB.say("save_failed"))  # one short sentence, then the step
    assert f"Step 3 of {PSOAS_STEPS}" in reply.text
    assert reply.session_open
    assert item_of(dynamodb)["step"] == 1  # nothing half-written
    again = conv.say("next")
    assert LIB.say("save_failed") not in again.text  # said at most once
    assert item_of(dynamodb)["step"] == 3  # the fault cleared: the right position stored


@pytest.mark.parametrize("fault", TRANSIENT)
def test_a_passing_put_item_fault_is_retried_within_the_turn_unheard(
    conv: Conversation, dynamodb: Any, faulty: FaultyClient, fault: str
) -> None:
    advance_to_step(conv, "release my psoas", nexts=1)
    faulty.fail("put_item", PROGRESS_FAULTS[fault], times=1)
    reply = conv.say("next")
    assert faulty.fired == 1
    assert LIB.say("save_failed") not in reply.text
    assert item_of(dynamodb)["step"] == 2


@pytest.mark.parametrize("fault", list(PROGRESS_FAULTS))
def test_get_item_fault_on_launch_loses_nothing(
    conv: Conversation, dynamodb: Any, faulty: FaultyClient, fault: str
) -> None:
    advance_to_step(conv, "release my psoas", nexts=2)
    conv.end_session()
    faulty.fail("get_item", PROGRESS_FAULTS[fault], times=None)  # down for the whole turn
    reply = conv.say("open pelvic ease")
    faulty.clear()
    # a few tries of a transient fault, one of a refusal: no retry storm against a failing table
    assert faulty.fired == (ATTEMPTS if fault in TRANSIENT else 1)
    assert reply.session_open
    assert reply.text  # something sensible: the welcome (and the disclaimer, to be safe)
    stored = item_of(dynamodb)
    assert (stored["routine"], stored["step"]) == ("psoas_release", 2)  # the place is kept
    resumed = conv.say("where was I")  # the next turn reads again and finds the place
    assert f"Step 3 of {PSOAS_STEPS}" in resumed.text


def test_a_conflict_is_merged_without_a_second_read(handler: Any, dynamodb: Any) -> None:
    user = "amzn1.ask.account.CONFLICTREAD"
    one, two = Conversation(handler, user_id=user), Conversation(handler, user_id=user)
    one.say("open pelvic ease")
    two.say("open pelvic ease")
    one.say("release my psoas")
    counter = CallCounter(dynamodb)
    reply = two.say("massage my lower back")  # conflict: DynamoDB returns the stored item with it
    assert counter.take() == Counter(PutItem=2)  # no GetItem between the two writes
    assert LIB.say("save_failed") not in reply.text
    assert (item_of(dynamodb)["routine"], item_of(dynamodb)["step"]) == ("lower_back", 0)


@pytest.mark.parametrize("operation", ["query", "delete_item"])
@pytest.mark.parametrize("fault", TRANSIENT)
def test_a_passing_fault_while_deleting_on_disable_is_retried(
    handler: Any, dynamodb: Any, faulty: FaultyClient, operation: str, fault: str
) -> None:
    conv = Conversation(handler)
    conv.say("open pelvic ease")
    faulty.fail(operation, PROGRESS_FAULTS[fault])
    reply = conv.disable_skill()
    assert "outputSpeech" not in reply.response  # no speech is possible for the event
    assert faulty.fired == 1
    assert stored_items(dynamodb) == []


@pytest.mark.parametrize("operation", ["query", "delete_item"])
def test_disable_that_cannot_delete_everything_fails_the_invocation(
    handler: Any, dynamodb: Any, faulty: FaultyClient, operation: str
) -> None:
    account = "amzn1.ask.account.HALFDELETED"
    for person in (None, "amzn1.ask.person.ONE", "amzn1.ask.person.TWO"):
        advance_to_step(Conversation(handler, user_id=account, person_id=person), "release my psoas", nexts=1)
    faulty.fail(operation, PROGRESS_FAULTS["access-denied"], times=1)
    with pytest.raises(ForgetIncomplete):  # a Lambda error, so the Errors alarm can fire
        Conversation(handler, user_id=account).disable_skill()
    # what could be deleted was: only the record whose delete was refused is left
    assert len(stored_items(dynamodb)) == (1 if operation == "delete_item" else 3)
    Conversation(handler, user_id=account).disable_skill()  # Alexa sends it again, or it is retried
    assert stored_items(dynamodb) == []


def test_disable_pages_through_every_record_of_the_account(clock: Clock, dynamodb: Any) -> None:
    table = DynamoTable(TABLE_NAME, client_factory=lambda: dynamodb, clock=clock, page_size=2)
    use_skill(build_skill(Settings(TABLE_NAME, DEFAULT_SKILL_ID), table=table, clock=clock))
    try:
        account = "amzn1.ask.account.MANYPROFILES"
        for n in range(5):
            conv = Conversation(app.lambda_handler, user_id=account, person_id=f"amzn1.ask.person.P{n}")
            conv.say("ask pelvic ease to release my psoas")
        counter = CallCounter(dynamodb)
        Conversation(app.lambda_handler, user_id=account).disable_skill()
        assert counter.take() == Counter(Query=3, DeleteItem=5)  # pages of 2, 2 and 1
        assert stored_items(dynamodb) == []
    finally:
        use_skill(None)


def test_a_corrupt_stored_item_is_replaced_not_fatal(conv: Conversation, dynamodb: Any) -> None:
    conv.say("open pelvic ease")
    raw = stored_items(dynamodb)[0]
    raw["step"] = {"S": "three"}  # not the schema
    dynamodb.put_item(TableName=TABLE_NAME, Item=raw)
    conv.end_session()
    conv.say("open pelvic ease")
    reply = conv.say("release my psoas")
    assert LIB.say("save_failed") not in reply.text
    assert item_of(dynamodb)["routine"] == "psoas_release"


# -- the real HTTP path ----------------------------------------------------------------------------
def test_through_boto3_http_to_moto_server_on_loopback(clock: Clock) -> None:
    with moto_server() as url:
        assert url.startswith("http://127.0.0.1:")
        table = DynamoTable(LOCAL_TABLE, clock=clock)  # the default client: env endpoint
        use_skill(build_skill(Settings(LOCAL_TABLE, DEFAULT_SKILL_ID), table=table, clock=clock))
        try:
            conv = Conversation(app.lambda_handler)
            advance_to_step(conv, "release my psoas", nexts=2)
            conv.end_session()
            assert f"Step 3 of {PSOAS_STEPS}" in conv.say("ask pelvic ease to resume").text
            items = boto3.client("dynamodb").scan(TableName=LOCAL_TABLE)["Items"]
            assert decode(items[0])["step"] == 2
        finally:
            use_skill(None)


def test_codec_round_trip() -> None:
    record = {"version": 3, "disclaimer_version": 1, "routine": "psoas_release", "step": 2, "segment": 0,
              "pace": "slow", "updated_at": 1_795_000_000, "completed": {"psoas_release": 4}}  # fmt: skip
    assert decode(encode(record)) == record


def test_a_change_kept_in_the_session_round_trips() -> None:
    change = Change(
        at=1_800_000_000,
        moved=True,
        position=Position("psoas_release", 2, 1),
        minutes=10,
        skipped=0b101,
        hurt=True,
        completed="psoas_release",
        practised=True,
        pace="slow",
        cues="fewer",
        disclaimer_version=2,
    )
    assert Change.from_dict(change.to_dict()) == change


@pytest.mark.parametrize(
    "bad",
    [
        {"skipped": -1},
        {"skipped": "two"},
        {"minutes": 0},
        {"completed": ""},
        {"pace": "x" * 65},
        {"position": ["psoas_release", -1, 0]},
        {"write_id": "not an id!"},
        {"reminder": "x" * 201},
        {"reminder": 7},
        {"day": -1},
        {"hurt": "yes"},
        {"moved": 1},
        {"at": "now"},
        {"position": ["psoas_release", 1]},
        {"position": "psoas_release"},
        {"completed": 3},
    ],
)
def test_a_malformed_change_in_the_session_is_refused(bad: dict[str, object]) -> None:
    record = {
        **Change(at=1_800_000_000, moved=True, position=Position("psoas_release", 1, 0)).to_dict(),
        **bad,
    }
    with pytest.raises(CorruptProgress):
        Change.from_dict(record)


@pytest.mark.parametrize("bad", [None, [], "change", {"at": 1_800_000_000}, {"write_id": "0abcdefgHIJKLMNO"}])
def test_what_is_not_a_change_is_refused(bad: object) -> None:
    with pytest.raises(CorruptProgress):
        Change.from_dict(bad)
