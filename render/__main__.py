"""`make render-audio`: the routines as MP3 files and a manifest, for AudioPlayer.

    make render-audio                                   espeak-ng into .cache/audio (local)
    make render-audio ARGS="--synth polly --upload --bucket NAME"
                                                        Amazon Polly into build/audio, new
                                                        files uploaded, manifest for sam build

Every track is made in four sounds (with the ambient bed under the voice or without it,
every breath guided or every other one), normalised to -16 LUFS with its true peak at most
-1.5 dBTP. Files are named by a hash of what made them, so only what changed is rendered
or uploaded; new files are made in parallel, one process per core.
The deploying user needs polly:SynthesizeSpeech, and s3:PutObject, s3:GetObject and
s3:ListBucket on the bucket (template.yaml grants the function none of them).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pelvic_ease.markets import LOCALES

from .pipeline import RefusedScript, Report, render_library, write_manifest
from .synth import Espeak, Polly, SynthesisError, Synthesizer

ROOT = Path(__file__).resolve().parent.parent
LOCAL_OUT = ROOT / ".cache" / "audio"
DEPLOY_OUT = ROOT / "build" / "audio"
CACHE_CONTROL = "public, max-age=31536000, immutable"  # a file's name changes when its audio does


def upload(client: Any, bucket: str, folder: Path, names: set[str]) -> tuple[int, int]:
    """Put each file the bucket does not have yet; (uploaded, already there)."""
    present: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        present.update(item["Key"] for item in page.get("Contents", []))
    new = sorted(names - present)
    for name in new:
        client.put_object(
            Bucket=bucket,
            Key=name,
            Body=(folder / name).read_bytes(),
            ContentType="audio/mpeg",
            CacheControl=CACHE_CONTROL,
        )
    return len(new), len(names & present)


def summary(report: Report) -> str:
    return (
        f"{len(report.paths)} files ({report.made} made, {report.reused} already there), "
        f"{report.audio_seconds / 60:.0f} min of new audio, {report.bytes / 1e6:.1f} MB new, "
        f"in {report.seconds:.1f} s ({report.cpu_seconds:.0f} s of processor time)"
    )


def main(argv: list[str] | None = None, clients: Any = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make render-audio", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--synth", choices=("espeak", "polly"), default="espeak")
    parser.add_argument("--locale", action="append", choices=LOCALES, help="only these locales (repeatable)")
    parser.add_argument("--out", type=Path, help="where the files go (default by --synth)")
    parser.add_argument("--upload", action="store_true", help="put new files in --bucket (polly only)")
    parser.add_argument("--bucket", help="the stack's AudioBucketName output")
    args = parser.parse_args(argv)
    if args.upload and (args.synth != "polly" or not args.bucket):
        parser.error("--upload needs --synth polly and --bucket")
    out = args.out or (DEPLOY_OUT if args.synth == "polly" else LOCAL_OUT)
    make = clients or (lambda name: __import__("boto3").client(name))
    try:
        synth: Synthesizer = Polly(make("polly")) if args.synth == "polly" else Espeak()
        manifest, report = render_library(synth, out, args.locale or LOCALES)
    except (SynthesisError, RefusedScript) as error:
        print(error, file=sys.stderr)
        return 2
    write_manifest(manifest, out / "manifest.json")
    print(f"{synth.name}: {summary(report)}; manifest {out / 'manifest.json'}")
    if args.upload:
        uploaded, there = upload(make("s3"), args.bucket, out, report.paths)
        print(f"s3://{args.bucket}: {uploaded} uploaded, {there} already there")
    return 0


if __name__ == "__main__":
    sys.exit(main())
