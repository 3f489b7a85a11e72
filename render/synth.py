"""Speech synthesizers behind one interface: text at a speaking rate → 16-bit mono PCM.

``Espeak`` (espeak-ng, the local default: the simulator, the demo and the tests) and
``Polly`` (Amazon Polly's neural voices, for what is deployed). Each clip is one sentence
or a few: the silences between them are stitched in by the pipeline, never spoken, since
neither engine's break can be as long as a resting minute.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from typing import Any, Protocol
from xml.sax.saxutils import escape

from pelvic_ease.markets import BASE_LOCALE, MARKETS
from pelvic_ease.speech import WORDS_PER_SECOND_AT_FULL_RATE

POLLY_MAX_CHARS = 3000  # billable characters per SynthesizeSpeech request
POLLY_SAMPLE_RATE = 16_000  # PCM output: 8 or 16 kHz
ESPEAK_SAMPLE_RATE = 22_050
# One neural voice per market (pelvic_ease/markets.py).
POLLY_VOICES = {market.locale: market.voice for market in MARKETS}
ESPEAK_VOICE = "en-us"  # one local voice for every locale, so the locales share their files
# espeak-ng's -s is "about" words a minute: measured on a paragraph (first to last sound) a
# word lasts about 55 / speed seconds (shorter sentences run faster: the pipeline measures
# and corrects). Its slowest speed is 80; slower narration adds a pause between words (-g):
# the first unit adds about 5.5 + 2.2 "speed-seconds" a word, each further unit about 2.2.
ESPEAK_SECONDS_PER_WORD_AT_SPEED = 55.0
ESPEAK_FIRST_GAP_AT_SPEED = 5.5
ESPEAK_GAP_SECONDS_AT_SPEED = 2.2
ESPEAK_MIN_SPEED = 80
# Polly's neural voices at <prosody rate="100%">: the words a minute the spoken path's
# estimate assumes for Alexa's voice (speech.py); the pipeline corrects each clip from there.
POLLY_WORDS_PER_MINUTE = WORDS_PER_SECOND_AT_FULL_RATE * 60
POLLY_MIN_RATE = 20  # Polly's slowest prosody rate, in percent


class SynthesisError(Exception):
    """A clip could not be made (the synthesizer is missing or refused the text)."""


class Synthesizer(Protocol):
    name: str
    sample_rate: int

    def voice(self, locale: str) -> str: ...

    def synthesize(self, text: str, words_per_minute: int, locale: str) -> bytes:
        """``text`` spoken at about ``words_per_minute``, as 16-bit little-endian mono PCM.
        The pipeline measures what it gets and asks again with a corrected figure, so
        each engine only needs to come near."""


def wav_pcm(wav: bytes) -> tuple[bytes, int]:
    """The samples and sample rate of a 16-bit mono WAV (espeak-ng's --stdout leaves the
    data chunk's size unset, so the data runs to the end)."""
    if wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise SynthesisError("not a WAV stream")
    at = 12
    rate = 0
    while at + 8 <= len(wav):
        chunk, size = wav[at : at + 4], int.from_bytes(wav[at + 4 : at + 8], "little")
        if chunk == b"fmt ":
            channels = int.from_bytes(wav[at + 10 : at + 12], "little")
            rate = int.from_bytes(wav[at + 12 : at + 16], "little")
            bits = int.from_bytes(wav[at + 22 : at + 24], "little")
            if channels != 1 or bits != 16:
                raise SynthesisError(f"expected 16-bit mono, got {channels} channels of {bits} bits")
        if chunk == b"data":
            data = wav[at + 8 :]
            return data[: len(data) - len(data) % 2], rate
        at += 8 + size + size % 2
    raise SynthesisError("WAV stream has no data")


def espeak_speed_and_gap(words_per_minute: int) -> tuple[int, int]:
    """espeak-ng's speed and word gap for about ``words_per_minute``: the speed alone where it
    can, else the fewest units of gap that let the speed stay at 80 or more."""
    per_word = 60 / max(1, words_per_minute)
    if ESPEAK_MIN_SPEED * per_word <= ESPEAK_SECONDS_PER_WORD_AT_SPEED:
        return round(ESPEAK_SECONDS_PER_WORD_AT_SPEED / per_word), 0
    with_first = ESPEAK_SECONDS_PER_WORD_AT_SPEED + ESPEAK_FIRST_GAP_AT_SPEED
    gap = max(1, math.ceil((ESPEAK_MIN_SPEED * per_word - with_first) / ESPEAK_GAP_SECONDS_AT_SPEED))
    speed = round((with_first + ESPEAK_GAP_SECONDS_AT_SPEED * gap) / per_word)
    return max(ESPEAK_MIN_SPEED, speed), gap


class Espeak:
    name = "espeak-ng"
    sample_rate = ESPEAK_SAMPLE_RATE

    def __init__(self) -> None:
        found = shutil.which("espeak-ng")
        if not found:
            raise SynthesisError("espeak-ng is not installed. Install it with: apt-get install espeak-ng")
        self.binary = found

    def voice(self, locale: str) -> str:
        return ESPEAK_VOICE

    def synthesize(self, text: str, words_per_minute: int, locale: str) -> bytes:
        speed, gap = espeak_speed_and_gap(words_per_minute)
        done = subprocess.run(
            [self.binary, "-v", self.voice(locale), "-s", str(speed), "-g", str(gap), "--stdout", text],
            check=False,
            capture_output=True,
        )
        if done.returncode != 0:
            raise SynthesisError(f"espeak-ng failed: {done.stderr.decode(errors='replace').strip()}")
        pcm, sample_rate = wav_pcm(done.stdout)
        if sample_rate != self.sample_rate:
            raise SynthesisError(f"espeak-ng gave {sample_rate} Hz, expected {self.sample_rate}")
        return pcm


def polly_chunks(text: str, most: int = POLLY_MAX_CHARS) -> list[str]:
    """``text`` in pieces of at most ``most`` characters, cut after a sentence where one fits."""
    chunks: list[str] = []
    rest = text.strip()
    while len(rest) > most:
        # after a sentence if one ends in reach, else after a clause, else between words
        cut = max(rest.rfind(mark, 0, most) for mark in (". ", "? ", "! "))
        if cut <= 0:
            cut = max(rest.rfind(mark, 0, most) for mark in ("; ", ", "))
        cut = cut + 1 if cut > 0 else rest.rfind(" ", 0, most)
        cut = cut if cut > 0 else most
        chunks.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    return [*chunks, rest] if rest else chunks


class Polly:
    """Amazon Polly's SynthesizeSpeech (neural engine, PCM at 16 kHz) through a botocore client."""

    name = "polly"
    sample_rate = POLLY_SAMPLE_RATE
    engine = "neural"

    def __init__(self, client: Any) -> None:
        self.client = client

    def voice(self, locale: str) -> str:
        return POLLY_VOICES.get(locale, POLLY_VOICES[BASE_LOCALE])

    def synthesize(self, text: str, words_per_minute: int, locale: str) -> bytes:
        rate = max(POLLY_MIN_RATE, round(100 * words_per_minute / POLLY_WORDS_PER_MINUTE))
        pcm = b""
        for chunk in polly_chunks(text):
            # The prosody tags are not billed: the limit is on the text itself.
            answer = self.client.synthesize_speech(
                Engine=self.engine,
                VoiceId=self.voice(locale),
                OutputFormat="pcm",
                SampleRate=str(self.sample_rate),
                TextType="ssml",
                Text=f'<speak><prosody rate="{rate}%">{escape(chunk)}</prosody></speak>',
            )
            data = answer["AudioStream"].read()
            pcm += data[: len(data) - len(data) % 2]
        return pcm
