"""The dialogue core on its own: every state × everything the user can say, without ask-sdk.

The handler tests drive the same decisions through the real lambda_handler; these hold the
table itself: each cell's next state, the invariants every cell keeps, and the rules for
what moves the place and what counts.
"""

from __future__ import annotations

import pytest

from pelvic_ease import dialogue as d
from pelvic_ease.content import load_library
from pelvic_ease.engine import Engine, Position
from pelvic_ease.progress import Progress

LIB = load_library()
ENGINE = Engine(LIB)
NOW = 1_800_000_000
PSOAS = LIB.routines["psoas_release"]
BEFORE_EXTRA = max(i for i, step in enumerate(PSOAS.steps) if not step.optional)

# What each intent carries when the table is walked (the slots a real request would fill).
SLOTS: dict[str, dict[str, object]] = {
    d.START: {"routine": "psoas_release"},
    d.PACE: {"pace": "slower"},
    d.CUES: {"amount": "less"},
    d.BY_LENGTH: {"minutes": 10},
    d.SET_REMINDER: {"time": "20:00"},
    d.CHANGE_REMINDER: {"time": "07:00"},
    d.TIME_SAID: {"time": "20:00"},
    d.CONSENT: {"consent": d.DENIED, "time": "20:00"},
    d.SAFETY: {"condition": "pregnant"},
    d.SYMPTOM: {"symptom": "dizzy"},
    d.QUESTION: {"topic": "psoas"},
}


def stored(**place: object) -> Progress:
    """A returning user with an unfinished daily massage at step 2 (or ``place``)."""
    fields: dict[str, object] = {"routine": "daily_massage", "step": 1, "segment": 0, **place}
    return Progress(version=3, disclaimer_version=LIB.disclaimer_version, updated_at=NOW - 60, **fields)  # type: ignore[arg-type]


def before_the_extra() -> Progress:
    last = ENGINE.segment(Position("psoas_release", BEFORE_EXTRA, 0), None).segment_count - 1
    return stored(routine="psoas_release", step=BEFORE_EXTRA, segment=last)


# The record each state is walked with: where that state can arise.
FIXTURE = {mode: stored() for mode in d.MODES} | {
    d.EXTRA_OFFER: before_the_extra(),
    d.HURT_OFFER: stored(hurt=1),
}
STATE = d.State(finished="daily_massage", suggested=("down_training", 10))


def decide(mode: str, intent: str, progress: Progress | None = None, **facts: object) -> d.Outcome:
    heard = d.Heard(intent, **SLOTS.get(intent, {}))  # type: ignore[arg-type]
    known = d.Facts(FIXTURE[mode] if progress is None else progress, NOW, **facts)  # type: ignore[arg-type]
    return d.decide(ENGINE, STATE._replace(mode=mode), heard, known)


INTENTS = tuple(d.TABLE)  # everything the core can be told, in the table's order
SHORT = {
    d.OUTSIDE: "outside",
    d.MENU: "menu",
    d.ROUTINE: "routine",
    d.EXTRA_OFFER: "extra?",
    d.PAIN_PAUSE: "pain",
    d.SWITCH_OFFER: "switch?",
    d.RESUME_OFFER: "resume?",
    d.HURT_OFFER: "hurt?",
    d.SUGGEST_OFFER: "offer?",
    d.ANOTHER_OFFER: "more?",
    d.REMINDER_OFFER: "remind?",
    d.REMINDER_TIME: "time?",
    d.PLAY_OFFER: "play?",
}


def cell(outcome: d.Outcome) -> str:
    """A table cell: the next state (END: the session ends), * if the place moved."""
    moved = outcome.change is not None and outcome.change.moved
    return ("END" if outcome.end else SHORT[outcome.state.mode]) + ("*" if moved else "")


