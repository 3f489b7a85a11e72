"""Audio that plays straight through, as the skill reads it: stream tokens, resuming at a cue,
the manifest, the base URL, and the guard that keeps an old play's events from moving the place."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pelvic_ease.audio import (
    BACK_IN_SILENCE_MS,
    DEFAULT_SOUND,
    MANIFEST_FORMAT,
    MAX_BACK_MS,
    SOUNDS,
    AudioFile,
    AudioLibrary,
    Manifest,
    ManifestError,
    Sound,
    Token,
    Track,
    Tracks,
    valid_base_url,
)
from pelvic_ease.engine import Position
from pelvic_ease.progress import PLACE, Change, CorruptProgress, Progress

NOW = 1_700_000_000


# -- tokens ----------------------------------------------------------------------------------
def test_a_token_reads_back_what_it_says() -> None:
    token = Token("down_training", "slow", 10, 3, "Kq3x9a_b")
    assert str(token) == "pe1~down_training~slow~10~3~Kq3x9a_b"
    assert Token.parse(str(token)) == token
    assert Token.parse("pe1~inner_thigh~normal~0~0~abc") == Token("inner_thigh", "normal", None, 0, "abc")


def test_a_routine_as_written_has_minutes_zero_in_its_token() -> None:
    token = Token("inner_thigh", "normal", None, 1, "p")
    assert str(token).split("~")[3] == "0"
    parsed = Token.parse(str(token))
    assert parsed is not None
    assert parsed.minutes is None


def test_at_file_keeps_the_play() -> None:
    token = Token("down_training", "slow", 5, 0, "play1")
    assert token.at_file(4) == Token("down_training", "slow", 5, 4, "play1")
    quiet = Token("down_training", "slow", 5, 0, "play1", Sound(bed=False, quiet=True))
    assert quiet.at_file(4).sound == quiet.sound


def test_a_token_names_its_sound_only_when_it_is_not_the_default() -> None:
    """Tokens of the default sound read as they always did; the others end in the sound."""
    assert Sound(bed=True, quiet=False) == DEFAULT_SOUND
    assert str(Token("down_training", "slow", 10, 3, "Kq3x9a_b")).count("~") == 5
    codes = set()
    for sound in SOUNDS:
        token = Token("down_training", "slow", 10, 3, "Kq3x9a_b", sound)
        assert Token.parse(str(token)) == token
        codes.add(str(token).split("~")[-1])
    assert codes == {"Kq3x9a_b", "nobed", "bed-quiet", "nobed-quiet"}
    assert Token.parse("pe1~down_training~slow~10~3~abc~bed") is None  # the default is never named
    assert Token.parse("pe1~down_training~slow~10~3~abc~loud") is None


@pytest.mark.parametrize(
    "text",
    [
        "pe2~down_training~slow~10~3~abc",  # another prefix
        "xx~down_training~slow~10~3~abc",
        "down_training~slow~10~3~abc",  # a field missing
        "pe1~down_training~slow~10~3",
        "pe1~down_training~slow~10~3~abc~extra",  # a field too many
        "pe1~down_training~slow~ten~3~abc",  # minutes not digits
        "pe1~down_training~slow~-1~3~abc",
        "pe1~down_training~slow~10~x~abc",  # file not digits
        "pe1~down_training~slow~10~-2~abc",
        "pe1~down_training~slow~10~3~",  # no play id
        "pe1~~slow~10~3~abc",  # no routine
        "pe1~down_training~~10~3~abc",  # no pace
        "pe1~down_training~slow~10~3~" + "a" * 120,  # over 128 characters
        "",
    ],
)
def test_parse_refuses_what_is_not_our_token(text: str) -> None:
    assert Token.parse(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "pe1~down_training~slow~²~3~abc",  # str.isdigit() is True for "²", int("²") is not a number
        "pe1~down_training~slow~10~³~abc",
    ],
)
def test_parse_refuses_digits_that_are_not_decimal(text: str) -> None:
    assert Token.parse(text) is None


@pytest.mark.parametrize("value", [None, 42, b"pe1~down_training~slow~10~3~abc", ["pe1"]])
def test_parse_refuses_what_is_not_a_string(value: object) -> None:
    assert Token.parse(value) is None


def test_parse_takes_a_token_of_128_characters_and_no_more() -> None:
    head = "pe1~down_training~slow~10~3~"
    assert Token.parse(head + "a" * (128 - len(head))) is not None
    assert Token.parse(head + "a" * (129 - len(head))) is None


# -- picking up a stream at a cue ----------------------------------------------------------
FILE = AudioFile(step=0, path="a.mp3", ms=100_000, cues=(0, 4_000, 10_000, 40_000))


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (0, 0),
        (3_999, 0),  # within the first cue: its start
        (4_000, 4_000),  # exactly on a cue
        (9_000, 4_000),
        (10_000 + MAX_BACK_MS, 10_000),  # just as far back as allowed: still the cue
        (10_000 + MAX_BACK_MS + 1, 10_000 + MAX_BACK_MS + 1 - BACK_IN_SILENCE_MS),  # deep in silence
        (39_000, 39_000 - BACK_IN_SILENCE_MS),
        (45_000, 40_000),
        (70_000, 70_000 - BACK_IN_SILENCE_MS),
    ],
)
def test_back_to_cue(offset: int, expected: int) -> None:
    assert FILE.back_to_cue(offset) == expected


def test_back_to_cue_clamps_offsets_outside_the_file() -> None:
    assert FILE.back_to_cue(-5_000) == 0
    assert FILE.back_to_cue(10**9) == FILE.ms - BACK_IN_SILENCE_MS  # the end: deep in the last silence
    short = AudioFile(step=0, path="b.mp3", ms=12_000, cues=(0, 5_000))
    assert short.back_to_cue(99_000) == 5_000  # the end is within reach of the last cue


def test_back_to_cue_without_cues_counts_from_the_start() -> None:
    quiet = AudioFile(step=0, path="q.mp3", ms=60_000, cues=())
    assert quiet.back_to_cue(15_000) == 0
    assert quiet.back_to_cue(30_000) == 30_000 - BACK_IN_SILENCE_MS


# -- tracks ---------------------------------------------------------------------------------
def track(steps: tuple[int, ...] = (0, 2, 3)) -> Track:
    files = tuple(AudioFile(step, f"{step}.mp3", 1_000 * (step + 1), (0,)) for step in steps)
    return Track("lower_back", "normal", None, files)


def test_file_for_step_maps_an_extra_to_the_next_main_step() -> None:
    played = track()  # step 1 is an optional extra: not played
    assert played.file_for_step(0) == 0
    assert played.file_for_step(1) == 1  # the extra: the file of step 2
    assert played.file_for_step(2) == 1
    assert played.file_for_step(3) == 2
    assert played.file_for_step(4) is None  # past the last step
    assert played.ms == 1_000 + 3_000 + 4_000


def test_tracks_of_a_token_checks_the_file_index() -> None:
    played = track()
    tracks = Tracks({("lower_back", "normal", None): played})
    assert tracks.of(Token("lower_back", "normal", None, 2, "p")) is played
    assert tracks.of(Token("lower_back", "normal", None, 3, "p")) is None
    assert tracks.of(Token("lower_back", "slow", None, 0, "p")) is None
    assert tracks.of(Token("lower_back", "normal", 10, 0, "p")) is None


def test_tracks_of_a_token_of_another_sound_is_that_sound_s_track() -> None:
    plain = track()
    hushed = track((0, 3))._replace(sound=Sound(bed=False, quiet=True))
    tracks = Tracks(
        {("lower_back", "normal", None): plain}, {hushed.sound: {("lower_back", "normal", None): hushed}}
    )
    assert tracks.get("lower_back", "normal", None) is plain
    assert tracks.get("lower_back", "normal", None, Sound(bed=False, quiet=True)) is hushed
    assert tracks.get("lower_back", "normal", None, Sound(bed=False)) is None
    assert tracks.of(Token("lower_back", "normal", None, 1, "p", hushed.sound)) is hushed
    assert tracks.of(Token("lower_back", "normal", None, 2, "p", hushed.sound)) is None  # it has two files
    assert tracks.of(Token("lower_back", "normal", None, 2, "p")) is plain
    assert tracks.every() == [plain, hushed]


# -- the manifest ---------------------------------------------------------------------------
def good_manifest() -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "synthesizer": "espeak-ng",
        "locales": {
            "en-US": [
                {
                    "routine": "down_training",
                    "pace": "normal",
                    "minutes": 10,
                    "files": [
                        {"step": 0, "path": "aa.mp3", "ms": 60_000, "cues": [0, 5_000]},
                        {"step": 1, "path": "bb.mp3", "ms": 30_000, "cues": [0]},
                    ],
                },
                {
                    "routine": "down_training",
                    "pace": "normal",
                    "minutes": None,
                    "files": [{"step": 0, "path": "cc.mp3", "ms": 1_000, "cues": []}],
                },
            ]
        },
    }


def test_a_good_manifest_loads() -> None:
    manifest = Manifest.from_dict(good_manifest())
    assert manifest.synthesizer == "espeak-ng"
    tracks = manifest.tracks("en-US")
    assert tracks is not None
    assert manifest.tracks("en-GB") is None
    ten = tracks.get("down_training", "normal", 10)
    assert ten is not None
    assert ten.files == (AudioFile(0, "aa.mp3", 60_000, (0, 5_000)), AudioFile(1, "bb.mp3", 30_000, (0,)))
    as_written = tracks.get("down_training", "normal", None)
    assert as_written is not None
    assert as_written.files[0].path == "cc.mp3"


def test_a_manifest_row_names_its_sound_and_a_row_without_one_is_the_default() -> None:
    data = good_manifest()
    rows = data["locales"]["en-US"]
    for sound in SOUNDS[1:]:
        rows.append(
            {
                **rows[0],
                "bed": sound.bed,
                "quiet": sound.quiet,
                "files": [{**rows[0]["files"][0], "path": f"{sound.code}.mp3"}],
            }
        )
    tracks = Manifest.from_dict(data).tracks("en-US")
    assert tracks is not None
    default = tracks.get("down_training", "normal", 10)
    assert default is not None
    assert default.sound == DEFAULT_SOUND
    assert default.files[0].path == "aa.mp3"
    for sound in SOUNDS[1:]:
        other = tracks.get("down_training", "normal", 10, sound)
        assert other is not None
        assert other.sound == sound
        assert other.files == (AudioFile(0, f"{sound.code}.mp3", 60_000, (0, 5_000)),)
    assert len(tracks.every()) == 2 + len(SOUNDS) - 1


def test_a_manifest_of_format_1_still_loads() -> None:
    """A manifest from before the sounds: its rows are the default sound's."""
    older = {**good_manifest(), "format": 1}
    tracks = Manifest.from_dict(older).tracks("en-US")
    assert tracks is not None
    assert tracks.get("down_training", "normal", 10) is not None


