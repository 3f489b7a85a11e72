"""Every file of the local render, heard as a listener's meter hears it: decoded from its MP3,
its loudness and true peak, its dead air as the track plays file after file, the bed's level
under the voice, the words a minute of every clip; and no wake word in anything rendered.

The files are measured once per content (``render/figures.py``: the figures are kept by the
SHA-256 of each file's bytes beside the cache), in parallel."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import resample_poly

from pelvic_ease.audio import SOUNDS, Sound
from pelvic_ease.content import LOCALES, default_library
from pelvic_ease.engine import Engine
from pelvic_ease.speech import Pause, Text
from render.figures import (
    FileFigures,
    Track,
    clips_to_time,
    longest_quiet_in_track,
    measure_library,
    table,
    tracks,
)
from render.measure import integrated_lufs, longest_quiet_seconds, true_peak
from render.pipeline import (
    QUIET_WITHOUT_BED_SECONDS,
    SAMPLE_RATE,
    RefusedScript,
    check_no_wake_word,
    default_workers,
    played_scripts,
    track_rows,
)
from render.sound import BED_UNDER_SPEECH_LU, MAX_TRUE_PEAK_DBTP, TARGET_LUFS, bed, chime, mix

NORMAL_WORDS_A_MINUTE = (110, 135)  # calm narration, measured on the voice


@pytest.fixture(scope="session")
def every_track(rendered_audio: Path) -> list[Track]:
    return tracks(json.loads(rendered_audio.read_text()))


@pytest.fixture(scope="session")
def figures(rendered_audio: Path, every_track: list[Track]) -> dict[str, FileFigures]:
    folder = rendered_audio.parent
    return measure_library(
        folder, every_track, cache=folder.parent / "audio-figures.json", workers=default_workers()
    )


def test_every_file_is_measured(every_track: list[Track], figures: dict[str, FileFigures]) -> None:
    named = {file.path for track in every_track for file in track.files}
    assert set(figures) == named
    assert len(every_track) == len(LOCALES) * len(list(track_rows(default_library("en-US")))) * len(SOUNDS)


def test_every_file_plays_at_minus_16_lufs(figures: dict[str, FileFigures]) -> None:
    off = {name: round(f.lufs, 2) for name, f in figures.items() if abs(f.lufs - TARGET_LUFS) > 1.0}
    assert not off


def test_no_file_peaks_above_minus_1_5_dbtp(figures: dict[str, FileFigures]) -> None:
    over = {
        name: round(f.true_peak_dbtp, 2)
        for name, f in figures.items()
        if f.true_peak_dbtp > MAX_TRUE_PEAK_DBTP
    }
    assert not over


def test_a_track_with_the_bed_has_no_dead_air(
    every_track: list[Track], figures: dict[str, FileFigures]
) -> None:
    """Nowhere in a played track with the bed, joins included, more than 1 s below -60 dBFS."""
    with_bed = [track for track in every_track if track.sound.bed]
    assert with_bed
    longest = {
        (t.locale, t.routine, t.pace, t.minutes, t.sound.code): longest_quiet_in_track(t, figures)
        for t in with_bed
    }
    assert max(longest.values()) <= 1.0, max(longest.items(), key=lambda item: item[1])


def test_a_track_without_the_bed_is_never_quiet_for_more_than_40_s(
    every_track: list[Track], figures: dict[str, FileFigures]
) -> None:
    without = [track for track in every_track if not track.sound.bed]
    longest = {
        (t.locale, t.routine, t.pace, t.minutes, t.sound.code): longest_quiet_in_track(t, figures)
        for t in without
    }
    assert max(longest.values()) <= 40.0, max(longest.items(), key=lambda item: item[1])
    # and the long quiets are really there: the resting step still rests
    assert max(longest.values()) > QUIET_WITHOUT_BED_SECONDS - 6


def test_the_bed_sits_well_under_the_voice(every_track: list[Track], figures: dict[str, FileFigures]) -> None:
    """In every file with the bed, its longest stretch without words is 18 to 24 LU under the
    file's loudness (the speech: the meter's gate leaves the bed out)."""
    under: dict[str, float] = {}
    for track in every_track:
        for file in track.files:
            wordless = figures[file.path].wordless_lufs
            if track.sound.bed:
                assert wordless is not None, file.path  # every file has a few seconds between words
                under[file.path] = figures[file.path].lufs - wordless
    assert under
    assert all(18.0 <= lu <= 24.0 for lu in under.values()), (min(under.values()), max(under.values()))
    assert abs(sorted(under.values())[len(under) // 2] - BED_UNDER_SPEECH_LU) < 1.5


def test_every_clip_is_spoken_at_its_pace(every_track: list[Track], figures: dict[str, FileFigures]) -> None:
    """Words a minute of each clip long enough to time, measured on the voice alone (the
    files without the bed: the same clips): within 10 % of the pace's, and at the normal pace
    as calm narration goes."""
    library = default_library("en-US")
    timed = 0
    for track in every_track:
        if track.sound.bed:
            continue
        pace = library.pace(track.pace).narration_wpm
        for file in track.files:
            for wpm in figures[file.path].clip_wpm:
                timed += 1
                assert 0.9 * pace <= wpm <= 1.1 * pace, (track.routine, track.pace, file.path, wpm)
                if track.pace == "normal":
                    assert NORMAL_WORDS_A_MINUTE[0] <= wpm <= NORMAL_WORDS_A_MINUTE[1]
    assert timed > 500


def test_the_figures_print_as_a_table(every_track: list[Track], figures: dict[str, FileFigures]) -> None:
    lines = table([t for t in every_track if t.locale == "en-US"], figures).splitlines()
    assert len(lines) == 1 + len(list(track_rows(default_library("en-US")))) * len(SOUNDS)
    assert "LUFS" in lines[0]


# -- the wake word ---------------------------------------------------------------------------
@pytest.mark.parametrize("locale", LOCALES)
def test_no_rendered_script_says_a_wake_word(locale: str) -> None:
    library = default_library(locale)
    engine = Engine(library)
    for routine, pace, minutes in track_rows(library):
        for sound in SOUNDS:
            for script in played_scripts(engine, routine, pace, minutes, sound):
                check_no_wake_word(script)
                said = " ".join(p.text for p in script if isinstance(p, Text)).lower()
                assert "alexa" not in said
                assert "amazon" not in said
    # it is said before the audio, in Alexa's own voice
    assert "Alexa, stop" in library.prompts["play_start"]
    assert "it hurts" in library.prompts["play_start"]


@pytest.mark.parametrize(
    "said",
    [
        "Whenever you want to stop, just say: Alexa, stop.",
        "ALEXA",
        "alexa's",
        "Ask Amazon.",
        "an Echo",
        "Computer, stop",
    ],
)
def test_a_script_with_a_wake_word_is_refused(said: str) -> None:
    with pytest.raises(RefusedScript):
        check_no_wake_word((Text("Breathe in"), Pause(4), Text(said)))


@pytest.mark.parametrize("said", ["Let the breath echo softly", "Let your shoulders drop"])
def test_words_that_only_contain_a_wake_word_are_not_refused(said: str) -> None:
    check_no_wake_word((Text(said.replace("echo", "echoes")),))


# -- the meter itself ------------------------------------------------------------------------
def test_true_peak_is_the_oversampled_peak() -> None:
    """A sine at a quarter of the sample rate, sampled 45 degrees off its crest: its samples
    read 3 dB under its peak, the meter does not; and on noise it reads what oversampling the
    whole signal reads."""
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    sine = 0.5 * np.sin(2 * np.pi * SAMPLE_RATE / 4 * t + np.pi / 4)
    assert np.abs(sine).max() == pytest.approx(0.5 / math.sqrt(2), rel=1e-3)
    assert true_peak(sine) == pytest.approx(0.5, rel=0.02)
    noise = np.convolve(np.random.default_rng(5).standard_normal(100_000), np.ones(3) / 3, "same") * 0.1
    assert true_peak(noise) == pytest.approx(np.abs(resample_poly(noise, 4, 1)).max(), rel=1e-9)
    assert true_peak(np.zeros(10)) == 0.0


def test_quiet_runs_count_samples_below_minus_60_dbfs() -> None:
    signal = np.r_[np.full(100, 0.5), np.zeros(SAMPLE_RATE), np.full(10, 0.0009), np.full(50, 0.5)]
    assert longest_quiet_seconds(signal, SAMPLE_RATE) == pytest.approx((SAMPLE_RATE + 10) / SAMPLE_RATE)


def test_a_mix_with_the_bed_has_no_silence_and_sits_at_the_target() -> None:
    """A file made of one second of tone and a minute of nothing, mixed with the bed and a chime:
    the minute is the bed, 22 LU under, and the whole is at the target."""
    from render.sound import Mix  # noqa: PLC0415

    tone = 0.1 * np.sin(2 * np.pi * 300 * np.arange(SAMPLE_RATE) / SAMPLE_RATE)
    voice = np.r_[tone, np.zeros(60 * SAMPLE_RATE), tone]
    pcm = mix(voice, [55.0], Mix(bed=True, first=False, last=False), SAMPLE_RATE)
    samples = np.frombuffer(pcm, dtype="<i2") / 32768
    assert samples.size == voice.size
    assert longest_quiet_seconds(samples[SAMPLE_RATE // 2 : -SAMPLE_RATE // 2], SAMPLE_RATE) < 0.01
    bed_alone = integrated_lufs(samples[5 * SAMPLE_RATE : 50 * SAMPLE_RATE], SAMPLE_RATE)
    assert integrated_lufs(samples, SAMPLE_RATE) - bed_alone == pytest.approx(BED_UNDER_SPEECH_LU, abs=2.5)
    assert chime(SAMPLE_RATE).size < 10 * SAMPLE_RATE
    # the bed fades in and out at a file's ends
    quiet_start = bed(SAMPLE_RATE, SAMPLE_RATE, Mix(bed=True, first=True, last=True))
    assert abs(quiet_start[0]) < 1e-6


def test_clips_to_time_reach_from_a_cue_to_the_silence_after_it() -> None:
    script = (
        Text("one two three four five six"),
        Text("seven eight nine ten eleven twelve"),
        Pause(4),
        Text("a b c d e f"),
        Pause(6, chime=True),
    )
    # clips of 2 s, 3 s and 2.5 s; the chime at the end rings 4 s past the voice
    clips = clips_to_time(script, [0, 2_000, 9_000], 9_000 + 2_500 + 6_000 + 4_000)
    assert [(c.start, c.end, c.words) for c in clips] == [(0, 2, 6), (2, 5, 6), (9, 11.5, 6)]
    short = clips_to_time((Text("Rest."), Pause(2)), [0], 3_000)
    assert short == []


def test_a_sound_is_rendered_for_each_listener_s_choice() -> None:
    assert set(SOUNDS) == {Sound(bed, quiet) for bed in (True, False) for quiet in (True, False)}
