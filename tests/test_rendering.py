"""Every segment of every routine at every pace, rendered and checked against Alexa's limits."""

from __future__ import annotations

import re

import pytest

from pelvic_ease.content import load_library
from pelvic_ease.engine import Engine, Position, Segment
from pelvic_ease.speech import MAX_SILENCE_RUN_SECONDS, Pause, Text, estimate_seconds, render, silent_runs
from sim.ssml_reader import read_ssml

LIB = load_library()
ENGINE = Engine(LIB)
# The longest thing a handler may say before a segment: the disclaimer plus the resume line.
LONGEST_LEAD = estimate_seconds(
    (Text(LIB.disclaimer_text), Text(LIB.say("resume_intro", routine="down-training relaxation"))),
    min(p.rate for p in LIB.paces.values()),
)


def all_segments(
    routine_id: str, pace_id: str, minutes: int | None = None, engine: Engine = ENGINE
) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for step in range(len(engine.library.routines[routine_id].steps)):
        count = engine.segment(Position(routine_id, step, 0), pace_id, minutes).segment_count
        out.extend((step, seg) for seg in range(count))
    return out


# Every routine (focused ones included) at every pace, as written and at every offered length.
CASES = [
    (routine_id, pace_id, minutes, step, seg)
    for routine_id in LIB.routines
    for pace_id in LIB.paces
    for minutes in (None, *LIB.routines[routine_id].lengths)
    for step, seg in all_segments(routine_id, pace_id, minutes)
]


def every_way_of_saying(
    position: Position,
    pace_id: str,
    minutes: int | None,
    quiet: tuple[bool, ...] = (False, True),
    engine: Engine = ENGINE,
) -> list[Segment]:
    """The segment as each listener may hear it: plain, quiet, as a fresh start, resumed."""
    out = []
    for less_talk in quiet:
        out.append(engine.segment(position, pace_id, minutes, quiet=less_talk))
        if position.segment == 0:
            out.append(engine.step_start(position, pace_id, minutes, resumed=True, quiet=less_talk))
            if position.at_start:
                out.append(engine.start(position.routine_id, pace_id, minutes, quiet=less_talk))
    return out


@pytest.mark.parametrize(("routine_id", "pace_id", "minutes", "step", "seg"), CASES)
def test_segment_is_valid_ssml_within_limits(
    routine_id: str, pace_id: str, minutes: int | None, step: int, seg: int
) -> None:
    pace = LIB.paces[pace_id]
    for segment in every_way_of_saying(Position(routine_id, step, seg), pace_id, minutes):
        ssml = f"<speak>{render(segment.script, pace.rate)}</speak>"
        spoken = read_ssml(ssml)
        assert spoken.problems == ()
        assert len(ssml) < 8000
        assert all(p <= 10 for p in spoken.pauses)
        assert max(silent_runs(spoken.parts), default=0) <= MAX_SILENCE_RUN_SECONDS
        assert spoken.seconds + LONGEST_LEAD <= 240
        # the listener's estimate (from the SSML) agrees with the engine's (from the script)
        assert spoken.seconds == pytest.approx(estimate_seconds(segment.script, pace.rate), rel=0.02)


@pytest.mark.parametrize(("routine_id", "pace_id", "minutes"), sorted({c[:3] for c in CASES}, key=str))
def test_every_way_of_saying_a_step_has_the_same_parts(
    routine_id: str, pace_id: str, minutes: int | None
) -> None:
    """A stored position means the same place however the step was reached. (With a chosen
    length the quiet guide may plan other breaths, so it is compared with itself.)"""
    for step in range(len(LIB.routines[routine_id].steps)):
        position = Position(routine_id, step, 0)
        groups = [(False, True)] if minutes is None else [(False,), (True,)]
        for quiet in groups:
            counts = {s.segment_count for s in every_way_of_saying(position, pace_id, minutes, quiet)}
            assert len(counts) == 1, (step, quiet, counts)


@pytest.mark.parametrize("pace_id", list(LIB.paces))
def test_breathing_pauses_follow_the_pace(pace_id: str) -> None:
    pace = LIB.paces[pace_id]
    script = ENGINE.start("down_training", pace_id).script
    pauses = [p.seconds for p in script if isinstance(p, Pause)]
    assert pauses[:2] == [pace.inhale, pace.exhale + pace.rest]
    assert pace.exhale >= pace.inhale
    assert f'<prosody rate="{pace.rate}%">' in render(script, pace.rate)


