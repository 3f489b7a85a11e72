"""Routines as audio that plays straight through: the manifest, stream tokens, offsets.

Pure Python: no ask-sdk types and no I/O but reading the manifest. ``render/`` makes one
MP3 per main step of each routine, pace and length (``Engine.played`` gives the script)
and a manifest that maps each of those tracks to its files, their lengths, and where each
cue starts. The skill reads the manifest once per container.

Each track is rendered in four sounds (``SOUNDS``): with the ambient bed under the voice or
without it, and with every breath guided or every other one ("less talking"). The default
sound, what a listener gets unless they asked otherwise, has the bed and every breath.

A stream's token says what plays and which play it belongs to::

    pe1~down_training~normal~10~2~Kq3x9a_b   (routine, pace, length or 0, file, play id)
    pe1~down_training~normal~10~2~Kq3x9a_b~nobed-quiet   (... and a sound not the default)

A play is one run of the stream, as the device plays it on its own, file after queued file:
a start makes a new play id, and so does every jump of ours (resume, next, previous, start
over), so within one play the device only ever moves forward. A play id starts with the time
it was made, so of two plays the newer is known. The stored place keeps the token of the
play under way, so an event for another play (an old device, a stale queue, the stream a
jump replaced) is recognised and changes nothing (progress.py: ``Change.played_on``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

TOKEN_PREFIX = "pe1"
SEPARATOR = "~"
# 2: a row may name its sound ("bed", "quiet"); a row without them is the default sound,
# as every row of format 1 was read.
MANIFEST_FORMAT = 2
READABLE_FORMATS = (1, 2)
# A resume from the stored place goes back to the start of the cue that was playing, but
# never further back than this (a long silence): then only BACK_IN_SILENCE_MS.
MAX_BACK_MS = 20_000
BACK_IN_SILENCE_MS = 3_000
# "Previous" this far into a step goes to its start; nearer the start, to the step before.
PREVIOUS_RESTARTS_AFTER_MS = 5_000
MAX_OFFSET_MS = 86_400_000  # no file of ours is a day long: anything beyond is not an offset
# What a screen shows beside a playing stream (AudioItemMetadata's art and background image):
# published beside the audio at fixed paths (make site: publish/site.py, publish/images.py),
# each with its width and height in pixels.
ART = ("site/images/art-480.png", 480, 480)
BACKGROUND = ("site/images/background-1024x640.png", 1024, 640)
# Plain HTTP is a stream address only on this machine (the simulator's own file server).
LOCAL_HTTP = ("http://127.0.0.1:", "http://localhost:")
_WHOLE = re.compile(r"[0-9]{1,6}")
_PLAY_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_FILE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}\.mp3")  # a file of ours: its hash and .mp3


class ManifestError(ValueError):
    """The manifest is missing or does not describe playable tracks."""


class Sound(NamedTuple):
    """How a track sounds: with the ambient bed under the voice or not, and every breath
    guided or every other one (the "less talking" guide)."""

    bed: bool = True
    quiet: bool = False

    @property
    def code(self) -> str:
        """The sound as a token names it: ``bed``, ``nobed``, ``bed-quiet``, ``nobed-quiet``."""
        return ("bed" if self.bed else "nobed") + ("-quiet" if self.quiet else "")


DEFAULT_SOUND = Sound()
SOUNDS = (DEFAULT_SOUND, Sound(bed=False), Sound(quiet=True), Sound(bed=False, quiet=True))
# how a token names a sound; the default is never named, so every token has one spelling
_SOUND_CODES = {sound.code: sound for sound in SOUNDS if sound != DEFAULT_SOUND}


class AudioFile(NamedTuple):
    """One rendered file of a track: the step it plays, where it is served, its length and cues."""

    step: int  # the routine step this file plays (0-based)
    path: str  # relative to the audio base URL: the content hash and .mp3
    ms: int  # its length
    cues: tuple[int, ...]  # where each spoken cue starts, in ms from the file's start

    def back_to_cue(self, offset_ms: int) -> int:
        """Where to pick up a stream stopped at ``offset_ms``: the start of that cue, or a
        few seconds back when it stopped deep in a silence."""
        offset_ms = max(0, min(offset_ms, self.ms))
        started = max((cue for cue in self.cues if cue <= offset_ms), default=0)
        if offset_ms - started <= MAX_BACK_MS:
            return started
        return offset_ms - BACK_IN_SILENCE_MS


class Track(NamedTuple):
    """One routine at one pace and length, as a row of files (one per main step)."""

    routine: str
    pace: str
    minutes: int | None
    files: tuple[AudioFile, ...]
    sound: Sound = DEFAULT_SOUND

    @property
    def ms(self) -> int:
        return sum(f.ms for f in self.files)

    def file_for_step(self, step: int) -> int | None:
        """The file that plays ``step``, or the next main step's if it is not played (an extra)."""
        return next((i for i, f in enumerate(self.files) if f.step >= step), None)