# Rows: what the user said. Columns: the state, in d.MODES order (? marks a question asked:
# extra? "Do you have a tennis ball handy?", switch? "Shall I start the hip massage?",
# resume? "Shall I carry on?", hurt? "Would you like to leave that step out?", offer? "The
# daily massage takes about ten minutes. Shall we start?", more? "Would you like another
# routine?", remind? "Would you like a daily reminder?", time? "What time each day suits
# you?"). * : the place moved (or the routine finished). The table as it should read.
EXPECTED = """
              outside  menu     routine  extra?   pain     switch?  resume?  hurt?    offer?   more?
launch        resume?  resume?  resume?  resume?  resume?  resume?  resume?  hurt?    resume?  resume?
resume        routine* routine* routine* routine* routine* routine* routine* routine* routine* routine*
start         routine* routine* switch?  extra?   switch?  routine* routine* routine* routine* routine*
list          menu     menu     routine  extra?   pain     routine  menu     menu     menu     menu
disclaimer    menu     menu     routine  routine  routine  routine  menu     menu     menu     menu
yes           offer?   offer?   routine* more?*   pain     routine* routine* routine* routine* offer?
no            END      END      routine  more?*   END      routine  menu     routine* menu     END
next          routine* routine* routine* more?*   routine* routine* routine* routine* routine* routine*
previous      menu     menu     routine* routine* pain     routine* menu     menu     menu     menu
repeat        menu     menu     routine  extra?   pain     switch?  resume?  hurt?    offer?   more?
start_over    menu     menu     routine* routine* routine* routine* routine* routine* menu     routine*
pause         END      END      END      END      END      END      END      END      END      END
help          menu     menu     routine  routine  routine  routine  menu     menu     menu     menu
stop          END      END      END      END      END      END      END      END      END      END
done          END      END      END      END      END      END      END      END      END      END
wait          END      END      END      extra?   END      END      END      END      END      END
pain          offer?   offer?   pain*    pain*    pain*    pain*    offer?   offer?   offer?   offer?
skip          menu     menu     routine* more?*   routine* routine* menu     routine* menu     menu
pace          menu     menu     routine  routine  routine  routine  menu     menu     menu     menu
repeat_slowly menu     menu     routine  extra?   pain     switch?  resume?  hurt?    offer?   more?
report        menu     menu     routine  extra?   pain     routine  menu     menu     menu     menu
start_plan    offer?   offer?   offer?   offer?   offer?   offer?   offer?   offer?   offer?   offer?
today         offer?   offer?   offer?   offer?   offer?   offer?   offer?   offer?   offer?   offer?
plan_status   menu     menu     routine  extra?   pain     routine  menu     menu     menu     menu
pause_plan    menu     menu     routine  extra?   pain     routine  menu     menu     menu     menu
week          menu     menu     routine  extra?   pain     routine  menu     menu     menu     menu
last_step     menu     menu     more?*   extra?   more?*   more?*   menu     menu     menu     menu
how_long      menu     menu     routine  extra?   pain     routine  menu     menu     menu     menu
safety        offer?   offer?   offer?   offer?   offer?   offer?   offer?   offer?   offer?   offer?
symptom       END      END      END*     END*     END*     END*     END      END      END      END
question      menu     menu     routine  extra?   pain     routine  menu     menu     menu     menu
why           menu     menu     routine  extra?   pain     routine  menu     menu     menu     menu
whats_next    resume?  resume?  routine  extra?   pain     routine  resume?  hurt?    resume?  resume?
thanks        END      END      routine  extra?   pain     routine  END      END      END      END
asleep        resume?  resume?  routine* extra?   pain     routine* resume?  hurt?    resume?  resume?
volume        menu     menu     routine  extra?   pain     routine  menu     menu     menu     menu
music         menu     menu     routine  extra?   pain     routine  menu     menu     menu     menu
no_ball       menu     menu     routine  more?*   pain     routine  menu     menu     menu     menu
other_side    menu     menu     routine  extra?   pain     routine  menu     menu     menu     menu
later         END      END      END      END      END      END      END      END      END      END
why_no_kegels menu     menu     routine  extra?   pain     routine  menu     menu     menu     menu
by_length     offer?   offer?   offer?   offer?   offer?   offer?   offer?   offer?   offer?   offer?
cues          menu     menu     routine  extra?   pain     routine  menu     menu     menu     menu
home          menu     menu     menu     menu     menu     menu     menu     menu     menu     menu
fallback      menu     menu     routine  extra?   pain     switch?  resume?  hurt?    offer?   menu
play_style    menu     menu     routine  extra?   pain     routine  menu     menu     menu     menu
background    menu     menu     routine  extra?   pain     routine  menu     menu     menu     menu
set_reminder  menu     menu     routine  extra?   pain     routine  menu     menu     menu     more?
move_reminder menu     menu     routine  extra?   pain     routine  menu     menu     menu     more?
end_reminder  menu     menu     routine  extra?   pain     routine  menu     menu     menu     more?
has_reminder  menu     menu     routine  extra?   pain     routine  menu     menu     menu     more?
set_checkins  remind?  remind?  remind?  remind?  remind?  remind?  remind?  remind?  remind?  remind?
end_checkins  menu     menu     routine  extra?   pain     routine  menu     menu     menu     more?
time_said     menu     menu     routine  extra?   pain     routine  menu     menu     menu     more?
consent       menu     menu     routine  extra?   pain     routine  menu     menu     menu     more?
unknown       menu     menu     routine  routine  routine  routine  menu     menu     menu     menu
ended         END      END      END      END*     END      END      END      END      END      END
"""
# The reminder questions: "no" to either goes on to the offer of another routine (the
# fixture just finished one); anything else is answered where the user is.
EXPECTED_REMINDER = """
              remind?  time?
launch        resume?  resume?
resume        routine* routine*
start         routine* routine*
list          menu     menu
disclaimer    menu     menu
yes           time?    time?
no            more?    more?
next          routine* routine*
previous      menu     menu
repeat        remind?  time?
start_over    menu     menu
pause         END      END
help          menu     menu
stop          END      END
done          END      END
wait          END      END
pain          offer?   offer?
skip          menu     menu
pace          menu     menu
repeat_slowly remind?  time?
report        menu     menu
start_plan    offer?   offer?
today         offer?   offer?
plan_status   menu     menu
pause_plan    menu     menu
week          menu     menu
last_step     menu     menu
how_long      menu     menu
safety        offer?   offer?
symptom       END      END
question      menu     menu
why           menu     menu
whats_next    resume?  resume?
thanks        END      END
asleep        resume?  resume?
volume        menu     menu
music         menu     menu
no_ball       menu     menu
other_side    menu     menu
later         END      END
why_no_kegels menu     menu
by_length     offer?   offer?
cues          menu     menu
home          menu     menu
fallback      remind?  time?
play_style    menu     menu
background    menu     menu
set_reminder  more?    more?
move_reminder more?    more?
end_reminder  more?    more?
has_reminder  more?    more?
set_checkins  remind?  remind?
end_checkins  more?    more?
time_said     more?    more?
consent       more?    more?
unknown       menu     menu
ended         END      END
"""