def spoiled(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """The good manifest with the item at ``path`` set to ``value`` (or removed, for ``...``)."""
    data = good_manifest()
    *parents, last = path
    holder: Any = data
    for key in parents:
        holder = holder[key]
    if value is ...:
        del holder[last]
    else:
        holder[last] = value
    return data


FILE_0 = ("locales", "en-US", 0, "files", 0)


@pytest.mark.parametrize(
    "data",
    [
        spoiled(("format",), MANIFEST_FORMAT + 1),
        spoiled(("format",), 0),
        spoiled(("locales", "en-US", 0, "bed"), "yes"),  # a sound is named with true or false
        spoiled(("locales", "en-US", 0, "quiet"), 1),
        spoiled(("format",), ...),
        spoiled(("locales",), ...),
        spoiled((*FILE_0, "ms"), 0),
        spoiled((*FILE_0, "ms"), -5),
        spoiled((*FILE_0, "path"), "/etc/passwd"),
        spoiled((*FILE_0, "path"), "../secret.mp3"),
        spoiled((*FILE_0, "path"), ".hidden.mp3"),
        spoiled((*FILE_0, "path"), ...),
        spoiled((*FILE_0, "cues"), ...),
        spoiled((*FILE_0, "ms"), "long"),
        spoiled(("locales", "en-US", 0, "files"), []),
        spoiled(("locales", "en-US", 0, "routine"), ...),
        spoiled(("locales", "en-US", 0, "pace"), ...),
        spoiled(("locales",), ["en-US"]),
        [],
        None,
        "manifest",
    ],
)
def test_a_manifest_that_cannot_play_is_refused(data: Any) -> None:
    with pytest.raises(ManifestError):
        Manifest.from_dict(data)


def test_manifest_load_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(good_manifest()))
    assert Manifest.load(path) == Manifest.from_dict(good_manifest())