def test_slower_pace_gives_longer_segments() -> None:
    slow = estimate_seconds(ENGINE.start("down_training", "slow").script, LIB.paces["slow"].rate)
    quick = estimate_seconds(ENGINE.start("down_training", "quick").script, LIB.paces["quick"].rate)
    assert slow > quick * 1.3


def test_a_long_step_is_split_into_parts_of_a_minute_or_more() -> None:
    # down training, step 3 (softening the pelvic floor) is about four minutes long
    first = ENGINE.segment(Position("down_training", 2, 0), "normal")
    assert first.segment_count >= 2
    for seg in range(first.segment_count):
        part = ENGINE.segment(Position("down_training", 2, seg), "normal")
        assert estimate_seconds(part.script, 90) >= 60
    later = ENGINE.segment(Position("down_training", 2, 1), "normal")
    assert isinstance(later.script[0], Text)
    assert later.script[0].text == "Still with softening the pelvic floor."


def test_a_short_step_is_one_segment_with_its_breathing() -> None:
    segment = ENGINE.segment(Position("psoas_release", 1, 0), "normal")
    assert segment.segment_count == 1
    assert (
        sum(1 for p in segment.script if isinstance(p, Pause))
        == 2 * LIB.routines["psoas_release"].steps[1].breaths
    )


@pytest.mark.parametrize("routine_id", list(LIB.routines))
def test_step_lengths_in_the_data_match_what_is_spoken(routine_id: str) -> None:
    for index, step in enumerate(LIB.routines[routine_id].steps):
        spoken = sum(
            estimate_seconds(ENGINE.segment(Position(routine_id, index, s), "normal").script, 90)
            for s in range(ENGINE.segment(Position(routine_id, index, 0), "normal").segment_count)
        )
        assert spoken == pytest.approx(step.seconds, rel=0.2), step.title


def test_navigation() -> None:
    last_step = len(LIB.routines["lower_back"].steps) - 1
    assert ENGINE.advance(Position("lower_back", last_step, 0), "normal") is None
    nxt = ENGINE.advance(Position("lower_back", 0, 0), "normal")
    assert nxt is not None
    assert nxt.position == Position("lower_back", 1, 0)
    assert ENGINE.back(Position("down_training", 2, 1), "normal")[0].position == Position(
        "down_training", 2, 0
    )
    assert ENGINE.back(Position("down_training", 2, 0), "normal")[0].position == Position(
        "down_training", 1, 0
    )
    assert ENGINE.back(Position("down_training", 0, 0), "normal")[1] is False
    # a segment index left over from a slower pace is clamped to the step's last segment
    clamped = ENGINE.segment(Position("down_training", 2, 99), "quick")
    assert clamped.position.segment == clamped.segment_count - 1


def test_text_is_escaped() -> None:
    ssml = f"<speak>{render((Text('Tom & Jerry <audio src=x/> ]]>'),), 90)}</speak>"
    spoken = read_ssml(ssml)
    assert spoken.problems == ()
    assert spoken.words_only == "Tom & Jerry <audio src=x/> ]]>"


def test_characters_xml_forbids_are_dropped() -> None:
    hostile = Text("elbow\x1b\x00 and \ud800knee")
    ssml = f"<speak>{render((hostile,), 90)}</speak>"
    spoken = read_ssml(ssml)
    assert spoken.problems == ()
    assert spoken.words_only == "elbow and knee"


def test_long_silences_are_split_into_legal_breaks() -> None:
    ssml = render((Pause(25),), 90)
    assert re.findall(r'time="(\d+)s"', ssml) == ["10", "10", "5"]


def test_longest_segment_report() -> None:
    """Not an assertion of speed: the figures the closing note quotes, checked for sanity."""
    longest = max(
        (
            (len(render(ENGINE.segment(Position(r, s, g), p, m).script, LIB.paces[p].rate)), r, p, m, s, g)
            for r, p, m, s, g in CASES
        ),
        key=lambda row: row[0],
    )
    chars, routine_id, pace_id, minutes, step, seg = longest
    seconds = estimate_seconds(
        ENGINE.segment(Position(routine_id, step, seg), pace_id, minutes).script, LIB.paces[pace_id].rate
    )
    where = f"{routine_id} step {step + 1} part {seg + 1} at {pace_id}"
    print(f"longest segment: {where}: {chars} chars, {seconds:.0f} s")
    assert 0 < chars < 8000
