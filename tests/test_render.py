"""The renderer: every routine as MP3 files (measured, not trusted), silences of exact length,
files named by what made them, Polly's requests within its limits, and the upload to S3."""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import shutil
import wave
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from filelock import FileLock, Timeout
from moto import mock_aws

from pelvic_ease.audio import DEFAULT_SOUND, SOUNDS, Sound
from pelvic_ease.content import Library, default_library
from pelvic_ease.engine import Engine
from pelvic_ease.markets import LOCALES
from pelvic_ease.speech import Pause, Script, Text, spoken_text, words
from render import pipeline
from render.__main__ import CACHE_CONTROL, main, upload
from render.measure import integrated_lufs, speaking_seconds, true_peak_dbtp
from render.mp3 import NotMp3, mp3_info
from render.pipeline import (
    BITRATE_KBPS,
    PLAIN,
    SAMPLE_RATE,
    Report,
    Stitcher,
    encode_mp3,
    file_key,
    mix_for,
    played_scripts,
    render_file,
    render_library,
    track_rows,
)
from render.sound import SPEECH_PEAK_DBTP, TARGET_LUFS, Mix
from render.synth import (
    ESPEAK_FIRST_GAP_AT_SPEED,
    ESPEAK_GAP_SECONDS_AT_SPEED,
    ESPEAK_MIN_SPEED,
    ESPEAK_SAMPLE_RATE,
    ESPEAK_SECONDS_PER_WORD_AT_SPEED,
    POLLY_MAX_CHARS,
    POLLY_SAMPLE_RATE,
    POLLY_VOICES,
    POLLY_WORDS_PER_MINUTE,
    Espeak,
    Polly,
    SynthesisError,
    espeak_speed_and_gap,
    polly_chunks,
    wav_pcm,
)
from sim.local_audio import ensure_rendered

Row = tuple[str, str, int | None]
NORMAL_WPM = default_library("en-US").pace("normal").narration_wpm


