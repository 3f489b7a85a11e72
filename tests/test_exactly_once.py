"""Stored progress stays exactly right when writes race, fail or land unseen (issue: Progress
that stays exactly right under faults). One test per defect, each through the real
lambda_handler on moto; the network-level faults are in tests/test_network_faults.py."""

from __future__ import annotations

from typing import Any

import pytest

from pelvic_ease.content import load_library
from pelvic_ease.progress import DAY, KEEP_WRITES_SECONDS, Progress
from pelvic_ease.repository import decode
from sim.driver import Conversation
from tests.conftest import stored_items
from tests.support import FAULTS, TABLE_NAME, Clock, FaultyClient

LIB = load_library()
# the main steps; after them, "next" brings the question about the optional extra
INNER_THIGH_STEPS = len([s for s in LIB.routines["inner_thigh"].steps if not s.optional])


@pytest.fixture
def faulty(table: Any, dynamodb: Any) -> FaultyClient:
    client = FaultyClient(dynamodb)
    table._client = client
    return client


def stored(dynamodb: Any) -> Progress:
    items = stored_items(dynamodb)
    assert len(items) == 1, items
    return Progress.salvaged(decode(items[0]))[0]


def devices(handler: Any, user: str) -> tuple[Conversation, Conversation]:
    return Conversation(handler, user_id=user), Conversation(handler, user_id=user)


def to_the_extra_question(conv: Conversation, words: str = "massage my inner thighs") -> None:
    """Every main step of the inner-thigh massage: the next reply asks about the extra."""
    conv.say("open pelvic ease")
    conv.say(words)
    for _ in range(INNER_THIGH_STEPS):
        conv.say("next")


def finish_inner_thigh(conv: Conversation) -> str:
    conv.say("ask pelvic ease to massage my inner thighs")
    for _ in range(INNER_THIGH_STEPS - 1):
        conv.say("next")
    conv.say("next")  # the question about the sitting version
    return conv.say("no").text  # the end of the routine


# -- defect 3: changing the pace is not a move ---------------------------------------------------
@pytest.mark.parametrize("pace_words", ["slower", "say that again slowly"])
def test_a_pace_change_on_a_stale_device_never_moves_the_place(
    handler: Any, dynamodb: Any, pace_words: str
) -> None:
    bedroom, kitchen = devices(handler, "amzn1.ask.account.PACEMOVE")
    bedroom.say("open pelvic ease")
    bedroom.say("release my psoas")  # the bedroom's session holds step 1
    kitchen.say("ask pelvic ease to resume")
    for _ in range(3):
        kitchen.say("next")  # the kitchen moves on to step 4
    assert stored(dynamodb).step == 3
    bedroom.say(pace_words)  # the bedroom's session is older: its change meets a conflict
    after = stored(dynamodb)
    assert (after.routine, after.step) == ("psoas_release", 3)  # the kitchen's place stands
    assert after.pace == "slow"


# -- defect 4: a completion whose save failed is stored by the next turn, even over a conflict ----
def test_an_unsaved_completion_survives_a_conflict_on_the_next_turn(
    handler: Any, dynamodb: Any, faulty: FaultyClient
) -> None:
    phone, speaker = devices(handler, "amzn1.ask.account.UNSAVEDDONE")
    to_the_extra_question(phone)
    faulty.fail("put_item", FAULTS["access-denied"], times=None)
    end = phone.say("no")  # the routine ends, but its save fails
    faulty.clear()
    assert LIB.say("save_failed") in end.text
    speaker.say("ask pelvic ease to release my psoas")  # another device writes meanwhile
    phone.say("massage my lower back")  # conflict: this device's session is older
    after = stored(dynamodb)
    assert after.completed == {"inner_thigh": 1}  # the completion the user heard is kept
    assert (after.routine, after.step) == ("lower_back", 0)
    assert len(after.days) == 1


