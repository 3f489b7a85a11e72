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


# -- questions and words a new user says ----------------------------------------------------------
def test_yes_at_the_menu_suggests_one_thing_and_starts_it(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    suggestion = conv.say("sure")
    assert suggestion.text.startswith("The daily pelvic massage takes about ")
    assert suggestion.text.endswith("Shall we start?")
    assert suggestion.session_open
    assert conv.say("yes").text.startswith(LIB.say("routine_start", routine="daily pelvic massage"))


def test_no_to_a_suggestion_goes_back_to_the_menu(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    conv.say("yes")
    assert conv.say("no").text == LIB.say("menu")


@pytest.mark.parametrize("words", ["wait", "hold on", "give me a minute"])
def test_wait_keeps_the_place_and_says_how_to_come_back(
    conv: Conversation, dynamodb: Any, words: str
) -> None:
    conv.say("open pelvic ease")
    conv.say("release my psoas")
    conv.say("next")
    reply = conv.say(words)
    assert reply.text == LIB.say("wait_routine", step=2, total=len(PSOAS.steps), routine=PSOAS.name)
    assert stored_items(dynamodb)[0]["step"]["N"] == "1"  # the place is kept
    assert "Step 2" in conv.say("ask pelvic ease to resume").text


def test_wait_at_the_menu_says_how_to_come_back(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    assert conv.say("hold on").text == LIB.say("wait_menu")


@pytest.mark.parametrize("words", ["I'm done", "that's enough", "finish"])
def test_done_ends_the_session_keeping_the_place(conv: Conversation, dynamodb: Any, words: str) -> None:
    conv.say("open pelvic ease")
    conv.say("massage my lower back")
    conv.say("next")
    reply = conv.say(words)
    assert not reply.session_open
    assert reply.text.startswith("Okay, we'll stop there.")
    assert stored_items(dynamodb)[0]["step"]["N"] == "1"  # not moved on, as "I'm done" once did


def test_last_step_goes_to_the_last_step_not_back(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    conv.say("release my psoas")
    conv.say("next")
    last = max(i for i, step in enumerate(PSOAS.steps) if not step.optional)
    reply = conv.say("last step")
    assert reply.text.startswith(LIB.say("last_step"))
    assert f"Step {last + 1} of {len(PSOAS.steps)}" in reply.text
    assert conv.say("next").text == PSOAS.steps[-1].ask


def test_how_long_answers_in_minutes_from_the_estimate(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    lengths = conv.say("how long does this take")
    for routine in LIB.whole_routines.values():
        assert routine.name in lengths.text
    conv.say("release my psoas")
    left = conv.say("how much is left")
    assert re.match(r"About \d+ more minutes of the psoas release\.", left.text)
    assert left.session_open
    assert "Step 2" in conv.say("next").text  # and back to the routine


def test_safety_and_kegel_questions_get_a_general_answer(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    safety = conv.say("is this safe if I'm pregnant")
    assert safety.text.startswith(LIB.say("safety_answer"))
    assert "healthcare professional" in safety.text
    kegels = conv.say("why no kegels")
    assert kegels.text.startswith(LIB.say("why_no_kegels"))
    assert kegels.session_open


@pytest.mark.parametrize(("words", "longest"), [("I only have five minutes", 5), ("ten minutes", 10)])
def test_choosing_by_length_suggests_something_that_fits(
    conv: Conversation, words: str, longest: int
) -> None:
    conv.say("open pelvic ease")
    reply = conv.say(words)
    minutes = re.search(r"takes about (\d+) minutes", reply.text)
    assert minutes is not None
    assert int(minutes.group(1)) <= longest
    assert "Let's begin" in conv.say("yes").text


def test_a_massage_of_some_length_suggests_a_massage_that_fits(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    reply = conv.say("a ten minute massage")
    minutes = re.search(r"The (.+) takes about (\d+) minutes", reply.text)
    assert minutes is not None
    assert int(minutes.group(2)) <= 10
    assert minutes.group(1) != LIB.routines["down_training"].name  # a massage, not the relaxation
    assert conv.say("yes").text.startswith(LIB.say("routine_start", routine=minutes.group(1)))


def test_an_area_the_skill_does_not_cover_says_what_it_does(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    reply = conv.say("massage my butt")
    assert reply.text.startswith(LIB.say("unknown_area", heard="glutes"))  # the area's name, never "yet"
    assert LIB.say("area_choices") in reply.text


def test_less_talking_thins_the_breath_cues_and_is_remembered(conv: Conversation, dynamodb: Any) -> None:
    conv.say("open pelvic ease")
    normal = conv.say("a ten minute relaxation")
    conv.say("less talking")
    assert stored_items(dynamodb)[0]["cues"]["S"] == "fewer"
    quiet = conv.say("a ten minute relaxation")
    spoken = ["Breathe in", "In through the nose"]
    assert sum(quiet.text.count(w) for w in spoken) < sum(normal.text.count(w) for w in spoken)
    assert abs(quiet.speech.seconds - normal.speech.seconds) < 0.15 * normal.speech.seconds  # same timing
    conv.say("more guidance")
    assert "cues" not in stored_items(dynamodb)[0]


def test_the_reprompt_in_a_routine_says_how_to_come_back_later(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    reply = conv.say("massage my lower back")
    assert "Alexa, ask Pelvic Ease to resume" in reply.reprompt.words_only


# -- asked for another routine mid-routine: the place is not dropped unasked ---------------------
def test_asking_for_another_area_mid_routine_asks_before_leaving_the_place(
    conv: Conversation, dynamodb: Any
) -> None:
    conv.say("open pelvic ease")
    conv.say("release my psoas")
    conv.say("next")
    # GIVEN step 2 of the psoas release, WHEN the user asks for the hips
    asked = conv.say("massage my hips")
    hips = LIB.routines["daily_massage.hips"].name
    assert asked.text == LIB.say(
        "switch_offer", routine=PSOAS.name, step=2, total=len(PSOAS.steps), asked=hips
    )
    assert asked.session_open
    assert stored_items(dynamodb)[0]["routine"]["S"] == "psoas_release"  # nothing moved yet
    # THEN no keeps the place and says how to go on; next carries on from it
    kept = conv.say("no")
    assert kept.text == LIB.say("back_to_routine", routine=PSOAS.name)
    assert "Step 3 of" in conv.say("next").text
    # and yes, asked again, starts the hips
    conv.say("massage my hips")
    started = conv.say("yes")
    assert started.text.startswith(LIB.say("routine_start", routine=hips))
    assert stored_items(dynamodb)[0]["routine"]["S"] == "daily_massage.hips"


def test_asking_for_the_routine_under_way_says_so_and_keeps_the_place(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    conv.say("release my psoas")
    conv.say("next")
    again = conv.say("release my psoas")
    assert again.text.startswith(
        LIB.say("already_in_routine", routine=PSOAS.name, step=2, total=len(PSOAS.steps))
    )
    assert "Step 3 of" in conv.say("next").text


# -- a resume after a pain stop mentions it and offers to skip the step --------------------------
def stop_for_pain_at_step_two(conv: Conversation, clock: Clock) -> None:
    conv.say("open pelvic ease")
    conv.say("release my psoas")
    conv.say("next")
    assert conv.say("it hurts").text == LIB.say("pain_stop")
    assert not conv.say("end").session_open
    clock.advance(days=1)


def test_resuming_after_a_pain_stop_offers_to_skip_the_step_that_hurt(
    conv: Conversation, clock: Clock, dynamodb: Any
) -> None:
    stop_for_pain_at_step_two(conv, clock)
    assert stored_items(dynamodb)[0]["hurt"]["N"] == "1"
    offer = conv.say("open pelvic ease")
    fields = {"routine": PSOAS.name, "step": 2, "total": len(PSOAS.steps)}
    assert offer.text.endswith(LIB.say("hurt_offer", **fields))
    skipped = conv.say("yes")
    assert skipped.text.startswith(LIB.say("hurt_skipped", step=2))
    assert "Step 3 of" in skipped.text
    third = PSOAS.steps[2]
    assert (third.setup or third.position) in skipped.text  # picked up from scratch: how to get there
    item = stored_items(dynamodb)[0]
    assert item["step"]["N"] == "2"
    assert "hurt" not in item  # the mark goes with the place


def test_no_to_skipping_tries_the_step_again_gently(conv: Conversation, clock: Clock, dynamodb: Any) -> None:
    stop_for_pain_at_step_two(conv, clock)
    conv.say("open pelvic ease")
    again = conv.say("no")
    assert again.text.startswith(LIB.say("hurt_try_again"))
    assert "Step 2 of" in again.text
    assert "hurt" not in stored_items(dynamodb)[0]


def test_a_spoken_resume_after_a_pain_stop_asks_too(conv: Conversation, clock: Clock) -> None:
    stop_for_pain_at_step_two(conv, clock)
    fields = {"routine": PSOAS.name, "step": 2, "total": len(PSOAS.steps)}
    assert conv.say("ask pelvic ease to resume").text == LIB.say("hurt_offer", **fields)
    assert "Step 3 of" in conv.say("skip").text


# -- what counts: a practice day needs a step done, a finished session at most one skip ---------
def lower_back_skipping(conv: Conversation, skips: int) -> str:
    """The lower-back release with its first ``skips`` main steps skipped, the rest done."""
    routine = LIB.routines["lower_back"]
    main = [i for i, step in enumerate(routine.steps) if not step.optional]
    conv.say("open pelvic ease")
    conv.say("massage my lower back")
    reply = ""
    for index in range(len(main)):
        reply = conv.say("skip" if index < skips else "next").text
        if reply.endswith(routine.steps[-1].ask):  # the tennis-ball question
            reply = conv.say("no").text
    return reply


@pytest.mark.parametrize(
    ("skips", "finished", "days"),
    [(0, 1, 1), (1, 1, 1), (2, 0, 1), (3, 0, 0)],
)
def test_what_counts_as_finished_and_as_a_practice_day(
    conv: Conversation, dynamodb: Any, skips: int, finished: int, days: int
) -> None:
    main = [s for s in LIB.routines["lower_back"].steps if not s.optional]
    assert len(main) == 3
    end = lower_back_skipping(conv, skips)
    assert LIB.say("another_offer") in end
    item = stored_items(dynamodb)[0]
    assert int(item.get("completed", {}).get("M", {}).get("lower_back", {"N": "0"})["N"]) == finished
    assert len(item.get("days", {}).get("L", [])) == days
    assert "routine" not in item  # the place is cleared at the end either way


def test_skipping_most_of_a_routine_does_not_praise_a_streak(conv: Conversation, clock: Clock) -> None:
    lower_back_skipping(conv, 0)
    conv.end_session()
    clock.advance(days=1)
    end = lower_back_skipping(conv, 3)
    assert "days in a row" not in end  # "That's 2 days in a row" after skipping all of it: no more
    report = conv.say("how am I doing").text
    assert report.startswith(LIB.say("report", week=1, total=1))


def test_a_session_that_closes_at_the_extras_question_finishes_the_routine(
    conv: Conversation, dynamodb: Any, clock: Clock
) -> None:
    # GIVEN every main step of the psoas release heard and the tennis-ball question asked
    question = finish_all_but_the_extra(conv, "psoas_release")
    assert question == PSOAS.steps[-1].ask
    # WHEN the listener, lying still, does not answer and the session closes
    conv.end_session()
    # THEN the routine counts as finished, and the next launch offers no half-done routine
    item = stored_items(dynamodb)[0]
    assert item["completed"]["M"] == {"psoas_release": {"N": "1"}}
    assert "routine" not in item
    clock.advance(hours=2)
    assert conv.say("open pelvic ease").text.endswith(LIB.say("menu"))


def test_a_suggestion_in_the_session_naming_no_routine_is_ignored(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    conv.say("yes")  # "The daily pelvic massage takes about ... Shall we start?"
    conv.session_attributes["suggested"] = ["no_such_routine", 10]  # an old or tampered session
    reply = conv.say("yes")
    assert reply.text == LIB.say("menu")  # nothing to start: the menu, not an apology