class Token(NamedTuple):
    """What a stream's token says: the routine, pace, length, file, play it belongs to and
    the sound of the track (named only when it is not the default)."""

    routine: str
    pace: str
    minutes: int | None
    file: int
    play: str  # the play id
    sound: Sound = DEFAULT_SOUND

    def __str__(self) -> str:
        fields = (TOKEN_PREFIX, self.routine, self.pace, str(self.minutes or 0), str(self.file), self.play)
        sound = () if self.sound == DEFAULT_SOUND else (self.sound.code,)
        return SEPARATOR.join((*fields, *sound))

    @classmethod
    def parse(cls, text: object) -> Token | None:
        """A token of ours, or None (anything else: another skill's, garbled, too long)."""
        if not isinstance(text, str) or len(text) > 128:
            return None
        parts = text.split(SEPARATOR)
        if len(parts) not in (6, 7) or parts[0] != TOKEN_PREFIX:
            return None
        _, routine, pace, minutes, file, play = parts[:6]
        sound = _SOUND_CODES.get(parts[6]) if len(parts) == 7 else DEFAULT_SOUND
        if not (
            _WHOLE.fullmatch(minutes)
            and _WHOLE.fullmatch(file)
            and routine
            and pace
            and _PLAY_ID.fullmatch(play)
            and sound is not None
        ):
            return None
        return cls(routine, pace, int(minutes) or None, int(file), play, sound)

    def at_file(self, file: int) -> Token:
        return Token(self.routine, self.pace, self.minutes, file, self.play, self.sound)


def whole_ms(value: object, default: int = 0) -> int:
    """An offset as a device reports it, if it is one (a whole number of ms in range), else ``default``."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < MAX_OFFSET_MS:
        return value
    return default


STAMP_CHARS = 7  # a time as an id's prefix: epoch seconds in base 36 (enough until 4453)
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def stamped(at: int) -> str:
    """An id that starts with its creation time ``at`` (7 base-36 characters) and ends with 48
    random bits: unique among one user's ids, and its age can be read back (``stamp_time``)."""
    import secrets  # noqa: PLC0415 - a turn that writes nothing never needs it

    stamp = ""
    for _ in range(STAMP_CHARS):
        at, rest = divmod(at, 36)
        stamp = _BASE36[rest] + stamp
    return stamp + secrets.token_urlsafe(6)


def stamp_time(stamped_id: str | None) -> int | None:
    """When a ``stamped`` id was made (None for an id of another kind: an older, unstamped one)."""
    if stamped_id is None or len(stamped_id) != STAMP_CHARS + 8:
        return None
    try:
        return int(stamped_id[:STAMP_CHARS], 36)
    except ValueError:
        return None


def new_play_id(at: int) -> str:
    """A play's id, made at ``at``: which of two plays is the newer can be told from their ids."""
    return stamped(at)


class Tracks(NamedTuple):
    """Every track the manifest holds for one locale: in the default sound, and in others."""

    tracks: dict[tuple[str, str, int | None], Track]
    other_sounds: Mapping[Sound, dict[tuple[str, str, int | None], Track]] = MappingProxyType({})

    def get(self, routine: str, pace: str, minutes: int | None, sound: Sound = DEFAULT_SOUND) -> Track | None:
        tracks = self.tracks if sound == DEFAULT_SOUND else self.other_sounds.get(sound, {})
        return tracks.get((routine, pace, minutes))

    def of(self, token: Token) -> Track | None:
        """The track a token names, if the token's file is one of its files."""
        track = self.get(token.routine, token.pace, token.minutes, token.sound)
        return track if track is not None and token.file < len(track.files) else None

    def every(self) -> list[Track]:
        """Every track, in every sound."""
        return [*self.tracks.values(), *(t for tracks in self.other_sounds.values() for t in tracks.values())]