# Before the first massage on a device with an audio player: "Shall it play straight through?"
# (here the relaxation was suggested: yes plays it, no or "step by step" speaks it, remembered)
EXPECTED_PLAY_OFFER = """
              play?
launch        resume?
resume        routine*
start         routine*
list          menu
disclaimer    menu
yes           routine*
no            routine*
next          routine*
previous      menu
repeat        play?
start_over    menu
pause         END
help          menu
stop          END
done          END
wait          END
pain          offer?
skip          menu
pace          menu
repeat_slowly play?
report        menu
start_plan    offer?
today         offer?
plan_status   menu
pause_plan    menu
week          menu
last_step     menu
how_long      menu
safety        offer?
symptom       END
question      menu
why           menu
whats_next    resume?
thanks        END
asleep        resume?
volume        menu
music         menu
no_ball       menu
other_side    menu
later         END
why_no_kegels menu
by_length     offer?
cues          menu
home          menu
fallback      play?
play_style    routine*
background    menu
set_reminder  menu
move_reminder menu
end_reminder  menu
has_reminder  menu
set_checkins  remind?
end_checkins  menu
time_said     menu
consent       menu
unknown       menu
ended         END
"""


def test_table_has_a_row_for_every_intent_and_a_default_in_each() -> None:
    for intent, row in d.TABLE.items():
        assert d.ANY in row, intent
        assert set(row) - {d.ANY} <= set(d.MODES), intent


CONVERSATION_MODES = tuple(mode for mode in d.MODES if mode not in (*d.REMINDER_MODES, d.PLAY_OFFER))


