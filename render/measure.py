"""Rendered audio measured as a listener's meter measures it.

Every figure is taken from the decoded MP3 (``decode``: miniaudio's decoder), not from what
the renderer meant to write:

- integrated loudness, ITU-R BS.1770-4 with its gating (pyloudnorm's meter);
- true peak: the signal oversampled four times (scipy's polyphase resampler, as BS.1770-4
  Annex 2 describes), around every sample within 6 dB of the sample peak (an inter-sample
  peak more than 6 dB over its neighbouring samples does not occur in speech, noise or a
  chime; ``true_peak`` is checked against oversampling the whole signal in the tests);
- the longest run of samples below -60 dBFS, counted sample by sample as ffmpeg's
  ``silencedetect`` counts: dead air, to a listener;
- the span of a spoken clip, from its first to its last sample above -45 dBFS, for words a
  minute.
"""

from __future__ import annotations

import functools
import math

import miniaudio
import numpy as np
import pyloudnorm
from numpy.typing import NDArray
from scipy.signal import resample_poly

Samples = NDArray[np.float64]

OVERSAMPLE = 4
NEAR_PEAK = 10 ** (-6 / 20)  # samples this close to the sample peak are oversampled
CONTEXT = 64  # samples either side of each one oversampled: the resampler's filter reach
DEAD_AIR_DBFS = -60.0
SPEECH_DBFS = -45.0  # above this a clip is speaking; espeak's and Polly's edges are below


def decode(data: bytes) -> tuple[Samples, int]:
    """An MP3 file's samples (mono, -1..1) and sample rate."""
    sound = miniaudio.mp3_read_s16(data)  # at the file's own rate
    samples = np.frombuffer(bytes(sound.samples), dtype="<i2").astype(np.float64) / 32768
    if sound.nchannels > 1:
        samples = samples.reshape(-1, sound.nchannels).mean(axis=1)
    return samples, sound.sample_rate


def db(linear: float) -> float:
    return 20 * math.log10(linear) if linear > 0 else -math.inf


@functools.cache
def _meter(sample_rate: int) -> pyloudnorm.Meter:
    return pyloudnorm.Meter(sample_rate)


def integrated_lufs(samples: Samples, sample_rate: int) -> float:
    """Integrated loudness in LUFS (BS.1770-4, gated); -inf for silence or under 0.4 s."""
    if samples.size < 0.4 * sample_rate or not np.any(samples):
        return -math.inf
    return float(_meter(sample_rate).integrated_loudness(samples))


def true_peak(samples: Samples) -> float:
    """The true peak, linear (1.0 is 0 dBTP)."""
    magnitude = np.abs(samples)
    if not magnitude.size or not magnitude.max():
        return 0.0
    sample_peak = float(magnitude.max())
    near = np.flatnonzero(magnitude >= sample_peak * NEAR_PEAK)
    # every near-peak sample with the samples the resampler's filter reaches either side,
    # taken out and oversampled in one run; the joins between the pieces are further from
    # any near-peak sample than the filter reaches, so they change nothing that is read
    taken = around(near, CONTEXT, magnitude.size)
    read = around(near, 1, magnitude.size)[taken]  # each near-peak sample and its neighbours
    upsampled = resample_poly(samples[taken], OVERSAMPLE, 1)
    return max(sample_peak, float(np.abs(upsampled[np.repeat(read, OVERSAMPLE)]).max()))


def around(at: NDArray[np.int64], reach: int, size: int) -> NDArray[np.bool_]:
    """A mask of the samples within ``reach`` of any index in ``at``."""
    edges = np.zeros(size + 1, dtype=np.int64)
    np.add.at(edges, np.maximum(at - reach, 0), 1)
    np.add.at(edges, np.minimum(at + reach + 1, size), -1)
    mask: NDArray[np.bool_] = np.cumsum(edges[:size]) > 0
    return mask


def true_peak_dbtp(samples: Samples) -> float:
    return db(true_peak(samples))


def quiet_spans(
    samples: Samples, below_dbfs: float = DEAD_AIR_DBFS
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Where every run of samples quieter than ``below_dbfs`` starts and ends (one past it)."""
    quiet = np.abs(samples) < 10 ** (below_dbfs / 20)
    edges = np.flatnonzero(np.diff(np.r_[0, quiet.astype(np.int8), 0]))
    return edges[::2], edges[1::2]


def longest_quiet_seconds(samples: Samples, sample_rate: int, below_dbfs: float = DEAD_AIR_DBFS) -> float:
    starts, ends = quiet_spans(samples, below_dbfs)
    return float((ends - starts).max()) / sample_rate if starts.size else 0.0


def speaking_seconds(clip: Samples, sample_rate: int, above_dbfs: float = SPEECH_DBFS) -> float:
    """From a clip's first sample above ``above_dbfs`` to its last: how long it speaks."""
    loud = np.flatnonzero(np.abs(clip) > 10 ** (above_dbfs / 20))
    return float(loud[-1] - loud[0] + 1) / sample_rate if loud.size else 0.0
