"""From the routine data to MP3 files and a manifest.

For each locale, routine, pace, length and sound (``audio.SOUNDS``: with the bed or not,
every breath guided or every other one), ``Engine.played`` gives one script per main step.
A long rest keeps a soft word at least every ``QUIET_WITHOUT_BED_SECONDS`` without the
bed, and about once a minute with it (``QUIET_WITH_BED_SECONDS``), the bed filling the
rest. No script may hold a wake word (``check_no_wake_word``): a device can wake to one in
the stream it is playing.

Each script becomes one file: its sentences are synthesized clip by clip at the pace's
words a minute (each clip measured and asked for again until it is within
``PACE_TOLERANCE``), levelled, and stitched with the pauses as exact runs of silence; then
the chimes and the bed go under it, the whole is normalised (``sound.py``) and encoded to
MP3 (48 kbps mono). A file's name is a hash of everything that made it (the script, the
synthesizer and voice, the words a minute, the mix, the format), so a file that exists is
never made again, and locales whose words are the same share their files. New files are
made in parallel, one process per core.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import resource
import secrets
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import Any

import lameenc
import numpy as np

from pelvic_ease.audio import MANIFEST_FORMAT, SOUNDS, Sound
from pelvic_ease.content import Library, default_library
from pelvic_ease.engine import Engine
from pelvic_ease.markets import LOCALES
from pelvic_ease.speech import Pause, Script, Text, spoken_text, words

from .measure import Samples, speaking_seconds
from .sound import Mix, at_target, chime_start, level_clip, mix
from .synth import Synthesizer

PIPELINE = 2  # raise when the way files are made changes: every file is made again
# Every file at 16 kHz whatever the voice: Polly's PCM is 16 kHz, so what plays deployed and
# what plays here are alike, and at 48 kbps the narrower band leaves more bits for the voice.
SAMPLE_RATE = 16_000
BITRATE_KBPS = 48
ENCODER_QUALITY = 5  # lame's 0 (best, slowest) to 9
# Without the bed, no silence in a file runs longer than this: a soft word breaks it (the
# listener hears something at least every 40 s, with room for the clips' own quiet edges).
QUIET_WITHOUT_BED_SECONDS = 36.0
# With the bed a long rest keeps a soft word now and then too, about once a minute: it says
# the guide is still there, and a file of four minutes' rest still has some speech in it.
QUIET_WITH_BED_SECONDS = 60.0
# Alexa's wake words (a listener may have chosen any of them for their device).
WAKE_WORDS = re.compile(r"\b(alexa|amazon|echo|computer|ziggy)\b", re.IGNORECASE)
# A clip of at least this many words is fitted to its pace's words a minute, within this.
FITTED_WORDS = 6
PACE_TOLERANCE = 0.03
FIT_TRIES = 5


class RefusedScript(ValueError):
    """A script the renderer will not put into audio."""


def check_no_wake_word(script: Script) -> None:
    """Refuse a script that says a wake word: the device playing it could wake to it."""
    for part in script:
        if isinstance(part, Text):
            found = WAKE_WORDS.search(part.text)
            if found:
                raise RefusedScript(
                    f"a played script says the wake word {found.group(0)!r}: {part.text!r}. Audio "
                    "must never say it; say it before the audio starts (prompts.toml play_start)"
                )


@dataclass(frozen=True)
class Rendered:
    path: str  # the file's name (its hash and .mp3)
    ms: int
    cues: tuple[int, ...]
    made: bool  # False: the file was there already


@dataclass
class Report:
    """What a run made: files new and reused, seconds of audio, bytes, time taken."""

    made: int = 0
    reused: int = 0
    audio_seconds: float = 0.0
    bytes: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # processor time of every process it took: how busy the machine was aside
    paths: set[str] = field(default_factory=set)


def mix_for(sound: Sound, first: bool, last: bool) -> Mix:
    """How a file of ``sound`` is mixed; without the bed its place in the routine changes
    nothing, so such files are shared wherever their scripts are the same."""
    return Mix(bed=sound.bed, first=first and sound.bed, last=last and sound.bed)


PLAIN = Mix(bed=False, first=False, last=False)


def file_key(script: Script, synth: Synthesizer, locale: str, words_per_minute: int, how: Mix = PLAIN) -> str:
    """The content hash that names a file: what it says, how, and in what format."""

    # a pause as a float: Pause(4) and Pause(4.0) are the same silence, so the same file
    def part(p: Text | Pause) -> list[Any]:
        if isinstance(p, Text):
            return ["t", spoken_text(p.text)]
        return ["c" if p.chime else "p", float(p.seconds)]

    made_of = {
        "pipeline": PIPELINE,
        "synthesizer": synth.name,
        "voice": synth.voice(locale),
        "sample_rate": SAMPLE_RATE,
        "voice_sample_rate": synth.sample_rate,
        "words_per_minute": words_per_minute,
        "format": f"mp3/{BITRATE_KBPS}k/mono",
        "mix": {"bed": how.bed, "first": how.first, "last": how.last},
        "script": [part(p) for p in script],
    }
    return hashlib.sha256(json.dumps(made_of, sort_keys=True).encode()).hexdigest()[:32]


def encode_mp3(pcm: bytes, sample_rate: int) -> bytes:
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(BITRATE_KBPS)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_channels(1)
    encoder.set_quality(ENCODER_QUALITY)
    return bytes(encoder.encode(pcm) + encoder.flush())


class Stitcher:
    """Speech clips and silences into one run of samples, noting where each clip starts and
    where each chime is struck. Clips are kept for the run: the same cue at the same words
    a minute is synthesized once."""

    def __init__(self, synth: Synthesizer) -> None:
        self.synth = synth
        self.clips: dict[tuple[str, int, str], Samples] = {}

    def clip(self, text: str, words_per_minute: int, locale: str) -> Samples:
        key = (text, words_per_minute, self.synth.voice(locale))
        if key not in self.clips:
            # kept in single precision: half the memory, and what crosses to the workers
            self.clips[key] = self.fitted(text, words_per_minute, locale).astype(np.float32)
        return self.clips[key]

    def fitted(self, text: str, words_per_minute: int, locale: str) -> Samples:
        """``text`` levelled, and spoken within ``PACE_TOLERANCE`` of ``words_per_minute``
        if it is long enough to measure (else as first asked); the nearest of a few tries."""
        rate = SAMPLE_RATE
        count = words(text)
        asked = words_per_minute
        best: tuple[float, Samples] | None = None
        fast: int | None = None  # the slowest ask heard too fast, and the fastest heard too slow
        slow: int | None = None
        for _ in range(FIT_TRIES):
            samples = at_target(self.synth.synthesize(text, asked, locale), self.synth.sample_rate, rate)
            spoken = speaking_seconds(samples, rate)
            if count < FITTED_WORDS or not spoken:
                return level_clip(samples, rate)
            off = count / spoken * 60 / words_per_minute
            if best is None or abs(off - 1) < best[0]:
                best = (abs(off - 1), samples)
            if abs(off - 1) <= PACE_TOLERANCE:
                break
            if off > 1:
                fast = asked if fast is None else min(fast, asked)
            else:
                slow = asked if slow is None else max(slow, asked)
            # in proportion, until the asks heard too fast and too slow close in: then halfway
            following = round(asked / off)
            if fast is not None and slow is not None:
                following = round(math.sqrt(fast * slow))
                if following in (fast, slow):
                    break
            asked = max(1, following)
        assert best is not None
        return level_clip(best[1], rate)

    def stitch(
        self, script: Script, words_per_minute: int, locale: str, lead_in: float = 0.0
    ) -> tuple[Samples, tuple[int, ...], tuple[float, ...]]:
        """The voice as samples (after ``lead_in`` seconds of silence), the ms each clip
        starts at, and the seconds each chime is struck at."""
        rate = SAMPLE_RATE
        pieces: list[Samples] = [np.zeros(round(lead_in * rate))]
        cues: list[int] = []
        chimes: list[float] = []
        at = pieces[0].size
        for part in script:
            if isinstance(part, Pause):
                count = round(part.seconds * rate)
                if part.chime:
                    chimes.append(chime_start(at / rate, (at + count) / rate))
                pieces.append(np.zeros(count))
            else:
                text = spoken_text(part.text)
                if not text:
                    continue
                cues.append(round(at * 1000 / rate))
                pieces.append(self.clip(text, words_per_minute, locale))
            at += pieces[-1].size
        return np.concatenate(pieces), tuple(cues), tuple(chimes)


@dataclass(frozen=True)
class Job:
    """One file to make."""

    name: str
    script: Script
    words_per_minute: int
    locale: str
    how: Mix


def make_file(stitcher: Stitcher, job: Job) -> tuple[bytes, int, tuple[int, ...]]:
    """A file's MP3 bytes, its length in ms and where its cues start."""
    voice, cues, chimes = stitcher.stitch(
        job.script, job.words_per_minute, job.locale, job.how.lead_in_seconds
    )
    pcm = mix(voice, chimes, job.how, SAMPLE_RATE)
    ms = round(len(pcm) / 2 * 1000 / SAMPLE_RATE)
    return encode_mp3(pcm, SAMPLE_RATE), ms, cues


