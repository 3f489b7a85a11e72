"""What a listener's meter reads from the rendered library, file by file and track by track.

    make render-audio && .venv/bin/python -m render.figures      the table, for en-US

Each file is decoded from its MP3 and measured (``measure.py``): integrated loudness, true
peak, the runs below -60 dBFS (the longest inside it, and those it starts and ends with, so
a track's joins count too), the loudness of its longest stretch without words (the bed, in
a file that has one), and the words a minute of each clip long enough to measure, between
where the manifest says the clip starts and where the script says its silence begins.
Files are measured once per content, in parallel; ``cache`` keeps the figures by the
SHA-256 of each file's bytes, so a file is never measured twice.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import inspect
import itertools
import json
import math
import statistics
import sys
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import Any

import numpy as np

from pelvic_ease.audio import SOUNDS, Sound
from pelvic_ease.content import default_library
from pelvic_ease.engine import Engine
from pelvic_ease.markets import LOCALES
from pelvic_ease.speech import Pause, Script, Text, spoken_text, words

from . import measure
from .measure import Samples, decode, integrated_lufs, quiet_spans, speaking_seconds, true_peak_dbtp
from .pipeline import FITTED_WORDS, SAMPLE_RATE, encode_mp3, played_scripts, track_rows
from .sound import CHIME_LEAD_SECONDS, CHIME_SECONDS

CLIP_END_MARGIN = 0.05  # seconds
WORDLESS_BELOW_DBFS = -30.0  # a 400 ms window this quiet holds no speech (speech is near -20)
WORDLESS_AT_LEAST = 4.0  # seconds: a stretch without words long enough to measure the bed in
WORDLESS_TRIM = 0.5  # seconds off each end of it (the bed's fades at a file's ends)
# what the figures of a file are made by: measured again whenever this code changes
VERSION = hashlib.sha256(
    (inspect.getsource(measure) + inspect.getsource(sys.modules[__name__])).encode()
).hexdigest()[:16]


@dataclass(frozen=True)
class Clip:
    """A clip to time: where it lies in its file (seconds, as made) and how many words it has."""

    start: float
    end: float
    words: int


@dataclass(frozen=True)
class FileFigures:
    seconds: float
    lufs: float
    true_peak_dbtp: float
    longest_quiet: float  # seconds below -60 dBFS, the longest run inside the file
    leading_quiet: float  # the run it starts with (0 if it starts with sound)
    trailing_quiet: float  # the run it ends with
    wordless_lufs: float | None  # the loudness of its longest stretch without words, if any
    clip_wpm: tuple[float, ...] = field(default=())


@functools.cache
def decoder_delay() -> int:
    """Samples the encoder and decoder put before the sound: a click, encoded and found again."""
    click = np.zeros(SAMPLE_RATE)
    click[SAMPLE_RATE // 2] = 0.5
    decoded, _ = decode(encode_mp3((click * 32767).astype("<i2").tobytes(), SAMPLE_RATE))
    return int(np.argmax(np.abs(decoded))) - SAMPLE_RATE // 2


def clips_to_time(script: Script, cues: list[int], ms: int) -> list[Clip]:
    """The clips of a file with at least ``FITTED_WORDS`` words: each from its cue to where
    the silence after it begins (the next cue less the pauses between, or for the last one
    the end of the voice: a chime struck at the end rings past it)."""
    texts = [i for i, part in enumerate(script) if isinstance(part, Text) and spoken_text(part.text)]
    tail = script[-1] if script else None
    voice_end = ms / 1000
    if isinstance(tail, Pause) and tail.chime:
        voice_end -= CHIME_SECONDS - min(CHIME_LEAD_SECONDS, tail.seconds)
    found = []
    for k, index in enumerate(texts):
        following = texts[k + 1] if k + 1 < len(texts) else len(script)
        pauses = sum(p.seconds for p in script[index + 1 : following] if isinstance(p, Pause))
        end = (cues[k + 1] / 1000 if k + 1 < len(cues) else voice_end) - pauses
        count = words(spoken_text(script[index].text))  # type: ignore[union-attr]
        if count >= FITTED_WORDS:
            found.append(Clip(cues[k] / 1000, end, count))
    return found


def wordless_lufs(samples: Samples, sample_rate: int) -> float | None:
    """The loudness of the longest stretch whose 400 ms windows are all quieter than speech."""
    window = round(0.4 * sample_rate)
    count = samples.size // window
    if count < 2:
        return None
    power = np.mean(samples[: count * window].reshape(count, window) ** 2, axis=1)
    quiet = 10 * np.log10(np.maximum(power, 1e-20)) < WORDLESS_BELOW_DBFS
    best, start = (0, 0), None
    for at, is_quiet in enumerate([*quiet.tolist(), False]):
        if is_quiet and start is None:
            start = at
        elif not is_quiet and start is not None:
            best = max(best, (at - start, start), key=lambda run: run[0])
            start = None
    length, first = best
    if length * 0.4 < WORDLESS_AT_LEAST:
        return None
    trim = round(WORDLESS_TRIM * sample_rate)
    stretch = samples[first * window + trim : (first + length) * window - trim]
    return integrated_lufs(stretch, sample_rate)


def measure_file(data: bytes, clips: list[Clip]) -> FileFigures:
    samples, rate = decode(data)
    starts, ends = quiet_spans(samples)
    runs = ends - starts
    leading = int(runs[0]) if starts.size and starts[0] == 0 else 0
    trailing = int(runs[-1]) if ends.size and ends[-1] == samples.size else 0
    delay = decoder_delay()
    wpm = []
    for clip in clips:
        # short of the clip's end by a little: the encoder smears the next clip's first sound
        # a few milliseconds back (a clip ends in its own silence, so nothing spoken is cut)
        piece = samples[delay + round(clip.start * rate) : delay + round((clip.end - CLIP_END_MARGIN) * rate)]
        spoken = speaking_seconds(piece, rate)
        wpm.append(clip.words / spoken * 60 if spoken else math.inf)
    return FileFigures(
        seconds=samples.size / rate,
        lufs=integrated_lufs(samples, rate),
        true_peak_dbtp=true_peak_dbtp(samples),
        longest_quiet=float(runs.max()) / rate if runs.size else 0.0,
        leading_quiet=leading / rate,
        trailing_quiet=trailing / rate,
        wordless_lufs=wordless_lufs(samples, rate),
        clip_wpm=tuple(wpm),
    )


@dataclass(frozen=True)
class TrackFile:
    path: str
    clips: tuple[Clip, ...]


@dataclass(frozen=True)
class Track:
    locale: str
    routine: str
    pace: str
    minutes: int | None
    sound: Sound
    files: tuple[TrackFile, ...]


def tracks(manifest: dict[str, Any], locales: Iterable[str] = LOCALES) -> list[Track]:
    """Every track of the manifest, with the clips of each file to time (from its script)."""
    found = []
    for locale in locales:
        library = default_library(locale)
        engine = Engine(library)
        rows = {
            (row["routine"], row["pace"], row["minutes"], Sound(row["bed"], row["quiet"])): row["files"]
            for row in manifest["locales"][locale]
        }
        for routine, pace, minutes in track_rows(library):
            for sound in SOUNDS:
                entries = rows[(routine, pace, minutes, sound)]
                scripts = played_scripts(engine, routine, pace, minutes, sound)
                # words a minute are timed on the voice alone: in the files without the bed
                files = tuple(
                    TrackFile(
                        entry["path"],
                        () if sound.bed else tuple(clips_to_time(script, entry["cues"], entry["ms"])),
                    )
                    for entry, script in zip(entries, scripts, strict=True)
                )
                found.append(Track(locale, routine, pace, minutes, sound, files))
    return found


def _measure_one(job: tuple[str, bytes, tuple[Clip, ...]]) -> tuple[str, FileFigures]:
    name, data, clips = job
    return name, measure_file(data, list(clips))


def measure_library(
    folder: Path, every: list[Track], *, cache: Path | None = None, workers: int = 1
) -> dict[str, FileFigures]:
    """The figures of every file the tracks name (measured in ``workers`` processes)."""
    known: dict[str, Any] = {}
    if cache is not None and cache.exists():
        stored = json.loads(cache.read_text())
        if stored.get("version") == VERSION:
            known = stored["files"]
    jobs: dict[str, tuple[str, bytes, tuple[Clip, ...]]] = {}
    digests: dict[str, str] = {}
    for track in every:
        for file in track.files:
            if file.path in digests:
                continue
            data = (folder / file.path).read_bytes()
            digests[file.path] = hashlib.sha256(data).hexdigest()
            if digests[file.path] not in known:
                jobs[file.path] = (file.path, data, file.clips)
    if jobs:
        pending = list(jobs.values())
        if workers > 1 and len(pending) > 1:
            method = "forkserver" if "forkserver" in get_all_start_methods() else "spawn"
            with ProcessPoolExecutor(workers, mp_context=get_context(method)) as pool:
                done = list(pool.map(_measure_one, pending, chunksize=4))
        else:
            done = [_measure_one(job) for job in pending]
        for name, figures in done:
            known[digests[name]] = asdict(figures)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            partial = cache.with_suffix(".part")
            partial.write_text(json.dumps({"version": VERSION, "files": known}))
            partial.replace(cache)
    return {path: _figures(known[digest]) for path, digest in digests.items()}


def _figures(stored: dict[str, Any]) -> FileFigures:
    return FileFigures(**{**stored, "clip_wpm": tuple(stored["clip_wpm"])})


def longest_quiet_in_track(track: Track, figures: dict[str, FileFigures]) -> float:
    """The longest run below -60 dBFS as the track plays, its files one after another."""
    files = [figures[file.path] for file in track.files]
    joins = [a.trailing_quiet + b.leading_quiet for a, b in itertools.pairwise(files)]
    return max([*(f.longest_quiet for f in files), *joins])


def table(every: list[Track], figures: dict[str, FileFigures]) -> str:
    """Per routine, pace and length, in each sound: the figures a listener would notice."""
    lines = [
        f"{'routine':<28} {'pace':<7} {'min':>4} {'sound':<12} {'LUFS':>13} {'dBTP':>6} "
        f"{'quiet s':>8} {'wpm (clips)':>16} {'bed LU':>7} {'length':>7}"
    ]
    for track in every:
        files = [figures[f.path] for f in track.files]
        lufs = [f.lufs for f in files]
        wpm = [w for f in files for w in f.clip_wpm]
        under = [f.lufs - f.wordless_lufs for f in files if f.wordless_lufs is not None]
        said_wpm = f"{min(wpm):.0f}/{statistics.median(wpm):.0f}/{max(wpm):.0f}" if wpm else "-"
        bed = f"{statistics.median(under):.1f}" if track.sound.bed and under else "-"
        lines.append(
            f"{track.routine:<28} {track.pace:<7} {track.minutes or '-':>4} {track.sound.code:<12} "
            f"{min(lufs):6.1f}..{max(lufs):5.1f} {max(f.true_peak_dbtp for f in files):6.1f} "
            f"{longest_quiet_in_track(track, figures):8.1f} {said_wpm:>16} {bed:>7} "
            f"{sum(f.seconds for f in files) / 60:6.1f}m"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from sim.local_audio import CACHE, MANIFEST  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m render.figures", description=__doc__)
    parser.add_argument(
        "--folder", type=Path, default=CACHE, help="a rendered library (default: the local one)"
    )
    parser.add_argument("--locale", default="en-US", choices=LOCALES)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    manifest = json.loads((args.folder / MANIFEST).read_text())
    every = tracks(manifest, [args.locale])
    figures = measure_library(
        args.folder, every, cache=args.folder.parent / "audio-figures.json", workers=args.workers
    )
    print(table(every, figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
