"""From the routine data to MP3 files and a manifest.

For each locale, routine, pace and length, ``Engine.played`` gives one script per main step
(the same text and pauses the spoken path uses, with silences as long as the practice
needs). Each script becomes one file: its sentences are synthesized clip by clip, the
pauses are stitched in as exact runs of silence, and the whole is encoded to MP3 (48 kbps
mono). A file's name is a hash of everything that made it (the script, the synthesizer
and voice, the speaking rate, the format), so a file that exists is never made again, and
locales whose words are the same share their files.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lameenc

from pelvic_ease.audio import MANIFEST_FORMAT
from pelvic_ease.content import LOCALES, Library, default_library
from pelvic_ease.engine import Engine
from pelvic_ease.speech import Pause, Script, Text, spoken_text

from .synth import Synthesizer

PIPELINE = 1  # raise when the way files are made changes: every file is made again
BITRATE_KBPS = 48
ENCODER_QUALITY = 5  # lame's 0 (best, slowest) to 9


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
    paths: set[str] = field(default_factory=set)


def file_key(script: Script, synth: Synthesizer, locale: str, rate: int) -> str:
    """The content hash that names a file: what it says, how, and in what format."""
    # a pause as a float: Pause(4) and Pause(4.0) are the same silence, so the same file
    parts = [["t", spoken_text(p.text)] if isinstance(p, Text) else ["p", float(p.seconds)] for p in script]
    made_of = {
        "pipeline": PIPELINE,
        "synthesizer": synth.name,
        "voice": synth.voice(locale),
        "sample_rate": synth.sample_rate,
        "rate": rate,
        "format": f"mp3/{BITRATE_KBPS}k/mono",
        "script": parts,
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
    """Speech clips and silences into one run of PCM, noting where each clip starts.
    Clips are kept for the run: the same cue at the same rate is synthesized once."""

    def __init__(self, synth: Synthesizer) -> None:
        self.synth = synth
        self.clips: dict[tuple[str, int, str], bytes] = {}

    def clip(self, text: str, rate: int, locale: str) -> bytes:
        key = (text, rate, self.synth.voice(locale))
        if key not in self.clips:
            self.clips[key] = self.synth.synthesize(text, rate, locale)
        return self.clips[key]

    def stitch(self, script: Script, rate: int, locale: str) -> tuple[bytes, tuple[int, ...]]:
        per_ms = self.synth.sample_rate / 1000
        pieces: list[bytes] = []
        cues: list[int] = []
        samples = 0
        for part in script:
            if isinstance(part, Pause):
                count = round(part.seconds * self.synth.sample_rate)
                pieces.append(bytes(2 * count))
            else:
                text = spoken_text(part.text)
                if not text:
                    continue
                cues.append(round(samples / per_ms))
                pieces.append(self.clip(text, rate, locale))
            samples += len(pieces[-1]) // 2
        return b"".join(pieces), tuple(cues)


def render_file(
    stitcher: Stitcher, script: Script, rate: int, locale: str, *, out: Path, report: Report
) -> Rendered:
    synth = stitcher.synth
    name = file_key(script, synth, locale, rate)
    mp3, sidecar = out / f"{name}.mp3", out / f"{name}.json"
    report.paths.add(mp3.name)
    if mp3.exists() and sidecar.exists():
        known = json.loads(sidecar.read_text())
        report.reused += 1
        return Rendered(mp3.name, int(known["ms"]), tuple(known["cues"]), made=False)
    pcm, cues = stitcher.stitch(script, rate, locale)
    ms = round(len(pcm) / 2 * 1000 / synth.sample_rate)
    data = encode_mp3(pcm, synth.sample_rate)
    write_atomically(mp3, data)
    # the sidecar last: a file whose sidecar exists is whole, and is reused
    write_atomically(sidecar, json.dumps({"ms": ms, "cues": list(cues)}).encode())
    report.made += 1
    report.bytes += len(data)
    report.audio_seconds += ms / 1000
    return Rendered(mp3.name, ms, cues, made=True)


def track_rows(library: Library) -> Iterable[tuple[str, str, int | None]]:
    """Every routine (focused ones too) at every pace, as written and at each offered length."""
    for routine in library.routines.values():
        for pace in library.paces:
            for minutes in (None, *routine.lengths):
                yield routine.id, pace, minutes


def render_locale(
    library: Library,
    stitcher: Stitcher,
    out: Path,
    report: Report,
    on_track: Callable[[str], None] = lambda _: None,
) -> list[dict[str, Any]]:
    engine = Engine(library)
    rows: list[dict[str, Any]] = []
    for routine, pace, minutes in track_rows(library):
        rate = library.pace(pace).rate
        scripts = engine.played(routine, pace, minutes)
        steps = engine.main_steps(routine)
        files = []
        for step, script in zip(steps, scripts, strict=True):
            rendered = render_file(stitcher, script, rate, library.locale, out=out, report=report)
            files.append(
                {"step": step, "path": rendered.path, "ms": rendered.ms, "cues": list(rendered.cues)}
            )
        rows.append({"routine": routine, "pace": pace, "minutes": minutes, "files": files})
        on_track(f"{library.locale} {routine} {pace} {minutes or 'as written'}")
    return rows


def render_library(
    synth: Synthesizer,
    out: Path,
    locales: Iterable[str] = LOCALES,
    libraries: Callable[[str], Library] = default_library,
    on_track: Callable[[str], None] = lambda _: None,
) -> tuple[dict[str, Any], Report]:
    """Render every track of every locale into ``out``; the manifest and what was done."""
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    report = Report()
    stitcher = Stitcher(synth)
    manifest: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "synthesizer": synth.name,
        "sample_rate": synth.sample_rate,
        "bitrate_kbps": BITRATE_KBPS,
        "voices": {},
        "locales": {},
    }
    for locale in locales:
        manifest["voices"][locale] = synth.voice(locale)
        manifest["locales"][locale] = render_locale(libraries(locale), stitcher, out, report, on_track)
    report.seconds = time.perf_counter() - started
    return manifest, report


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