class Manifest(NamedTuple):
    """The rendered library: per locale, its tracks."""

    locales: dict[str, Tracks]
    synthesizer: str = ""

    def tracks(self, locale: str) -> Tracks | None:
        return self.locales.get(locale)

    @classmethod
    def from_dict(cls, data: Any) -> Manifest:
        try:
            if data["format"] not in READABLE_FORMATS:
                raise ManifestError(f"manifest format {data['format']!r}, expected one of {READABLE_FORMATS}")
            locales: dict[str, Tracks] = {}
            for locale, rows in data["locales"].items():
                by_sound: dict[Sound, dict[tuple[str, str, int | None], Track]] = {}
                for row in rows:
                    files = tuple(
                        AudioFile(
                            int(f["step"]), str(f["path"]), int(f["ms"]), tuple(int(c) for c in f["cues"])
                        )
                        for f in row["files"]
                    )
                    if not files or any(f.ms <= 0 or not _FILE_NAME.fullmatch(f.path) for f in files):
                        raise ManifestError(f"a track of {row['routine']} has no playable files")
                    minutes = int(row["minutes"]) if row.get("minutes") else None
                    bed, quiet = row.get("bed", True), row.get("quiet", False)
                    if not isinstance(bed, bool) or not isinstance(quiet, bool):
                        raise ManifestError(f"a track of {row['routine']} names its sound wrongly")
                    sound = Sound(bed, quiet)
                    track = Track(str(row["routine"]), str(row["pace"]), minutes, files, sound)
                    by_sound.setdefault(sound, {})[(track.routine, track.pace, track.minutes)] = track
                default = by_sound.pop(DEFAULT_SOUND, {})
                locales[str(locale)] = Tracks(default, by_sound)
            return cls(locales, str(data.get("synthesizer", "")))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            if isinstance(error, ManifestError):
                raise
            raise ManifestError(f"manifest is malformed: {error!r}") from error

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise ManifestError(f"no manifest at {path}") from error
        except UnicodeDecodeError as error:
            raise ManifestError(f"manifest at {path} is not UTF-8 text") from error
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as error:
            raise ManifestError(f"manifest at {path} is not JSON: {error}") from error


def default_manifest_path() -> Path:
    """``$AUDIO_MANIFEST``, else ``audio/manifest.json`` beside the package (the artifact)."""
    configured = os.environ.get("AUDIO_MANIFEST")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent.parent / "audio" / "manifest.json"


def valid_base_url(url: str) -> bool:
    """Alexa plays only HTTPS streams; plain HTTP only on this machine (the simulator)."""
    if url.startswith("https://") and len(url) > len("https://"):
        return url.endswith("/")
    return url.startswith(LOCAL_HTTP) and url.endswith("/")


class AudioLibrary:
    """The rendered tracks and where they are served, for the container. Without a usable
    manifest or base URL there is no audio: every routine is spoken step by step."""

    def __init__(self, manifest: Manifest | None, base_url: str | None) -> None:
        self.manifest = manifest if base_url and valid_base_url(base_url) else None
        self.base_url = base_url or ""

    @classmethod
    def load(cls, base_url: str | None, path: Path | None = None) -> AudioLibrary:
        from .observability import logger  # noqa: PLC0415 - keeps this module free of Powertools

        if not base_url:
            return cls(None, None)
        if not valid_base_url(base_url):
            logger.error("AUDIO_BASE_URL is not an https:// URL ending in /; routines are spoken")
            return cls(None, None)
        try:
            return cls(Manifest.load(path or default_manifest_path()), base_url)
        except ManifestError:
            logger.exception("no usable audio manifest; routines are spoken")
            return cls(None, None)

    def tracks(self, locale: str) -> Tracks | None:
        return self.manifest.tracks(locale) if self.manifest else None

    def url(self, path: str) -> str:
        return self.base_url + path
