"""A played routine counted exactly (issue 25): each defect through the real lambda_handler on
moto, with the emulated player; the races are in tests/test_played_races.py, the fuzz in
tests/test_player_fuzz.py, and the rule itself (``Change.played_on``) unit by unit in
tests/test_played_rule.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pelvic_ease.audio import AudioLibrary, Token, Track
from pelvic_ease.content import load_library
from pelvic_ease.progress import Progress
from pelvic_ease.repository import DynamoTable, ProgressKey
from sim.driver import Conversation, Reply
from sim.player import PLAYING, STOPPED, Player
from tests.support import FAULTS, Clock, FaultyClient
from tests.test_observability import captured_logs, metric_names
from tests.test_progress import CallCounter

LIB = load_library()
Handler = Callable[..., dict[str, Any]]


@pytest.fixture
def faulty(table: DynamoTable, dynamodb: Any) -> FaultyClient:
    client = FaultyClient(dynamodb)
    table._client = client
    return client


def relaxation(library: AudioLibrary) -> Track:
    tracks = library.tracks("en-US")
    track = tracks.get("down_training", "normal", 10) if tracks is not None else None
    assert track is not None
    return track


def stored(table: DynamoTable, conv: Conversation) -> Progress:
    return Progress.salvaged(table.get(ProgressKey.of(conv.user_id)))[0]


def played_until(conv: Conversation, track: Track, file: int, seconds: float = 10) -> None:
    """Let the relaxation play until ``seconds`` into ``file``."""
    conv.wait(sum(f.ms for f in track.files[:file]) / 1000 + seconds)


def start(played: Handler, clock: Clock) -> tuple[Conversation, Player, Token]:
    player = Player(clock)
    conv = Conversation(played, player=player)
    reply = conv.say("ask pelvic ease for a ten minute relaxation")
    (play,) = [d for d in reply.audio_directives if d["type"] == "AudioPlayer.Play"]
    first = Token.parse(play["audioItem"]["stream"]["token"])
    assert first is not None
    return conv, player, first


def streams(reply: Reply) -> list[Token]:
    plays = [d for d in reply.audio_directives if d["type"] == "AudioPlayer.Play"]
    return [t for d in plays if (t := Token.parse(d["audioItem"]["stream"]["token"])) is not None]


# -- defect 2: the last file's end whose write does not fit its turn is not lost -----------------
def test_a_last_files_end_that_could_not_be_stored_is_counted_by_the_next_request_and_only_then(
    played: Handler,
    *,
    clock: Clock,
    table: DynamoTable,
    faulty: FaultyClient,
    audio_library: AudioLibrary,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN a relaxation played into its last file, and then every write failing
    clock.now = datetime(2026, 11, 20, 23, 40, tzinfo=ZoneInfo("America/New_York")).timestamp()
    began = int(clock.now)
    conv, player, _ = start(played, clock)
    track = relaxation(audio_library)
    played_until(conv, track, len(track.files) - 1)
    capsys.readouterr()
    faulty.fail("put_item", FAULTS["internal-error"], times=None)
    # WHEN it plays to its end: the end's write fails in its turn (Alexa never sends it again)
    with captured_logs() as logs:
        conv.wait(track.ms / 1000)
        faulty.clear()
    assert player.activity == "FINISHED"
    at_the_end = metric_names(capsys.readouterr().out)
    assert "ProgressSaveFailed" in at_the_end
    assert "RoutineCompleted" not in at_the_end  # not counted while it is not stored
    assert stored(table, conv).completed == {}
    # THEN the next request from that device stores it (its context: that stream, finished)
    clock.advance(days=1)
    with captured_logs() as later:
        launch = conv.say("open pelvic ease")
    assert stored(table, conv).completed == {"down_training": 1}
    assert stored(table, conv).position is None
    assert "step" not in launch.text.lower()  # no offer to resume a routine heard to its end
    assert metric_names(capsys.readouterr().out).count("RoutineCompleted") == 1
    # the practice day is the day it was heard (its play's start and the track's length), not today
    assert stored(table, conv).days == (local_day(began + track.ms // 1000),)
    with captured_logs() as after:
        conv.say("ask pelvic ease how am I doing")
    assert stored(table, conv).completed == {"down_training": 1}  # once
    # only the launch stored what the player said (the reports carry their own word, and once
    # stored, what the context says changes nothing more)
    recovered = "a played stream's report the record lacks is stored now"
    assert [recovered in log.getvalue() for log in (logs, later, after)] == [False, True, False]


# -- defect 3: commands act on this device's stream though the stored place is a file behind -------
@pytest.mark.parametrize("command", ["alexa resume", "Play", "Next"])
def test_commands_work_though_the_stored_place_is_a_file_behind_the_device(
    played: Handler,
    *,
    clock: Clock,
    table: DynamoTable,
    faulty: FaultyClient,
    audio_library: AudioLibrary,
    command: str,
) -> None:
    conv, player, first = start(played, clock)
    track = relaxation(audio_library)
    played_until(conv, track, 1)
    # GIVEN every write from the end of file 1 on fails: the boundary into file 2, and a pause
    faulty.fail("put_item", FAULTS["internal-error"], times=None)
    played_until(conv, track, 2, seconds=20 - sum(f.ms for f in track.files[:1]) / 1000 - 10)
    token = Token.parse(player.token)
    assert token is not None
    assert token.file == 2
    if command != "Next":
        conv.say("alexa pause")
        assert player.activity == STOPPED
    faulty.clear()
    behind = Token.parse(stored(table, conv).play)
    assert behind is not None
    assert behind.file < 2  # the stored place is behind the device
    # WHEN the listener resumes, or presses Play or Next
    reply = conv.say(command) if command.startswith("alexa") else player.button(command)
    # THEN the device plays on: from where it stopped, or the next step
    (moved,) = streams(reply)
    assert moved.file == (3 if command == "Next" else 2)
    assert moved.play != first.play
    assert player.activity == PLAYING
    assert Token.parse(stored(table, conv).play) == moved


# -- defect 4: a late or repeated report of an earlier file never moves the place back -------------
def test_late_and_repeated_reports_of_earlier_files_never_move_the_place_back(
    played: Handler, clock: Clock, table: DynamoTable, audio_library: AudioLibrary
) -> None:
    conv, _, first = start(played, clock)
    track = relaxation(audio_library)
    played_until(conv, track, 3)
    here = stored(table, conv)
    assert Token.parse(here.play) == first.at_file(3)
    for late in (
        {"type": "AudioPlayer.PlaybackStarted", "token": str(first.at_file(1)), "offsetInMilliseconds": 0},
        {"type": "AudioPlayer.PlaybackStarted", "token": str(first.at_file(2)), "offsetInMilliseconds": 0},
        {"type": "AudioPlayer.PlaybackFinished", "token": str(first.at_file(1)), "offsetInMilliseconds": 1},
        {
            "type": "AudioPlayer.PlaybackStopped",
            "token": str(first.at_file(2)),
            "offsetInMilliseconds": 9_000,
        },
    ):
        conv.send_event(late)
        after = stored(table, conv)
        assert (after.play, after.step, after.offset) == (here.play, here.step, here.offset), late


# -- a play whose start could not be stored is still the place, and counted ------------------------
def test_a_play_whose_start_could_not_be_stored_is_taken_up_by_its_reports_and_counted(
    played: Handler, clock: Clock, table: DynamoTable, faulty: FaultyClient, audio_library: AudioLibrary
) -> None:
    player = Player(clock)
    conv = Conversation(played, player=player)
    conv.say("open pelvic ease")  # the disclaimer heard: the record exists
    clock.advance(seconds=5)
    faulty.fail("put_item", FAULTS["internal-error"], times=None)
    reply = conv.say("a ten minute relaxation")
    faulty.clear()
    assert LIB.say("save_failed") in reply.text  # told, and the audio plays
    assert stored(table, conv).play is None
    conv.wait(relaxation(audio_library).ms / 1000 + 30)
    assert stored(table, conv).completed == {"down_training": 1}


# -- the cost of a whole played routine ------------------------------------------------------------
def test_a_whole_played_routine_costs_one_read_and_one_write_to_start_and_one_of_each_per_file(
    played: Handler, clock: Clock, dynamodb: Any, audio_library: AudioLibrary
) -> None:
    counter = CallCounter(dynamodb)
    conv, _, _ = start(played, clock)
    track = relaxation(audio_library)
    conv.wait(track.ms / 1000 + 30)
    calls = counter.take()
    print(f"\n{len(track.files)} files: {calls['GetItem']} reads, {calls['PutItem']} writes")
    # the start; then each file's end (its start, and the request for the next, need neither)
    assert calls == Counter(GetItem=1 + len(track.files), PutItem=1 + len(track.files))


def test_a_command_while_playing_costs_one_read_and_one_write(
    played: Handler, clock: Clock, dynamodb: Any, audio_library: AudioLibrary
) -> None:
    conv, player, _ = start(played, clock)
    conv.wait(30)
    counter = CallCounter(dynamodb)
    player.button("Next")  # its Play replaces the stream: the old one reports it stopped, the new one started
    # the command: a read and the jump; the stopped report of the replaced play: a read, no write
    assert counter.take() == Counter(GetItem=2, PutItem=1)


def local_day(at: int) -> int:
    """The day number of ``at`` in New York (en-US's zone, where no time zone can be read)."""
    return datetime.fromtimestamp(at, ZoneInfo("America/New_York")).date().toordinal() - 719_163