def write_file(
    out: Path, name: str, data: bytes, ms: int, cues: tuple[int, ...], *, report: Report
) -> Rendered:
    mp3, sidecar = out / f"{name}.mp3", out / f"{name}.json"
    write_atomically(mp3, data)  # never a half-written file under its final name
    # the sidecar last: a file whose sidecar exists is whole, and is reused
    write_atomically(sidecar, json.dumps({"ms": ms, "cues": list(cues)}).encode())
    report.made += 1
    report.bytes += len(data)
    report.audio_seconds += ms / 1000
    return Rendered(mp3.name, ms, cues, made=True)


def existing(out: Path, name: str) -> Rendered | None:
    mp3, sidecar = out / f"{name}.mp3", out / f"{name}.json"
    if mp3.exists() and sidecar.exists():
        known = json.loads(sidecar.read_text())
        return Rendered(mp3.name, int(known["ms"]), tuple(known["cues"]), made=False)
    return None


def render_file(
    stitcher: Stitcher,
    script: Script,
    words_per_minute: int,
    locale: str,
    *,
    out: Path,
    report: Report,
    how: Mix = PLAIN,
) -> Rendered:
    """One file, made here unless it is there already."""
    check_no_wake_word(script)
    name = file_key(script, stitcher.synth, locale, words_per_minute, how)
    report.paths.add(f"{name}.mp3")
    known = existing(out, name)
    if known is not None:
        report.reused += 1
        return known
    data, ms, cues = make_file(stitcher, Job(name, script, words_per_minute, locale, how))
    return write_file(out, name, data, ms, cues, report=report)


