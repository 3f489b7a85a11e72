"""Practice that fits the person: pace, length, history, safety words, skipping."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from pelvic_ease import app
from pelvic_ease.content import load_library
from pelvic_ease.progress import DAY, DAY_WINDOW, Change, Progress
from pelvic_ease.repository import DynamoTable, decode, encode
from pelvic_ease.settings import Settings
from pelvic_ease.skill import build_skill, use_skill
from sim.driver import DEFAULT_SKILL_ID, Clock, Conversation, InteractionModel, Reply
from tests.conftest import stored_items
from tests.support import TABLE_NAME, dynamodb_item_size

LIB = load_library()
SLOW, NORMAL, QUICK = (LIB.paces[p] for p in ("slow", "normal", "quick"))


def stored(dynamodb: Any) -> Progress:
    items = stored_items(dynamodb)
    assert len(items) == 1
    return Progress.from_dict(decode(items[0]))


def breath_pauses(reply: Reply) -> list[float]:
    return reply.speech.pauses[:2]


def routine_to_end(conv: Conversation, utterance: str) -> Reply:
    reply = conv.say(utterance)
    while LIB.say("another_offer") not in reply.text:
        reply = conv.say("next")
    return reply


# -- pace -------------------------------------------------------------------------------------
def test_slower_in_the_middle_of_a_step_applies_from_the_next_part_and_is_remembered(
    conv: Conversation, dynamodb: Any
) -> None:
    conv.say("open pelvic ease")
    conv.say("down training")
    conv.say("next")
    middle = conv.say("next")  # step 3, first of its parts
    assert breath_pauses(middle) == [NORMAL.inhale, NORMAL.exhale + NORMAL.rest]
    changed = conv.say("slower")
    assert changed.text == f"{LIB.say('pace_changed', pace=SLOW.name)} {LIB.say('pace_reprompt')}"
    assert changed.session_open
    assert stored(dynamodb).pace == "slow"
    after = conv.say("next")
    assert "Still with softening the pelvic floor." in after.text  # the same step goes on
    assert breath_pauses(after) == [SLOW.inhale, SLOW.exhale + SLOW.rest]
    assert f'<prosody rate="{SLOW.rate}%">' in after.ssml
    assert after.speech.seconds <= 240
    conv.say("stop")
    resumed = conv.say("ask pelvic ease to resume")  # next time: still slow
    assert breath_pauses(resumed) == [SLOW.inhale, SLOW.exhale + SLOW.rest]


def test_faster_normal_and_the_ends_of_the_scale(conv: Conversation, dynamodb: Any) -> None:
    conv.say("open pelvic ease")
    conv.say("massage my inner thighs")
    assert conv.say("faster").text.startswith(LIB.say("pace_changed", pace=QUICK.name))
    assert conv.say("speed up").text.startswith(LIB.say("pace_already", pace=QUICK.name))
    assert breath_pauses(conv.say("next")) == [QUICK.inhale, QUICK.exhale + QUICK.rest]
    assert conv.say("normal pace").text.startswith(LIB.say("pace_changed", pace=NORMAL.name))
    assert conv.say("longer breaths").text.startswith(LIB.say("pace_changed", pace=SLOW.name))
    assert conv.say("slow down").text.startswith(LIB.say("pace_already", pace=SLOW.name))
    assert stored(dynamodb).pace == "slow"


def test_pace_at_the_menu_is_kept_for_the_next_routine(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    assert conv.say("slower").text.startswith(LIB.say("pace_changed_menu", pace=SLOW.name))
    assert breath_pauses(conv.say("massage my lower back")) == [SLOW.inhale, SLOW.exhale + SLOW.rest]


def test_say_that_again_slowly_repeats_the_last_part_at_the_slower_pace(
    conv: Conversation, dynamodb: Any
) -> None:
    conv.say("open pelvic ease")
    first = conv.say("release my psoas")
    again = conv.say("say that again slowly")
    assert again.text == first.text  # the same words
    assert breath_pauses(again) == [SLOW.inhale, SLOW.exhale + SLOW.rest]
    assert again.speech.seconds > first.speech.seconds
    assert stored(dynamodb).pace == "slow"


# -- length ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("utterance", "minutes"),
    [("a five minute relaxation", 5), ("ten minutes of down training", 10), ("a long relaxation", 20)],
)
def test_relaxation_length_is_chosen_by_voice(
    conv: Conversation, dynamodb: Any, utterance: str, minutes: int
) -> None:
    conv.say("open pelvic ease")
    first = conv.say(utterance)
    parts = int(first.text.split(" parts.")[0].rsplit(" ", 1)[1])
    assert first.text.startswith(LIB.say("length_intro", minutes=minutes, parts=parts))
    assert stored(dynamodb).minutes == minutes
    replies = [first]
    while LIB.say("another_offer") not in replies[-1].text:
        replies.append(conv.say("next"))
    assert len(replies) == parts  # as many parts as announced
    for reply in replies:
        assert reply.problems() == []
        assert reply.speech.seconds <= 240
    spoken = sum(r.speech.seconds for r in replies)
    assert spoken == pytest.approx(minutes * 60, rel=0.2)
    print(f"{minutes}-minute relaxation: {parts} parts, {spoken / 60:.1f} min estimated")


def test_a_length_for_a_fixed_routine_is_explained(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    reply = conv.say("ten minutes of psoas")
    assert reply.text.startswith(LIB.say("length_fixed", routine="psoas release"))
    assert "Step 1 of 9" in reply.text


def test_resuming_a_timed_relaxation_keeps_its_length(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    conv.say("a five minute relaxation")
    short_second = conv.say("next")
    conv.say("stop")
    resumed = conv.say("ask pelvic ease to resume")
    assert resumed.speech.pauses == short_second.speech.pauses


# -- history -----------------------------------------------------------------------------------
def test_streak_across_days_and_the_report(conv: Conversation, clock: Clock) -> None:
    conv.say("open pelvic ease")
    assert conv.say("how am I doing").text.startswith(LIB.say("report_none"))
    first = routine_to_end(conv, "massage my lower back")
    assert "days in a row" not in first.text  # one day is not a streak yet
    conv.say("no")
    for day in (2, 3):
        clock.advance(days=1)
        conv.say("open pelvic ease")
        end = routine_to_end(conv, "massage my lower back")
        assert LIB.say("streak_at_end", streak=day) in end.text
        conv.say("no")
    conv.say("open pelvic ease")
    report = conv.say("what's my streak")
    assert report.text.startswith(
        f"{LIB.say('report', week=3, total=3)} {LIB.say('report_streak', streak=3)}"
    )
    clock.advance(days=2)  # a day missed
    routine_to_end(conv, "massage my inner thighs")
    assert LIB.say("report", week=4, total=4) in conv.intent("ProgressReportIntent").text
    assert "days in a row" not in conv.intent("ProgressReportIntent").text


def test_a_long_streak_with_a_gap_long_ago_is_exact() -> None:
    start = 1_795_000_000
    progress = Progress()
    practised = [d for d in range(120) if d != 30]  # one day missed, 89 days ago at the end
    for day in practised:
        progress = Change(start + day * DAY, moved=True, completed="down_training").applied_to(progress)
    assert progress.streak(start + 119 * DAY) == 89
    assert progress.streak(start + 120 * DAY) == 89  # not yet practised today: yesterday counts
    assert progress.streak(start + 121 * DAY) == 0
    assert progress.earlier_days + len(progress.days) == len(practised)


def test_a_year_of_daily_practice_stays_small() -> None:
    start = 1_795_000_000
    progress = Progress(disclaimer_version=1, pace="slow")
    for day in range(365):
        routine = "down_training" if day % 2 else "daily_massage"
        progress = Change(start + day * DAY, moved=True, completed=routine).applied_to(progress)
    record = progress.to_dict()
    item = encode(record) | {
        "user_id": {"S": "f" * 64},
        "profile": {"S": "person-" + "f" * 64},
        "expires_at": {"N": str(start + 400 * DAY)},
    }
    size = dynamodb_item_size(item)
    print(f"record after a year of daily use: {len(progress.days)} dates kept, {size} bytes")
    assert len(progress.days) == DAY_WINDOW
    assert progress.earlier_days == 365 - DAY_WINDOW
    assert progress.total_sessions() == 365
    assert progress.streak(start + 364 * DAY) == 365  # exact, though only 35 dates are kept
    assert size < 1024  # every write stays one write unit
    assert Progress.from_dict(decode(item)) == progress


# -- safety words --------------------------------------------------------------------------------
@pytest.mark.parametrize("words", ["it hurts", "that's painful", "I feel pain", "ouch", "stop, this hurts"])
def test_pain_stops_at_once_and_offers_skip_or_end(conv: Conversation, dynamodb: Any, words: str) -> None:
    conv.say("open pelvic ease")
    conv.say("release my psoas")
    conv.say("next")
    reply = conv.say(words)
    assert reply.text == LIB.say("pain_stop")
    assert "Step 3" not in reply.text  # never goes on by itself
    assert reply.session_open
    assert reply.reprompt.words_only == LIB.say("pain_reprompt")
    assert stored(dynamodb).step == 1
    # "yes" is no answer to "skip or end": asked again, still not going on
    assert conv.say("yes").text == LIB.say("pain_reprompt")
    ended = conv.say("end")
    assert not ended.session_open
    assert ended.text == LIB.say("stop_in_routine", step=2, routine="psoas release")
    assert stored(dynamodb).step == 1


def test_pain_mid_part_then_skip_goes_to_the_next_step_not_done(conv: Conversation, dynamodb: Any) -> None:
    conv.say("open pelvic ease")
    conv.say("down training")
    for _ in range(3):
        conv.say("next")  # step 3, second part
    assert conv.say("ouch").text == LIB.say("pain_stop_relaxation")  # no massage to stop in it
    skipped = conv.say("skip")
    assert skipped.text.startswith(f"{LIB.say('skipped')} {LIB.say('go_gently')} Step 4 of 6")
    progress = stored(dynamodb)
    assert (progress.step, progress.segment) == (3, 0)
    assert progress.completed == {}


def test_pain_after_a_pace_change_and_then_next_skips_it_and_says_go_gently(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    conv.say("massage my inner thighs")
    conv.say("slower")
    assert conv.say("it hurts").text == LIB.say("pain_stop")
    assert conv.say("repeat").text == LIB.say("pain_stop")
    # the settling step hurt: the next one works the inner thighs, a different place
    assert conv.say("next").text.startswith(f"{LIB.say('skipped')} {LIB.say('go_gently')} Step 2 of 4")


def test_pain_at_the_menu_gives_the_advice_keeps_the_session_and_offers_the_relaxation(
    conv: Conversation,
) -> None:
    conv.say("open pelvic ease")
    reply = conv.say("it hurts")
    assert reply.text.startswith(LIB.say("pain_menu"))
    assert "healthcare professional" in reply.text
    assert reply.text.endswith("Shall we start?")
    assert reply.session_open  # someone in pain is not turned away
    assert "down-training relaxation" in conv.say("yes").text


def test_skip_on_a_long_last_step_gives_the_closing_cue(
    table: DynamoTable, clock: Clock, dynamodb: Any
) -> None:
    # Today's last steps fit one part; a content author may write a longer one.
    routine = LIB.routines["lower_back"]
    long_last = routine.steps[-1]._replace(breaths=40, seconds=600)
    library = replace(
        LIB, routines={**LIB.routines, "lower_back": routine._replace(steps=(*routine.steps[:-1], long_last))}
    )
    use_skill(build_skill(Settings(TABLE_NAME, DEFAULT_SKILL_ID), table=table, library=library, clock=clock))
    conv = Conversation(app.lambda_handler)
    conv.say("open pelvic ease")
    conv.say("massage my lower back")
    conv.say("next")
    conv.say("next")
    assert conv.say("next").text == long_last.ask  # the optional extra is asked first
    last_first_part = conv.say("yes")
    assert "Step 4 of 4, an optional extra" in last_first_part.text
    assert LIB.say("another_offer") not in last_first_part.text
    end = conv.say("skip this step")
    assert end.text.startswith(f"{LIB.say('skipped')} {routine.outro}")
    assert end.text.endswith(LIB.say("another_offer"))
    assert stored(dynamodb).position is None
    assert stored(dynamodb).completed == {"lower_back": 1}


def test_skip_outside_a_routine(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    assert conv.say("skip").text.startswith(LIB.say("skip_nothing"))


# -- menus that fit ----------------------------------------------------------------------------------
def test_help_inside_a_routine_mentions_pace_skip_and_stop(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    conv.say("massage my inner thighs")
    text = conv.say("help").text.lower()
    for word in ("slower", "faster", "skip", "stop", "hurts"):
        assert word in text


def test_menus_name_only_what_exists() -> None:
    names = {r.name for r in LIB.whole_routines.values()}
    assert "daily pelvic massage" in names
    assert "down-training relaxation" in names
    menu = LIB.say("menu")
    for mentioned in ("daily pelvic massage", "down-training relaxation"):
        assert mentioned in menu
    model = InteractionModel()
    for area in ("psoas", "inner thighs", "lower back"):
        assert area in menu
        assert LIB.routine_for_area(model.values["AREA"][area][0]) is not None
    help_menu = LIB.say("help_menu")
    assert model.resolve("a ten minute relaxation").intent == "StartRoutineIntent"
    assert "ten minute relaxation" in help_menu
    assert model.resolve("how am I doing").intent == "ProgressReportIntent"


def test_a_completion_applied_to_another_devices_record_keeps_every_practice_day() -> None:
    start = 1_795_000_000
    base = Change(start, moved=True, completed="lower_back").applied_to(Progress(version=3))
    mine = Change(start + DAY, moved=True, completed="inner_thigh")
    theirs = replace(
        Change(start + 2 * DAY, moved=True, completed="psoas_release").applied_to(base), version=4
    )
    merged = mine.applied_to(theirs)
    assert merged.days == (start // DAY, start // DAY + 1, start // DAY + 2)
    assert merged.completed == {"lower_back": 1, "psoas_release": 1, "inner_thigh": 1}
    assert merged.version == 4
    assert mine.applied_to(merged) == merged  # the same change never counts twice