def print_table(modes: tuple[str, ...] = CONVERSATION_MODES) -> str:
    lines = [" " * 14 + "".join(f"{SHORT[mode]:<9}" for mode in modes).rstrip()]
    for intent in INTENTS:
        cells = (cell(decide(mode, intent)) for mode in modes)
        lines.append((f"{intent:<14}" + "".join(f"{c:<9}" for c in cells)).rstrip())
    return "\n".join(lines)


def test_every_state_and_intent_goes_where_the_table_says() -> None:
    assert print_table() == EXPECTED.strip("\n")
    assert print_table(d.REMINDER_MODES) == EXPECTED_REMINDER.strip("\n")
    assert print_table((d.PLAY_OFFER,)) == EXPECTED_PLAY_OFFER.strip("\n")


MOVES = {
    d.RESUME, d.START, d.YES, d.NO, d.NEXT, d.PREVIOUS, d.START_OVER, d.PAIN, d.SKIP, d.LAST_STEP,
    d.SYMPTOM, d.ASLEEP, d.OTHER_SIDE, d.NO_BALL, d.WHATS_NEXT, d.PLAY_STYLE,
}  # fmt: skip
SPOKEN = [intent for intent in INTENTS if intent != d.ENDED]  # nothing can be said to a closed session
RECORDS = {
    "returning": stored(),
    "nothing stored": Progress(version=3, disclaimer_version=LIB.disclaimer_version),
    "new user": Progress(),
    "hurt last time": stored(hurt=1),
    "before the extra": before_the_extra(),
}


@pytest.mark.parametrize("record", sorted(RECORDS))
@pytest.mark.parametrize("read_failed", [False, True])
def test_every_cell_gives_a_defined_outcome(record: str, read_failed: bool) -> None:
    progress = RECORDS[record]
    for mode in d.MODES:
        for intent in SPOKEN:
            where = f"{intent} in {mode}, {record}"
            outcome = decide(mode, intent, progress, read_failed=read_failed)
            assert any(getattr(part, "text", "").strip() for part in outcome.speech), where
            assert outcome.state.mode in d.MODES, where
            if not outcome.end:
                assert any(getattr(part, "text", "").strip() for part in outcome.reprompt or ()), where
            change = outcome.change
            if change is not None and change.moved:
                assert intent in MOVES, f"{where}: only going somewhere moves the place"
                assert change.position is None or ENGINE.is_valid(change.position), where
                assert change.at == NOW, where
            if outcome.end and progress.position is not None:
                kept = change is None or not change.moved or change.position == progress.position
                assert kept, f"{where}: ending keeps the place (marked, when it hurt or felt wrong)"


def test_the_disclaimer_comes_before_any_routine_for_a_new_user() -> None:
    for mode in d.MODES:
        for intent in SPOKEN:
            outcome = decide(mode, intent, Progress())
            if outcome.change is not None and outcome.change.moved and intent != d.PAIN:
                assert LIB.disclaimer_text in " ".join(getattr(p, "text", "") for p in outcome.speech)
                assert outcome.change.disclaimer_version == LIB.disclaimer_version


def texts(outcome: d.Outcome) -> str:
    return " ".join(getattr(part, "text", "") for part in outcome.speech)


@pytest.mark.parametrize("mode", d.UNDER_WAY[:-1])  # in a switch offer, asking again means yes
def test_another_routine_asked_mid_routine_is_asked_about_not_started(mode: str) -> None:
    outcome = decide(mode, d.START, stored())
    assert outcome.state.mode == d.SWITCH_OFFER
    assert outcome.change is None  # the place stays where it was
    assert outcome.state.suggested == ("psoas_release", None)
    accepted = d.decide(ENGINE, outcome.state, d.Heard(d.YES), d.Facts(stored(), NOW))
    assert accepted.change is not None
    assert accepted.change.position == Position("psoas_release", 0, 0)
    declined = d.decide(ENGINE, outcome.state, d.Heard(d.NO), d.Facts(stored(), NOW))
    assert declined.change is None
    assert declined.state.mode == d.ROUTINE


