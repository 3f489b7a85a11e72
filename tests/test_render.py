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
import pytest
from filelock import FileLock, Timeout
from moto import mock_aws

from pelvic_ease.content import LOCALES, Library, default_library
from pelvic_ease.engine import Engine
from pelvic_ease.speech import Pause, Script, Text, spoken_text
from render import pipeline
from render.__main__ import CACHE_CONTROL, main, upload
from render.mp3 import NotMp3, mp3_info
from render.pipeline import (
    BITRATE_KBPS,
    Report,
    Stitcher,
    encode_mp3,
    file_key,
    render_file,
    render_library,
    track_rows,
)
from render.synth import (
    ESPEAK_SAMPLE_RATE,
    POLLY_MAX_CHARS,
    POLLY_SAMPLE_RATE,
    POLLY_VOICES,
    Espeak,
    Polly,
    SynthesisError,
    polly_chunks,
    wav_pcm,
)
from sim.local_audio import ensure_rendered

Row = tuple[str, str, int | None]


def manifest_of(rendered_audio: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(rendered_audio.read_text())
    return data


def rows_by_key(rows: list[dict[str, Any]]) -> dict[Row, list[dict[str, Any]]]:
    return {(r["routine"], r["pace"], r["minutes"]): r["files"] for r in rows}


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
        assert (info.channels, info.sample_rate) == (1, ESPEAK_SAMPLE_RATE), name
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
    rows = rows_by_key(manifest["locales"][locale])
    expected = {
        (routine.id, pace, minutes)
        for routine in library.routines.values()
        for pace in library.paces
        for minutes in (None, *routine.lengths)
    }
    assert set(rows) == expected == set(track_rows(library))
    assert any(routine.parent for routine in library.routines.values())  # focused ones too
    for (routine, _, _), files in rows.items():
        assert [f["step"] for f in files] == engine.main_steps(routine)
    assert manifest["voices"][locale] == "en-us"


# -- silences stitched to exact length ------------------------------------------------------
def test_a_files_length_is_its_silences_and_its_speech(rendered_audio: Path) -> None:
    library = default_library("en-US")
    files = rows_by_key(manifest_of(rendered_audio)["locales"]["en-US"])[("down_training", "normal", 10)]
    scripts = Engine(library).played("down_training", "normal", 10)
    assert len(scripts) == len(files)
    for script, entry in zip(scripts, files, strict=True):
        silence_ms = 1000 * sum(p.seconds for p in script if isinstance(p, Pause))
        assert silence_ms <= entry["ms"]
        assert entry["ms"] - silence_ms > 0  # the speech


def test_each_cue_starts_after_the_speech_and_silence_before_it(rendered_audio: Path, tmp_path: Path) -> None:
    """The step holding the longest rest, clip by clip: the gaps between cues are the clips
    and the pauses, to the ms, in the cache and made afresh."""
    library = default_library("en-US")
    scripts = Engine(library).played("down_training", "normal", None)
    at = max(range(len(scripts)), key=lambda i: max(silence_runs(scripts[i])))
    script = scripts[at]
    assert max(silence_runs(script)) > 60
    synth = Espeak()
    rate = library.pace("normal").rate
    at_ms, expected = 0.0, []
    for part in script:
        if isinstance(part, Pause):
            at_ms += 1000 * part.seconds
        elif spoken_text(part.text):
            expected.append(at_ms)
            clip = synth.synthesize(spoken_text(part.text), rate, "en-US")
            at_ms += len(clip) / 2 / ESPEAK_SAMPLE_RATE * 1000
    cached = rows_by_key(manifest_of(rendered_audio)["locales"]["en-US"])[("down_training", "normal", None)]
    fresh = render_file(Stitcher(synth), script, rate, "en-US", out=tmp_path, report=Report())
    assert fresh.made
    assert fresh.path == cached[at]["path"]
    for cues, ms in ((fresh.cues, fresh.ms), (cached[at]["cues"], cached[at]["ms"])):
        assert list(cues) == pytest.approx(expected, abs=1)
        assert ms == pytest.approx(at_ms, abs=1)
    assert mp3_info((tmp_path / fresh.path).read_bytes()).seconds * 1000 == pytest.approx(at_ms, rel=0.01)


def test_a_resting_minute_is_a_minute(rendered_audio: Path) -> None:
    """The spoken path breaks silence every 20 s with a cue; played audio holds it whole."""
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
    # ... and the rendered file holds it: a gap between cues longer than 20 s
    files = rows_by_key(manifest_of(rendered_audio)["locales"]["en-US"])[("down_training", "normal", None)]
    gaps = [b - a for f in files for a, b in zip(f["cues"], [*f["cues"][1:], f["ms"]], strict=True)]
    assert max(gaps) > 60_000


# -- files named by what made them ----------------------------------------------------------
SCRIPT: Script = (Text("Breathe in"), Pause(4), Text("and let it go"), Pause(7))


def test_file_key_follows_the_script_the_rate_and_the_voice() -> None:
    espeak, polly = Espeak(), Polly(client=None)
    key = file_key(SCRIPT, espeak, "en-US", 90)
    assert file_key(SCRIPT, espeak, "en-US", 90) == key
    assert file_key(tuple(SCRIPT), espeak, "en-GB", 90) == key  # espeak: one voice, shared files
    assert file_key((Text("  Breathe in  "), *SCRIPT[1:]), espeak, "en-US", 90) == key  # same speech
    changed = [
        file_key((Text("Breathe in slowly"), *SCRIPT[1:]), espeak, "en-US", 90),
        file_key((SCRIPT[0], Pause(5), *SCRIPT[2:]), espeak, "en-US", 90),
        file_key(SCRIPT[:-1], espeak, "en-US", 90),
        file_key((SCRIPT[2], SCRIPT[1], SCRIPT[0], SCRIPT[3]), espeak, "en-US", 90),
        file_key(SCRIPT, espeak, "en-US", 80),
        file_key(SCRIPT, polly, "en-US", 90),
        file_key(SCRIPT, polly, "en-GB", 90),
        file_key(SCRIPT, polly, "en-AU", 90),
    ]
    assert len({key, *changed}) == len(changed) + 1
    # Polly: locales with the same voice share their files, others do not
    assert file_key(SCRIPT, polly, "en-CA", 90) == file_key(SCRIPT, polly, "en-US", 90)


def test_file_key_of_equal_scripts_is_equal() -> None:
    """Pause(4) == Pause(4.0), and both are the same samples of silence: one file, not two."""
    espeak = Espeak()
    same = (Text("Breathe in"), Pause(4.0), Text("and let it go"), Pause(7.0))
    assert same == SCRIPT
    assert file_key(same, espeak, "en-US", 90) == file_key(SCRIPT, espeak, "en-US", 90)


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
    steps[step] = replace(steps[step], instruction=steps[step].instruction + " Take your time.")
    routines = {**library.routines, routine_id: replace(routine, steps=tuple(steps))}
    return replace(library, routines=routines)


def test_a_render_remakes_only_what_changed(rendered_audio: Path, cache_copy: Path) -> None:
    old = rows_by_key(manifest_of(rendered_audio)["locales"]["en-US"])
    before = set(os.listdir(cache_copy))

    manifest, report = render_library(Espeak(), cache_copy, locales=["en-US"])
    assert report.made == 0
    assert report.reused == sum(len(files) for files in old.values())
    assert rows_by_key(manifest["locales"]["en-US"]) == old
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
    new = rows_by_key(manifest["locales"]["en-US"])
    remade = {(r, p, m) for r, p, m in new if r == "inner_thigh"}
    assert (
        report.made == len(remade) == len(library.paces) * (1 + len(library.routines["inner_thigh"].lengths))
    )
    assert report.reused == sum(len(files) for files in old.values()) - report.made
    for row, files in new.items():
        for new_file, old_file in zip(files, old[row], strict=True):
            if row in remade and new_file["step"] == step:
                assert new_file["path"] != old_file["path"]
                assert (cache_copy / new_file["path"]).exists()
                assert new_file["path"] not in before
            else:
                assert new_file == old_file, (row, new_file["step"])


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
    assert [p.name for p in folder.iterdir()] == ["manifest.json"]


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
    manifest, report = render_library(Polly(client), tmp_path, locales=["en-GB"], libraries=only_inner_thigh)
    library = only_inner_thigh("en-GB")
    assert manifest["voices"] == {"en-GB": POLLY_VOICES["en-GB"]} == {"en-GB": "Amy"}
    assert manifest["synthesizer"] == "polly"
    assert manifest["sample_rate"] == POLLY_SAMPLE_RATE
    assert report.made == len(library.paces) * len(Engine(library).main_steps("inner_thigh"))
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
    assert rates == {pace.rate for pace in library.paces.values()}
    # what was asked for is what the scripts say, each clip once per rate
    engine = Engine(library)
    said = {
        (spoken_text(part.text), pace.rate)
        for pace in library.paces.values()
        for script in engine.played("inner_thigh", pace.id)
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


def test_stitcher_puts_silence_of_exact_length_between_clips() -> None:
    class Beep:
        name = "beep"
        sample_rate = 8_000

        def voice(self, locale: str) -> str:
            return "beep"

        def synthesize(self, text: str, rate: int, locale: str) -> bytes:
            return b"\x01\x00" * (len(text) * 100)

    pcm, cues = Stitcher(Beep()).stitch(
        (Text("ab"), Pause(1.5), Text("  "), Pause(0.25), Text("abc")), 100, "en-US"
    )
    assert cues == (0, 25 + 1500 + 250)
    assert len(pcm) == 2 * (200 + 12_000 + 2_000 + 300)
    assert pcm[400 : 400 + 2 * 14_000] == bytes(2 * 14_000)


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
