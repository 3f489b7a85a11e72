"""The rule for a played place (``progress.Change.played_on``), unit by unit: a player's
report or a command on its stream, applied to whatever record it lands on (issue 25)."""

from __future__ import annotations

from dataclasses import replace

from pelvic_ease.audio import STAMP_CHARS, Token, stamped
from pelvic_ease.engine import Position
from pelvic_ease.progress import Change, Progress, new_write_id


def play_made(at: int) -> str:
    """A play id made at ``at`` (its random part fixed)."""
    return stamped(at)[:STAMP_CHARS] + "AbCdEfGh"


PLAY = Token("down_training", "normal", 10, 0, play_made(1_795_000_000))
STEPS = (0, 1, 2, 3, 4, 5)  # the step each file plays


def at_file(file: int, offset: int = 0, skipped: int = 0, version: int = 3) -> Progress:
    token = PLAY.at_file(file)
    return Progress(version=version, updated_at=1_795_000_000).at(
        Position("down_training", STEPS[file], 0),
        10,
        1_795_000_000,
        skipped=skipped,
        play=str(token),
        offset=offset,
    )


def report(kind: str, file: int, offset: int = 0, play: str = PLAY.play) -> Change:
    token = replace_play(PLAY.at_file(file), play)
    if kind == "finished" and file == len(STEPS) - 1:
        return Change(
            1_795_000_100,
            moved=True,
            same_play=play,
            heard_step=STEPS[file],
            main_steps=0b111111,
            completed="down_training",
        )
    if kind == "finished":
        after = token.at_file(file + 1)
        return Change(
            1_795_000_100,
            moved=True,
            position=Position("down_training", STEPS[file + 1], 0),
            minutes=10,
            play=str(after),
            same_play=play,
            heard_step=STEPS[file],
        )
    return Change(
        1_795_000_100,
        moved=True,
        position=Position("down_training", STEPS[file], 0),
        minutes=10,
        play=str(token),
        offset=offset,
        same_play=play,
    )


def replace_play(token: Token, play: str) -> Token:
    return Token(token.routine, token.pace, token.minutes, token.file, play)


def test_within_a_play_the_place_only_moves_forward() -> None:
    here = at_file(3, offset=5_000)
    for late in (report("finished", 1), report("stopped", 3, 4_000), report("stopped", 2, 9_000)):
        after = late.applied_to(here)
        assert (after.play, after.offset, after.step) == (here.play, here.offset, here.step)
    ahead = report("stopped", 3, 6_000).applied_to(here)
    assert ahead.offset == 6_000
    assert Token.parse(report("finished", 3).applied_to(here).play) == PLAY.at_file(4)


def test_a_file_heard_to_its_end_clears_the_skip_marks_from_the_place_to_it() -> None:
    here = at_file(1, skipped=0b001110)  # steps 1, 2 and 3 marked skipped, the place at file 1
    assert report("finished", 2).applied_to(here).skipped == 0b001000  # 1 and 2 were heard on the way
    ahead = at_file(3, skipped=0b000100)
    assert report("finished", 1).applied_to(ahead).skipped == 0b000100  # a late end: its own step only


def test_the_last_files_end_counts_however_far_behind_the_place_is_and_by_the_records_skips() -> None:
    for behind in (5, 4, 1):
        assert report("finished", 5).applied_to(at_file(behind)).completed == {"down_training": 1}
    two_skipped = report("finished", 5).applied_to(at_file(5, skipped=0b000011))
    assert two_skipped.completed == {}  # two main steps skipped: a practice day, not a finished session
    assert len(two_skipped.days) == 1
    end = report("finished", 5)
    ended = end.applied_to(at_file(5))
    assert end.applied_to(ended) == ended  # the same change is never applied twice
    repeated = replace(end, write_id=new_write_id(end.at)).applied_to(ended)  # the report sent again
    assert repeated.completed == {"down_training": 1}  # its play is no longer the place


def test_a_jump_to_a_new_play_may_go_back() -> None:
    back = Token("down_training", "normal", 10, 1, play_made(1_795_000_200))
    jump = Change(
        1_795_000_200,
        moved=True,
        position=Position("down_training", 1, 0),
        minutes=10,
        play=str(back),
        same_play=PLAY.play,
        skipped=0b1,
    )
    after = jump.applied_to(at_file(3))
    assert (after.play, after.skipped) == (str(back), 0b1)


def test_a_play_newer_than_a_stored_place_is_taken_up_and_an_older_one_is_not() -> None:
    newer = play_made(1_795_000_060)  # made after the record's place moved
    stored_place = Progress(version=2, updated_at=1_795_000_050)
    assert report("stopped", 2, 3_000, play=newer).applied_to(stored_place).play == str(
        replace_play(PLAY.at_file(2), newer)
    )
    older = play_made(1_795_000_040)
    assert report("stopped", 2, 3_000, play=older).applied_to(stored_place).play is None
    assert report("stopped", 2, 3_000, play="unstamped").applied_to(stored_place).play is None
    never_stored = Progress()
    assert report("stopped", 2, 3_000, play=newer).applied_to(never_stored).play is None


def test_a_play_taken_up_keeps_the_skips_of_its_own_routines_run_only() -> None:
    newer = play_made(1_795_000_060)
    end = replace(report("finished", 5, play=newer), at=1_795_000_900)
    # the stored place: a spoken massage with two steps skipped; the newer relaxation is played
    massage = Progress(version=2).at(Position("lower_back", 3, 0), None, 1_795_000_050, skipped=0b11)
    assert end.applied_to(massage).completed == {"down_training": 1}  # the massage's skips are not its
    # the stored place: this relaxation's earlier play, two steps skipped; resumed as a newer play
    earlier = replace(at_file(3, skipped=0b11), updated_at=1_795_000_050)
    assert end.applied_to(earlier).completed == {}  # the run's skips still count: a practice day
