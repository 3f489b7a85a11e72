"""Routines, paces and prompts, loaded once from the TOML files in ``routines/``.

The schema is documented in ``routines/README.md``; ``load_library`` enforces it and
raises ``ContentError`` naming the file and field at fault.
"""

from __future__ import annotations

import functools
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
NON_CONTENT_FILES = {"prompts.toml", "paces.toml"}


class ContentError(ValueError):
    """A content file does not follow the schema."""


@dataclass(frozen=True)
class Step:
    title: str
    position: str
    instruction: str
    seconds: int
    breaths: int
    caution: str = ""
    exhale_cue: str = ""
    optional: bool = False


@dataclass(frozen=True)
class Routine:
    id: str
    name: str
    summary: str
    areas: tuple[str, ...]
    intro: str
    outro: str
    steps: tuple[Step, ...]
    exhale_cue: str = ""
    lengths: tuple[int, ...] = ()  # minutes a listener may ask for ("a ten minute relaxation")


@dataclass(frozen=True)
class Pace:
    id: str
    name: str
    inhale: int
    exhale: int
    rest: int
    rate: int


@dataclass(frozen=True)
class Library:
    routines: dict[str, Routine]
    paces: dict[str, Pace]
    default_pace: str
    prompts: dict[str, str]
    disclaimer_text: str
    disclaimer_version: int

    def routine_for_area(self, area_id: str) -> Routine | None:
        for routine in self.routines.values():
            if area_id in routine.areas:
                return routine
        return None

    def pace(self, pace_id: str | None) -> Pace:
        return self.paces.get(pace_id or "", self.paces[self.default_pace])

    def say(self, key: str, **fields: object) -> str:
        """The prompt ``key`` with its placeholders filled (plain text, not yet escaped)."""
        return self.prompts[key].format(**fields)


def default_content_dir() -> Path:
    """``$CONTENT_DIR``, else ``routines/`` beside the package (artifact) or the repo root."""
    configured = os.environ.get("CONTENT_DIR")
    if configured:
        return Path(configured)
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "routines", here.parent.parent / "routines"):
        if candidate.is_dir():
            return candidate
    raise ContentError(f"no routines folder found near {here}")


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ContentError(f"{path.name}: {error}") from error


def _text(where: str, table: dict[str, Any], key: str, required: bool = True) -> str:
    value = table.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ContentError(f"{where}: '{key}' must be a non-empty string")
    return value.strip()


def _int(where: str, table: dict[str, Any], key: str, low: int, high: int) -> int:
    value = table.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ContentError(f"{where}: '{key}' must be a whole number from {low} to {high}")
    return value


