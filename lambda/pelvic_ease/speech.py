"""What the skill says, as a script of text and pauses, rendered to Alexa SSML.

A script is a tuple of ``Text`` and ``Pause`` parts. The same script gives the SSML and
the estimated spoken duration, so the engine can size segments before rendering them.
"""

from __future__ import annotations

import math
import re
from html import escape
from typing import NamedTuple

MAX_BREAK_SECONDS = 10  # Alexa's limit for a single <break>
MAX_SSML_CHARS = 8000  # outputSpeech limit, tags included
MAX_RESPONSE_SECONDS = 240  # design cap for one response, speech plus breaks
# Several breaks in a row make a longer silence, but runs beyond this are unconfirmed on
# devices (ALEXA.md): a longer quiet is broken by a short soft cue.
MAX_SILENCE_RUN_SECONDS = 20
# Alexa's neutral voice speaks about 155 words a minute at rate 100 %.
WORDS_PER_SECOND_AT_FULL_RATE = 2.6
_WORD = re.compile(r"[\w'’-]+")
# Characters XML 1.0 does not allow at all (escaping cannot help): control characters,
# lone surrogates, U+FFFE and U+FFFF. Slot values can carry them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class Text(NamedTuple):
    """Words to speak (plain text, escaped when rendered)."""

    text: str


class Pause(NamedTuple):
    """A silence, in seconds. ``chime``: a long quiet ends here, and audio that plays
    straight through marks its end with a soft chime (SSML has none: the spoken path
    never sets it)."""

    seconds: float
    chime: bool = False


Part = Text | Pause
Script = tuple[Part, ...]


def words(text: str) -> int:
    return len(_WORD.findall(text))


def estimate_seconds(script: Script, rate: int) -> float:
    """Estimated spoken duration: words at the speaking rate, plus every pause."""
    spoken = sum(words(p.text) for p in script if isinstance(p, Text))
    silent = sum(p.seconds for p in script if isinstance(p, Pause))
    return spoken / (WORDS_PER_SECOND_AT_FULL_RATE * rate / 100) + silent


def silent_runs(script: Script) -> list[float]:
    """The lengths of the unbroken silences in ``script`` (pauses with no words between)."""
    runs: list[float] = []
    run = 0.0
    for part in script:
        if isinstance(part, Pause):
            run += part.seconds
        elif part.text.strip():
            if run:
                runs.append(run)
            run = 0.0
    if run:
        runs.append(run)
    return runs


def even_split(seconds: float, most: float) -> list[float]:
    """``seconds`` in the fewest near-equal pieces of at most ``most`` (whole seconds stay whole)."""
    count = max(1, math.ceil(seconds / most))
    if float(seconds).is_integer():
        whole = int(seconds)
        return [float(whole // count + (1 if i < whole % count else 0)) for i in range(count)]
    return [seconds / count] * count


def cap_silence(script: Script, cues: list[str], most: float = MAX_SILENCE_RUN_SECONDS) -> Script:
    """``script`` with no unbroken silence longer than ``most``: a long pause is cut into
    near-equal runs, and wherever a run would grow too long a soft cue (taken from
    ``cues`` in turn) is spoken between its pauses. A pause's chime stays at its end, and
    the quiet counts afresh after it (the chime is heard)."""
    out: list[Part] = []
    run = 0.0
    said = 0
    for part in script:
        if isinstance(part, Text):
            out.append(part)
            if part.text.strip():
                run = 0.0
            continue
        pieces = even_split(part.seconds, most)
        for index, piece in enumerate(pieces):
            if run and run + piece > most:
                out.append(Text(cues[said % len(cues)]))
                said += 1
                run = 0.0
            chime = part.chime and index == len(pieces) - 1
            out.append(Pause(piece, chime) if chime else Pause(piece))
            run = 0.0 if chime else run + piece
    return tuple(out)


def spoken_text(text: str) -> str:
    """``text`` as it is spoken: without characters XML cannot carry, trimmed."""
    return _NOT_XML.sub("", text).strip()


def _breaks(seconds: float) -> str:
    out = []
    while seconds > 0:
        chunk = min(seconds, MAX_BREAK_SECONDS)
        out.append(f'<break time="{chunk:g}s"/>')
        seconds -= chunk
    return "".join(out)


def render(script: Script, rate: int) -> str:
    """SSML for ``script`` without the outer <speak> (ask-sdk adds it). Text is escaped."""
    body = []
    for part in script:
        if isinstance(part, Text):
            text = spoken_text(part.text)
            if text:
                body.append(f"<s>{escape(text, quote=False)}</s>")
        elif part.seconds > 0:
            body.append(_breaks(part.seconds))
    return f'<prosody rate="{rate}%">{"".join(body)}</prosody>'


def join(*scripts: Script) -> Script:
    return tuple(part for script in scripts for part in script)


def say(*texts: str) -> Script:
    return tuple(Text(t) for t in texts if t)