def manifest_of(rendered_audio: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(rendered_audio.read_text())
    return data


def rows_by_key(rows: list[dict[str, Any]], sound: Sound = DEFAULT_SOUND) -> dict[Row, list[dict[str, Any]]]:
    """The rows of one sound, by routine, pace and length."""
    return {
        (r["routine"], r["pace"], r["minutes"]): r["files"]
        for r in rows
        if (r["bed"], r["quiet"]) == (sound.bed, sound.quiet)
    }


def silence_runs(script: Script) -> list[float]:
    """Seconds of each run of pauses with no speech between them."""
    runs, run = [], 0.0
    for part in script:
        if isinstance(part, Pause):
            run += part.seconds
        elif spoken_text(part.text):
            runs.append(run)
            run = 0.0
    return [*runs, run]


# -- every file, measured -------------------------------------------------------------------
def test_every_file_is_there_measured_and_in_the_format(rendered_audio: Path) -> None:
    manifest = manifest_of(rendered_audio)
    folder = rendered_audio.parent
    files = {f["path"]: f for rows in manifest["locales"].values() for row in rows for f in row["files"]}
    assert files
    for name, entry in files.items():
        info = mp3_info((folder / name).read_bytes())
        assert info.seconds * 1000 == pytest.approx(entry["ms"], rel=0.01), name
        assert info.bitrates == frozenset({BITRATE_KBPS}), name
        assert (info.channels, info.sample_rate) == (1, SAMPLE_RATE), name
        cues = entry["cues"]
        assert cues, name
        assert all(a < b for a, b in itertools.pairwise(cues)), name
        assert cues[0] >= 0, name
        assert cues[-1] < entry["ms"], name


@pytest.mark.parametrize("locale", LOCALES)
def test_the_manifest_has_every_track_with_a_file_per_main_step(rendered_audio: Path, locale: str) -> None:
    manifest = manifest_of(rendered_audio)
    library = default_library(locale)
    engine = Engine(library)
    expected = {
        (routine.id, pace, minutes)
        for routine in library.routines.values()
        for pace in library.paces
        for minutes in (None, *routine.lengths)
    }
    assert len(manifest["locales"][locale]) == len(expected) * len(SOUNDS)
    for sound in SOUNDS:  # with the bed and without, every breath spoken and every other one
        rows = rows_by_key(manifest["locales"][locale], sound)
        assert set(rows) == expected == set(track_rows(library))
        for (routine, _, _), files in rows.items():
            assert [f["step"] for f in files] == engine.main_steps(routine)
    assert any(routine.parent for routine in library.routines.values())  # focused ones too
    assert manifest["voices"][locale] == "en-us"


# -- silences stitched to exact length ------------------------------------------------------
def test_a_files_length_is_its_silences_and_its_speech(rendered_audio: Path) -> None:
    library = default_library("en-US")
    engine = Engine(library)
    for sound in SOUNDS:
        files = rows_by_key(manifest_of(rendered_audio)["locales"]["en-US"], sound)[
            ("down_training", "normal", 10)
        ]
        scripts = played_scripts(engine, "down_training", "normal", 10, sound)
        assert len(scripts) == len(files)
        for script, entry in zip(scripts, files, strict=True):
            silence_ms = 1000 * sum(p.seconds for p in script if isinstance(p, Pause))
            assert silence_ms <= entry["ms"]
            assert entry["ms"] - silence_ms > 0  # the speech


def test_each_cue_starts_after_the_speech_and_silence_before_it(rendered_audio: Path, tmp_path: Path) -> None:
    """The step holding the longest rest, clip by clip: the gaps between cues are the clips
    and the pauses, to the ms, in the cache and made afresh."""
    library = default_library("en-US")
    scripts = played_scripts(Engine(library), "down_training", "normal", None, DEFAULT_SOUND)
    at = max(range(len(scripts)), key=lambda i: max(silence_runs(scripts[i])))
    script = scripts[at]
    assert max(silence_runs(script)) > 40
    assert 0 < at < len(scripts) - 1  # neither the first file (the bed leads in) nor the last
    stitcher = Stitcher(Espeak())
    at_ms, expected = 0.0, []
    for part in script:
        if isinstance(part, Pause):
            at_ms += 1000 * part.seconds
        elif spoken_text(part.text):
            expected.append(at_ms)
            clip = stitcher.clip(spoken_text(part.text), NORMAL_WPM, "en-US")
            at_ms += clip.size / SAMPLE_RATE * 1000
    cached = rows_by_key(manifest_of(rendered_audio)["locales"]["en-US"])[("down_training", "normal", None)]
    how = mix_for(DEFAULT_SOUND, first=False, last=False)
    fresh = render_file(
        Stitcher(Espeak()), script, NORMAL_WPM, "en-US", out=tmp_path, report=Report(), how=how
    )
    assert fresh.made
    assert fresh.path == cached[at]["path"]
    for cues, ms in ((fresh.cues, fresh.ms), (cached[at]["cues"], cached[at]["ms"])):
        assert list(cues) == pytest.approx(expected, abs=1)
        assert ms == pytest.approx(at_ms, abs=1)
    assert mp3_info((tmp_path / fresh.path).read_bytes()).seconds * 1000 == pytest.approx(at_ms, rel=0.01)


def test_the_first_file_with_the_bed_lets_it_in_before_the_first_word(rendered_audio: Path) -> None:
    rows = manifest_of(rendered_audio)["locales"]["en-US"]
    with_bed = rows_by_key(rows)[("down_training", "normal", 10)]
    without = rows_by_key(rows, Sound(bed=False))[("down_training", "normal", 10)]
    assert with_bed[0]["cues"][0] == 2_000
    assert without[0]["cues"][0] == 0
    assert (
        [f["cues"][0] for f in with_bed[1:]]
        == [f["cues"][0] for f in without[1:]]
        == [0] * (len(without) - 1)
    )


def test_a_resting_minute_is_a_minute(rendered_audio: Path) -> None:
    """The spoken path breaks silence every 20 s with a cue; played audio holds it whole
    (the engine's script), and the rendered file with the bed keeps a word for about once a
    minute."""
    library = default_library("en-US")
    engine = Engine(library)
    longest = max(
        run
        for pace in library.paces
        for minutes in (None, *library.routines["down_training"].lengths)
        for script in engine.played("down_training", pace, minutes)
        for run in silence_runs(script)
    )
    assert longest > 20
    # ... and the rendered file holds long rests: gaps between cues of near a minute
    files = rows_by_key(manifest_of(rendered_audio)["locales"]["en-US"])[("down_training", "normal", None)]
    gaps = [b - a for f in files for a, b in zip(f["cues"], [*f["cues"][1:], f["ms"]], strict=True)]
    assert max(gaps) > 40_000


# -- files named by what made them ----------------------------------------------------------
SCRIPT: Script = (Text("Breathe in"), Pause(4), Text("and let it go"), Pause(7))


def test_file_key_follows_the_script_the_pace_the_voice_and_the_mix() -> None:
    espeak, polly = Espeak(), Polly(client=None)
    key = file_key(SCRIPT, espeak, "en-US", 120)
    assert file_key(SCRIPT, espeak, "en-US", 120) == key
    assert file_key(tuple(SCRIPT), espeak, "en-GB", 120) == key  # espeak: one voice, shared files
    assert file_key((Text("  Breathe in  "), *SCRIPT[1:]), espeak, "en-US", 120) == key  # same speech
    assert file_key(SCRIPT, espeak, "en-US", 120, PLAIN) == key
    changed = [
        file_key((Text("Breathe in slowly"), *SCRIPT[1:]), espeak, "en-US", 120),
        file_key((SCRIPT[0], Pause(5), *SCRIPT[2:]), espeak, "en-US", 120),
        file_key((SCRIPT[0], Pause(4, chime=True), *SCRIPT[2:]), espeak, "en-US", 120),
        file_key(SCRIPT[:-1], espeak, "en-US", 120),
        file_key((SCRIPT[2], SCRIPT[1], SCRIPT[0], SCRIPT[3]), espeak, "en-US", 120),
        file_key(SCRIPT, espeak, "en-US", 110),
        file_key(SCRIPT, espeak, "en-US", 120, Mix(bed=True, first=False, last=False)),
        file_key(SCRIPT, espeak, "en-US", 120, Mix(bed=True, first=True, last=False)),
        file_key(SCRIPT, espeak, "en-US", 120, Mix(bed=True, first=False, last=True)),
        file_key(SCRIPT, polly, "en-US", 120),
        file_key(SCRIPT, polly, "en-GB", 120),
        file_key(SCRIPT, polly, "en-AU", 120),
    ]
    assert len({key, *changed}) == len(changed) + 1
    # Polly: locales with the same voice share their files, others do not
    assert file_key(SCRIPT, polly, "en-CA", 120) == file_key(SCRIPT, polly, "en-US", 120)
    # without the bed, where a file sits in its routine changes nothing
    assert mix_for(Sound(bed=False), first=True, last=True) == PLAIN


def test_file_key_of_equal_scripts_is_equal() -> None:
    """Pause(4) == Pause(4.0), and both are the same samples of silence: one file, not two."""
    espeak = Espeak()
    same = (Text("Breathe in"), Pause(4.0), Text("and let it go"), Pause(7.0))
    assert same == SCRIPT
    assert file_key(same, espeak, "en-US", 120) == file_key(SCRIPT, espeak, "en-US", 120)


@pytest.fixture
def cache_copy(rendered_audio: Path, tmp_path: Path) -> Path:
    """The rendered files (and their sidecars), linked into a fresh folder."""
    out = tmp_path / "audio"
    out.mkdir()
    for path in rendered_audio.parent.iterdir():
        if path.suffix in (".mp3", ".json") and path.name != rendered_audio.name:
            try:
                os.link(path, out / path.name)
            except OSError:  # another file system
                shutil.copy2(path, out / path.name)
    return out


def with_step_changed(library: Library, routine_id: str, step: int) -> Library:
    routine = library.routines[routine_id]
    steps = list(routine.steps)
    steps[step] = steps[step]._replace(instruction=steps[step].instruction + " Take your time.")
    routines = {**library.routines, routine_id: routine._replace(steps=tuple(steps))}
    return replace(library, routines=routines)


def test_a_render_remakes_only_what_changed(rendered_audio: Path, cache_copy: Path) -> None:
    old = manifest_of(rendered_audio)["locales"]["en-US"]
    old_paths = {f["path"] for row in old for f in row["files"]}
    before = set(os.listdir(cache_copy))

    manifest, report = render_library(Espeak(), cache_copy, locales=["en-US"])
    assert report.made == 0
    assert report.reused == len(old_paths) == len(report.paths)
    assert manifest["locales"]["en-US"] == old
    assert set(os.listdir(cache_copy)) == before

    library = default_library("en-US")
    step = 1
    assert step in Engine(library).main_steps("inner_thigh")
    manifest, report = render_library(
        Espeak(),
        cache_copy,
        locales=["en-US"],
        libraries=lambda _: with_step_changed(library, "inner_thigh", step),
    )
    new = manifest["locales"]["en-US"]
    remade = set()
    for old_row, new_row in zip(old, new, strict=True):
        assert {**old_row, "files": None} == {**new_row, "files": None}
        for new_file, old_file in zip(new_row["files"], old_row["files"], strict=True):
            if new_row["routine"] == "inner_thigh" and new_file["step"] == step:
                assert new_file["path"] != old_file["path"]
                assert (cache_copy / new_file["path"]).exists()
                assert new_file["path"] not in before
                remade.add(new_file["path"])
            else:
                assert new_file == old_file, (new_row["routine"], new_row["pace"], new_file["step"])
    # that step at every pace, in every sound (its breaths change with less talking)
    assert report.made == len(remade) == len(library.paces) * len(SOUNDS)
    assert report.reused == len(report.paths) - report.made


# -- more than one process at once (the test workers, make chat, make demo) -----------------
def test_two_writers_of_one_file_at_once_each_write_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "a.mp3"
    rename = os.replace

    def another_writer_first(source: Any, destination: Any) -> None:
        # between this write and its rename, another process writes the same file
        monkeypatch.setattr(pipeline.os, "replace", rename)
        pipeline.write_atomically(target, b"theirs")
        assert target.read_bytes() == b"theirs"
        rename(source, destination)

    monkeypatch.setattr(pipeline.os, "replace", another_writer_first)
    pipeline.write_atomically(target, b"ours")
    assert target.read_bytes() == b"ours"
    assert [p.name for p in tmp_path.iterdir()] == ["a.mp3"]  # no partial file left


def test_a_failed_write_leaves_the_file_as_it_was_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "manifest.json"
    target.write_bytes(b"before")

    def full_disk(source: Any, destination: Any) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(pipeline.os, "replace", full_disk)
    with pytest.raises(OSError, match="no space"):
        pipeline.write_atomically(target, b"after")
    assert target.read_bytes() == b"before"
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_one_process_at_a_time_renders_into_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "audio"
    lock = tmp_path / "audio.lock"  # beside the folder, so not one of the files it serves
    rendered: list[Path] = []

    def render(synth: Any, out: Path, **_: Any) -> tuple[dict[str, Any], Report]:
        with pytest.raises(Timeout):  # another process would wait here
            FileLock(lock).acquire(timeout=0)
        rendered.append(out)
        return {"format": 1, "locales": {}}, Report()

    monkeypatch.setattr(pipeline, "render_library", render)
    path = ensure_rendered(folder, quiet=True)
    assert rendered == [folder]
    assert json.loads(path.read_text()) == {"format": 1, "locales": {}}
    FileLock(lock).acquire(timeout=0)  # and let go once done
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "site"]  # and the pictures


