"""The one-minute check-in (issue 28), through the real lambda_handler: asked for in every
market's words it starts, it can be followed to its end spoken, and on a device with an
audio player it plays as audio and counts as done, in every locale."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from pelvic_ease.audio import AudioLibrary, Token
from pelvic_ease.content import default_library
from pelvic_ease.engine import Engine
from pelvic_ease.markets import LOCALES
from pelvic_ease.repository import DynamoTable, ProgressKey
from pelvic_ease.speech import (
    MAX_BREAK_SECONDS,
    MAX_RESPONSE_SECONDS,
    MAX_SILENCE_RUN_SECONDS,
    MAX_SSML_CHARS,
    Text,
    render,
    silent_runs,
)
from sim.driver import Conversation, Reply
from sim.player import Player
from sim.ssml_reader import read_ssml
from tests.support import ROOT, Clock

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


@pytest.mark.parametrize("locale", LOCALES)
def test_every_way_of_saying_the_check_in_is_within_alexas_limits(locale: str) -> None:
    library = default_library(locale)
    engine = Engine(library)
    for pace in library.paces.values():
        for quiet in (False, True):
            for segment in engine.walk(CHECK_IN, pace.id, quiet=quiet):
                resumed = engine.step_start(segment.position, pace.id, resumed=True, quiet=quiet)
                for script in (segment.script, resumed.script):
                    ssml = f"<speak>{render(script, pace.rate)}</speak>"
                    spoken = read_ssml(ssml)
                    assert spoken.problems == ()
                    assert len(ssml) < MAX_SSML_CHARS
                    assert all(p <= MAX_BREAK_SECONDS for p in spoken.pauses)
                    assert max(silent_runs(spoken.parts), default=0) <= MAX_SILENCE_RUN_SECONDS
                    assert spoken.seconds <= MAX_RESPONSE_SECONDS - 60  # room for a lead before it


SEEDS = ROOT.parent / "shared" / "seeds"


def eight_word_runs(text: str) -> set[str]:
    said = re.findall(r"[a-z0-9']+", text.lower().replace("\u2019", "'"))
    return {" ".join(said[i : i + 8]) for i in range(len(said) - 7)}


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside this checkout")
@pytest.mark.parametrize("locale", LOCALES)
def test_the_check_in_shares_no_eight_word_run_with_the_seeds(locale: str) -> None:
    """As ../shared/tools/seed-overlap holds the files (test_content.py runs it), here for
    what each market hears of the check-in, spoken and played, each script whole."""
    seeds: set[str] = set()
    for seed in SEEDS.glob("*.txt"):
        seeds |= eight_word_runs(seed.read_text(encoding="utf-8"))
    library = default_library(locale)
    engine = Engine(library)
    scripts = [s.script for s in engine.walk(CHECK_IN, None)] + list(engine.played(CHECK_IN, None))
    for script in scripts:
        said = " ".join(part.text for part in script if isinstance(part, Text))
        assert eight_word_runs(said) & seeds == set()


def test_a_one_minute_check_in_is_not_told_its_length_is_set(handler: Handler) -> None:
    """Asked for at the length it has, the check-in just starts (no "it has a set length")."""
    library = default_library("en-US")
    conv = Conversation(handler)
    conv.say("open pelvic ease")
    reply = conv.say("a one minute check-in")
    assert library.say("length_fixed", routine=library.routines[CHECK_IN].name) not in reply.text
    assert library.say("routine_start", routine=library.routines[CHECK_IN].name) in reply.text
    five = conv.say("a five minute check-in")  # another length: said plainly that it is set
    assert library.say("length_fixed", routine=library.routines[CHECK_IN].name) in five.text


def test_a_short_massage_asked_for_is_a_massage_never_the_check_in(handler: Handler) -> None:
    library = default_library("en-US")
    conv = Conversation(handler)
    conv.say("open pelvic ease")
    reply = conv.say("a three minute massage")
    assert library.routines[CHECK_IN].name not in reply.text
    assert reply.text.endswith("Shall we start?")
