"""The plan and the week (issue 28), through the real lambda_handler on moto's DynamoDB.

The days are the requests' days: every conversation here stamps its requests with its own
device clock, while the skill's clock (the ``clock`` fixture) never moves. A user who follows
"four weeks to twenty minutes" over 44 calendar days, with two missed days and a two-week
gap, hears the plan day by day; run with -s for one line a day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pelvic_ease.content import default_library
from pelvic_ease.progress import Change, Progress
from pelvic_ease.repository import decode
from sim.driver import Clock, Conversation, Reply
from sim.player import Player
from tests.conftest import stored_items

Handler = Any
LIB = default_library("en-US")
PLAN = LIB.plans[str(LIB.default_plan)]
START = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)  # a Monday, 3 p.m. in the market's zone
MISSED = {5, 11}  # calendar days (0-based) without practice
GAP = set(range(20, 34))  # two weeks away
CALENDAR = 44  # 28 practice days
ENDS = (LIB.say("plan_another_offer"), LIB.say("another_offer"))


def stored(dynamodb: Any) -> Progress:
    items = stored_items(dynamodb)
    assert len(items) == 1
    return Progress.from_dict(decode(items[0]))


def device_clock(day: int = 0) -> Clock:
    return Clock((START + timedelta(days=day)).timestamp())


def to_end(conv: Conversation, reply: Reply) -> Reply:
    """ "Next" until the routine's end (the plan's next step, then "anything else?")."""
    for _ in range(80):  # far more turns than any routine has
        if reply.text.endswith(ENDS):
            return reply
        reply = conv.say("next")
    raise AssertionError(f"the routine did not reach its end: {reply.text}")


def session_words(done: int) -> str:
    routine_id, minutes = PLAN.session(done)
    if minutes is not None:
        return LIB.say("plan_session_minutes", minutes=minutes)
    return LIB.say("plan_session_routine", routine=LIB.routines[routine_id].name)


def test_a_user_follows_the_plan_for_28_practice_days_with_missed_days_and_a_two_week_gap(
    handler: Handler, clock: Clock, dynamodb: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    skill_time = clock.now
    device = device_clock()
    conv = Conversation(handler, clock=device)
    done, last, lines = 0, None, []
    for day in range(CALENDAR):
        device.now = (START + timedelta(days=day)).timestamp()
        date = (START + timedelta(days=day)).strftime("%a %d %b")
        if day in MISSED or day in GAP:
            lines.append(f"{date}: -")
            continue
        opened = conv.say("open pelvic ease")
        if day == 0:
            assert "plan" not in opened.text  # a new user: the welcome, the disclaimer, the menu
            offer = conv.say("start the plan")
            assert offer.text.startswith(LIB.say("plan_intro"))
        else:
            offer = opened
            assert offer.text.startswith(LIB.say("welcome_back"))
        stepped = last is not None and day - last - 1 > LIB.plan_gap[0]
        if stepped:
            done = max(0, done - LIB.plan_gap[1])
            assert LIB.say("plan_stepped_back") in offer.text
        else:
            assert LIB.say("plan_stepped_back") not in offer.text  # a missed day or two: nothing said
        today = LIB.say("plan_today", day=done + 1, total=PLAN.days, session=session_words(done))
        assert offer.text.endswith(today), offer.text
        end = to_end(conv, conv.say("yes"))
        done, last = done + 1, day
        assert LIB.say("plan_next", day=done, total=PLAN.days, session=session_words(done)) in end.text
        record = stored(dynamodb)
        assert (record.plan_days, record.plan_last) == (done, record.days[-1])
        week = ""
        if day in (6, 13, 40):
            days = len([d for d in range(day - 6, day + 1) if d not in MISSED | GAP])
            minutes = record.minutes_since(record.days[-1] - 6)
            summary = conv.say("how did I do this week")
            assert summary.text.startswith(LIB.say("week_summary", days=days, minutes=minutes))
            assert LIB.say("week_plan", done=done, total=PLAN.days) in summary.text
            week = f' | "how did I do this week": {summary.text.split(" Which would")[0]}'
        conv.say("no")
        lines.append(f"{date}: {offer.text.split('. ', 1)[-1] if day else today} ... {end.text[-150:]}{week}")
    record = stored(dynamodb)
    assert record.plan_days == 28 - LIB.plan_gap[1]  # 28 practice days, one step back
    kept = [d for d in range(CALENDAR - 35, CALENDAR) if d not in MISSED | GAP]  # the newest 35 days
    assert len(record.days) == len(kept)
    # every practice day kept there has its minutes: 5 to 20 minute relaxations, a massage
    assert sorted(map(int, record.day_minutes)) == list(record.days)
    assert all(3 <= record.day_minutes[str(d)] <= 25 for d in record.days)
    assert clock.now == skill_time  # the skill's own clock never moved: the days came from the requests
    with capsys.disabled():
        print("\n" + "\n".join(lines))


def test_two_devices_practising_on_the_same_day_count_one_plan_day(handler: Handler, dynamodb: Any) -> None:
    kitchen = Conversation(handler, clock=device_clock(), user_id="amzn1.ask.account.TWO")
    kitchen.say("open pelvic ease")
    kitchen.say("start the plan")
    to_end(kitchen, kitchen.say("yes"))
    bedroom = Conversation(handler, clock=device_clock(), user_id="amzn1.ask.account.TWO")
    offer = bedroom.say("open pelvic ease")
    assert LIB.say("plan_done_today", day=1, total=PLAN.days, session=session_words(1)) in offer.text
    to_end(bedroom, bedroom.say("a ten minute relaxation"))
    record = stored(dynamodb)
    assert (record.plan_days, record.total_sessions()) == (1, 2)  # two routines, one plan day
    tomorrow = Conversation(handler, clock=device_clock(1), user_id="amzn1.ask.account.TWO")
    assert tomorrow.say("open pelvic ease").text.endswith(
        LIB.say("plan_today", day=2, total=PLAN.days, session=session_words(1))
    )


def test_two_consecutive_days_by_the_requests_timestamps_are_a_two_day_streak(handler: Handler) -> None:
    device = device_clock()
    conv = Conversation(handler, clock=device)
    to_end(conv, conv.say("ask pelvic ease for a five minute relaxation"))
    device.now += 86_400
    conv = Conversation(handler, clock=device, user_id=conv.user_id)
    to_end(conv, conv.say("ask pelvic ease for a five minute relaxation"))
    report = conv.say("how am I doing")
    assert LIB.say("report_streak", streak=2) in report.text


def test_pausing_the_plan_keeps_its_days_and_start_takes_it_up_again(handler: Handler, dynamodb: Any) -> None:
    device = device_clock()
    conv = Conversation(handler, clock=device)
    conv.say("open pelvic ease")
    conv.say("start the plan")
    to_end(conv, conv.say("yes"))
    paused = conv.say("pause the plan")
    assert paused.text.startswith(LIB.say("plan_paused", day=1, total=PLAN.days))
    assert stored(dynamodb).plan_paused == 1
    device.now += 86_400
    opened = conv.say("open pelvic ease")
    assert "plan" not in opened.text  # paused: the menu, no plan offer
    status = conv.say("how is my plan going")
    assert LIB.say("plan_paused_note") in status.text
    to_end(conv, conv.say("a five minute relaxation"))  # practice while paused: no plan day
    assert stored(dynamodb).plan_days == 1
    device.now += 86_400
    again = conv.say("start the plan")
    assert again.text == " ".join(
        (LIB.say("plan_resumed"), LIB.say("plan_today", day=2, total=PLAN.days, session=session_words(1)))
    )
    assert stored(dynamodb).plan_paused == 0


def test_with_no_plan_todays_practice_is_a_suggestion_and_the_status_explains_the_plan(
    handler: Handler,
) -> None:
    conv = Conversation(handler, clock=device_clock())
    conv.say("open pelvic ease")
    status = conv.say("how is my plan going")
    assert status.text.startswith(" ".join((LIB.say("plan_none"), LIB.say("plan_intro"))))
    suggestion = conv.say("what should I do today")
    assert suggestion.text.startswith(LIB.say("today_no_plan"))
    massage = LIB.routines["daily_massage"].name
    assert suggestion.text.endswith(LIB.say("suggest", routine=massage, minutes=10))
    assert conv.say("pause the plan").text.startswith(LIB.say("plan_none_to_pause"))
    week = conv.say("how did I do this week")
    assert week.text.startswith(LIB.say("week_none"))


def test_a_played_relaxation_counts_its_plan_day_when_its_last_file_ends(
    played: Handler, dynamodb: Any
) -> None:
    device = device_clock()
    conv = Conversation(played, clock=device, player=Player(device))
    conv.say("open pelvic ease")
    start = conv.say("start the plan")
    assert start.text.endswith(LIB.say("plan_today", day=1, total=PLAN.days, session=session_words(0)))
    conv.say("yes")  # plays: the session ends, the audio goes on
    conv.wait(6 * 60 + 30)
    record = stored(dynamodb)
    assert (record.plan_days, record.completed.get("down_training")) == (1, 1)
    # the minutes the track lasts (its opening and settling make a five minute relaxation longer)
    assert list(record.day_minutes) == [str(record.days[-1])]
    assert 5 <= record.day_minutes[str(record.days[-1])] <= 7
    device.now += 86_400
    assert conv.say("open pelvic ease").text.endswith(
        LIB.say("plan_today", day=2, total=PLAN.days, session=session_words(1))
    )


def test_a_practice_dated_before_the_plan_began_or_already_counted_counts_no_plan_day() -> None:
    """A late report of an earlier day (a played routine's end stored late) never counts a
    plan day before the plan's first, nor a second one on a day already counted."""
    begun = Change(at=1_795_000_000, plan=PLAN.id, day=100).applied_to(Progress())
    gap = LIB.plan_gap
    ended = {"completed": "down_training", "plan_gap": gap[0], "plan_back": gap[1], "spent": 5}
    earlier = Change(at=1_795_000_100, day=99, **ended).applied_to(begun)  # type: ignore[arg-type]
    assert (earlier.plan_days, earlier.plan_last) == (0, 0)
    counted = Change(at=1_795_000_200, day=100, **ended).applied_to(begun)  # type: ignore[arg-type]
    again = Change(at=1_795_000_300, day=100, **ended).applied_to(counted)  # type: ignore[arg-type]
    assert (counted.plan_days, again.plan_days) == (1, 1)
    assert again.day_minutes == {"100": 10}  # both routines' minutes kept, one plan day


def test_minutes_of_days_not_written_as_day_numbers_are_dropped_from_a_stored_record() -> None:
    record, dropped = Progress.salvaged({"day_minutes": {"20800": 12, "sunday": 5, "20801": -3}})
    assert record.day_minutes == {"20800": 12}
    assert dropped == ["day_minutes"]
