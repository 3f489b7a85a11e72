"""Every symptom and contraindication is a safe stop, in every state, through the real
lambda_handler; and after pain the skill never goes straight back to the same place.

GIVEN a person at the menu, mid-massage, mid-relaxation (spoken) or while a routine plays
straight through, WHEN they say a red flag, another symptom or a condition, THEN they hear
the content's words for it, a routine stops (our stream too), and its place is kept (marked
as pain marks it, for a symptom: the next resume asks).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from pelvic_ease import dialogue as d
from pelvic_ease.content import load_library
from pelvic_ease.engine import Engine, Position, same_place
from pelvic_ease.progress import Progress
from pelvic_ease.repository import DynamoTable, ProgressKey
from sim.driver import Conversation, Reply
from sim.player import STOPPED, Player
from tests.support import Clock

Handler = Callable[..., dict[str, Any]]
LIB = load_library()
ENGINE = Engine(LIB)
NOW = 1_800_000_000

# What a person says (as the model's samples have it: these journeys test the behaviour; the
# corpus, tests/test_understanding.py, tests the listening).
RED_FLAGS = {
    "bleeding": "I'm bleeding",
    "chest_pain": "I have chest pain",
    "breathless": "I can't breathe",
    "faint": "I feel faint",
    "severe_pain": "I've got a sudden sharp pain",
}
CONDITIONS = {
    "pregnant": "I'm pregnant",
    "postpartum": "I just had a baby",
    "c_section": "I had a c section",
    "surgery": "I had surgery last week",
    "hernia": "I have a hernia",
    "iud": "I have an IUD",
    "period": "I'm on my period",
    "recurring": "I have endometriosis",
}
SYMPTOMS = {"dizzy": "I feel dizzy", "sick": "I feel sick", "numb": "my leg is numb"}
STATES = ("menu", "massage", "relaxation", "playback")


def test_the_red_flags_and_conditions_here_are_the_contents_and_the_models() -> None:
    assert set(RED_FLAGS) == LIB.red_flags
    assert not set(SYMPTOMS) & LIB.red_flags


def record(table: DynamoTable, conv: Conversation) -> Progress:
    return Progress.from_dict(table.get(ProgressKey.of(conv.user_id)))


def into(state: str, conv: Conversation) -> Reply:
    """The conversation taken to ``state``: the reply that got it there."""
    reply = conv.say("open pelvic ease")
    if state == "massage":
        conv.say("start the daily massage")
        reply = conv.say("next")  # the lower belly
    elif state in ("relaxation", "playback"):
        reply = conv.say("a ten minute relaxation")
        if state == "playback":
            assert reply.audio_directives
            conv.wait(120)
        else:
            reply = conv.say("next")
    return reply


def saying(state: str, utterance: str) -> str:
    """A one-shot while the routine plays ("Alexa, tell Pelvic Ease I'm bleeding")."""
    return f"tell pelvic ease {utterance}" if state == "playback" else utterance


@pytest.fixture(params=STATES)
def state(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def device(
    state: str, handler: Handler, played: Handler, clock: Clock
) -> Iterator[tuple[Conversation, Player | None]]:
    if state == "playback":
        player = Player(clock)
        yield Conversation(played, player=player), player
    else:
        yield Conversation(handler), None


def stopped_and_marked(
    state: str, reply: Reply, before: Progress, after: Progress, player: Player | None
) -> None:
    if state == "playback":
        assert {"type": "AudioPlayer.Stop"} in reply.audio_directives  # our stream stops
        assert player is not None
        assert player.activity == STOPPED
    if state != "menu":
        assert after.hurt == 1  # the next resume asks about this place
        assert after.position is not None
        assert before.position is not None
        assert after.position.routine_id == before.position.routine_id
        assert after.position.step == before.position.step


@pytest.mark.parametrize("flag", sorted(RED_FLAGS))
def test_a_red_flag_stops_at_once_says_how_to_get_safe_and_to_get_help(
    state: str, device: tuple[Conversation, Player | None], table: DynamoTable, flag: str
) -> None:
    conv, player = device
    into(state, conv)
    before = record(table, conv)
    reply = conv.say(saying(state, RED_FLAGS[flag]))
    assert reply.text.startswith(LIB.say("red_flag"))
    assert "nine one one" in reply.text  # the market's emergency number, from its content
    assert not reply.session_open
    stopped_and_marked(state, reply, before, record(table, conv), player)
    if state != "menu":  # the next resume asks before going back there
        assert LIB.say("hurt_offer", **fields(record(table, conv))) in conv.say("open pelvic ease").text


@pytest.mark.parametrize("symptom", sorted(SYMPTOMS))
def test_another_symptom_stops_to_rest_and_never_says_next(
    state: str, device: tuple[Conversation, Player | None], table: DynamoTable, symptom: str
) -> None:
    conv, player = device
    into(state, conv)
    before = record(table, conv)
    reply = conv.say(saying(state, SYMPTOMS[symptom]))
    assert reply.text.startswith(LIB.say("symptom_stop"))
    assert "say next" not in reply.text.lower()
    assert not reply.session_open
    stopped_and_marked(state, reply, before, record(table, conv), player)


@pytest.mark.parametrize("condition", sorted(CONDITIONS))
def test_a_condition_gets_the_check_first_answer_a_massage_stops_and_only_the_relaxation_is_offered(
    state: str, device: tuple[Conversation, Player | None], table: DynamoTable, condition: str
) -> None:
    conv, player = device
    into(state, conv)
    before = record(table, conv)
    reply = conv.say(saying(state, CONDITIONS[condition]))
    assert LIB.say("safety_answer") in reply.text
    assert LIB.say("menu") not in reply.text  # the menu offers massages
    suggested = reply.session_attributes.get("suggested") if reply.session_open else None
    assert suggested in (None, ["down_training", 5])  # the relaxation, or nothing
    after = record(table, conv)
    assert after.position == before.position  # the place is kept (not marked: nothing hurt)
    assert after.hurt == 0
    if state == "massage":
        assert reply.text.startswith(LIB.say("check_first_stop"))
        assert reply.session_attributes.get("mode") == d.SUGGEST_OFFER  # the massage stopped
        started = conv.say("yes").text
        assert LIB.say("routine_start", routine=LIB.routines["down_training"].name) in started
    elif state == "relaxation":
        assert reply.session_attributes.get("mode") == d.ROUTINE  # breathing only: on if they feel fine
    elif state == "playback":
        assert {"type": "AudioPlayer.Stop"} in reply.audio_directives
        assert player is not None
        assert player.activity == STOPPED
        assert LIB.say("played_kept") in reply.text
    else:
        assert suggested == ["down_training", 5]


def fields(progress: Progress) -> dict[str, object]:
    position = progress.position
    assert position is not None
    routine = LIB.routines[position.routine_id]
    return {"routine": routine.name, "step": position.step + 1, "total": len(routine.steps)}


# -- after pain, never straight back to the same place ------------------------------------------
PLACES = [
    (routine_id, step) for routine_id, routine in LIB.routines.items() for step in range(len(routine.steps))
]
GOING_ON = [(d.PAIN_PAUSE, d.NEXT), (d.PAIN_PAUSE, d.SKIP), (d.HURT_OFFER, d.YES), (d.HURT_OFFER, d.NEXT)]


def texts(outcome: d.Outcome) -> str:
    return " ".join(getattr(part, "text", "") for part in outcome.speech)


@pytest.mark.parametrize(("routine_id", "step"), PLACES)
@pytest.mark.parametrize(("mode", "said"), GOING_ON)
def test_going_on_after_pain_never_goes_straight_back_to_the_same_place(
    routine_id: str, step: int, mode: str, said: str
) -> None:
    steps = LIB.routines[routine_id].steps
    hurt = Progress(
        version=3,
        disclaimer_version=LIB.disclaimer_version,
        updated_at=NOW - 60,
        routine=routine_id,
        step=step,
        segment=0,
        hurt=1,
    )
    outcome = d.decide(ENGINE, d.State(mode=mode), d.Heard(said), d.Facts(hurt, NOW))
    assert LIB.say("go_gently") in texts(outcome)  # never silently read as a skip
    change = outcome.change
    assert change is not None
    assert not change.hurt
    if outcome.state.mode == d.EXTRA_OFFER:  # the extra is asked about: yes gives it
        asked = replace(change.applied_to(hurt), updated_at=NOW)
        outcome = d.decide(ENGINE, outcome.state, d.Heard(d.YES), d.Facts(asked, NOW))
        change = outcome.change
        assert change is not None
    # where it went on: the step whose header is spoken (none: straight to the routine's close)
    header = re.search(r"Step (\d+) of \d+", texts(outcome))
    landed = int(header.group(1)) - 1 if header else len(steps)
    assert change.position is None or change.position.step == landed
    assert landed > step
    if change.position is not None:  # the step that hurt, and all left out after it, count skipped
        assert all(change.skipped & 1 << jumped for jumped in range(step, landed))
    if landed < len(steps):
        assert not same_place(steps[step], steps[landed]), steps[landed].title
    for between in range(step + 1, landed):
        assert same_place(steps[step], steps[between]), "only the same place is left out"


def test_the_same_place_is_an_area_in_common_on_the_same_side() -> None:
    psoas = LIB.routines["psoas_release"].steps
    spot = next(s for s in psoas if s.title == "finding the spot")
    circles = next(s for s in psoas if s.title == "gentle circles")
    other_circles = next(s for s in psoas if s.title == "gentle circles" and s.side != circles.side)
    assert same_place(spot, circles)
    assert not same_place(circles, other_circles)  # the other side is another place
    belly = [s for s in LIB.routines["daily_massage"].steps if "lower_abdomen" in s.areas]
    assert len(belly) == 2
    assert same_place(*belly)


def test_next_after_pain_at_the_belly_leaves_out_both_belly_steps_and_says_so(conv: Conversation) -> None:
    # the issue's own journey: "ow" at the lower belly, clockwise, then "next"
    conv.say("open pelvic ease")
    conv.say("start the daily massage")
    conv.say("next")
    assert conv.say("ow").text == LIB.say("pain_stop")
    reply = conv.say("next")
    assert reply.text.startswith(f"{LIB.say('skipped_area')} {LIB.say('go_gently')}")
    assert "lower belly" not in reply.text
    assert "Step 4 of 7: hips." in reply.text


def test_pain_at_finding_the_spot_then_skip_never_circles_on_that_spot(conv: Conversation) -> None:
    conv.say("open pelvic ease")
    reply = conv.say("release my psoas")
    while "finding the spot" not in reply.text:
        reply = conv.say("next")
    conv.say("it hurts")
    reply = conv.say("skip")
    assert "gentle circles" not in reply.text
    assert LIB.say("go_gently") in reply.text
    assert "knee toward the chest, second side" in reply.text


def test_engine_stays_on_the_same_place_only_for_same_place_steps() -> None:
    position = Position("daily_massage", 1, 0)
    assert ENGINE.past_the_area(position) == 3
    assert ENGINE.past_the_area(Position("daily_massage", 0, 0)) == 1
