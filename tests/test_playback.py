"""Routines that play straight through (AudioPlayer), through the real handler.

Each device is a Conversation with an emulated player (sim/player.py) that fetches the
rendered files from 127.0.0.1, measures them, and reports PlaybackStarted, NearlyFinished,
Stopped and Finished at the offsets a real player would, on the test's clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pelvic_ease.audio import AudioLibrary, Token, Track
from pelvic_ease.content import default_library
from pelvic_ease.memory_table import MemoryTable
from pelvic_ease.repository import DynamoTable, ProgressKey
from sim.driver import Conversation, Reply
from sim.player import PLAYING, STOPPED, Player
from tests.support import Clock

Handler = Callable[..., dict[str, Any]]
LIB = default_library()


def device(handler: Handler, clock: Clock, user_id: str | None = None) -> tuple[Conversation, Player]:
    player = Player(clock)
    return Conversation(handler, user_id=user_id, player=player), player


def stored(table: DynamoTable, conv: Conversation) -> dict[str, Any]:
    return table.get(ProgressKey.of(conv.user_id)) or {}


def plays(reply: Reply) -> list[dict[str, Any]]:
    return [d for d in reply.audio_directives if d["type"] == "AudioPlayer.Play"]


def stream(reply: Reply) -> dict[str, Any]:
    (play,) = plays(reply)
    assert play["playBehavior"] == "REPLACE_ALL"
    found: dict[str, Any] = play["audioItem"]["stream"]
    return found


def token(reply: Reply) -> Token:
    parsed = Token.parse(stream(reply)["token"])
    assert parsed is not None
    return parsed


def jumped(reply: Reply, first: Token, file: int) -> Token:
    """The stream a jump (next, previous, resume, start over) plays: ``first``'s track at
    ``file``, as a new play (so the stream it replaced, reporting late, is another play's)."""
    moved = token(reply)
    assert moved._replace(play=first.play) == first.at_file(file)
    assert moved.play != first.play
    return moved


def relaxation(library: AudioLibrary, minutes: int = 10) -> Track:
    tracks = library.tracks("en-US")
    assert tracks is not None
    track = tracks.get("down_training", "normal", minutes)
    assert track is not None
    return track


def start_relaxation(conv: Conversation) -> Reply:
    conv.say("open pelvic ease")
    return conv.say("a ten minute relaxation")


def event_replies(conv: Conversation) -> list[Reply]:
    return [r for r in conv.replies if r.request["request"]["type"].startswith("AudioPlayer.")]


def test_a_relaxation_plays_hands_free_from_start_to_finish_and_counts_once(
    played: Handler, clock: Clock, table: DynamoTable, audio_library: AudioLibrary, audio_url: str
) -> None:
    conv, player = device(played, clock)
    reply = start_relaxation(conv)
    assert "will play straight through" in reply.text
    assert not reply.session_open
    first = stream(reply)
    assert first["url"].startswith(audio_url)
    assert first["offsetInMilliseconds"] == 0
    track = relaxation(audio_library)
    assert token(reply).file == 0
    assert (token(reply).routine, token(reply).minutes) == ("down_training", 10)
    began = clock.now
    conv.wait(track.ms / 1000 + 30)

    # every file played in turn, each queued behind the one playing
    queued = [d for r in event_replies(conv) for d in plays(r) if d["playBehavior"] == "ENQUEUE"]
    assert len(queued) == len(track.files) - 1
    for index, directive in enumerate(queued):
        item = directive["audioItem"]["stream"]
        assert Token.parse(item["expectedPreviousToken"]) == token(reply).at_file(index)
        assert Token.parse(item["token"]) == token(reply).at_file(index + 1)
        assert item["url"] == audio_url + track.files[index + 1].path
    assert player.activity == "FINISHED"
    assert abs((clock.now - 30 - began) * 1000 - track.ms) < 0.01 * track.ms
    # the player's reports get no speech, ever
    for answer in event_replies(conv):
        assert not {"outputSpeech", "reprompt", "card"} & set(answer.response)
    record = stored(table, conv)
    assert record["completed"] == {"down_training": 1}
    assert "routine" not in record
    assert "play" not in record
    assert len(record["days"]) == 1
    # a duplicate "finished" report (a retry) is not a second session
    player.report("PlaybackFinished")
    assert stored(table, conv)["completed"] == {"down_training": 1}


def cue_before(track: Track, file: int, offset: int) -> int:
    return max(c for c in track.files[file].cues if c <= offset)


def test_paused_at_7_31_and_resumed_minutes_later_on_another_device_at_the_start_of_that_cue(
    played: Handler, clock: Clock, table: DynamoTable, audio_library: AudioLibrary
) -> None:
    conv, player = device(played, clock)
    first = token(start_relaxation(conv))
    conv.wait(7 * 60 + 31)
    reply = conv.say("alexa pause")
    assert reply.audio_directives == [{"type": "AudioPlayer.Stop"}]
    assert not reply.ssml
    assert player.activity == STOPPED
    record = stored(table, conv)
    track = relaxation(audio_library)
    at = Token.parse(record["play"])
    assert at is not None
    assert at.play == first.play
    # the stored offset is 7:31 into the routine: earlier files' lengths plus the offset
    before = sum(f.ms for f in track.files[: at.file])
    assert abs(before + record["offset"] - 451_000) < 0.01 * 451_000
    assert record["step"] == track.files[at.file].step

    clock.advance(seconds=5 * 60)  # a short break: on from the cue it stopped in
    other, other_player = device(played, clock, user_id=conv.user_id)
    reply = other.say("ask pelvic ease to resume")
    assert "picking up where you left off in the down-training relaxation" in reply.text.lower()
    resumed = token(reply)
    assert resumed.file == at.file
    assert resumed.play != first.play  # a new listening: the old device's stream is no longer the place
    offset = stream(reply)["offsetInMilliseconds"]
    assert offset == cue_before(track, at.file, record["offset"])
    assert 0 < record["offset"] - offset <= 20_000
    assert other_player.activity == PLAYING

    # the old device's stream is stale now: its reports change nothing at all
    now_stored = stored(table, other)
    player.activity = PLAYING
    player.report("PlaybackStopped")
    player.report("PlaybackFinished")
    assert stored(table, other) == now_stored


def test_after_a_long_break_a_played_resume_starts_the_step_again_saying_how_to_lie_first(
    played: Handler, clock: Clock, table: DynamoTable, audio_library: AudioLibrary
) -> None:
    conv, _ = device(played, clock)
    start_relaxation(conv)
    conv.wait(7 * 60 + 31)
    conv.say("alexa pause")
    at = Token.parse(stored(table, conv)["play"])
    assert at is not None
    clock.advance(days=1)
    reply = conv.say("ask pelvic ease to resume")
    assert stream(reply)["offsetInMilliseconds"] == 0  # not mid-breath: the step from its start
    assert token(reply).file == at.file
    step = relaxation(audio_library).files[at.file].step
    setup = LIB.routines["down_training"].steps[step].setup
    assert setup
    assert setup in reply.text  # spoken in Alexa's voice before the audio


def test_every_play_tells_a_screen_the_routine_the_step_and_the_pictures(
    played: Handler, clock: Clock, audio_library: AudioLibrary, audio_url: str
) -> None:
    conv, player = device(played, clock)
    first = token(start_relaxation(conv))
    conv.wait(relaxation(audio_library).ms / 1000 + 5)
    directives = [d for r in conv.replies for d in plays(r)]
    assert len(directives) == len(relaxation(audio_library).files)  # the first, then each queued
    for directive in directives:
        metadata = directive["audioItem"]["metadata"]
        played_token = Token.parse(directive["audioItem"]["stream"]["token"])
        assert played_token is not None
        assert played_token.play == first.play
        step = relaxation(audio_library).files[played_token.file].step
        title = LIB.routines["down_training"].steps[step].title
        assert metadata["title"] == "Down-training relaxation"
        assert metadata["subtitle"] == f"Step {step + 1} of 6: {title}"
        for name, size in (("art", (480, 480)), ("backgroundImage", (1024, 640))):
            (source,) = metadata[name]["sources"]
            assert source["url"].startswith(audio_url)  # on the audio host, beside the files
            assert (source["widthPixels"], source["heightPixels"]) == size
            assert metadata[name]["contentDescription"]
    # the emulated player fetched each picture and found it the size the directive says
    assert player.screen.startswith("Down-training relaxation / Step 6 of 6")
    assert "art 480x480, backgroundImage 1024x640" in player.screen


def test_next_previous_and_start_over_land_on_step_boundaries(
    played: Handler, clock: Clock, table: DynamoTable, audio_library: AudioLibrary
) -> None:
    conv, _ = device(played, clock)
    first = token(start_relaxation(conv))
    track = relaxation(audio_library)
    conv.wait(30)
    reply = conv.say("alexa next")
    assert not reply.ssml
    jumped(reply, first, 1)
    assert stream(reply)["offsetInMilliseconds"] == 0
    record = stored(table, conv)
    assert record["step"] == track.files[1].step
    assert record["skipped"] == 1 << track.files[0].step  # jumped over: not done

    conv.wait(3)  # just into the step: previous is the step before
    jumped(conv.say("alexa previous"), first, 0)
    conv.wait(20)  # well into it: previous is this step's start
    reply = conv.say("alexa previous")
    jumped(reply, first, 0)
    assert stream(reply)["offsetInMilliseconds"] == 0
    conv.wait(40)
    jumped(conv.player.button("Next"), first, 1)  # type: ignore[union-attr]
    conv.wait(20)  # well into the second step: previous restarts it, not the first
    reply = conv.say("alexa previous")
    jumped(reply, first, 1)
    assert stream(reply)["offsetInMilliseconds"] == 0
    reply = conv.say("alexa start over")
    jumped(reply, first, 0)
    assert "skipped" not in stored(table, conv)
    # next on the last step: nothing to jump to, the audio plays on
    last = len(track.files) - 1
    conv.wait(5)
    for _ in range(last):
        conv.say("alexa next")
    reply = conv.say("alexa next")
    assert reply.text == "This is the last step."
    assert not reply.audio_directives


def test_resume_plays_on_exactly_where_this_device_paused(
    played: Handler, clock: Clock, table: DynamoTable
) -> None:
    conv, player = device(played, clock)
    first = token(start_relaxation(conv))
    conv.wait(50)
    conv.say("alexa pause")
    paused_at = player.offset
    clock.advance(hours=1)
    reply = conv.say("alexa resume")
    assert not reply.ssml
    jumped(reply, first, first.file)  # the same file, as a new play
    assert stream(reply)["offsetInMilliseconds"] == paused_at
    # the remote's buttons do the same
    conv.wait(10)
    assert player.button("Pause").audio_directives == [{"type": "AudioPlayer.Stop"}]
    assert stream(player.button("Play"))["offsetInMilliseconds"] == player.offset


def test_a_failed_stream_keeps_the_place_and_is_picked_up_there(
    played: Handler, clock: Clock, table: DynamoTable, audio_library: AudioLibrary
) -> None:
    conv, player = device(played, clock)
    start_relaxation(conv)
    conv.wait(60)
    reply = player.fail()
    assert reply.response.get("directives") is None
    assert "outputSpeech" not in reply.response
    record = stored(table, conv)
    assert record["routine"] == "down_training"
    assert abs(record["offset"] - 60_000) < 1_000
    assert record["completed"] == {}
    resumed = conv.say("ask pelvic ease to resume")
    offset = stream(resumed)["offsetInMilliseconds"]
    assert offset == cue_before(relaxation(audio_library), 0, record["offset"])


def test_loop_and_shuffle_are_politely_refused_and_the_audio_plays_on(played: Handler, clock: Clock) -> None:
    conv, player = device(played, clock)
    start_relaxation(conv)
    conv.wait(20)
    for words in ("alexa loop", "alexa shuffle"):
        reply = conv.say(words)
        assert "aren't available for this one" in reply.text
        assert not reply.audio_directives
        assert player.activity == PLAYING


def test_it_hurts_after_a_stop_gives_the_pain_answer_and_never_plays(
    played: Handler, clock: Clock, table: DynamoTable
) -> None:
    conv, _ = device(played, clock)
    start_relaxation(conv)
    conv.wait(100)
    conv.say("alexa stop")
    reply = conv.say("tell pelvic ease it hurts")
    assert "talk to a healthcare professional" in reply.text
    assert "next time i'll ask whether to leave that step out" in reply.text.lower()
    assert not plays(reply)
    assert not reply.session_open
    record = stored(table, conv)
    assert record["hurt"] == 1
    assert "play" not in record
    # the next time: asked first, never played unasked
    clock.advance(days=1)
    reply = conv.say("open pelvic ease")
    assert "didn't feel right" in reply.text  # the hurt offer: leave that step out?
    assert not plays(reply)


def test_it_hurts_while_playing_stops_the_audio(played: Handler, clock: Clock, table: DynamoTable) -> None:
    conv, player = device(played, clock)
    start_relaxation(conv)
    conv.wait(100)
    reply = conv.say("tell pelvic ease it hurts")
    assert {"type": "AudioPlayer.Stop"} in reply.audio_directives
    assert player.activity == STOPPED
    assert stored(table, conv)["hurt"] == 1  # the stopped report, now stale, did not undo it


def test_the_first_massage_asks_once_how_it_should_play_and_step_by_step_is_remembered(
    played: Handler, clock: Clock, table: DynamoTable
) -> None:
    conv, _ = device(played, clock)
    conv.say("open pelvic ease")
    reply = conv.say("massage my inner thighs")
    # GIVEN a device with an audio player: asked once, in a short question, before it starts
    assert "play straight through, hands-free" in reply.text
    assert reply.session_open
    assert not plays(reply)
    reply = conv.say("step by step")
    assert "step 1 of 4" in reply.text.lower()
    assert not plays(reply)
    assert stored(table, conv)["playback"] == "guided"
    # remembered: the next massage starts at once; the relaxation still plays straight through
    conv.say("stop")
    reply = conv.say("ask pelvic ease to massage my lower back")
    assert "step 1 of" in reply.text.lower()
    conv.say("stop")
    assert token(conv.say("ask pelvic ease for a ten minute relaxation")).routine == "down_training"


def test_yes_to_the_offer_plays_the_massage_straight_through_and_is_remembered(
    played: Handler, clock: Clock, table: DynamoTable
) -> None:
    conv, _ = device(played, clock)
    conv.say("open pelvic ease")
    conv.say("massage my hips")
    reply = conv.say("yes")
    assert token(reply).routine == "daily_massage.hips"
    assert "Alexa, tell Pelvic Ease it hurts" in reply.text  # said before the audio, never in it
    assert not reply.session_open
    assert stored(table, conv)["playback"] == "straight"


def test_massages_are_step_by_step_until_asked_to_play_straight_through(
    played: Handler, clock: Clock, table: DynamoTable
) -> None:
    conv, _ = device(played, clock)
    conv.say("open pelvic ease")
    conv.say("massage my inner thighs")
    reply = conv.say("no")
    assert "step 1 of 4" in reply.text.lower()
    assert reply.session_open
    assert not plays(reply)
    reply = conv.say("play it straight through")
    assert "play straight through" in reply.text
    assert token(reply).routine == "inner_thigh"  # the routine under way goes on as audio
    assert stored(table, conv)["playback"] == "straight"
    clock.advance(days=1)
    conv.player.activity = "IDLE"  # type: ignore[union-attr]
    reply = conv.say("ask pelvic ease to massage my lower back")
    assert token(reply).routine == "lower_back"
    # and back to step by step, remembered too
    conv.say("open pelvic ease")
    assert "wait for you to say next" in conv.say("step by step").text
    reply = conv.say("a ten minute relaxation")
    assert reply.session_open
    assert not plays(reply)


def test_a_device_without_a_player_hears_the_relaxation_step_by_step(played: Handler) -> None:
    conv = Conversation(played)
    conv.say("open pelvic ease")
    reply = conv.say("a ten minute relaxation")
    assert "step 1 of" in reply.text.lower()
    assert reply.session_open
    assert not reply.audio_directives
    assert "can't play a routine straight through" in conv.say("play it straight through").text


def test_a_new_user_hears_the_disclaimer_before_the_audio(played: Handler, clock: Clock) -> None:
    conv, _ = device(played, clock)
    reply = conv.say("ask pelvic ease for a ten minute relaxation")
    assert "not medical advice" in reply.text
    assert stream(reply)["offsetInMilliseconds"] == 0


@pytest.mark.parametrize(
    "stream_token",
    ["another-skills-token", "pe1~down_training~normal~10~99~abc", "pe1~nope~normal~0~0~abc", ""],
)
def test_reports_about_streams_that_are_not_ours_change_nothing(
    played: Handler, clock: Clock, table: DynamoTable, stream_token: str
) -> None:
    conv, player = device(played, clock)
    start_relaxation(conv)
    before = stored(table, conv)
    player.token, player.activity = stream_token, PLAYING
    for kind in ("PlaybackStarted", "PlaybackStopped", "PlaybackNearlyFinished", "PlaybackFinished"):
        reply = player.report(kind)
        assert not reply.audio_directives
    assert stored(table, conv) == before


def test_a_refused_directive_is_logged_and_answered_with_nothing(played: Handler, clock: Clock) -> None:
    conv, _ = device(played, clock)
    reply = conv.send_event(
        {
            "type": "System.ExceptionEncountered",
            "error": {"type": "INVALID_RESPONSE", "message": "bad directive"},
            "cause": {"requestId": "amzn1.echo-api.request.0"},
        }
    )
    assert reply.response == {}


def test_in_a_conversation_pause_means_the_conversation_not_the_stopped_audio(
    played: Handler, clock: Clock, table: DynamoTable
) -> None:
    conv, player = device(played, clock)
    start_relaxation(conv)
    conv.wait(40)
    conv.say("alexa pause")
    assert player.activity == STOPPED  # our stream is still the device's
    conv.say("open pelvic ease")
    conv.say("no")
    conv.say("massage my inner thighs")
    conv.say("step by step")
    reply = conv.say("pause")  # inside the session: the spoken routine pauses
    assert "keeping your place" in reply.text
    assert not reply.audio_directives
    assert stored(table, conv)["routine"] == "inner_thigh"


def test_it_hurts_long_after_the_audio_stopped_is_the_general_answer(
    played: Handler, clock: Clock, table: DynamoTable
) -> None:
    conv, _ = device(played, clock)
    start_relaxation(conv)
    conv.wait(40)
    conv.say("alexa stop")
    clock.advance(hours=2)
    reply = conv.say("tell pelvic ease it hurts")
    assert "i'm sorry it hurts" in reply.text.lower()
    assert reply.session_open
    assert "hurt" not in stored(table, conv)  # the old place is not marked


# -- found in review: each of these failed before its fix ------------------------------------
def test_it_hurts_stops_a_stream_still_playing_here_though_the_place_moved_on(
    played: Handler, clock: Clock
) -> None:
    here, player = device(played, clock)
    start_relaxation(here)
    here.wait(60)
    other = Conversation(played, user_id=here.user_id)  # a spoken massage on another device
    other.say("ask pelvic ease to massage my inner thighs")
    other.say("stop")
    reply = here.say("tell pelvic ease it hurts")
    assert {"type": "AudioPlayer.Stop"} in reply.audio_directives
    assert player.activity == STOPPED


def test_it_hurts_on_a_device_without_a_player_sends_no_audio_directive(
    played: Handler, clock: Clock
) -> None:
    here, _ = device(played, clock)
    start_relaxation(here)
    here.wait(60)
    reply = Conversation(played, user_id=here.user_id).say("tell pelvic ease it hurts")
    assert not reply.audio_directives
    assert "stopped it" not in reply.text  # it could not have


def test_a_spoken_routine_started_while_our_stream_plays_stops_the_stream(
    played: Handler, clock: Clock
) -> None:
    conv, player = device(played, clock)
    start_relaxation(conv)
    conv.wait(30)
    reply = conv.say("ask pelvic ease to massage my inner thighs")
    assert "hands-free" in reply.text  # asked first how it should play: the audio plays on meanwhile
    reply = conv.say("step by step")
    assert reply.session_open
    assert {"type": "AudioPlayer.Stop"} in reply.audio_directives
    assert player.activity == STOPPED


def test_play_it_straight_through_after_it_hurts_keeps_waiting_for_skip_or_end(
    played: Handler, clock: Clock, table: DynamoTable
) -> None:
    conv, _ = device(played, clock)
    conv.say("open pelvic ease")
    conv.say("massage my inner thighs")
    conv.say("step by step")
    conv.say("next")
    conv.say("it hurts")
    reply = conv.say("play it straight through")
    assert not plays(reply)
    assert "say skip to leave this step out" in reply.text.lower()
    record = stored(table, conv)
    assert record["hurt"] == 1
    assert record["playback"] == "straight"  # the choice is kept for later


def test_a_step_skipped_then_played_to_its_end_counts_as_done(
    played: Handler, clock: Clock, table: DynamoTable, audio_library: AudioLibrary
) -> None:
    conv, player = device(played, clock)
    first = token(start_relaxation(conv))
    track = relaxation(audio_library)
    for file in (0, 1):  # next, then straight back: the step then plays in full
        conv.wait(10)
        conv.say("alexa next")
        conv.wait(2)
        jumped(conv.say("alexa previous"), first, file)
        conv.wait(track.files[file].ms / 1000 + 1)
    conv.wait(track.ms / 1000)
    assert player.activity == "FINISHED"
    assert stored(table, conv)["completed"] == {"down_training": 1}


def test_a_late_stopped_report_of_a_file_left_behind_does_not_move_the_place_back(
    played: Handler, clock: Clock, table: DynamoTable
) -> None:
    conv, _ = device(played, clock)
    first = token(start_relaxation(conv))
    conv.wait(40)
    conv.say("alexa next")
    conv.wait(20)
    before = stored(table, conv)
    late = {"type": "AudioPlayer.PlaybackStopped", "token": str(first), "offsetInMilliseconds": 40_000}
    conv.send_event(late)
    assert stored(table, conv) == before


def test_a_queued_file_that_fails_to_start_does_not_take_another_streams_offset(
    played: Handler, clock: Clock, table: DynamoTable, audio_library: AudioLibrary
) -> None:
    conv, player = device(played, clock)
    first = token(start_relaxation(conv))
    near_end = relaxation(audio_library).files[0].ms - 2_000
    player.at, player.activity = near_end, STOPPED  # the context: file 0, near its end
    state = {"token": str(first), "offsetInMilliseconds": near_end, "playerActivity": "FINISHED"}
    failed = {
        "type": "AudioPlayer.PlaybackFailed",
        "token": str(first.at_file(1)),
        "error": {"type": "MEDIA_ERROR_SERVICE_UNAVAILABLE", "message": "simulated"},
        "currentPlaybackState": state,
    }
    conv.send_event(failed)
    record = stored(table, conv)
    # file 0 ended: the place is the queued file that failed, at its start (not at file 0's offset)
    assert Token.parse(record["play"]) == first.at_file(1)
    assert record.get("offset", 0) == 0
    player.activity = "IDLE"
    assert stream(conv.say("ask pelvic ease to resume"))["offsetInMilliseconds"] < 20_000


def test_an_offset_no_file_has_is_not_stored_or_played(
    played: Handler, clock: Clock, table: DynamoTable
) -> None:
    conv, player = device(played, clock)
    first = token(start_relaxation(conv))
    conv.wait(30)
    conv.send_event(
        {"type": "AudioPlayer.PlaybackStopped", "token": str(first), "offsetInMilliseconds": 10**40}
    )
    assert stored(table, conv).get("offset", 0) < 86_400_000
    player.at, player.activity = 10**40, STOPPED
    assert stream(conv.say("alexa resume"))["offsetInMilliseconds"] < 86_400_000


def test_a_track_whose_routine_the_content_no_longer_has_still_queues_its_next_file(
    table: DynamoTable, clock: Clock, rendered_audio: Any, audio_url: str
) -> None:
    import json  # noqa: PLC0415

    from pelvic_ease import app  # noqa: PLC0415
    from pelvic_ease.audio import Manifest  # noqa: PLC0415
    from pelvic_ease.settings import Settings  # noqa: PLC0415
    from pelvic_ease.skill import build_skill, use_skill  # noqa: PLC0415
    from sim.driver import DEFAULT_SKILL_ID  # noqa: PLC0415
    from tests.support import TABLE_NAME  # noqa: PLC0415

    data = json.loads(rendered_audio.read_text())
    for rows in data["locales"].values():
        rows += [{**row, "routine": "old_relaxation"} for row in rows if row["routine"] == "down_training"]
    library = AudioLibrary(Manifest.from_dict(data), audio_url)
    settings = Settings(table_name=TABLE_NAME, skill_id=DEFAULT_SKILL_ID)
    use_skill(build_skill(settings, table=table, clock=clock, audio=library))
    try:
        conv, player = device(app.lambda_handler, clock)
        first = token(start_relaxation(conv))
        player.token = str(Token("old_relaxation", first.pace, first.minutes, 0, "anOldPlay"))
        assert player.report("PlaybackNearlyFinished").audio_directives
    finally:
        use_skill(None)


def test_a_started_report_without_its_offset_does_not_take_another_streams(
    played: Handler, clock: Clock, table: DynamoTable
) -> None:
    conv, _ = device(played, clock)
    first = token(start_relaxation(conv))
    conv.wait(90)  # the context: file 0, 90 s in
    conv.send_event({"type": "AudioPlayer.PlaybackStarted", "token": str(first.at_file(1))})
    record = stored(table, conv)
    assert Token.parse(record["play"]) == first  # a start moves nothing (the file before's end does)
    assert record.get("offset", 0) == 0


def test_a_failure_keeps_the_failed_streams_offset_not_its_playback_states_other_stream(
    played: Handler, clock: Clock, table: DynamoTable, audio_library: AudioLibrary
) -> None:
    conv, player = device(played, clock)
    first = token(start_relaxation(conv))
    conv.wait(30)
    second = token(conv.say("alexa next"))  # the place: file 1, from its start
    conv.wait(30)
    player.at, player.activity = player.offset, STOPPED  # the context: file 1, 30 s in
    other = relaxation(audio_library).files[0].ms - 2_000
    conv.send_event(
        {
            "type": "AudioPlayer.PlaybackFailed",
            "token": str(second),
            "error": {"type": "MEDIA_ERROR_UNKNOWN", "message": "simulated"},
            "currentPlaybackState": {
                "token": str(first),
                "offsetInMilliseconds": other,
                "playerActivity": "STOPPED",
            },
        }
    )
    assert abs(stored(table, conv)["offset"] - 30_000) < 1_000


class BrokenTable(MemoryTable):
    """A store that fails in a way nothing expects: the handler itself raises."""

    def get(self, key: ProgressKey) -> dict[str, Any] | None:
        raise RuntimeError("broken")


def test_a_player_report_whose_handler_fails_is_answered_with_nothing(
    clock: Clock, audio_library: AudioLibrary
) -> None:
    from pelvic_ease import app  # noqa: PLC0415
    from pelvic_ease.settings import Settings  # noqa: PLC0415
    from pelvic_ease.skill import build_skill, use_skill  # noqa: PLC0415
    from sim.driver import DEFAULT_SKILL_ID  # noqa: PLC0415

    settings = Settings("unused", DEFAULT_SKILL_ID)
    use_skill(build_skill(settings, table=BrokenTable(), clock=clock, audio=audio_library))
    try:
        conv, player = device(app.lambda_handler, clock)
        player.token, player.activity = "pe1~down_training~normal~10~0~abc", PLAYING
        for kind in ("PlaybackStarted", "PlaybackStopped", "PlaybackFinished"):
            reply = conv.send_event(
                {"type": f"AudioPlayer.{kind}", "token": player.token, "offsetInMilliseconds": 5}
            )
            assert reply.response == {}
        reply = conv.send_event({"type": "PlaybackController.NextCommandIssued"})
        assert reply.response == {}
    finally:
        use_skill(None)


def test_the_emulated_player_refuses_a_queue_behind_a_stream_that_is_not_playing(clock: Clock) -> None:
    from sim.player import PlayerError  # noqa: PLC0415

    player = Player(clock, measure=lambda url: 60_000)
    player.token, player.activity = "pe1~down_training~normal~10~0~abc", PLAYING
    queued = {"token": "pe1~down_training~normal~10~1~abc", "url": "https://example.com/a.mp3"}
    wrong = {"playBehavior": "ENQUEUE", "audioItem": {"stream": {**queued, "expectedPreviousToken": "other"}}}
    with pytest.raises(PlayerError, match="ENQUEUE expected"):
        player.play(wrong)
    right = {
        "playBehavior": "ENQUEUE",
        "audioItem": {"stream": {**queued, "expectedPreviousToken": player.token}},
    }
    player.play(right)
    assert player.queued is not None


def test_an_old_devices_buttons_and_commands_follow_the_stored_place_not_its_own_stream(
    played: Handler, clock: Clock, table: DynamoTable
) -> None:
    # GIVEN a relaxation playing on one device, then resumed on another (a new play)
    conv, player = device(played, clock)
    first = token(start_relaxation(conv))
    conv.wait(90)
    conv.say("alexa pause")
    clock.advance(hours=1)
    other, _ = device(played, clock, user_id=conv.user_id)
    resumed = token(other.say("ask pelvic ease to resume"))
    assert resumed.play != first.play
    now_stored = stored(table, other)
    # WHEN the old device's remote says next: its stream is not the place, so nothing plays
    player.activity = PLAYING
    assert player.button("Next").audio_directives == []
    assert stored(table, other) == now_stored
    # and "Alexa, next" said to it is answered from the stored place, as a new play
    reply = conv.say("alexa next")
    moved = token(reply)
    assert moved.play not in (first.play, resumed.play)
    assert Token.parse(stored(table, other)["play"]) == moved


def test_nearly_finished_of_the_last_file_queues_nothing_and_fails_nothing(
    played: Handler, clock: Clock, audio_library: AudioLibrary, capsys: pytest.CaptureFixture[str]
) -> None:
    conv, player = device(played, clock)
    first = token(start_relaxation(conv))
    last = first.at_file(len(relaxation(audio_library).files) - 1)
    capsys.readouterr()
    reply = player.report("PlaybackNearlyFinished", token=str(last), offsetInMilliseconds=1_000)
    assert reply.response == {}
    assert "ErrorSpoken" not in capsys.readouterr().out