# -- defect 1 (within DynamoDB's reach): a completion that landed is never counted again ----------
def test_a_completion_that_landed_is_not_counted_again_by_the_next_turn(
    handler: Any, dynamodb: Any, faulty: FaultyClient
) -> None:
    conv = Conversation(handler, user_id="amzn1.ask.account.LANDED")
    to_the_extra_question(conv)
    # The write lands, then every later attempt in the turn fails: the turn believes it unsaved.
    real_put = faulty.client.put_item
    calls = {"n": 0}

    def landed_then_failing(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            real_put(**kwargs)
        raise FAULTS["internal-error"]("PutItem")

    faulty.client.put_item = landed_then_failing
    end = conv.say("no")
    faulty.client.put_item = real_put
    assert LIB.say("save_failed") in end.text
    assert stored(dynamodb).completed == {"inner_thigh": 1}  # it did land
    conv.say("help")  # a turn that changes nothing stores what it believes is unsaved
    assert stored(dynamodb).completed == {"inner_thigh": 1}  # ... but not twice
    assert conv.say("how am I doing").text.startswith(LIB.say("report", week=1, total=1))


# -- defect 5: a stored field that breaks the schema is dropped, not a lock-out --------------------
@pytest.mark.parametrize(
    ("field", "value", "kept"),
    [
        ("step", {"N": "-1"}, "completed"),  # a hand edit: the place goes, the rest stays
        ("pace", {"N": "3"}, "place"),  # a future schema: the pace goes, the place stays
        ("completed", {"M": {"inner_thigh": {"N": "2"}, "x": {"S": "?"}}}, "place"),
    ],
)
def test_a_field_that_breaks_the_schema_is_dropped_and_the_rest_kept(
    handler: Any, dynamodb: Any, field: str, value: dict[str, Any], kept: str
) -> None:
    conv = Conversation(handler, user_id="amzn1.ask.account.BADFIELD")
    finish_inner_thigh(conv)
    conv.say("ask pelvic ease to release my psoas")
    conv.say("next")  # on step 2, one completion stored, disclaimer heard, pace chosen
    conv.say("slower")
    conv.end_session()
    raw = stored_items(dynamodb)[0]
    raw[field] = value
    dynamodb.put_item(TableName=TABLE_NAME, Item=raw)

    launch = conv.say("open pelvic ease")
    assert LIB.disclaimer_text not in launch.text  # the acknowledgement was kept
    assert LIB.say("progress_unavailable") not in launch.text
    if kept == "place":
        psoas_steps = len(LIB.routines["psoas_release"].steps)
        assert launch.text == LIB.say("resume_offer", step=2, total=psoas_steps, routine="psoas release")
    reply = conv.say("massage my lower back")
    assert LIB.say("save_failed") not in reply.text  # saving works again
    after = stored(dynamodb)
    assert after.routine == "lower_back"
    assert after.completed.get("inner_thigh") == (2 if field == "completed" else 1)
    assert after.disclaimer_version == LIB.disclaimer_version
    assert after.pace == (None if field == "pace" else "slow")


# -- defect 7: two devices merging at the edge of the kept days do not inflate the streak ---------
def test_two_devices_at_the_edge_of_the_kept_days_count_the_streak_once(
    handler: Any, dynamodb: Any, clock: Clock
) -> None:
    phone, speaker = devices(handler, "amzn1.ask.account.EDGEOFWINDOW")
    today = int(clock.now) // DAY
    for day in range(today - 35, today):  # 35 days in a row up to yesterday: the window is full
        clock.now = day * DAY + 3_600
        finish_inner_thigh(phone)
        phone.say("no")
    clock.now = today * DAY + 3_600
    assert "35 days in a row" in phone.say("ask pelvic ease how am I doing").text
    phone.say("open pelvic ease")  # the phone's session reads the full window
    finish_inner_thigh(speaker)  # today: the oldest day rolls out of the speaker's copy
    done = phone.say("massage my inner thighs")  # the phone's older session: a conflict
    for _ in range(INNER_THIGH_STEPS):
        phone.say("next")
    done = phone.say("no")
    assert "36 days in a row" in done.text  # not 37: the rolled-out day is counted once
    assert stored(dynamodb).streak(int(clock.now)) == 36
    assert stored(dynamodb).completed == {"inner_thigh": 37}


# -- defect 8: a failed read followed by a write does not wipe what was stored --------------------
def test_a_failed_read_then_a_write_keeps_the_stored_pace_and_place(
    handler: Any, dynamodb: Any, faulty: FaultyClient
) -> None:
    conv = Conversation(handler, user_id="amzn1.ask.account.BLANKREAD")
    conv.say("open pelvic ease")
    conv.say("a ten minute relaxation")
    conv.say("slower")
    conv.say("next")
    conv.end_session()
    before = stored(dynamodb)
    assert (before.pace, before.minutes, before.step) == ("slow", 10, 1)
    faulty.fail("get_item", FAULTS["access-denied"], times=None)
    reply = conv.say("ask pelvic ease to go faster")  # the read fails; the change is still made
    faulty.clear()
    after = stored(dynamodb)
    # unread, the pace was taken as normal: one step quicker is what the user was told
    assert after.pace == "quick"
    assert LIB.pace("quick").name in reply.text
    assert (after.routine, after.step, after.minutes) == ("down_training", 1, 10)  # not wiped
    assert after.disclaimer_version == LIB.disclaimer_version


# -- a session keeps its own place; what is unsaved stays so until it is stored -----------------
def test_a_session_goes_on_from_its_own_place_when_another_device_moved(handler: Any, dynamodb: Any) -> None:
    bedroom, kitchen = devices(handler, "amzn1.ask.account.OWNPLACE")
    bedroom.say("open pelvic ease")
    bedroom.say("release my psoas")
    kitchen.say("ask pelvic ease to massage my lower back")  # the newest move: the stored place
    bedroom.say("slower")  # meets the kitchen's record: the pace is stored, the place is not
    assert stored(dynamodb).routine == "lower_back"
    assert "Step 2 of 9" in bedroom.say("next").text  # the bedroom carries on with its psoas


def test_a_change_that_failed_twice_is_still_stored_when_storage_is_back(
    handler: Any, dynamodb: Any, faulty: FaultyClient
) -> None:
    conv = Conversation(handler, user_id="amzn1.ask.account.TWICEFAILED")
    to_the_extra_question(conv)
    faulty.fail("put_item", FAULTS["access-denied"], times=None)
    conv.say("no")  # no extra: the end of the routine, unsaved
    conv.say("help")  # tried again, still failing: still unsaved
    faulty.clear()
    conv.say("help")  # storage is back: stored now
    assert stored(dynamodb).completed == {"inner_thigh": 1}


def test_a_change_left_unsaved_is_stored_when_the_session_times_out(
    handler: Any, dynamodb: Any, faulty: FaultyClient
) -> None:
    conv = Conversation(handler, user_id="amzn1.ask.account.TIMEDOUT")
    to_the_extra_question(conv)
    faulty.fail("put_item", FAULTS["access-denied"], times=None)
    assert LIB.say("save_failed") in conv.say("no").text  # the end of the routine, unsaved
    faulty.clear()
    conv.end_session("EXCEEDED_MAX_REPROMPTS")  # the user says nothing more
    assert stored(dynamodb).completed == {"inner_thigh": 1}


def test_an_unsaved_change_too_old_to_be_recognised_is_dropped_not_risked_twice(
    handler: Any, dynamodb: Any, faulty: FaultyClient, clock: Clock
) -> None:
    conv = Conversation(handler, user_id="amzn1.ask.account.TOOOLD")
    to_the_extra_question(conv)
    faulty.fail("put_item", FAULTS["access-denied"], times=None)
    assert LIB.say("save_failed") in conv.say("no").text  # the user is told
    faulty.clear()
    clock.advance(seconds=KEEP_WRITES_SECONDS + 1)  # its write id could have left the record
    conv.say("help")
    assert stored(dynamodb).completed == {}