def test_pain_marks_the_place_it_stopped_at() -> None:
    outcome = decide(d.ROUTINE, d.PAIN, stored(skipped=1))
    change = outcome.change
    assert change is not None
    assert change.hurt
    assert change.moved
    assert change.position == Position("daily_massage", 1, 0)
    assert change.skipped == 1  # what was skipped before stays
    assert outcome.counts == ("PainReported",)


def test_skipping_the_step_that_hurt_resumes_past_that_area_from_scratch_gently() -> None:
    # the lower belly clockwise hurt: the counter-clockwise step works the same area, so the
    # hips (from scratch) come next, and both belly steps count as skipped
    outcome = decide(d.HURT_OFFER, d.YES, stored(hurt=1))
    change = outcome.change
    assert change is not None
    assert change.position == Position("daily_massage", 3, 0)
    assert change.skipped == 0b110
    assert not change.hurt
    step = LIB.routines["daily_massage"].steps[3]
    assert (step.setup or step.position) in texts(outcome)
    assert LIB.say("hurt_skipped_area", step=2) in texts(outcome)
    assert LIB.say("go_gently") in texts(outcome)


def finishing(intent: str, skipped: int) -> d.Outcome:
    """Reaching the end of the daily massage with "next" from its sixth step, or with "skip"
    at its seventh (the last), ``skipped`` steps (bits) skipped before."""
    step = 5 if intent == d.NEXT else 6
    parts = ENGINE.segment(Position("daily_massage", step, 0), None).segment_count
    return decide(d.ROUTINE, intent, stored(step=step, segment=parts - 1, skipped=skipped))


@pytest.mark.parametrize(
    ("intent", "skipped", "completed", "practised"),
    [
        (d.NEXT, 0, True, True),
        (d.NEXT, 0b1, True, True),
        (d.NEXT, 0b11, False, True),
        (d.SKIP, 0, True, True),  # the last step skipped: one skip
        (d.SKIP, 0b1, False, True),
        (d.SKIP, 0b111110, False, True),  # the first step was done
        (d.SKIP, 0b111111, False, False),  # nothing done: not even a practice day
    ],
)
def test_what_counts_at_the_end(intent: str, skipped: int, completed: bool, practised: bool) -> None:
    assert ENGINE.main_steps("daily_massage") == list(range(7))
    outcome = finishing(intent, skipped)
    change = outcome.change
    assert outcome.state.mode == d.ANOTHER_OFFER
    assert change is not None
    assert change.moved
    assert change.position is None
    assert (change.completed == "daily_massage") is completed
    assert change.practised is practised
    assert "RoutineCompleted" not in outcome.counts  # counted when the change is stored (turn.py)


def test_moving_on_from_a_step_skipped_earlier_counts_it_done() -> None:
    # "skip", then "go back" to it and "next" through it: done after all
    outcome = decide(d.ROUTINE, d.NEXT, stored(step=1, skipped=0b10))
    assert outcome.change is not None
    assert outcome.change.skipped == 0
    assert outcome.change.position == Position("daily_massage", 2, 0)


def test_last_step_counts_the_steps_jumped_over_as_skipped() -> None:
    outcome = decide(d.ROUTINE, d.LAST_STEP, stored(step=0))
    assert outcome.change is not None
    assert outcome.change.completed is None  # six of seven main steps jumped over
    assert outcome.change.practised  # the last one was done


@pytest.mark.parametrize("mode", d.MODES)
def test_a_session_that_closes_says_nothing_and_finishes_only_a_routine_left_at_its_extra(mode: str) -> None:
    outcome = decide(mode, d.ENDED)
    assert outcome.speech == ()
    assert outcome.end
    if mode == d.EXTRA_OFFER:  # every main step was heard: finished, the extra only ever asked about
        assert outcome.change is not None
        assert outcome.change.completed == "psoas_release"
        assert outcome.change.moved
        assert outcome.change.position is None
    else:
        assert outcome.change is None


def test_a_request_with_no_session_starts_outside_any_conversation() -> None:
    assert d.State().mode == d.OUTSIDE
    unknown = d.decide(ENGINE, d.State(mode="no such mode"), d.Heard(d.NEXT), d.Facts(stored(), NOW))
    assert unknown.state.mode == d.ROUTINE  # treated as outside: next resumes the stored place


if __name__ == "__main__":
    print(print_table())