def track_rows(library: Library) -> Iterable[tuple[str, str, int | None]]:
    """Every routine (focused ones too) at every pace, as written and at each offered length."""
    for routine in library.routines.values():
        for pace in library.paces:
            for minutes in (None, *routine.lengths):
                yield routine.id, pace, minutes


def played_scripts(
    engine: Engine, routine: str, pace: str, minutes: int | None, sound: Sound
) -> tuple[Script, ...]:
    """The scripts of one track in one sound."""
    longest = QUIET_WITH_BED_SECONDS if sound.bed else QUIET_WITHOUT_BED_SECONDS
    return engine.played(routine, pace, minutes, quiet=sound.quiet, longest_silence=longest)


@dataclass
class Plan:
    """Every file the manifest names, and the jobs for those not made yet."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)


def plan_locale(library: Library, synth: Synthesizer, out: Path, plan: Plan, report: Report) -> None:
    engine = Engine(library)
    locale = library.locale
    rows = plan.rows.setdefault(locale, [])
    for routine, pace, minutes in track_rows(library):
        words_per_minute = library.pace(pace).narration_wpm
        steps = engine.main_steps(routine)
        for sound in SOUNDS:
            scripts = played_scripts(engine, routine, pace, minutes, sound)
            files = []
            for index, (step, script) in enumerate(zip(steps, scripts, strict=True)):
                check_no_wake_word(script)
                how = mix_for(sound, first=index == 0, last=index == len(steps) - 1)
                name = file_key(script, synth, locale, words_per_minute, how)
                files.append({"step": step, "name": name})
                if name not in plan.jobs and existing(out, name) is None:
                    plan.jobs[name] = Job(name, script, words_per_minute, locale, how)
            row = {
                "routine": routine,
                "pace": pace,
                "minutes": minutes,
                "bed": sound.bed,
                "quiet": sound.quiet,
            }
            rows.append({**row, "files": files})


# -- making the new files, in parallel --------------------------------------------------------
@dataclass
class Synthesized:
    """A synthesizer whose clips are all made already: what a worker process stitches with
    (the real one may hold a client that cannot cross to another process)."""

    name: str
    sample_rate: int
    voices: dict[str, str]

    def voice(self, locale: str) -> str:
        return self.voices[locale]

    def synthesize(self, text: str, words_per_minute: int, locale: str) -> bytes:
        raise RuntimeError(f"no clip was made for {text!r}")


_worker: Stitcher | None = None


def _start_worker(synth: Synthesized, clips: dict[tuple[str, int, str], Samples]) -> None:
    global _worker  # noqa: PLW0603 - one stitcher per worker process, made once
    _worker = Stitcher(synth)
    _worker.clips.update(clips)


def _make_in_worker(job: Job) -> tuple[str, bytes, int, tuple[int, ...], float]:
    assert _worker is not None
    began = time.process_time()
    data, ms, cues = make_file(_worker, job)
    return job.name, data, ms, cues, time.process_time() - began


def _processor_seconds() -> float:
    """This process's processor time and that of its children waited for (espeak-ng)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def make_files(
    stitcher: Stitcher,
    jobs: list[Job],
    out: Path,
    report: Report,
    *,
    workers: int,
    on_file: Callable[[int, int], None] = lambda done, total: None,
) -> None:
    """Make and write every job's file: the clips first (espeak-ng runs beside itself), then
    the files, in ``workers`` processes when there is more than one."""
    needed = sorted({
        (spoken_text(part.text), job.words_per_minute, job.locale)
        for job in jobs
        for part in job.script
        if isinstance(part, Text) and spoken_text(part.text)
    })  # fmt: skip
    began = _processor_seconds()
    with ThreadPoolExecutor(max(1, workers)) as pool:
        list(pool.map(lambda clip: stitcher.clip(*clip), needed))
    if workers <= 1 or len(jobs) <= 1:
        for done, job in enumerate(jobs, 1):
            data, ms, cues = make_file(stitcher, job)
            write_file(out, job.name, data, ms, cues, report=report)
            on_file(done, len(jobs))
        report.cpu_seconds += _processor_seconds() - began
        return
    synth = stitcher.synth
    known = Synthesized(synth.name, synth.sample_rate, {job.locale: synth.voice(job.locale) for job in jobs})
    context = get_context("forkserver" if "forkserver" in get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(known, stitcher.clips)
    ) as pool:
        # the longest first, so no one long file is left for the end
        ordered = sorted(jobs, key=lambda job: -sum(p.seconds for p in job.script if isinstance(p, Pause)))
        for done, (name, data, ms, cues, cpu) in enumerate(pool.map(_make_in_worker, ordered), 1):
            write_file(out, name, data, ms, cues, report=report)
            report.cpu_seconds += cpu
            on_file(done, len(jobs))
    report.cpu_seconds += _processor_seconds() - began


