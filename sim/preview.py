"""Listen to the pacing: render a routine, or a script's whole transcript, to a WAV file.

    make preview                                   the ten minute relaxation as it plays (MP3)
    make preview ARGS="psoas_release --pace slow --out psoas.wav"
    make preview ARGS="--script sim/scripts/demo.txt --out demo.wav"
    make preview ARGS="down_training --played --minutes 10"   the MP3 that plays straight through
    make preview ARGS="down_training --played --no-bed --quiet"   without the bed, less talking

Each response's SSML goes to espeak-ng (which honours <break> and <prosody rate>), spoken
at the words-per-minute the duration estimate assumes for Alexa. For every segment it
prints the measured audio length beside the renderer's estimate and flags any that
differ by more than 20 %. espeak-ng is a stand-in for Alexa's voice: the pauses are
exact, the speech is close.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from pelvic_ease.audio import DEFAULT_SOUND, Sound
from pelvic_ease.content import load_library
from pelvic_ease.engine import Engine, Position, Segment
from pelvic_ease.speech import WORDS_PER_SECOND_AT_FULL_RATE, render

from .ssml_reader import read_ssml

TOLERANCE = 0.20
PREVIEW_ROUTINE, PREVIEW_MINUTES = "down_training", 10  # what `make preview` alone writes
INSTALL_HINT = "espeak-ng is not installed. Install it with: apt-get install espeak-ng"


class PreviewError(Exception):
    """The preview cannot be made (espeak-ng missing, an unknown routine)."""


@dataclass(frozen=True)
class Rendered:
    label: str
    estimate: float
    measured: float

    @property
    def off_by(self) -> float:
        return (self.measured - self.estimate) / self.estimate if self.estimate else 0.0

    @property
    def flagged(self) -> bool:
        return abs(self.off_by) > TOLERANCE


def espeak() -> str:
    found = shutil.which("espeak-ng")
    if not found:
        raise PreviewError(INSTALL_HINT)
    return found


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as audio:
        frames: int = audio.getnframes()
        rate: int = audio.getframerate()
    return frames / rate


def speak_to_wav(ssml: str, path: Path) -> None:
    """espeak-ng at the base rate the estimate assumes; SSML markup (-m) honoured."""
    words_per_minute = round(WORDS_PER_SECOND_AT_FULL_RATE * 60)
    subprocess.run(
        [espeak(), "-m", "-s", str(words_per_minute), "-w", str(path), ssml],
        check=True,
        capture_output=True,
    )


def join_wavs(parts: list[Path], out: Path) -> None:
    with wave.open(str(out), "wb") as target:
        for index, part in enumerate(parts):
            with wave.open(str(part)) as source:
                if index == 0:
                    target.setparams(source.getparams())
                target.writeframes(source.readframes(source.getnframes()))


def progress(done: int, total: int, stream: TextIO) -> None:
    width = 30
    filled = round(width * done / total) if total else width
    stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} responses")
    if done == total:
        stream.write("\n")
    stream.flush()


def render_all(
    responses: list[tuple[str, str]],
    out: Path,
    status: TextIO,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[Rendered]:
    """Speak each (label, SSML) to audio, join them into ``out``, and measure each one."""
    espeak()
    results: list[Rendered] = []
    with tempfile.TemporaryDirectory() as folder:
        parts = []
        for index, (label, ssml) in enumerate(responses):
            part = Path(folder) / f"{index:04d}.wav"
            speak_to_wav(ssml, part)
            parts.append(part)
            results.append(Rendered(label, read_ssml(ssml).seconds, wav_seconds(part)))
            (on_progress or (lambda d, t: progress(d, t, status)))(index + 1, len(responses))
        join_wavs(parts, out)
    return results


def routine_responses(routine_id: str, pace_id: str) -> list[tuple[str, str]]:
    library = load_library()
    if routine_id not in library.routines:
        raise PreviewError(f"no routine {routine_id!r}; there are: {', '.join(library.routines)}")
    engine = Engine(library)
    rate = library.pace(pace_id).rate
    responses = []
    segment: Segment | None = engine.start(routine_id, pace_id)
    while segment is not None:
        position: Position = segment.position
        label = f"step {position.step + 1} part {position.segment + 1}/{segment.segment_count}"
        responses.append((label, f"<speak>{render(segment.script, rate)}</speak>"))
        segment = engine.advance(position, pace_id)
    return responses


def script_responses(script: Path) -> list[tuple[str, str]]:
    from .local_skill import local_skill  # noqa: PLC0415
    from .script import Simulator  # noqa: PLC0415

    # the demo's device (an audio player, the Alexa APIs): the scripts are written for it
    with local_skill(audio=True) as skill, open("/dev/null", "w") as quiet:
        simulator = Simulator(
            skill.handler, skill.table, skill.clock, quiet, audio=True, alexa_api=skill.alexa_api
        )
        simulator.run_script(script.read_text(encoding="utf-8").splitlines())
        replies = simulator.conversation.replies
    return [(f"turn {i + 1}", reply.ssml) for i, reply in enumerate(replies) if reply.ssml]


def played_mp3(
    routine_id: str, pace_id: str, minutes: int | None, out: Path, sound: Sound = DEFAULT_SOUND
) -> float:
    """The rendered MP3 files of a played routine, one after another in ``out``; its seconds."""
    from pelvic_ease.audio import Manifest  # noqa: PLC0415
    from render.mp3 import mp3_info  # noqa: PLC0415

    from .local_audio import ensure_rendered  # noqa: PLC0415

    path = ensure_rendered()
    tracks = Manifest.load(path).tracks("en-US")
    track = tracks.get(routine_id, pace_id, minutes, sound) if tracks else None
    if track is None:
        raise PreviewError(
            f"no rendered track for {routine_id} at the {pace_id} pace, length {minutes}, sound {sound.code}"
        )
    data = b"".join((path.parent / f.path).read_bytes() for f in track.files)
    out.write_bytes(data)
    return mp3_info(data).seconds


def report(results: list[Rendered], out: TextIO) -> None:
    print(f"{'response':<22} {'estimate':>9} {'measured':>9} {'off by':>7}", file=out)
    for row in results:
        flag = "  <-- more than 20 % off" if row.flagged else ""
        print(
            f"{row.label:<22} {row.estimate:>8.1f}s {row.measured:>8.1f}s {row.off_by:>+7.0%}{flag}", file=out
        )
    estimate = sum(r.estimate for r in results)
    measured = sum(r.measured for r in results)
    print(
        f"{'total':<22} {estimate:>8.1f}s {measured:>8.1f}s {(measured - estimate) / estimate:>+7.0%}"
        f"   ({sum(r.flagged for r in results)} flagged)",
        file=out,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make preview", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("routine", nargs="?", help="routine id, e.g. psoas_release")
    parser.add_argument("--pace", default="normal", help="slow, normal or quick (default normal)")
    parser.add_argument("--script", type=Path, help="render a script's transcript instead of a routine")
    parser.add_argument("--out", type=Path, help="WAV file to write (default: <routine or script>.wav)")
    parser.add_argument(
        "--played", action="store_true", help="the routine's MP3 as it plays straight through"
    )
    parser.add_argument("--minutes", type=int, help="with --played: one of the routine's lengths")
    parser.add_argument("--no-bed", action="store_true", help="with --played: without the ambient bed")
    parser.add_argument("--quiet", action="store_true", help='with --played: the "less talking" guide')
    args = parser.parse_args(argv)
    if not args.routine and not args.script:
        # with nothing named: the played relaxation, with its bed, to listen to
        args.routine, args.played, args.minutes = PREVIEW_ROUTINE, True, args.minutes or PREVIEW_MINUTES
    try:
        espeak()
        if args.played:
            sound = Sound(bed=not args.no_bed, quiet=args.quiet)
            suffix = f"-{args.minutes}" if args.minutes else ""
            suffix += "" if sound == DEFAULT_SOUND else f"-{sound.code}"
            out = args.out or Path(f"{args.routine}-{args.pace}{suffix}.mp3")
            seconds = played_mp3(args.routine, args.pace, args.minutes, out, sound)
            print(f"wrote {out} ({seconds / 60:.1f} min of audio, {out.stat().st_size / 1e6:.1f} MB)")
            return 0
        if args.script:
            responses = script_responses(args.script)
            out = args.out or Path(f"{args.script.stem}.wav")
        else:
            responses = routine_responses(args.routine, args.pace)
            out = args.out or Path(f"{args.routine}-{args.pace}.wav")
        results = render_all(responses, out, sys.stderr)
    except PreviewError as error:
        print(error, file=sys.stderr)
        return 2
    report(results, sys.stdout)
    print(f"wrote {out} ({wav_seconds(out):.0f} s of audio)")
    return 0


if __name__ == "__main__":
    from .local_skill import quiet_environment

    quiet_environment()
    sys.exit(main())
