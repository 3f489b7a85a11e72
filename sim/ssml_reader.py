"""Read back the SSML a response carries, as a listener would: text, pauses, duration.

Also checks it against Alexa's limits (../shared/ALEXA.md), so every test and the demo
see the same verdict.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from pelvic_ease.speech import (
    MAX_BREAK_SECONDS,
    MAX_RESPONSE_SECONDS,
    MAX_SSML_CHARS,
    Part,
    Pause,
    Text,
    estimate_seconds,
)

ALEXA_TAGS = {
    "speak", "break", "say-as", "p", "s", "prosody", "emphasis", "sub", "phoneme", "voice",
    "lang", "w", "audio", "amazon:effect", "amazon:emotion", "amazon:domain",
}  # fmt: skip
_AMAZON_NS = "amazon"
_TIME = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")


@dataclass(frozen=True)
class Spoken:
    parts: tuple[Part, ...]
    rate: int
    problems: tuple[str, ...]

    @property
    def text(self) -> str:
        """Readable text with each pause shown as [N s]."""
        out = []
        for part in self.parts:
            out.append(part.text if isinstance(part, Text) else f"[{part.seconds:g} s]")
        return " ".join(out)

    @property
    def words_only(self) -> str:
        return " ".join(p.text for p in self.parts if isinstance(p, Text))

    @property
    def pauses(self) -> list[float]:
        return [p.seconds for p in self.parts if isinstance(p, Pause)]

    @property
    def seconds(self) -> float:
        return estimate_seconds(self.parts, self.rate)


def _seconds(value: str) -> float | None:
    match = _TIME.match(value or "")
    if not match:
        return None
    number = float(match.group(1))
    return number / 1000 if match.group(2) == "ms" else number


def read_ssml(ssml: str) -> Spoken:
    problems: list[str] = []
    if len(ssml) >= MAX_SSML_CHARS:
        problems.append(f"SSML is {len(ssml)} characters (limit {MAX_SSML_CHARS})")
    # ElementTree needs the amazon: prefix declared; Alexa does not.
    source = ssml.replace("<speak>", f'<speak xmlns:amazon="{_AMAZON_NS}">', 1)
    try:
        root = ET.fromstring(source)
    except ET.ParseError as error:
        return Spoken((), 100, (f"SSML does not parse: {error}",))
    if root.tag != "speak":
        problems.append("SSML root is not <speak>")
    parts: list[Part] = []
    rates: list[int] = []

    def walk(node: ET.Element) -> None:
        tag = node.tag.replace("{" + _AMAZON_NS + "}", "amazon:")
        if tag not in ALEXA_TAGS:
            problems.append(f"<{tag}> is not an Alexa SSML tag")
        if tag == "break":
            seconds = _seconds(node.get("time", ""))
            if seconds is None:
                problems.append(f"break without a valid time: {node.attrib}")
            elif seconds > MAX_BREAK_SECONDS:
                problems.append(f"break of {seconds:g} s exceeds {MAX_BREAK_SECONDS} s")
            else:
                parts.append(Pause(seconds))
        if tag == "prosody" and node.get("rate", "").endswith("%"):
            rate = int(node.get("rate", "100%")[:-1])
            if rate < 20:
                problems.append(f"prosody rate {rate}% is below 20%")
            rates.append(rate)
        if node.text and node.text.strip():
            parts.append(Text(node.text.strip()))
        for child in node:
            walk(child)
            if child.tail and child.tail.strip():
                parts.append(Text(child.tail.strip()))

    walk(root)
    spoken = Spoken(tuple(parts), min(rates) if rates else 100, ())
    if spoken.seconds > MAX_RESPONSE_SECONDS:
        problems.append(f"estimated {spoken.seconds:.0f} s exceeds {MAX_RESPONSE_SECONDS} s")
    return Spoken(spoken.parts, spoken.rate, tuple(problems))
