"""The routine engine as a listener hears it: areas, sides, optional extras, fresh start and
resume, silence and the quieter guide, and how long is left."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from pelvic_ease.content import SECOND_SIDE, Routine, Step, both_sides, load_library
from pelvic_ease.engine import Engine, Position, Segment
from pelvic_ease.speech import (
    MAX_SILENCE_RUN_SECONDS,
    Pause,
    Text,
    cap_silence,
    estimate_seconds,
    render,
    silent_runs,
)
from sim.ssml_reader import Spoken, read_ssml

LIB = load_library()
ENGINE = Engine(LIB)
NORMAL = "normal"
SILENCE_CUES = LIB.prompts["silence_cues"].split("|")
BREATH_IN = LIB.prompts["breath_in"].split("|")
BREATH_OUT = LIB.prompts["breath_out"].split("|")


def heard(segment: Segment, pace_id: str = NORMAL) -> Spoken:
    """The segment as Alexa receives it, read back: words and pauses."""
    spoken = read_ssml(f"<speak>{render(segment.script, LIB.paces[pace_id].rate)}</speak>")
    assert spoken.problems == ()
    return spoken


def words(segment: Segment, pace_id: str = NORMAL) -> str:
    return heard(segment, pace_id).words_only


def index_of(routine_id: str, title: str) -> int:
    return next(i for i, s in enumerate(LIB.routines[routine_id].steps) if s.title == title)


def headers(routine_id: str) -> list[str]:
    out = []
    for segment in ENGINE.walk(routine_id, NORMAL):
        out += [p.text for p in segment.script if isinstance(p, Text) and p.text.startswith("Step ")]
    return out


# -- 1. area focus ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("area", "routine_id"),
    [
        ("hips", "daily_massage.hips"),
        ("lower_abdomen", "daily_massage.lower_abdomen"),
        ("inner_thighs", "inner_thigh"),
        ("lower_back", "lower_back"),
        ("psoas", "psoas_release"),
        ("hip_flexors", "psoas_release"),
        ("relaxation", "down_training"),
        ("down_training", "down_training"),
        ("pelvic_floor", "down_training"),
        ("daily_massage", "daily_massage"),
        ("full_routine", "daily_massage"),
    ],
)
def test_an_area_starts_its_dedicated_routine_else_the_focused_one(area: str, routine_id: str) -> None:
    routine = LIB.routine_for_area(area)
    assert routine is not None
    assert routine.id == routine_id


@pytest.mark.parametrize(("area", "name"), [("hips", "hip massage"), ("lower_abdomen", "belly massage")])
def test_a_focused_routine_is_the_settling_step_and_that_areas_steps(area: str, name: str) -> None:
    routine = LIB.routine_for_area(area)
    assert routine is not None
    parent = LIB.routines["daily_massage"]
    assert (routine.parent, routine.name) == ("daily_massage", name)
    assert len(routine.steps) == 1 + sum(area in s.areas for s in parent.steps)

    spoken = [words(segment) for segment in ENGINE.walk(routine.id, NORMAL)]
    assert spoken[0].startswith(
        f"Let's begin the {name}. {routine.intro} Step 1 of {len(routine.steps)}: settling in."
    )
    assert spoken[-1].endswith(routine.outro)
    everything = " ".join(spoken)
    assert parent.intro not in everything
    assert parent.outro not in everything
    for step in parent.steps:
        if not step.settling and area not in step.areas:
            assert step.instruction not in everything, step.title  # no other area's massage


def test_a_focused_step_that_now_follows_another_step_says_its_setup() -> None:
    original = LIB.routines["daily_massage"].steps[index_of("daily_massage", "hips")]
    text = words(ENGINE.segment(Position("daily_massage.hips", 1, 0), NORMAL))
    assert text.startswith("Step 2 of 2: hips.")
    assert original.setup in text  # the belly steps it followed are not in this routine
    assert original.position not in text
    # the belly steps still follow each other, so the second keeps its position
    belly = LIB.routines["daily_massage.lower_abdomen"]
    assert belly.steps[2].position == parent_step("lower belly, counter-clockwise").position


def parent_step(title: str) -> Step:
    return LIB.routines["daily_massage"].steps[index_of("daily_massage", title)]


@pytest.mark.parametrize("routine_id", [r.id for r in LIB.routines.values() if r.parent])
def test_a_focused_routine_works_like_any_other(routine_id: str) -> None:
    routine = LIB.routines[routine_id]
    assert isinstance(routine, Routine)
    assert routine_id not in LIB.whole_routines
    walk = ENGINE.walk(routine_id, NORMAL)
    assert len(walk) == ENGINE.part_count(routine_id, NORMAL)
    assert [s.final for s in walk] == [False] * (len(walk) - 1) + [True]
    assert ENGINE.advance(walk[-1].position, NORMAL) is None
    assert ENGINE.is_valid(walk[-1].position)


# -- 2. the daily massage includes the lower back --------------------------------------------------
def test_the_daily_massage_has_a_lower_back_step_and_lower_back_keeps_its_own_routine() -> None:
    daily = LIB.routines["daily_massage"]
    index = next(i for i, s in enumerate(daily.steps) if "lower_back" in s.areas)
    assert index > index_of("daily_massage", "inner thighs")
    text = words(ENGINE.segment(Position("daily_massage", index, 0), NORMAL))
    assert text.startswith(f"Step {index + 1} of {len(daily.steps)}: lower back.")
    assert "never on the spine itself" in text
    routine = LIB.routine_for_area("lower_back")
    assert routine is not None
    assert routine.id == "lower_back"
    assert "daily_massage.lower_back" not in LIB.routines


# -- 3. sides --------------------------------------------------------------------------------------
def test_psoas_works_one_side_then_the_other() -> None:
    assert headers("psoas_release") == [
        "Step 1 of 9: lying down.",
        "Step 2 of 9: supporting the lower back.",
        "Step 3 of 9: knee toward the chest, first side.",
        "Step 4 of 9: finding the spot, first side.",
        "Step 5 of 9: gentle circles, first side.",
        "Step 6 of 9: knee toward the chest, second side.",
        "Step 7 of 9: finding the spot, second side.",
        "Step 8 of 9: gentle circles, second side.",
        "Step 9 of 9, an optional extra: the tennis-ball version.",
    ]
    switch = LIB.say("switch_sides")
    spoken = [words(segment) for segment in ENGINE.walk("psoas_release", NORMAL)]
    assert [i for i, text in enumerate(spoken) if switch in text] == [5]
    assert spoken[5].startswith(f"{switch} Step 6 of 9: knee toward the chest, second side.")
    routine = LIB.routines["psoas_release"]
    assert [s.side for s in routine.steps] == [0, 0, 1, 1, 1, 2, 2, 2, 0]
    assert "start over" not in routine.outro


def test_resuming_on_the_second_side_needs_no_switch() -> None:
    resumed = words(ENGINE.step_start(Position("psoas_release", 5, 0), NORMAL, resumed=True))
    assert LIB.say("switch_sides") not in resumed
    assert resumed.startswith("Step 6 of 9: knee toward the chest, second side.")


def test_every_run_of_sided_steps_is_said_twice_with_one_switch() -> None:
    def step(title: str, sided: bool = False) -> Step:
        return Step(
            title=title,
            position=f"{title} position.",
            instruction="Breathe.",
            seconds=30,
            breaths=1,
            sided=sided,
        )

    steps = both_sides(
        (step("arrive"), step("left", True), step("middle"), step("reach", True), step("curl", True))
    )
    routine = LIB.routines["psoas_release"]._replace(id="sides", steps=steps)
    engine = Engine(replace(LIB, routines={**LIB.routines, "sides": routine}))
    switch = LIB.say("switch_sides")
    spoken = [words(segment) for segment in engine.walk("sides", NORMAL)]
    assert [i for i, text in enumerate(spoken) if text.startswith(switch)] == [2, 6]
    assert [s.side for s in routine.steps] == [0, 1, 2, 0, 1, 1, 2, 2]
    assert spoken[6].startswith(f"{switch} Step 7 of 8: reach, second side.")
    assert spoken[7].startswith("Step 8 of 8: curl, second side.")


# -- 4. optional extras ask first ------------------------------------------------------------------
OPTIONAL = [(r.id, i) for r in LIB.routines.values() for i, s in enumerate(r.steps) if s.optional]


def test_the_three_optional_extras_are_known() -> None:
    assert {(r, LIB.routines[r].steps[i].title) for r, i in OPTIONAL} == {
        ("psoas_release", "the tennis-ball version"),
        ("lower_back", "the tennis-ball version"),
        ("inner_thigh", "the sitting version"),
    }


@pytest.mark.parametrize(("routine_id", "index"), OPTIONAL)
def test_an_optional_extra_is_a_question_first_then_yes_gives_the_step_and_no_the_outro(
    routine_id: str, index: int
) -> None:
    routine = LIB.routines[routine_id]
    step = routine.steps[index]
    question = ENGINE.offer(Position(routine_id, index, 0))
    assert question == step.ask
    assert re.search(r"(Do you|Would you)[^?]*\?$", question)

    # the step before: no outro, an invitation to go on
    before_start = ENGINE.step_start(Position(routine_id, index - 1, 0), NORMAL)
    before = ENGINE.segment(Position(routine_id, index - 1, before_start.segment_count - 1), NORMAL)
    assert not before.final
    assert routine.outro not in words(before)
    assert words(before).endswith(LIB.say("invitation"))

    # yes: the step itself, which carries the outro
    yes = ENGINE.advance(before.position, NORMAL)
    assert yes is not None
    assert yes.position == Position(routine_id, index, 0)
    assert words(yes).startswith(
        f"Step {index + 1} of {len(routine.steps)}, an optional extra: {step.title}."
    )
    assert "say next" not in step.position.lower()
    assert words(yes).endswith(routine.outro)

    # no: the outro alone
    no = ENGINE.closing(routine_id)
    assert no.script == (Text(routine.outro),)
    assert no.final


@pytest.mark.parametrize("routine_id", list(LIB.routines))
def test_only_the_start_of_an_optional_step_has_an_offer(routine_id: str) -> None:
    for index, step in enumerate(LIB.routines[routine_id].steps):
        offer = ENGINE.offer(Position(routine_id, index, 0))
        assert offer == (step.ask if step.optional else None)
        assert ENGINE.offer(Position(routine_id, index, 1)) is None  # already accepted
    assert ENGINE.offer(Position(routine_id, 99, 0)) is None
    assert ENGINE.offer(Position("no_such_routine", 0, 0)) is None


# -- 5. fresh start, resume, back ------------------------------------------------------------------
@pytest.mark.parametrize("routine_id", list(LIB.routines))
def test_only_a_fresh_start_says_the_opening(routine_id: str) -> None:
    routine = LIB.routines[routine_id]
    opening = LIB.say("routine_start", routine=routine.name)
    first = Position(routine_id, 0, 0)
    assert words(ENGINE.start(routine_id, NORMAL)).startswith(f"{opening} {routine.intro} Step 1 of")
    back_at_first, moved = ENGINE.back(first, NORMAL)
    assert moved is False  # nowhere further back
    others = {
        "segment": ENGINE.segment(first, NORMAL),
        "step start": ENGINE.step_start(first, NORMAL),
        "resumed": ENGINE.step_start(first, NORMAL, resumed=True),
        "back at step 1": back_at_first,
        "back from step 2": ENGINE.back(Position(routine_id, 1, 0), NORMAL)[0],
    }
    for how, segment in others.items():
        text = words(segment)
        assert text.startswith(f"Step 1 of {len(routine.steps)}: "), how
        assert opening not in text, how
        assert routine.intro not in text, how
    # a start can still be repeated word for word
    assert ENGINE.segment(first, NORMAL, opening=True) == ENGINE.start(routine_id, NORMAL)


SETUP_STEPS = [(r.id, i) for r in LIB.routines.values() for i, s in enumerate(r.steps) if s.setup]


@pytest.mark.parametrize(("routine_id", "index"), SETUP_STEPS)
def test_a_resumed_step_says_how_to_get_into_position_from_scratch(routine_id: str, index: int) -> None:
    step = LIB.routines[routine_id].steps[index]
    # resuming from anywhere in the step starts it again
    resumed = ENGINE.step_start(Position(routine_id, index, 1), NORMAL, resumed=True)
    assert resumed.position == Position(routine_id, index, 0)
    text = words(resumed)
    assert text.startswith("Step ")
    assert f"{step.setup} {step.instruction}" in text
    if step.position != step.setup:
        assert step.position not in text
    assert f"{step.position} {step.instruction}" in words(
        ENGINE.step_start(Position(routine_id, index, 0), NORMAL)
    )


def test_every_step_that_leans_on_the_one_before_has_a_setup() -> None:
    expected = {
        ("psoas_release", "finding the spot"),
        ("psoas_release", "knee toward the chest"),
        ("daily_massage", "lower belly, counter-clockwise"),
        ("down_training", "resting"),
    }
    with_setup = {(r, LIB.routines[r].steps[i].title) for r, i in SETUP_STEPS}
    assert expected <= with_setup


# -- 6. a quieter guide ----------------------------------------------------------------------------
def test_the_relaxations_resting_step_is_mostly_silence_in_runs_of_twenty_seconds() -> None:
    index = index_of("down_training", "resting")
    step = LIB.routines["down_training"].steps[index]
    segment = ENGINE.segment(Position("down_training", index, 0), NORMAL)
    assert segment.segment_count == 1  # nobody is asked to say next in the middle of resting
    spoken = heard(segment)
    runs = silent_runs(spoken.parts)
    assert max(runs) == MAX_SILENCE_RUN_SECONDS
    assert sum(r for r in runs if r > 10) >= step.silence
    assert not any(cue in spoken.words_only for cue in BREATH_IN)  # the breath comes on its own
    assert step.instruction in spoken.words_only
    # between two long silences the listener hears one soft word, nothing more
    tail = spoken.text.split(step.instruction, 1)[1]
    between = re.findall(r"\] ([^\[]+?) (?=\[)", tail)
    assert set(between) <= {*SILENCE_CUES, step.exhale_cue}
    long_runs = -(-step.silence // MAX_SILENCE_RUN_SECONDS)
    assert sum(1 for text in between if text in SILENCE_CUES) >= long_runs - 1
    assert '<break time="10s"/><break time="10s"/>' in render(segment.script, 90)
    # the duration estimate counts every second of it
    assert estimate_seconds(segment.script, 90) > sum(spoken.pauses) >= step.silence


@pytest.mark.parametrize(
    ("pauses", "expected"),
    [
        ([45], [15, "Rest.", 15, "Rest.", 15]),
        ([20], [20]),
        ([7, 4, 7], [7, 4, 7]),  # a quiet breath at the normal pace: 18 s, unbroken
        ([9, 5, 9], [9, 5, "Rest.", 9]),  # at the slow pace it would be 23 s
        ([7, 20, 20], [7, "Rest.", 20, "Rest.", 20]),
    ],
)
def test_no_silence_runs_past_twenty_seconds(pauses: list[float], expected: list[object]) -> None:
    capped = cap_silence(tuple(Pause(p) for p in pauses), ["Rest."])
    assert [p.seconds if isinstance(p, Pause) else p.text for p in capped] == expected
    assert sum(p.seconds for p in capped if isinstance(p, Pause)) == sum(pauses)


def test_a_pause_over_ten_seconds_is_consecutive_breaks_of_ten_at_most() -> None:
    assert re.findall(r'<break time="(\d+)s"/>', render((Pause(20),), 90)) == ["10", "10"]
    assert re.findall(r'<break time="(\d+)s"/>', render((Pause(18),), 90)) == ["10", "8"]


def test_quiet_speaks_a_breath_cue_on_every_other_breath_only() -> None:
    routine = LIB.routines["psoas_release"]
    step = routine.steps[1]
    position = Position("psoas_release", 1, 0)
    head = f"Step 2 of 9: {step.title}. {step.position} {step.instruction}"
    assert heard(ENGINE.segment(position, NORMAL)).text == (
        f"{head} {BREATH_IN[0]} [4 s] {BREATH_OUT[0]} [7 s] {BREATH_IN[1]} [4 s] {BREATH_OUT[1]} [7 s] "
        f"{LIB.say('invitation')}"
    )
    assert heard(ENGINE.segment(position, NORMAL, quiet=True)).text == (
        f"{head} {BREATH_IN[0]} [4 s] {BREATH_OUT[0]} [7 s] [4 s] [7 s] {LIB.say('invitation')}"
    )


@pytest.mark.parametrize(("routine_id", "pace_id"), [(r, p) for r in LIB.routines for p in LIB.paces])
def test_quiet_keeps_every_pause_and_the_same_parts(routine_id: str, pace_id: str) -> None:
    full = ENGINE.walk(routine_id, pace_id)
    quiet = ENGINE.walk(routine_id, pace_id, quiet=True)
    assert [s.position for s in full] == [s.position for s in quiet]
    assert ENGINE.part_count(routine_id, pace_id, quiet=True) == ENGINE.part_count(routine_id, pace_id)
    for loud, soft in zip(full, quiet, strict=True):
        assert sum(p.seconds for p in soft.script if isinstance(p, Pause)) == sum(
            p.seconds for p in loud.script if isinstance(p, Pause)
        )
        assert len(words(soft, pace_id)) <= len(words(loud, pace_id))
        assert max(silent_runs(heard(soft, pace_id).parts), default=0) <= MAX_SILENCE_RUN_SECONDS
    assert ENGINE.total_seconds(routine_id, pace_id, quiet=True) < ENGINE.total_seconds(routine_id, pace_id)


def silence_report(
    engine: Engine, routine_id: str, pace: str | None, quiet: bool = False
) -> tuple[float, float]:
    """(the longest unbroken silence in seconds, the share of the routine that is silence)
    over a whole routine from a fresh start, at ``pace``."""
    rate = engine.library.pace(pace).rate
    scripts = [segment.script for segment in engine.walk(routine_id, pace, quiet=quiet)]
    longest = max((run for script in scripts for run in silent_runs(script)), default=0.0)
    silent = sum(part.seconds for script in scripts for part in script if isinstance(part, Pause))
    total = sum(estimate_seconds(script, rate) for script in scripts)
    return longest, (silent / total if total else 0.0)


def test_silence_report() -> None:
    """The figures for the closing note (run with -s to see them)."""
    print("\nroutine: longest silence, share of silence (normal pace; quiet off / on)")
    for routine_id in LIB.routines:
        longest, share = silence_report(ENGINE, routine_id, NORMAL)
        quiet_longest, quiet_share = silence_report(ENGINE, routine_id, NORMAL, quiet=True)
        print(
            f"  {routine_id}: {longest:.0f} s, {share:.0%} / {quiet_longest:.0f} s, {quiet_share:.0%}"
            f"  ({ENGINE.total_seconds(routine_id, NORMAL) / 60:.1f} min)"
        )
        assert 10 < longest <= MAX_SILENCE_RUN_SECONDS  # a real silence, within the safe run
        assert quiet_longest <= MAX_SILENCE_RUN_SECONDS
        assert 0.4 < share < quiet_share < 0.9
    for pace_id in LIB.paces:
        assert silence_report(ENGINE, "down_training", pace_id, quiet=True)[0] <= MAX_SILENCE_RUN_SECONDS


# -- 7. durations ----------------------------------------------------------------------------------
@pytest.mark.parametrize("routine_id", list(LIB.routines))
def test_seconds_left_counts_from_the_segment_to_the_end(routine_id: str) -> None:
    rate = LIB.paces[NORMAL].rate
    walk = ENGINE.walk(routine_id, NORMAL)
    durations = [estimate_seconds(s.script, rate) for s in walk]
    assert ENGINE.total_seconds(routine_id, NORMAL) == pytest.approx(sum(durations))
    for i, segment in enumerate(walk):
        here = estimate_seconds(ENGINE.segment(segment.position, NORMAL).script, rate)  # no opening
        assert ENGINE.seconds_left(segment.position, NORMAL) == pytest.approx(here + sum(durations[i + 1 :]))
    assert ENGINE.seconds_left(walk[-1].position, NORMAL) == pytest.approx(durations[-1])
    slow = ENGINE.total_seconds(routine_id, "slow")
    assert slow > ENGINE.total_seconds(routine_id, NORMAL) > ENGINE.total_seconds(routine_id, "quick")


@pytest.mark.parametrize("minutes", LIB.routines["down_training"].lengths)
@pytest.mark.parametrize("quiet", [False, True])
def test_a_chosen_length_lasts_about_that_long(minutes: int, quiet: bool) -> None:
    total = ENGINE.total_seconds("down_training", NORMAL, minutes, quiet=quiet)
    assert total == pytest.approx(minutes * 60, rel=0.1)
    start = Position("down_training", 0, 0)
    assert ENGINE.seconds_left(start, NORMAL, minutes, quiet=quiet) < total  # without the opening


def test_the_resting_silence_grows_with_the_length() -> None:
    resting = index_of("down_training", "resting")

    def resting_silence(minutes: int | None) -> float:
        segments = ENGINE.walk("down_training", NORMAL, minutes)
        return sum(sum(silent_runs(s.script)) for s in segments if s.position.step == resting)

    lengths = LIB.routines["down_training"].lengths
    silences = [resting_silence(m) for m in lengths]
    assert silences == sorted(silences)
    assert silences[0] < resting_silence(None) < silences[-1]


def test_a_fixed_routine_ignores_a_length() -> None:
    assert ENGINE.total_seconds("psoas_release", NORMAL, 10) == ENGINE.total_seconds("psoas_release", NORMAL)


def test_the_second_side_is_counted_in_the_time() -> None:
    second = next(i for i, s in enumerate(LIB.routines["psoas_release"].steps) if s.side == SECOND_SIDE)
    left = ENGINE.seconds_left(Position("psoas_release", second, 0), NORMAL)
    assert left > LIB.routines["psoas_release"].steps[second].seconds * 3


# -- played straight through (AudioPlayer) ----------------------------------------------------
@pytest.mark.parametrize("routine_id", sorted(LIB.routines))
def test_a_played_routine_is_one_script_per_main_step_from_how_to_stop_to_the_close(routine_id: str) -> None:
    routine = LIB.routines[routine_id]
    scripts = ENGINE.played(routine_id, NORMAL)
    assert len(scripts) == len(ENGINE.main_steps(routine_id))
    texts = [[p.text for p in script if isinstance(p, Text)] for script in scripts]
    assert LIB.say("played_intro") in texts[0]  # it plays on by itself (how to stop is said before it)
    assert texts[-1][-1] == routine.outro
    every = [text for step in texts for text in step]
    assert LIB.say("invitation") not in every  # nothing to say next to
    assert not any(optional.title in " ".join(every) for optional in routine.steps if optional.optional)
    # between steps, a settling pause of the pace's own length; after the close the same, chimed
    settle = LIB.paces[NORMAL].settle
    for script in scripts[:-1]:
        assert script[-1] == Pause(settle)
    assert scripts[-1][-1] == Pause(settle, chime=True)


@pytest.mark.parametrize("routine_id", sorted(LIB.routines))
def test_a_played_routine_reads_no_step_numbers_but_says_what_comes_next(routine_id: str) -> None:
    routine = LIB.routines[routine_id]
    scripts = ENGINE.played(routine_id, NORMAL)
    said = [p.text for script in scripts for p in script if isinstance(p, Text)]
    assert not any(re.search(r"\bStep \d+ of \d+", text) for text in said)
    assert not any(text.startswith("Still with") for text in said)
    switch = LIB.say("switch_sides")
    for step, script in zip(ENGINE.main_steps(routine_id), scripts[1:] and scripts, strict=False):
        first = next(p.text for p in script if isinstance(p, Text))
        title = routine.steps[step].title
        if step == 0:
            assert first == LIB.say("routine_start", routine=routine.name)
        elif first != switch:  # the switch of sides leads into the second side by itself
            assert title in first
            assert first.startswith(LIB.prompts["played_step"].split("{")[0])


def test_the_quieter_played_guide_says_every_other_breath_in_about_the_same_time() -> None:
    routine = LIB.routines["down_training"]
    exhales = {*BREATH_OUT, routine.exhale_cue, *(step.exhale_cue for step in routine.steps)}
    rate = LIB.paces[NORMAL].rate

    def breath_cues(script: tuple[Text | Pause, ...]) -> int:
        return sum(1 for p in script if isinstance(p, Text) and (p.text in BREATH_IN or p.text in exhales))

    for minutes in (None, 10):
        full = ENGINE.played("down_training", NORMAL, minutes)
        quiet = ENGINE.played("down_training", NORMAL, minutes, quiet=True)
        for plain, hushed in zip(full, quiet, strict=True):
            if breath_cues(plain) > 2:
                assert breath_cues(hushed) <= breath_cues(plain) / 2 + 2
        seconds = [sum(estimate_seconds(script, rate) for script in track) for track in (full, quiet)]
        assert seconds[1] == pytest.approx(seconds[0], rel=0.08)


def quiet_runs(script: tuple[Text | Pause, ...]) -> list[float]:
    """The runs of silence a listener hears: words and chimes end them."""
    runs, run = [], 0.0
    for part in script:
        if isinstance(part, Text):
            runs.append(run)
            run = 0.0
        else:
            run += part.seconds
            if part.chime:
                runs.append(run)
                run = 0.0
    return [*runs, run]


@pytest.mark.parametrize("minutes", [None, 5, 10, 20])
def test_a_long_quiet_ends_in_a_chime_and_so_does_the_close(minutes: int | None) -> None:
    scripts = ENGINE.played("down_training", NORMAL, minutes)
    routine = LIB.routines["down_training"]
    chimed = [(step, p) for step, script in zip(ENGINE.main_steps("down_training"), scripts, strict=True)
              for p in script if isinstance(p, Pause) and p.chime]  # fmt: skip
    timing = ENGINE._timing("down_training", NORMAL, ENGINE.length("down_training", minutes), False, True)
    long_quiets = [(step, silence) for step, (_, silence) in enumerate(timing) if silence >= 20]
    assert [(step, p.seconds) for step, p in chimed[:-1]] == long_quiets
    assert chimed[-1] == (len(routine.steps) - 1, Pause(LIB.paces[NORMAL].settle, chime=True))


@pytest.mark.parametrize("quiet", [False, True])
def test_without_a_bed_no_played_silence_runs_past_the_longest_and_a_soft_word_breaks_it(quiet: bool) -> None:
    for minutes in (None, 5, 10, 20):
        whole = ENGINE.played("down_training", NORMAL, minutes, quiet=quiet)
        broken = ENGINE.played("down_training", NORMAL, minutes, quiet=quiet, longest_silence=36)
        for plain, script in zip(whole, broken, strict=True):
            assert max(quiet_runs(script)) <= 36
            added = [p.text for p in script if isinstance(p, Text)][:None]
            assert [t for t in added if t not in SILENCE_CUES] == [
                p.text for p in plain if isinstance(p, Text)
            ]
            # the same time in all, and the chimes where they were
            assert sum(p.seconds for p in script if isinstance(p, Pause)) == pytest.approx(
                sum(p.seconds for p in plain if isinstance(p, Pause))
            )
            assert sum(1 for p in script if isinstance(p, Pause) and p.chime) == sum(
                1 for p in plain if isinstance(p, Pause) and p.chime
            )
    resting = ENGINE.played("down_training", NORMAL, 20, longest_silence=36)[4]
    assert sum(1 for p in resting if isinstance(p, Text) and p.text in SILENCE_CUES) >= 4


def played_seconds(scripts: tuple[tuple[Text | Pause, ...], ...], pace: str = NORMAL) -> float:
    """How long played audio lasts: its narration at the pace's words a minute, and its pauses."""
    said = sum(
        len(re.findall(r"[\w'’-]+", p.text)) for script in scripts for p in script if isinstance(p, Text)
    )
    return said * 60 / LIB.paces[pace].narration_wpm + sum(
        p.seconds for script in scripts for p in script if isinstance(p, Pause)
    )


def test_a_played_relaxation_keeps_its_silences_whole() -> None:
    scripts = ENGINE.played("down_training", NORMAL, 20)
    longest = max(run for script in scripts for run in silent_runs(script))
    assert longest > MAX_SILENCE_RUN_SECONDS  # a resting minute is a minute, with no cue inside
    assert abs(played_seconds(scripts) - 20 * 60) < 0.02 * 20 * 60


@pytest.mark.parametrize("pace", ["slow", NORMAL, "quick"])
@pytest.mark.parametrize("minutes", [10, 20])
def test_a_played_relaxation_of_n_minutes_lasts_n_minutes_at_its_narration_pace(
    pace: str, minutes: int
) -> None:
    """Played, the narration is slower than Alexa's voice: the breaths and rests are planned
    for it, so "a ten minute relaxation" still lasts about ten minutes."""
    for quiet in (False, True):
        scripts = ENGINE.played("down_training", pace, minutes, quiet=quiet)
        assert abs(played_seconds(scripts, pace) - minutes * 60) < 0.03 * minutes * 60