def test_manifest_load_of_a_missing_file_is_a_manifest_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError):
        Manifest.load(tmp_path / "nowhere.json")


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"", b'{"format": 1, "locales": {', b"\xff\xfe\x00garbage"],
)
def test_manifest_load_of_what_is_not_json_is_a_manifest_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "manifest.json"
    path.write_bytes(content)
    with pytest.raises(ManifestError):
        Manifest.load(path)


# -- where the audio is served --------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://d111111abcdef8.cloudfront.net/", True),
        ("https://audio.example.com/pelvic/", True),
        ("https://d111111abcdef8.cloudfront.net", False),  # no trailing slash
        ("https://", False),
        ("http://example.com/", False),  # plain HTTP elsewhere than this machine
        ("http://127.0.0.1:8000/", True),
        ("http://localhost:8000/", True),
        ("http://127.0.0.1:8000", False),
        ("ftp://example.com/", False),
        ("", False),
    ],
)
def test_valid_base_url(url: str, ok: bool) -> None:
    assert valid_base_url(url) is ok


@pytest.fixture
def manifest_file(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(good_manifest()))
    return path


def test_audio_library_loads_a_manifest_with_a_good_url(manifest_file: Path) -> None:
    library = AudioLibrary.load("https://cdn.example.com/", manifest_file)
    assert library.tracks("en-US") is not None
    assert library.url("aa.mp3") == "https://cdn.example.com/aa.mp3"