# -- Polly ----------------------------------------------------------------------------------
@pytest.fixture
def polly() -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    """A Polly client on moto, and every SynthesizeSpeech request's parameters."""
    with mock_aws():
        client = boto3.client("polly", region_name="us-east-1")
        requests: list[dict[str, Any]] = []

        def hook(params: dict[str, Any], **_: Any) -> None:
            requests.append(dict(params))

        client.meta.events.register("provide-client-params.polly.SynthesizeSpeech", hook)
        yield client, requests


def only_inner_thigh(locale: str) -> Library:
    library = default_library(locale)
    return replace(library, routines={"inner_thigh": library.routines["inner_thigh"]})


def billable(ssml: str) -> str:
    return "".join(ET.fromstring(ssml).itertext())


def test_polly_requests_follow_polly_s_limits(
    polly: tuple[Any, list[dict[str, Any]]], tmp_path: Path
) -> None:
    client, requests = polly
    # two worker processes: the files are made where Polly's client never goes
    manifest, report = render_library(
        Polly(client), tmp_path, locales=["en-GB"], libraries=only_inner_thigh, workers=2
    )
    library = only_inner_thigh("en-GB")
    assert manifest["voices"] == {"en-GB": POLLY_VOICES["en-GB"]} == {"en-GB": "Amy"}
    assert manifest["synthesizer"] == "polly"
    assert manifest["sample_rate"] == POLLY_SAMPLE_RATE == SAMPLE_RATE
    paths = {f["path"] for row in manifest["locales"]["en-GB"] for f in row["files"]}
    assert report.made == len(paths) == len(report.paths)
    assert len(manifest["locales"]["en-GB"]) == len(library.paces) * len(SOUNDS)
    assert all((tmp_path / path).exists() for path in paths)
    assert requests
    rates = set()
    for params in requests:
        assert params["Engine"] == "neural"
        assert params["VoiceId"] == "Amy"
        assert params["OutputFormat"] == "pcm"
        assert params["SampleRate"] == "16000"
        assert params["TextType"] == "ssml"
        speak = ET.fromstring(params["Text"])
        assert speak.tag == "speak"
        (prosody,) = list(speak)
        assert prosody.tag == "prosody"
        rate = re.fullmatch(r"(\d+)%", prosody.attrib["rate"])
        assert rate is not None
        rates.add(int(rate.group(1)))
        assert 0 < len(billable(params["Text"])) <= POLLY_MAX_CHARS
    # the pace's words a minute as Polly's rate (moto's answer is silence: nothing to correct)
    expected = {round(100 * pace.narration_wpm / POLLY_WORDS_PER_MINUTE) for pace in library.paces.values()}
    assert rates == expected
    assert all(50 <= rate < 100 for rate in rates)  # slower than Polly's own pace, as calm narration is
    # what was asked for is what the scripts say, each clip once per pace
    engine = Engine(library)
    said = {
        (spoken_text(part.text), round(100 * pace.narration_wpm / POLLY_WORDS_PER_MINUTE))
        for pace in library.paces.values()
        for sound in SOUNDS
        for script in played_scripts(engine, "inner_thigh", pace.id, None, sound)
        for part in script
        if isinstance(part, Text) and spoken_text(part.text)
    }
    asked = [(billable(p["Text"]), int(ET.fromstring(p["Text"])[0].attrib["rate"][:-1])) for p in requests]
    assert sorted(asked) == sorted(said)


