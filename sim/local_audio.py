"""The rendered routines on this machine: made with espeak-ng into the project's cache, and
served over HTTP on 127.0.0.1 for the simulator's player (the deployed skill only ever
gives HTTPS URLs; see audio.valid_base_url)."""

from __future__ import annotations

import functools
import http.server
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .driver import ROOT
from .serving import serving

CACHE = ROOT / ".cache" / "audio"
MANIFEST = "manifest.json"


def ensure_rendered(folder: Path = CACHE, quiet: bool = False) -> Path:
    """Render whatever is not rendered yet (the first time, about a minute) and write the
    manifest; return its path. One process renders into ``folder`` at a time (test workers,
    make chat and make demo share the cache): another waits, then finds the files made."""
    from filelock import FileLock  # noqa: PLC0415

    from render.pipeline import render_library, write_manifest  # noqa: PLC0415
    from render.synth import Espeak  # noqa: PLC0415

    live = not quiet and sys.stderr.isatty()

    def note(track: str) -> None:
        if live:
            print(f"\r(rendering audio: {track})".ljust(72), end="", file=sys.stderr, flush=True)

    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(folder.with_name(f"{folder.name}.lock")):  # beside the folder: not one of its files
        manifest, report = render_library(Espeak(), folder, on_track=note)
        path = folder / MANIFEST
        write_manifest(manifest, path)
        publish_pictures(folder)
    if live:
        print("\r".ljust(72) + "\r", end="", file=sys.stderr, flush=True)
    if report.made and not quiet:
        print(
            f"(rendered {report.made} audio files with espeak-ng in {report.seconds:.0f} s, "
            f"kept in {folder} for next time)",
            file=sys.stderr,
        )
    return path


def publish_pictures(folder: Path) -> None:
    """The pictures a screen shows beside a playing routine, where the deployed audio host
    has them (publish/site.py), so the simulated device can show them too."""
    from publish import images, site  # noqa: PLC0415

    pictures = folder / site.PREFIX
    if not all((pictures / picture.path).is_file() for picture in images.PICTURES):
        images.write_all(pictures)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def audio_server(folder: Path = CACHE) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (a free port); yields the base URL, ending in /."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    with serving(server, "audio-server"):
        yield f"http://127.0.0.1:{server.server_address[1]}/"
