"""`make site`: the skill's pages and images, made here and served by the stack's CloudFront
distribution, beside the audio, at fixed paths under its address (the AudioBaseUrl output):

    site/privacy.html                       the privacy policy      (skill.json privacyPolicyUrl)
    site/terms.html                         the terms of use        (skill.json termsOfUseUrl)
    site/images/icon-108.png, icon-512.png  the store icons         (smallIconUri, largeIconUri)
    site/images/art-480.png                 AudioPlayer art         (AudioItemMetadata.art)
    site/images/background-1024x640.png     AudioPlayer background  (AudioItemMetadata.backgroundImage)

    make site                                             build/site, and docs/storage.md's section
    make site ARGS="--upload --bucket <AudioBucketName>"  and upload it (the deploying user needs
                                                          s3:PutObject on the bucket)

The paths never change, so skill.json (publish/point_skill.py) and the skill's Play directive
can name them; what is at them may. The pages are cached for five minutes, the images for a day.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from . import images, legal

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "site"
PREFIX = "site/"  # under the distribution's root, beside the audio files
PRIVACY, TERMS = "privacy.html", "terms.html"
TYPES = {".html": "text/html; charset=utf-8", ".png": "image/png"}
CACHE = {".html": "public, max-age=300", ".png": "public, max-age=86400"}


def url(base: str, path: str) -> str:
    """The HTTPS address of a site file, from the distribution's base URL (ending in "/")."""
    return f"{base}{PREFIX}{path}"


def build(folder: Path) -> list[Path]:
    """Every site file under ``folder``; the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = images.write_all(folder)
    for name, page in ((PRIVACY, legal.privacy_html()), (TERMS, legal.terms_html())):
        (folder / name).write_text(page, encoding="utf-8")
        written.append(folder / name)
    return written


def upload(client: Any, bucket: str, folder: Path, files: list[Path]) -> int:
    """Put every file into ``bucket`` under PREFIX, with its type and cache lifetime."""
    for path in files:
        client.put_object(
            Bucket=bucket,
            Key=PREFIX + path.relative_to(folder).as_posix(),
            Body=path.read_bytes(),
            ContentType=TYPES[path.suffix],
            CacheControl=CACHE[path.suffix],
        )
    return len(files)


def main(argv: list[str] | None = None, client: Any = None) -> int:
    parser = argparse.ArgumentParser(prog="make site", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--upload", action="store_true", help="put the files into --bucket")
    parser.add_argument("--bucket", help="the stack's AudioBucketName output")
    args = parser.parse_args(argv)
    if args.upload and not args.bucket:
        parser.error("--upload needs --bucket")
    files = build(args.out)
    doc = legal.STORAGE_DOC.read_text(encoding="utf-8")
    legal.STORAGE_DOC.write_text(legal.with_section(doc, legal.storage_section()), encoding="utf-8")
    print(f"{len(files)} files in {args.out}; {legal.STORAGE_DOC.name}'s section rendered")
    if args.upload:
        s3 = client or __import__("boto3").client("s3")
        print(f"s3://{args.bucket}/{PREFIX}: {upload(s3, args.bucket, args.out, files)} uploaded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