def render_library(
    synth: Synthesizer,
    out: Path,
    locales: Iterable[str] = LOCALES,
    libraries: Callable[[str], Library] = default_library,
    on_track: Callable[[str], None] = lambda _: None,
    *,
    workers: int | None = None,
) -> tuple[dict[str, Any], Report]:
    """Render every track of every locale, in every sound, into ``out``; the manifest and
    what was done."""
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    report = Report()
    plan = Plan()
    manifest: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "synthesizer": synth.name,
        "sample_rate": SAMPLE_RATE,
        "bitrate_kbps": BITRATE_KBPS,
        "voices": {},
        "locales": {},
    }
    for locale in locales:
        manifest["voices"][locale] = synth.voice(locale)
        plan_locale(libraries(locale), synth, out, plan, report)
    jobs = list(plan.jobs.values())
    make_files(
        Stitcher(synth),
        jobs,
        out,
        report,
        workers=default_workers() if workers is None else workers,
        on_file=lambda done, total: on_track(f"file {done} of {total}"),
    )
    rendered: dict[str, Rendered] = {}
    for locale, rows in plan.rows.items():
        manifest["locales"][locale] = [
            {**row, "files": [entry(out, f, rendered) for f in row["files"]]} for row in rows
        ]
    report.paths = {known.path for known in rendered.values()}
    report.reused = len(report.paths) - report.made
    report.seconds = time.perf_counter() - started
    return manifest, report


def entry(out: Path, planned: dict[str, Any], rendered: dict[str, Rendered]) -> dict[str, Any]:
    """A file's row in the manifest, from what was written beside it."""
    name = planned["name"]
    if name not in rendered:
        known = existing(out, name)
        if known is None:
            raise RuntimeError(f"{name}.mp3 was not made")
        rendered[name] = known
    known = rendered[name]
    return {"step": planned["step"], "path": known.path, "ms": known.ms, "cues": list(known.cues)}


def write_manifest(manifest: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(manifest, indent=1, sort_keys=True).encode())


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader, or another process writing the same file
    at once, never sees part of it: first under a name of this write's own, then renamed
    over ``path`` (a rename within a folder replaces the file in one step)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        with partial.open("xb") as out:
            out.write(data)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)  # gone after the rename; a failed write leaves nothing