class FakePolly:
    """Answers SynthesizeSpeech with a few samples per request, and keeps the requests."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def synthesize_speech(self, **params: Any) -> dict[str, Any]:
        self.requests.append(params)
        return {"AudioStream": io.BytesIO(b"\x01\x00\x02\x00\x03")}  # an odd byte: dropped


def sentences(count: int) -> str:
    return " ".join(
        f"Sentence {i} lets the breath go, slowly and softly, all the way down {'again' * (i % 3)}."
        for i in range(count)
    )


def test_polly_chunks_cut_a_long_text_after_sentences() -> None:
    text = sentences(110)
    assert len(text) > 7_000
    pieces = polly_chunks(text)
    assert len(pieces) >= 3
    assert all(0 < len(piece) <= POLLY_MAX_CHARS for piece in pieces)
    assert " ".join(pieces) == " ".join(text.split())
    assert all(piece.endswith(".") for piece in pieces)
    assert polly_chunks("  short.  ") == ["short."]
    assert polly_chunks("") == []


def test_polly_chunks_prefer_a_sentence_end_to_a_comma() -> None:
    first = " ".join(["relax"] * 400) + "."  # a sentence of 2,399 characters
    second = "Now breathe in, " + " ".join(["soften"] * 200) + "."  # its comma within the first 3,000
    pieces = polly_chunks(f"{first} {second}")
    assert pieces == [first, second]


def test_polly_chunks_cut_a_text_without_sentences_at_a_word_or_anywhere() -> None:
    words = " ".join(["relax"] * 1_500)
    pieces = polly_chunks(words)
    assert all(len(piece) <= POLLY_MAX_CHARS for piece in pieces)
    assert " ".join(pieces) == words
    unbroken = "x" * 7_000
    assert "".join(polly_chunks(unbroken)) == unbroken
    assert all(len(piece) <= POLLY_MAX_CHARS for piece in polly_chunks(unbroken))


def test_polly_synthesizes_a_long_text_in_requests_within_the_limit() -> None:
    client = FakePolly()
    text = sentences(110) + " Tom & Jerry <rest>."
    pcm = Polly(client).synthesize(text, 85, "en-AU")
    assert len(client.requests) == len(polly_chunks(text)) >= 3
    assert pcm == b"\x01\x00\x02\x00" * len(client.requests)
    assert " ".join(billable(r["Text"]) for r in client.requests) == text
    assert all(len(billable(r["Text"])) <= POLLY_MAX_CHARS for r in client.requests)
    assert {r["VoiceId"] for r in client.requests} == {"Olivia"}


# -- upload ---------------------------------------------------------------------------------
def test_upload_puts_only_what_the_bucket_lacks(tmp_path: Path) -> None:
    names = {"a1.mp3", "b2.mp3", "c3.mp3"}
    for name in names:
        (tmp_path / name).write_bytes(name.encode() * 10)
    (tmp_path / "not-listed.mp3").write_bytes(b"x")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="audio")
        assert upload(s3, "audio", tmp_path, names) == (3, 0)
        keys = {item["Key"] for item in s3.list_objects_v2(Bucket="audio")["Contents"]}
        assert keys == names
        for name in names:
            head = s3.head_object(Bucket="audio", Key=name)
            assert head["ContentType"] == "audio/mpeg"
            assert "immutable" in head["CacheControl"]
            assert head["CacheControl"] == CACHE_CONTROL
            assert s3.get_object(Bucket="audio", Key=name)["Body"].read() == name.encode() * 10
        assert upload(s3, "audio", tmp_path, names) == (0, 3)
        assert upload(s3, "audio", tmp_path, {*names, "not-listed.mp3"}) == (1, 3)


@pytest.mark.parametrize(
    "argv",
    [["--upload"], ["--upload", "--synth", "polly"], ["--upload", "--bucket", "b"], ["--synth", "flite"]],
)
def test_upload_needs_polly_and_a_bucket(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    def no_clients(name: str) -> Any:
        raise AssertionError(f"no {name} client before the arguments are checked")

    with pytest.raises(SystemExit) as exited:
        main(argv, clients=no_clients)
    assert exited.value.code == 2
    assert "usage:" in capsys.readouterr().err


# -- reading what the synthesizers and the encoder give -------------------------------------
def wav_bytes(samples: bytes, rate: int = 22_050, channels: int = 1, width: int = 2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(samples)
    return buffer.getvalue()


def test_wav_pcm_reads_a_wav() -> None:
    samples = bytes(range(200))
    assert wav_pcm(wav_bytes(samples, 16_000)) == (samples, 16_000)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"ID3\x03\x00\x00\x00\x00\x00\x00",
        b"RIFF\x00\x00\x00\x00AVI LIST",
        b"RIFF\x00\x00\x00\x00WAVE",  # no chunks: no data
        wav_bytes(bytes(8), channels=2),
        wav_bytes(bytes(8), width=1),
    ],
)
def test_wav_pcm_refuses_what_is_not_16_bit_mono_wav(data: bytes) -> None:
    with pytest.raises(SynthesisError):
        wav_pcm(data)


class Beep:
    """A synthesizer of one steady tone a word, at 8 kHz."""

    name = "beep"
    sample_rate = 8_000

    def voice(self, locale: str) -> str:
        return "beep"

    def synthesize(self, text: str, words_per_minute: int, locale: str) -> bytes:
        count = len(text) * 100
        tone = 0.1 * np.sin(2 * np.pi * 440 * np.arange(count) / self.sample_rate)
        return (tone * 32767).astype("<i2").tobytes()


def test_stitcher_puts_silence_of_exact_length_between_clips() -> None:
    voice, cues, chimes = Stitcher(Beep()).stitch(
        (Text("ab"), Pause(1.5), Text("  "), Pause(0.25, chime=True), Text("abc")), 120, "en-US"
    )
    assert cues == (0, 25 + 1500 + 250)
    assert voice.size == SAMPLE_RATE * (200 + 12_000 + 2_000 + 300) // 8_000
    silence = voice[SAMPLE_RATE * 25 // 1000 : SAMPLE_RATE * 1775 // 1000]
    assert not np.any(silence)
    assert chimes == (0.025 + 1.5,)  # a short pause: its chime at its start
    # a lead-in is silence before the first word
    led, led_cues, _ = Stitcher(Beep()).stitch((Text("ab"),), 120, "en-US", lead_in=2.0)
    assert led_cues == (2_000,)
    assert not np.any(led[: 2 * SAMPLE_RATE])


def test_a_clip_is_levelled_and_fitted_to_its_pace() -> None:
    """A clip long enough to measure is asked for again until it speaks at the pace."""

    class Drawl(Beep):
        def __init__(self) -> None:
            self.asked: list[int] = []

        def synthesize(self, text: str, words_per_minute: int, locale: str) -> bytes:
            self.asked.append(words_per_minute)
            # this engine speaks a third slower than it is asked: one word every 0.75 s at 120
            seconds = words(text) * 60 / (words_per_minute * 2 / 3)
            t = np.arange(round(seconds * self.sample_rate)) / self.sample_rate
            return (0.05 * np.sin(2 * np.pi * 300 * t) * 32767).astype("<i2").tobytes()

    synth = Drawl()
    clip = Stitcher(synth).clip("one two three four five six seven eight", 120, "en-US")
    assert synth.asked[0] == 120
    assert len(synth.asked) >= 2
    assert abs(synth.asked[-1] - 180) <= 5  # asked faster, to be heard at 120
    assert words("one two three four five six seven eight") / speaking_seconds(clip, SAMPLE_RATE) * 60 == (
        pytest.approx(120, rel=0.03)
    )
    assert integrated_lufs(clip, SAMPLE_RATE) == pytest.approx(TARGET_LUFS, abs=0.5)
    assert true_peak_dbtp(clip) <= SPEECH_PEAK_DBTP + 0.05
    # a short clip is taken as first made
    synth.asked.clear()
    Stitcher(synth).clip("Rest.", 120, "en-US")
    assert synth.asked == [120]


def test_mp3_info_measures_what_the_encoder_makes() -> None:
    pcm = bytes(2 * ESPEAK_SAMPLE_RATE * 3)  # three seconds of silence
    info = mp3_info(encode_mp3(pcm, ESPEAK_SAMPLE_RATE))
    assert info.seconds == pytest.approx(3, abs=0.1)
    assert (info.sample_rate, info.channels, info.bitrates) == (ESPEAK_SAMPLE_RATE, 1, frozenset({48}))


@pytest.mark.parametrize(
    "data",
    [b"", b"not an mp3 at all", bytes(1000), wav_bytes(bytes(400)), b"\xff\xfb" + bytes(100)],
)
def test_mp3_info_refuses_what_is_not_mp3_frames(data: bytes) -> None:
    with pytest.raises(NotMp3):
        mp3_info(data)


def test_espeak_is_asked_for_slower_speech_with_a_gap_between_words_below_its_slowest() -> None:
    """espeak-ng speaks no slower than speed 80: below that a pause between words makes up the
    rest. The slower the words a minute asked for, the longer each word lasts, all the way."""
    asked = range(50, 200)
    settings = [espeak_speed_and_gap(wpm) for wpm in asked]
    assert all(speed >= ESPEAK_MIN_SPEED for speed, _ in settings)
    assert all(gap == 0 for (_, gap), wpm in zip(settings, asked, strict=True) if wpm >= 90)
    assert any(gap > 0 for _, gap in settings)
    per_word = [
        (
            ESPEAK_SECONDS_PER_WORD_AT_SPEED
            + (ESPEAK_FIRST_GAP_AT_SPEED if gap else 0)
            + ESPEAK_GAP_SECONDS_AT_SPEED * gap
        )
        / speed
        for speed, gap in settings
    ]
    assert all(a >= b - 0.01 for a, b in itertools.pairwise(per_word))
    assert [round(60 / seconds) for seconds in per_word] == pytest.approx(list(asked), abs=3)