@pytest.mark.parametrize("url", [None, "", "http://example.com/", "https://cdn.example.com"])
def test_audio_library_without_a_usable_url_has_no_tracks(url: str | None, manifest_file: Path) -> None:
    assert AudioLibrary.load(url, manifest_file).tracks("en-US") is None
    assert AudioLibrary(Manifest.load(manifest_file), url).tracks("en-US") is None


def test_audio_library_without_a_manifest_has_no_tracks(tmp_path: Path) -> None:
    assert AudioLibrary.load("https://cdn.example.com/", tmp_path / "missing.json").tracks("en-US") is None
    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    assert AudioLibrary.load("https://cdn.example.com/", broken).tracks("en-US") is None


# -- the play guard -------------------------------------------------------------------------
PLAYING = Position("down_training", 2, 0)


def playing(play_id: str, offset: int = 12_000) -> Progress:
    token = str(Token("down_training", "normal", 10, 2, play_id))
    return Progress(version=3).at(PLAYING, 10, NOW - 60, play=token, offset=offset)


def stopped_at(play_id: str, offset: int, at: int = NOW) -> Change:
    """A playback event's change: the stream of ``play_id`` stopped at file 3, ``offset`` ms."""
    token = str(Token("down_training", "normal", 10, 3, play_id))
    return Change(
        at=at,
        moved=True,
        position=Position("down_training", 3, 0),
        minutes=10,
        play=token,
        offset=offset,
        same_play=play_id,
    )