def _check_keys(where: str, table: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(table) - allowed
    if unknown:
        raise ContentError(f"{where}: unknown field(s) {sorted(unknown)}")


STEP_FIELDS = {
    "title",
    "position",
    "instruction",
    "seconds",
    "breaths",
    "caution",
    "exhale_cue",
    "optional",
}
ROUTINE_FIELDS = {
    "schema",
    "id",
    "name",
    "summary",
    "areas",
    "intro",
    "outro",
    "exhale_cue",
    "steps",
    "lengths",
}


def parse_step(where: str, table: dict[str, Any]) -> Step:
    _check_keys(where, table, STEP_FIELDS)
    optional = table.get("optional", False)
    if not isinstance(optional, bool):
        raise ContentError(f"{where}: 'optional' must be true or false")
    return Step(
        title=_text(where, table, "title"),
        position=_text(where, table, "position"),
        instruction=_text(where, table, "instruction"),
        seconds=_int(where, table, "seconds", 10, 1800),
        breaths=_int(where, table, "breaths", 0, 200),
        caution=_text(where, table, "caution", required=False),
        exhale_cue=_text(where, table, "exhale_cue", required=False),
        optional=optional,
    )


def parse_routine(where: str, table: dict[str, Any]) -> Routine:
    _check_keys(where, table, ROUTINE_FIELDS)
    if table.get("schema") != SCHEMA_VERSION:
        raise ContentError(f"{where}: 'schema' must be {SCHEMA_VERSION}")
    areas = table.get("areas")
    if not isinstance(areas, list) or not areas or not all(isinstance(a, str) for a in areas):
        raise ContentError(f"{where}: 'areas' must be a non-empty list of slot value ids")
    steps = table.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ContentError(f"{where}: a routine needs at least one [[steps]] table")
    parsed = tuple(parse_step(f"{where} step {i + 1}", s) for i, s in enumerate(steps))
    if parsed[0].optional:
        raise ContentError(f"{where}: the first step cannot be optional")
    lengths = table.get("lengths", [])
    if not isinstance(lengths, list) or not all(isinstance(m, int) and 1 <= m <= 60 for m in lengths):
        raise ContentError(f"{where}: 'lengths' must be a list of minutes from 1 to 60")
    return Routine(
        id=_text(where, table, "id"),
        name=_text(where, table, "name"),
        summary=_text(where, table, "summary"),
        areas=tuple(areas),
        intro=_text(where, table, "intro"),
        outro=_text(where, table, "outro"),
        exhale_cue=_text(where, table, "exhale_cue", required=False),
        steps=parsed,
        lengths=tuple(sorted(lengths)),
    )


def parse_paces(where: str, table: dict[str, Any]) -> tuple[dict[str, Pace], str]:
    paces: dict[str, Pace] = {}
    for pace_id, spec in (table.get("paces") or {}).items():
        at = f"{where} pace {pace_id}"
        _check_keys(at, spec, {"name", "inhale", "exhale", "rest", "rate"})
        pace = Pace(
            id=pace_id,
            name=_text(at, spec, "name"),
            inhale=_int(at, spec, "inhale", 1, 10),
            exhale=_int(at, spec, "exhale", 1, 10),
            rest=_int(at, spec, "rest", 0, 10),
            rate=_int(at, spec, "rate", 20, 200),
        )
        if pace.exhale < pace.inhale:
            raise ContentError(f"{at}: the exhale must be at least as long as the inhale")
        if pace.exhale + pace.rest > 10:
            raise ContentError(f"{at}: exhale plus rest must fit one 10 s break")
        paces[pace_id] = pace
    default = table.get("default")
    if not paces or default not in paces:
        raise ContentError(f"{where}: 'default' must name one of the paces")
    return paces, default


def load_library(content_dir: Path | None = None) -> Library:
    """Read and validate every content file; raise ContentError on the first fault."""
    folder = content_dir or default_content_dir()
    routines: dict[str, Routine] = {}
    for path in sorted(folder.glob("*.toml")):
        if path.name in NON_CONTENT_FILES:
            continue
        routine = parse_routine(path.name, _read(path))
        if routine.id != path.stem:
            raise ContentError(f"{path.name}: 'id' must equal the file name ({path.stem})")
        routines[routine.id] = routine
    if not routines:
        raise ContentError(f"{folder}: no routine files")
    seen: dict[str, str] = {}
    for routine in routines.values():
        for area in routine.areas:
            if area in seen:
                raise ContentError(f"area '{area}' belongs to both {seen[area]} and {routine.id}")
            seen[area] = routine.id

    paces, default_pace = parse_paces("paces.toml", _read(folder / "paces.toml"))

    prompts_file = _read(folder / "prompts.toml")
    speech = prompts_file.get("speech")
    if not isinstance(speech, dict) or not all(isinstance(v, str) for v in speech.values()):
        raise ContentError("prompts.toml: [speech] must map keys to strings")
    disclaimer = prompts_file.get("disclaimer") or {}
    return Library(
        routines=routines,
        paces=paces,
        default_pace=default_pace,
        prompts=dict(speech),
        disclaimer_text=_text("prompts.toml [disclaimer]", disclaimer, "text"),
        disclaimer_version=_int("prompts.toml [disclaimer]", disclaimer, "version", 1, 10_000),
    )


@functools.cache
def default_library() -> Library:
    """The content from the default folder, loaded once per container."""
    return load_library()
