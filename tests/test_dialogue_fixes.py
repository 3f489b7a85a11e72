"""Rough edges a new user hits, fixed in the content and the engine (issue: A conversation a
person lying down can live with): asking for one area, one-sided steps, optional extras
asked first, resuming into position, no replayed intros, real silence. Through the real
lambda_handler."""

from __future__ import annotations

import re
from typing import Any

import pytest

from pelvic_ease.content import load_library
from sim.driver import Conversation
from tests.conftest import stored_items
from tests.support import Clock

LIB = load_library()
PSOAS = LIB.routines["psoas_release"]


def finish_all_but_the_extra(conv: Conversation, routine_id: str) -> str:
    """Start the routine and say next up to the question before its optional extra."""
    routine = LIB.routines[routine_id]
    conv.say("open pelvic ease")
    conv.intent("StartRoutineIntent", area=routine.areas[0])
    extra = next(i for i, step in enumerate(routine.steps) if step.optional)
    for _ in range(extra - 1):
        conv.say("next")
    return conv.say("next").text


@pytest.mark.parametrize("routine_id", ["psoas_release", "lower_back", "inner_thigh"])
def test_an_optional_extra_is_asked_first_in_a_short_reply(conv: Conversation, routine_id: str) -> None:
    routine = LIB.routines[routine_id]
    extra = next(step for step in routine.steps if step.optional)
    question = finish_all_but_the_extra(conv, routine_id)
    assert question == extra.ask  # the question alone, not the step and the closing words
    assert conv.say("repeat").text == extra.ask
    yes = conv.say("yes")
    assert extra.instruction in yes.text
    assert routine.outro in yes.text
    assert LIB.say("another_offer") in yes.text


@pytest.mark.parametrize("answer", ["no", "next", "skip"])
def test_no_to_the_optional_extra_goes_to_the_close_and_counts_the_routine(
    conv: Conversation, dynamodb: Any, answer: str
) -> None:
    finish_all_but_the_extra(conv, "psoas_release")
    close = conv.say(answer)
    assert close.text.startswith(PSOAS.outro)
    assert "tennis ball" not in close.text.lower().replace(PSOAS.outro.lower(), "")
    assert LIB.say("another_offer") in close.text
    assert stored_items(dynamodb)[0]["completed"]["M"] == {"psoas_release": {"N": "1"}}


def test_one_sided_steps_are_done_on_one_side_then_the_other_with_a_spoken_switch(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    replies = [conv.say("release my psoas").text]
    replies += [conv.say("next").text for _ in range(7)]
    first = [r for r in replies if ", first side." in r]
    second = [r for r in replies if ", second side." in r]
    assert len(first) == len(second) == 3
    switch = LIB.say("switch_sides")
    assert second[0].startswith(switch)  # the switch is said as the other side begins
    assert "start over" not in PSOAS.outro


@pytest.mark.parametrize(
    ("words", "routine_id", "area_step"),
    [
        ("massage my hips", "daily_massage.hips", "hips"),
        ("massage my tummy", "daily_massage.lower_abdomen", None),
    ],
)
def test_asking_for_one_area_goes_to_that_areas_steps(
    conv: Conversation, dynamodb: Any, words: str, routine_id: str, area_step: str | None
) -> None:
    routine = LIB.routines[routine_id]
    whole = LIB.routines["daily_massage"]
    start = conv.say(f"ask pelvic ease to {words}")
    assert LIB.say("routine_start", routine=routine.name) in start.text
    assert len(routine.steps) < len(whole.steps)  # a short settling-in, then the area
    assert stored_items(dynamodb)[0]["routine"]["S"] == routine_id
    rest = [conv.say("next").text for _ in range(len(routine.steps) - 1)]
    if area_step:
        assert any(f": {area_step}." in r for r in rest)
    assert LIB.say("another_offer") in rest[-1]


def test_resuming_a_step_says_how_to_get_into_position(conv: Conversation, clock: Clock) -> None:
    conv.say("open pelvic ease")
    conv.say("release my psoas")
    for _ in range(3):
        conv.say("next")  # step 4: "keep the knee drawn in" would mean nothing tomorrow
    conv.end_session()
    clock.advance(days=1)
    resumed = conv.say("ask pelvic ease to resume").text
    step = PSOAS.steps[3]
    assert step.setup
    assert step.setup in resumed
    assert step.position not in resumed
    assert LIB.say("routine_start", routine=PSOAS.name) not in resumed  # no opening again


def test_going_back_at_the_first_step_does_not_replay_the_intro(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    start = conv.say("massage my lower back").text
    back = conv.say("go back").text
    assert back.startswith(LIB.say("at_first_step"))
    assert LIB.routines["lower_back"].intro in start
    assert LIB.routines["lower_back"].intro not in back


def test_the_relaxation_holds_real_silence(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    replies = [conv.say("a long relaxation")]
    replies += [conv.say("next") for _ in range(12) if replies[-1].session_open]
    breaks = [int(seconds) for r in replies for seconds in re.findall(r'<break time="(\d+)s"/>', r.ssml)]
    assert max(breaks) <= 10  # every break within Alexa's limit
    runs = [run.count("<break") for r in replies for run in re.findall(r'(?:<break time="\d+s"/>)+', r.ssml)]
    assert max(runs) == 2  # real silence: two breaks in a row (up to 20 s), never longer runs