def test_an_event_of_another_play_changes_nothing_but_the_writes() -> None:
    before = playing("B")
    change = stopped_at("A", 5_000)
    after = change.applied_to(before)
    assert after == replace(before, recent_writes=(change.write_id,))
    assert change.applied_to(after) == after  # and never twice


def test_an_event_of_the_play_under_way_moves_the_place() -> None:
    before = playing("A")
    after = stopped_at("A", 5_000).applied_to(before)
    assert (after.routine, after.step, after.minutes) == ("down_training", 3, 10)
    assert after.play == str(Token("down_training", "normal", 10, 3, "A"))
    assert after.play_id == "A"
    assert after.offset == 5_000
    assert after.updated_at == NOW


def test_an_event_of_a_play_when_nothing_plays_changes_nothing() -> None:
    before = Progress(version=1).at(PLAYING, None, NOW - 60)  # step by step: no play
    after = stopped_at("A", 5_000).applied_to(before)
    assert (after.step, after.play, after.offset) == (2, None, 0)


def test_a_move_without_a_play_clears_the_play_and_its_offset() -> None:
    before = playing("A")
    after = Change(at=NOW, moved=True, position=Position("down_training", 4, 0), offset=7_000).applied_to(
        before
    )
    assert (after.step, after.play, after.offset, after.play_id) == (4, None, 0, None)
    ended = Change(at=NOW, moved=True, position=None).applied_to(before)
    assert (ended.routine, ended.play, ended.offset) == (None, None, 0)


def test_a_change_round_trips_its_play() -> None:
    change = Change(
        at=NOW,
        moved=True,
        position=Position("down_training", 3, 0),
        minutes=10,
        play=str(Token("down_training", "normal", 10, 3, "A")),
        offset=5_000,
        same_play="A",
        playback="straight",
    )
    record = json.loads(json.dumps(change.to_dict()))  # as the session keeps it
    assert (record["play"], record["offset"], record["same_play"], record["playback"]) == (
        change.play,
        5_000,
        "A",
        "straight",
    )
    assert Change.from_dict(record) == change


@pytest.mark.parametrize("offset", ["5000", -1, 1.5, True, None])
def test_a_change_with_a_bad_offset_is_refused(offset: object) -> None:
    record = stopped_at("A", 5_000).to_dict()
    record["offset"] = offset
    with pytest.raises(CorruptProgress):
        Change.from_dict(record)


@pytest.mark.parametrize("same_play", [5, "", "x" * 65])
def test_a_change_with_a_bad_same_play_is_refused(same_play: object) -> None:
    record = stopped_at("A", 5_000).to_dict()
    record["same_play"] = same_play
    with pytest.raises(CorruptProgress):
        Change.from_dict(record)


def test_play_and_offset_are_part_of_the_place() -> None:
    assert {"play", "offset"} <= set(PLACE)


def test_a_progress_keeps_a_valid_play() -> None:
    record = playing("A").to_dict()
    progress, dropped = Progress.salvaged(record)
    assert dropped == []
    assert progress == playing("A")


@pytest.mark.parametrize(("name", "value"), [("offset", -1), ("offset", "12"), ("play", 7), ("play", "")])
def test_a_bad_play_or_offset_drops_the_whole_place(name: str, value: object) -> None:
    record = playing("A").to_dict()
    record[name] = value
    progress, dropped = Progress.salvaged(record)
    assert dropped == [name]
    for field_name in PLACE:
        assert getattr(progress, field_name) == getattr(Progress(), field_name), field_name
    assert progress.version == 3  # the rest of the record is kept
    with pytest.raises(CorruptProgress):
        Progress.from_dict(record)
