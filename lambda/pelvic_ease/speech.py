"""What the skill says, as a script of text and pauses, rendered to Alexa SSML.

A script is a tuple of ``Text`` and ``Pause`` parts. The same script gives the SSML and
the estimated spoken duration, so the engine can size segments before rendering them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import escape

MAX_BREAK_SECONDS = 10  # Alexa's limit for a single <break>
MAX_SSML_CHARS = 8000  # outputSpeech limit, tags included
MAX_RESPONSE_SECONDS = 240  # design cap for one response, speech plus breaks
# Alexa's neutral voice speaks about 155 words a minute at rate 100 %.
WORDS_PER_SECOND_AT_FULL_RATE = 2.6
_WORD = re.compile(r"[\w'’-]+")
# Characters XML 1.0 does not allow at all (escaping cannot help): control characters,
# lone surrogates, U+FFFE and U+FFFF. Slot values can carry them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Pause:
    seconds: float


Part = Text | Pause
Script = tuple[Part, ...]


def words(text: str) -> int:
    return len(_WORD.findall(text))


def estimate_seconds(script: Script, rate: int) -> float:
    """Estimated spoken duration: words at the speaking rate, plus every pause."""
    spoken = sum(words(p.text) for p in script if isinstance(p, Text))
    silent = sum(p.seconds for p in script if isinstance(p, Pause))
    return spoken / (WORDS_PER_SECOND_AT_FULL_RATE * rate / 100) + silent


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
            text = _NOT_XML.sub("", part.text).strip()
            if text:
                body.append(f"<s>{escape(text)}</s>")
        elif part.seconds > 0:
            body.append(_breaks(part.seconds))
    return f'<prosody rate="{rate}%">{"".join(body)}</prosody>'


def join(*scripts: Script) -> Script:
    return tuple(part for script in scripts for part in script)


def say(*texts: str) -> Script:
    return tuple(Text(t) for t in texts if t)
