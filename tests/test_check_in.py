"""The one-minute check-in (issue 28), through the real lambda_handler: asked for in every
market's words it starts, it can be followed to its end spoken, and on a device with an
audio player it plays as audio and counts as done, in every locale."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pelvic_ease.audio import AudioLibrary, Token
from pelvic_ease.content import default_library
from pelvic_ease.engine import Engine
from pelvic_ease.markets import LOCALES
from pelvic_ease.repository import DynamoTable, ProgressKey
from pelvic_ease.speech import MAX_SSML_CHARS
from sim.driver import Conversation, Reply
from sim.player import Player
from tests.support import Clock

Handler = Callable[..., dict[str, Any]]
CHECK_IN = "check_in"
# what people say for it; every model hears them (the corpus has freer ways: tests/corpus/)
ASKED = ["do a check-in", "a one minute check-in", "check in", "quick check in", "do a quick check in"]


def within_alexas_limits(reply: Reply) -> None:
    assert reply.problems() == []
    assert len(reply.ssml) < MAX_SSML_CHARS
    assert reply.speech.seconds <= 240
    assert all(pause <= 10 for pause in reply.speech.pauses)


def stored(table: DynamoTable, conv: Conversation) -> dict[str, Any]:
    return table.get(ProgressKey.of(conv.user_id)) or {}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("asked", ASKED)
def test_asking_for_a_check_in_starts_it_in_every_locale(
    handler: Handler, table: DynamoTable, locale: str, asked: str
) -> None:
    library = default_library(locale)
    conv = Conversation(handler, locale=locale)
    conv.say("open pelvic ease")
    reply = conv.say(asked)
    within_alexas_limits(reply)
    routine = library.routines[CHECK_IN]
    assert library.say("routine_start", routine=routine.name) in reply.text
    assert routine.intro in reply.text
    assert "Step 1 of 2" in reply.text
    assert reply.session_open
    assert (stored(table, conv)["routine"], stored(table, conv)["step"]) == (CHECK_IN, 0)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_check_in_is_followed_to_its_end_spoken(
    handler: Handler, table: DynamoTable, locale: str
) -> None:
    library = default_library(locale)
    routine = library.routines[CHECK_IN]
    conv = Conversation(handler, locale=locale)
    conv.say("open pelvic ease")
    first = conv.say("do a check-in")
    within_alexas_limits(first)
    assert routine.steps[0].position in first.text
    assert library.say("invitation") in first.text
    last = conv.say("next")
    within_alexas_limits(last)
    assert "Step 2 of 2" in last.text
    assert routine.steps[1].instruction in last.text
    assert routine.outro in last.text
    assert library.say("invitation") not in last.text
    record = stored(table, conv)
    assert record["completed"] == {CHECK_IN: 1}
    assert "routine" not in record
    # about a minute, spoken at the normal pace: within Alexa's own estimate, under 90 s
    spoken = first.speech.seconds + last.speech.seconds
    assert 60 <= spoken < 100
    assert round(Engine(library).total_seconds(CHECK_IN, None) / 60) == 1


@pytest.mark.parametrize("locale", LOCALES)
def test_the_check_in_plays_as_audio_and_counts_as_done(
    played: Handler, clock: Clock, table: DynamoTable, audio_library: AudioLibrary, locale: str
) -> None:
    # GIVEN a device with an audio player, and a listener who has not said how routines play
    player = Player(clock)
    conv = Conversation(played, locale=locale, player=player)
    library = default_library(locale)
    name = library.routines[CHECK_IN].name
    conv.say("open pelvic ease")
    # WHEN they ask for a check-in: asked once whether it plays hands-free (it is no
    # relaxation, so it is not played unasked), and yes plays it
    offer = conv.say("do a check-in")
    assert library.say("play_offer", routine=name) in offer.text
    reply = conv.say("yes")
    within_alexas_limits(reply)
    assert library.say("play_start", routine=name) in reply.text
    assert not reply.session_open
    (play,) = [d for d in reply.audio_directives if d["type"] == "AudioPlayer.Play"]
    token = Token.parse(play["audioItem"]["stream"]["token"])
    assert token is not None
    assert (token.routine, token.file) == (CHECK_IN, 0)
    tracks = audio_library.tracks(locale)
    assert tracks is not None
    track = tracks.get(CHECK_IN, "normal", None)
    assert track is not None
    assert len(track.files) == 2  # its two steps
    assert 60_000 <= track.ms <= 150_000
    conv.wait(track.ms / 1000 + 30)
    # THEN it plays to its end, the second file queued behind the first, and counts once
    assert player.activity == "FINISHED"
    queued = [d for r in conv.replies for d in r.audio_directives if d.get("playBehavior") == "ENQUEUE"]
    assert len(queued) == 1
    record = stored(table, conv)
    assert record["completed"] == {CHECK_IN: 1}
    assert "routine" not in record


def test_every_locale_has_the_check_in_rendered_in_every_pace_and_sound(audio_library: AudioLibrary) -> None:
    from pelvic_ease.audio import SOUNDS  # noqa: PLC0415

    for locale in LOCALES:
        tracks = audio_library.tracks(locale)
        assert tracks is not None
        for pace in default_library(locale).paces:
            for sound in SOUNDS:
                track = tracks.get(CHECK_IN, pace, None, sound)
                assert track is not None, (locale, pace, sound)
                assert [f.step for f in track.files] == [0, 1]
