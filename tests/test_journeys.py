"""Conversations through the real lambda_handler with moto-backed DynamoDB (issue: Core)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from pelvic_ease.content import load_library
from pelvic_ease.engine import Engine
from pelvic_ease.repository import DynamoTable, decode
from pelvic_ease.settings import Settings
from pelvic_ease.skill import build_skill, use_skill
from sim.driver import DEFAULT_SKILL_ID, Conversation
from tests.conftest import stored_items
from tests.support import TABLE_NAME, Clock

LIB = load_library()
DISCLAIMER = LIB.disclaimer_text


def only_item(dynamodb: Any) -> dict[str, Any]:
    items = stored_items(dynamodb)
    assert len(items) == 1
    return decode(items[0])


def test_first_launch_speaks_disclaimer_then_menu_and_remembers_it(conv: Conversation, dynamodb: Any) -> None:
    reply = conv.say("open pelvic ease")
    assert reply.text.startswith("Welcome to Pelvic Ease.")
    assert DISCLAIMER in reply.text
    assert reply.text.index(DISCLAIMER) < reply.text.index(LIB.say("menu"))
    assert reply.session_open
    assert reply.reprompt.words_only == LIB.say("menu_reprompt")
    assert only_item(dynamodb)["disclaimer_version"] == LIB.disclaimer_version


def test_second_launch_skips_the_disclaimer(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    conv.say("stop")
    reply = conv.say("open pelvic ease")
    assert DISCLAIMER not in reply.text
    assert reply.text == f"{LIB.say('welcome_back')} {LIB.say('menu')}"


def test_changed_disclaimer_is_read_again_once(
    conv: Conversation, table: DynamoTable, clock: Clock, dynamodb: Any
) -> None:
    conv.say("open pelvic ease")
    conv.say("stop")
    newer = replace(LIB, disclaimer_version=LIB.disclaimer_version + 1)
    use_skill(build_skill(Settings(TABLE_NAME, DEFAULT_SKILL_ID), table=table, library=newer, clock=clock))
    assert DISCLAIMER in conv.say("open pelvic ease").text
    conv.say("stop")
    assert DISCLAIMER not in conv.say("open pelvic ease").text
    assert only_item(dynamodb)["disclaimer_version"] == LIB.disclaimer_version + 1


def test_one_shot_routine_for_a_new_user_still_hears_the_disclaimer_first(conv: Conversation) -> None:
    reply = conv.say("ask pelvic ease to massage my lower back")
    assert reply.text.startswith(DISCLAIMER)
    assert "Let's begin the lower-back release." in reply.text
    assert reply.speech.seconds <= 240


def test_massage_my_inner_thighs_starts_that_routine(conv: Conversation, dynamodb: Any) -> None:
    conv.say("open pelvic ease")
    reply = conv.say("massage my inner thighs")
    routine = LIB.routines["inner_thigh"]
    assert reply.text.startswith("Let's begin the inner-thigh massage.")
    assert f"Step 1 of {len(routine.steps)}: {routine.steps[0].title}." in reply.text
    assert routine.steps[0].position in reply.text
    assert reply.text.endswith(LIB.say("invitation"))
    assert reply.speech.pauses[:2] == [4, 7]  # breathe in 4 s, out 6 s plus 1 s rest (normal pace)
    assert reply.session_open
    stored = only_item(dynamodb)
    assert (stored["routine"], stored["step"], stored["segment"]) == ("inner_thigh", 0, 0)


@pytest.mark.parametrize(
    ("utterance", "routine_id"),
    [
        ("massage my belly", "daily_massage.lower_abdomen"),  # the belly steps of the daily massage
        ("let's do the daily routine", "daily_massage"),
        ("help me release my psoas", "psoas_release"),
        ("release my hip flexors", "psoas_release"),
        ("I want to relax my pelvic floor", "down_training"),
        ("massage my groin muscles", "inner_thigh"),
        ("work on my lower back", "lower_back"),
        ("down training", "down_training"),
    ],
)
def test_areas_and_synonyms_reach_their_routine(conv: Conversation, utterance: str, routine_id: str) -> None:
    conv.say("open pelvic ease")
    reply = conv.say(utterance)
    assert f"Let's begin the {LIB.routines[routine_id].name}." in reply.text


def test_unknown_area_names_the_areas_and_keeps_listening(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    reply = conv.say("massage my elbow")
    assert reply.text == f"{LIB.say('area_not_offered')} {LIB.say('area_choices')}"  # never "yet"
    assert reply.session_open


def test_missing_area_asks_which(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    reply = conv.say("start a routine")
    assert reply.text == f"{LIB.say('unknown_area_unheard')} {LIB.say('area_choices')}"
    assert reply.session_open


def test_whole_routine_with_next_previous_repeat_and_start_over(conv: Conversation, dynamodb: Any) -> None:
    routine = LIB.routines["lower_back"]
    conv.say("open pelvic ease")
    first = conv.say("massage my lower back")
    second = conv.say("next")
    assert f"Step 2 of {len(routine.steps)}: {routine.steps[1].title}." in second.text

    # repeat: the last segment, exactly
    assert conv.say("repeat").ssml == second.ssml
    # previous: back to step 1, without the routine's opening again
    back = conv.say("go back")
    assert f"Step 1 of {len(routine.steps)}: {routine.steps[0].title}." in back.text
    assert first.text.startswith("Let's begin")
    assert not back.text.startswith("Let's begin")
    assert back.text in first.text
    assert only_item(dynamodb)["step"] == 0
    conv.say("next")
    # start over: step 1 again, announced
    over = conv.say("start over")
    assert over.text.startswith("Starting the lower-back release again from the top.")
    assert only_item(dynamodb)["step"] == 0

    replies = [conv.say("next") for _ in range(len(routine.steps) - 1)]
    assert replies[-1].text == routine.steps[-1].ask  # the optional extra is asked first
    last = conv.say("no")
    assert routine.outro in last.text
    assert last.text.endswith(LIB.say("another_offer"))
    assert last.session_open
    stored = only_item(dynamodb)
    assert "routine" not in stored
    assert stored["completed"] == {"lower_back": 1}

    goodbye = conv.say("no")
    assert goodbye.text == LIB.say("goodbye")
    assert not goodbye.session_open


def test_previous_on_the_first_step_says_so(conv: Conversation) -> None:
    conv.say("ask pelvic ease to massage my inner thighs")
    reply = conv.say("go back")
    assert reply.text.startswith(LIB.say("at_first_step"))


def test_start_over_after_finishing_does_the_routine_again(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    conv.say("release my psoas")
    for _ in LIB.routines["psoas_release"].steps[1:]:
        conv.say("next")
    conv.say("no")  # no tennis ball: the end
    reply = conv.say("start over")
    assert "Step 1 of 9" in reply.text


def test_yes_after_finishing_suggests_one_routine_and_starts_it_on_yes(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    conv.say("massage my inner thighs")
    for _ in LIB.routines["inner_thigh"].steps[1:]:
        conv.say("next")
    conv.say("no")  # not the sitting version: the end
    suggestion = conv.say("yes")  # yes to "another routine?": one concrete thing, not the menu again
    minutes = re.search(r"about (\d+) minutes", suggestion.text)
    assert minutes is not None
    assert suggestion.text == LIB.say("suggest", routine="daily pelvic massage", minutes=minutes.group(1))
    assert conv.say("yes").text.startswith(LIB.say("routine_start", routine="daily pelvic massage"))


def test_help_differs_inside_and_outside_a_routine(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    outside = conv.say("help")
    assert outside.text == LIB.say("help_menu")
    assert outside.session_open
    conv.say("massage my inner thighs")
    conv.say("next")
    inside = conv.say("help")
    assert inside.text == LIB.say("help_routine", step=2, total=4, routine="inner-thigh massage")
    assert inside.session_open
    # help changed nothing: next goes on to step 3
    assert "Step 3 of 4" in conv.say("next").text


def test_stop_inside_a_routine_says_how_to_resume(conv: Conversation, dynamodb: Any) -> None:
    conv.say("open pelvic ease")
    conv.say("massage my inner thighs")
    conv.say("next")
    reply = conv.say("stop")
    assert reply.text == LIB.say("stop_in_routine", step=2, routine="inner-thigh massage")
    assert "ask Pelvic Ease to resume" in reply.text
    assert not reply.session_open
    assert only_item(dynamodb)["step"] == 1


def test_stop_and_cancel_outside_a_routine_say_goodbye(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    reply = conv.say("stop")
    assert reply.text == LIB.say("goodbye")
    assert not reply.session_open
    conv.say("open pelvic ease")
    assert conv.say("cancel").text == LIB.say("goodbye")


def test_pause_keeps_the_place_and_ends_quietly(conv: Conversation, dynamodb: Any) -> None:
    conv.say("ask pelvic ease to massage my inner thighs")
    conv.say("next")
    reply = conv.say("pause")
    assert reply.text == LIB.say("pause")
    assert not reply.session_open
    assert only_item(dynamodb)["step"] == 1


def test_fallback_is_contextual(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    menu = conv.say("purple monkey dishwasher")
    assert menu.text == f"{LIB.say('fallback_menu')} {LIB.say('menu')}"
    conv.say("massage my inner thighs")
    inside = conv.say("purple monkey dishwasher")
    assert inside.text == LIB.say("fallback_routine")
    assert inside.session_open


def test_list_routines_names_every_routine(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    reply = conv.say("what can you do")
    for routine in LIB.whole_routines.values():
        assert routine.name in reply.text


def test_read_the_disclaimer_any_time_and_return_to_the_routine(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    conv.say("massage my inner thighs")
    reply = conv.say("read the disclaimer")
    assert reply.text.startswith(DISCLAIMER)
    assert reply.text.endswith(LIB.say("disclaimer_return_routine", routine="inner-thigh massage"))
    assert "Step 2 of 4" in conv.say("next").text


def test_navigate_home_shows_the_menu(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    conv.say("massage my inner thighs")
    assert conv.say("main menu").text == LIB.say("menu")


def test_unknown_intent_gets_a_helpful_answer(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    reply = conv.intent("AMAZON.SomethingNewIntent")
    assert reply.text.startswith(LIB.say("unhandled"))
    assert reply.session_open


def test_session_ended_gets_no_speech(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    reply = conv.end_session("USER_INITIATED")
    assert "outputSpeech" not in reply.response


def test_a_failing_handler_apologises_and_the_session_stays_usable(
    conv: Conversation, monkeypatch: pytest.MonkeyPatch
) -> None:
    conv.say("open pelvic ease")
    conv.say("massage my inner thighs")
    original = Engine.advance

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(Engine, "advance", broken)
    reply = conv.say("next")
    assert reply.text == LIB.say("error")
    assert reply.session_open
    monkeypatch.setattr(Engine, "advance", original)
    assert "Step 2 of 4" in conv.say("next").text
