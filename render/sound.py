"""What a played routine sounds like besides the words: level, the bed under the voice, the chime.

Every file's speech is normalised to ``TARGET_LUFS`` integrated (BS.1770-4's gate leaves
the silences and the bed out of it, so the whole file reads the same), with its true peak
at most ``MAX_TRUE_PEAK_DBTP`` once it is encoded (the PCM is held ``ENCODER_MARGIN_DB``
lower, for the MP3 encoder's overshoot). The speech is levelled clip by clip first: each
clip brought to the target loudness, compressed a little and its true peak limited
(synthesized speech peaks 17-20 dB over its loudness), so a file's own normalisation moves
it by a fraction of a decibel and Polly's level and espeak's come out the same.

The bed is made here, from a fixed seed, not recorded: soft noise, pink below a gentle
low-pass at 700 Hz and above a high-pass at 110 Hz, swelling by about a decibel on two
slow cycles that match no breathing pace. Chosen over a slow low drone because
- it has no pitch, so it is not music, never beats against the voice or the chime, and
  does not sound like a note held too long;
- it reaches a small speaker: an Echo Dot gives little below about 100 Hz, where a low
  drone would sit, so the "silence" it fills would still sound like a stopped stream;
- noise like a distant sea or a fan is what sleep and relaxation sounds are made of, and
  it covers a room's own small noises without asking to be listened to.
It sits ``BED_UNDER_SPEECH_LU`` under the speech (a little further under in a file that is
nearly all rest: see ``mix``), fades in before the first word and out after the close, and
fills every silence, so a played file has no dead air. Between a routine's files it dips
for ``BED_EDGE_SECONDS`` at each end rather than cut off.

The chime is a struck bowl in miniature: a few inharmonic partials with slow decays and
a faint beat, ``CHIME_UNDER_SPEECH_LU`` under the speech, struck ``CHIME_LEAD_SECONDS``
before a long quiet ends (so the voice comes back as it fades) and after the close.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import maximum_filter1d, minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

from .measure import Samples, around, integrated_lufs, true_peak

TARGET_LUFS = -16.0
MAX_TRUE_PEAK_DBTP = -1.5
ENCODER_MARGIN_DB = 1.0  # the MP3 encoder's overshoot, measured well under this
# The 48 kbps encoder takes about 0.4 LU off a file, across the whole band (measured on
# speech and on the bed alike): the PCM is made that much louder, so the file plays at the target.
ENCODER_LOUDNESS_LOSS_LU = 0.4
SPEECH_PEAK_DBTP = -3.0  # each clip's true peak at the target loudness (limited above)
COMPRESSOR_THRESHOLD_DBFS = -14.0  # on a clip at the target loudness
COMPRESSOR_RATIO = 2.5
COMPRESSOR_SMOOTH_SECONDS = 0.01
LIMITER_HOLD_SECONDS = 0.005  # a peak's gain reduction holds this long either side ...
LIMITER_SMOOTH_SECONDS = 0.005  # ... and eases in and out over this
LIMITER_UNDERSHOOT = 0.98  # aims a little under, so one pass is usually enough

BED_UNDER_SPEECH_LU = 22.0
BED_MOST_UNDER_SPEECH_LU = 24.0
BED_COUNTED_WITHIN_LU = 0.4  # a file with the bed may read this much under its speech, no more
SPARSE_SPEECH_SHARE = 0.15  # speech in less of a file than this: check the bed is not counted
SPEECH_FLOOR = 1e-3  # -60 dBFS: a sample of the voice above it is speech (the rest is silence)
BED_SEED = 26  # the issue that asked for it: any fixed seed gives the same files every time
BED_LOOP_SECONDS = 61.0  # seamless (shaped in the frequency domain), tiled for long files
BED_HIGH_PASS_HZ = 110.0
BED_LOW_PASS_HZ = 700.0
BED_SWELL = ((17.3, 0.08), (27.1, 0.05))  # (period s, depth): about a decibel, no breath's period
BED_LEAD_IN_SECONDS = 2.0  # bed alone before the first word of a routine
BED_FADE_IN_SECONDS = 2.0
BED_FADE_OUT_SECONDS = 5.0  # after the close
BED_EDGE_SECONDS = 0.3  # in and out at the files' joins inside a routine

CHIME_UNDER_SPEECH_LU = 8.0
CHIME_SECONDS = 7.0
CHIME_LEAD_SECONDS = 3.0
CHIME_FUNDAMENTAL_HZ = 392.0
# (ratio to the fundamental, amplitude, seconds to fall 60 dB)
CHIME_PARTIALS = ((1.0, 1.0, 6.0), (1.004, 0.5, 6.0), (2.71, 0.3, 3.0), (5.05, 0.1, 1.5))


@dataclass(frozen=True)
class Mix:
    """How one file is mixed: with the bed or not, and where it sits in its routine."""

    bed: bool
    first: bool  # the routine's first file: the bed fades in before the first word
    last: bool  # its last: the bed fades out after the close

    @property
    def lead_in_seconds(self) -> float:
        return BED_LEAD_IN_SECONDS if self.bed and self.first else 0.0


def gain(decibels: float) -> float:
    return 10 ** (decibels / 20)


def limit(samples: Samples, ceiling: float, sample_rate: int) -> Samples:
    """``samples`` with no sample above ``ceiling`` (linear): wherever one would be, the
    gain dips just enough, held and eased over a few milliseconds. Only the stretches
    around such samples are worked on; everywhere else the gain is 1 exactly."""
    over = np.flatnonzero(np.abs(samples) > ceiling)
    if not over.size:
        return samples
    hold = max(1, round(LIMITER_HOLD_SECONDS * sample_rate))
    smooth = min(hold, max(1, round(LIMITER_SMOOTH_SECONDS * sample_rate)))
    # Each stretch keeps more than the filters reach of untouched samples at both ends, so
    # the stretches can be worked on end to end as one run.
    stretch = around(over, 2 * hold + smooth, samples.size)
    part = samples[stretch]
    needed = np.minimum(1.0, ceiling / np.maximum(np.abs(part), 1e-12))
    # held either side wider than the easing reaches, so at every peak the eased gain is
    # no higher than what that peak needs
    held = minimum_filter1d(needed, size=2 * hold + 1, mode="nearest")
    eased = uniform_filter1d(held, size=smooth, mode="nearest")
    result = samples.copy()
    result[stretch] = part * np.minimum(eased, needed)
    return result


def limit_true_peak(samples: Samples, ceiling_dbtp: float, sample_rate: int) -> Samples:
    """``samples`` limited until the true peak (oversampled, not only the samples) is at
    most ``ceiling_dbtp``: the samples are held under the ceiling less what the signal
    rises between them."""
    ceiling = gain(ceiling_dbtp)
    for _ in range(4):
        peak = true_peak(samples)
        if peak <= ceiling:
            break
        sample_peak = float(np.abs(samples).max())
        samples = limit(samples, ceiling * sample_peak / peak * LIMITER_UNDERSHOOT, sample_rate)
    return samples


def at_target(pcm: bytes, voice_rate: int, sample_rate: int) -> Samples:
    """A synthesized clip (16-bit PCM at ``voice_rate``) at ``sample_rate`` and the target loudness."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768
    if voice_rate != sample_rate and samples.size:
        common = math.gcd(voice_rate, sample_rate)
        samples = resample_poly(samples, sample_rate // common, voice_rate // common)
    return _at_loudness(samples, TARGET_LUFS, sample_rate)


def compress(samples: Samples, sample_rate: int) -> Samples:
    """Louder syllables brought down towards the rest (``COMPRESSOR_RATIO`` above
    ``COMPRESSOR_THRESHOLD_DBFS``), the gain following a smoothed peak envelope that
    looks both ways, so it moves ahead of a peak and never at the voice's own pitch."""
    envelope = maximum_filter1d(np.abs(samples), size=max(1, round(0.004 * sample_rate)))
    envelope = uniform_filter1d(envelope, size=max(1, round(COMPRESSOR_SMOOTH_SECONDS * sample_rate)))
    over = np.maximum(0.0, 20 * np.log10(np.maximum(envelope, 1e-9)) - COMPRESSOR_THRESHOLD_DBFS)
    reduction = 10 ** (-over * (1 - 1 / COMPRESSOR_RATIO) / 20)
    eased = uniform_filter1d(reduction, size=max(1, round(COMPRESSOR_SMOOTH_SECONDS * sample_rate)))
    result: Samples = samples * eased
    return result


def level_clip(samples: Samples, sample_rate: int) -> Samples:
    """A clip at the target loudness with the headroom a file needs: compressed a little,
    then its true peak limited to ``SPEECH_PEAK_DBTP`` (synthesized speech peaks some
    17-20 dB over its loudness; spoken-word masters hold about 13)."""
    if not np.any(samples):
        return samples
    for _ in range(2):
        samples = compress(_at_loudness(samples, TARGET_LUFS, sample_rate), sample_rate)
        samples = _at_loudness(samples, TARGET_LUFS, sample_rate)
        samples = limit_true_peak(samples, SPEECH_PEAK_DBTP, sample_rate)
    return samples


def _at_loudness(samples: Samples, lufs: float, sample_rate: int) -> Samples:
    """``samples`` at ``lufs`` integrated (a clip shorter than the meter's 400 ms block is
    measured with silence after it); silence as it is."""
    measured = np.pad(samples, (0, max(0, round(0.5 * sample_rate) - samples.size)))
    loudness = integrated_lufs(measured, sample_rate)
    if not math.isfinite(loudness):
        return samples
    result: Samples = samples * gain(lufs - loudness)
    return result


@functools.cache
def bed_loop(sample_rate: int) -> Samples:
    """A seamless loop of the bed's noise at its level under the speech (before the swell)."""
    count = round(BED_LOOP_SECONDS * sample_rate)
    white = np.random.default_rng(BED_SEED).standard_normal(count)
    spectrum = np.fft.rfft(white)
    hz = np.fft.rfftfreq(count, 1 / sample_rate)
    hz[0] = 1.0  # no DC: the high-pass removes it below
    pink = 1 / np.sqrt(hz)
    high_pass = (hz / BED_HIGH_PASS_HZ) ** 2 / np.sqrt(1 + (hz / BED_HIGH_PASS_HZ) ** 4)
    low_pass = 1 / np.sqrt(1 + (hz / BED_LOW_PASS_HZ) ** 4)
    shaped = np.fft.irfft(spectrum * pink * high_pass * low_pass, n=count)
    return _at_loudness(shaped, TARGET_LUFS - BED_UNDER_SPEECH_LU, sample_rate)


def _ramp(count: int) -> Samples:
    """A raised-cosine rise over ``count`` samples, from 0 to just under 1."""
    ramp: Samples = 0.5 - 0.5 * np.cos(np.pi * np.arange(count) / max(count, 1))
    return ramp


def bed(count: int, sample_rate: int, how: Mix) -> Samples:
    """``count`` samples of the bed as ``how`` places it: swelling slowly, faded at its ends."""
    noise = np.resize(bed_loop(sample_rate), count)
    # the swell is slow: worked out ten times a second and drawn between
    coarse = np.arange(0.0, count / sample_rate + 0.2, 0.1)
    swell = 1 + sum(depth * np.sin(2 * np.pi * coarse / period) for period, depth in BED_SWELL)
    noise *= np.interp(np.arange(count) / sample_rate, coarse, swell)
    fade_in = round((BED_FADE_IN_SECONDS if how.first else BED_EDGE_SECONDS) * sample_rate)
    fade_out = round((BED_FADE_OUT_SECONDS if how.last else BED_EDGE_SECONDS) * sample_rate)
    fade_in, fade_out = min(fade_in, count // 2), min(fade_out, count // 2)
    noise[:fade_in] *= _ramp(fade_in)
    noise[count - fade_out :] *= _ramp(fade_out)[::-1]
    return noise


@functools.cache
def chime(sample_rate: int) -> Samples:
    """The soft chime, at its level under the speech."""
    seconds = np.arange(round(CHIME_SECONDS * sample_rate)) / sample_rate
    tone = np.zeros(seconds.size)
    for ratio, amplitude, fall in CHIME_PARTIALS:
        decay = np.exp(-seconds * math.log(1000) / fall)  # 60 dB down after ``fall`` seconds
        tone += amplitude * decay * np.sin(2 * np.pi * CHIME_FUNDAMENTAL_HZ * ratio * seconds)
    attack = round(0.006 * sample_rate)  # a soft strike: no click
    tone[:attack] *= _ramp(attack)
    release = round(0.5 * sample_rate)
    tone[-release:] *= _ramp(release)[::-1]
    return _at_loudness(tone, TARGET_LUFS - CHIME_UNDER_SPEECH_LU, sample_rate)


def chime_start(pause_start: float, pause_end: float) -> float:
    """Where, in seconds, the chime that ends a long quiet is struck."""
    return max(pause_start, pause_end - CHIME_LEAD_SECONDS)


def mix(voice: Samples, chimes: Sequence[float], how: Mix, sample_rate: int) -> bytes:
    """The voice (levelled clips and exact silences) and the chimes struck at ``chimes``
    seconds, normalised, and under them the bed if ``how`` has it: 16-bit mono PCM. A chime
    at the end rings out: the file is as long as the voice or the last ring, if longer.

    The speech is what is normalised (the meter's gate leaves the silences out), and the bed
    is set under it. A file that is nearly all quiet (a long rest) would have its bed counted
    by the meter's relative gate, and read well under the speech: there the bed goes down
    half a decibel at a time, to ``BED_MOST_UNDER_SPEECH_LU`` at most, until it does not."""
    ring = chime(sample_rate)
    starts = [round(at * sample_rate) for at in chimes]
    count = max([voice.size, *(start + ring.size for start in starts)])
    mixed = np.zeros(count)
    mixed[: voice.size] += voice
    for start in starts:
        mixed[start : start + ring.size] += ring
    loudness = integrated_lufs(mixed, sample_rate)
    if math.isfinite(loudness):
        mixed *= gain(TARGET_LUFS + ENCODER_LOUDNESS_LOSS_LU - loudness)
        loudness = TARGET_LUFS + ENCODER_LOUDNESS_LOSS_LU
    if how.bed:
        under_it = bed(count, sample_rate, how)
        sparse = np.count_nonzero(np.abs(voice) > SPEECH_FLOOR) < SPARSE_SPEECH_SHARE * count
        under = BED_UNDER_SPEECH_LU
        while True:
            with_bed = mixed + under_it * gain(BED_UNDER_SPEECH_LU - under)
            if not sparse or under >= BED_MOST_UNDER_SPEECH_LU:
                break
            if integrated_lufs(with_bed, sample_rate) >= loudness - BED_COUNTED_WITHIN_LU:
                break
            under += 0.5
        mixed = with_bed
    mixed = limit_true_peak(mixed, MAX_TRUE_PEAK_DBTP - ENCODER_MARGIN_DB, sample_rate)
    return np.round(np.clip(mixed, -1, 32767 / 32768) * 32768).astype("<i2").tobytes()
