"""Routines, paces and prompts, loaded once from the TOML files in ``routines/`` (in the
artifact, from the build's parse of those files, ``COMPILED_FILE``, where it is of the same bytes).

The schema is documented in ``routines/README.md``; ``load_library`` enforces it and
raises ``ContentError`` naming the file and field at fault. At load time each routine's
one-sided steps are laid out for both sides, and a short focused routine is derived for
every step area that no whole routine claims ("massage my hips").
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .markets import BASE_LOCALE, LOCALES

SCHEMA_VERSION = 1
NON_CONTENT_FILES = {"prompts.toml", "paces.toml", "plans.toml"}
# The build's parse of every content file (tools/compile_content.py): each file's tables by
# its path in the folder, with a SHA-256 of the file's bytes. The TOML stays the source: a
# file whose digest differs, or one the build did not parse, is parsed from its TOML.
COMPILED_FILE = "compiled.json"
MAX_STEP_SILENCE_SECONDS = 600
# Side numbers of Step.side.
NO_SIDE, FIRST_SIDE, SECOND_SIDE = 0, 1, 2


class ContentError(ValueError):
    """A content file does not follow the schema."""


class Step(NamedTuple):
    """One step of a routine as the content files describe it."""

    title: str
    position: str
    instruction: str
    seconds: int
    breaths: int
    caution: str = ""
    exhale_cue: str = ""
    optional: bool = False
    areas: tuple[str, ...] = ()  # AREA slot ids this step serves (a focused routine takes it)
    settling: bool = False  # a short arrival step: every focused routine begins with it
    sided: bool = False  # done on one side, then the other (laid out twice at load time)
    side: int = NO_SIDE  # after that layout: FIRST_SIDE or SECOND_SIDE for a sided step
    ask: str = ""  # an optional step's yes/no question, asked instead of starting it
    setup: str = ""  # how to get into position from scratch (resuming at this step)
    silence: int = 0  # seconds of quiet held after the breathing, in short runs


class Focus(NamedTuple):
    """The words of a focused routine derived for one step area: ``[focus.<area>]``."""

    area: str
    name: str
    summary: str
    intro: str
    outro: str


class Routine(NamedTuple):
    """A routine: its words, the areas it serves and its steps (sided steps laid out twice)."""

    id: str
    name: str
    summary: str
    areas: tuple[str, ...]
    intro: str
    outro: str
    steps: tuple[Step, ...]
    exhale_cue: str = ""
    lengths: tuple[int, ...] = ()  # minutes a listener may ask for ("a ten minute relaxation")
    focus: tuple[Focus, ...] = ()  # words for the focused routines derived from this one
    parent: str | None = None  # the routine this focused one was derived from


class Pace(NamedTuple):
    """A breathing pace: counts of the breath, the speaking rate and the settle between steps."""

    id: str
    name: str
    inhale: int
    exhale: int
    rest: int
    rate: int
    settle: int  # seconds of quiet between steps when a routine plays straight through
    narration_wpm: int  # words a minute of that audio's narration (render/ only)


class Plan(NamedTuple):
    """A few weeks of daily practice that build up (``plans.toml``), counted in practice days:
    each week a relaxation of the week's length, the massage on some of its days."""

    id: str
    relaxation: str  # the routine of a relaxation day
    massage: str  # the routine of a massage day
    weeks: tuple[tuple[int, frozenset[int]], ...]  # each week: minutes, its massage days (1-based)
    days_per_week: int

    @property
    def days(self) -> int:
        return self.days_per_week * len(self.weeks)

    def week_of(self, done: int) -> int:
        """The week (0-based) of the plan day after ``done`` practice days (the last, once done)."""
        return min(done, self.days - 1) // self.days_per_week

    def session(self, done: int) -> tuple[str, int | None]:
        """The routine and length of the plan day after ``done`` practice days (the last day's,
        once the plan is done: it is kept up)."""
        day = min(done, self.days - 1)
        minutes, massage_days = self.weeks[day // self.days_per_week]
        if day % self.days_per_week + 1 in massage_days:
            return self.massage, None
        return self.relaxation, minutes


@dataclass(frozen=True)
class Library:
    """One locale's content: routines, paces, prompts, the disclaimer and the length words."""

    routines: dict[str, Routine]
    paces: dict[str, Pace]
    default_pace: str
    prompts: dict[str, str]
    disclaimer_text: str
    disclaimer_version: int
    length_minutes: dict[str, int]  # LENGTH slot id -> minutes ("a long relaxation")
    locale: str = BASE_LOCALE
    answers: dict[str, str] = field(default_factory=dict)  # TOPIC slot id (and "why") -> answer
    red_flags: frozenset[str] = frozenset()  # SYMPTOM slot ids that are red flags
    red_flag_parts: frozenset[str] = frozenset()  # BODY_PART ids where any symptom is a red flag
    pains: frozenset[str] = frozenset()  # SYMPTOM ids that are pain: answered as "it hurts" is
    soothed: dict[str, str] = field(default_factory=dict)  # SYMPTOM id answered, not stopped -> prompt key
    declined: dict[str, str] = field(default_factory=dict)  # AREA slot id never guided -> prompt key
    plans: dict[str, Plan] = field(default_factory=dict)
    default_plan: str | None = None  # the plan "start the plan" begins
    # every plan after a long gap: (more days than this without practice, practice days stepped back)
    plan_gap: tuple[int, int] = (7, 0)
    singular: dict[str, str] = field(default_factory=dict)  # a counted word -> its singular ("minute")

    def routine_for_area(self, area_id: str) -> Routine | None:
        """The whole routine that lists ``area_id``, else the focused routine for it."""
        for whole_first in (True, False):
            for routine in self.routines.values():
                if (routine.parent is None) == whole_first and area_id in routine.areas:
                    return routine
        return None

    @property
    def whole_routines(self) -> dict[str, Routine]:
        """The routines as written (no focused ones): for menus and lists."""
        return {key: r for key, r in self.routines.items() if r.parent is None}

    def pace(self, pace_id: str | None) -> Pace:
        return self.paces.get(pace_id or "", self.paces[self.default_pace])

    def say(self, key: str, **fields: object) -> str:
        """The prompt ``key`` with its placeholders filled (plain text, not yet escaped). A count
        of one takes the singular of the word after it ("about 1 minute"; ``[singular]``)."""
        return counted_once(self.prompts[key], fields, self.singular).format(**fields)


def counted_once(template: str, fields: dict[str, object], singular: dict[str, str]) -> str:
    """``template`` with the word after each placeholder whose count is one in the singular."""
    ones = [name for name, value in fields.items() if type(value) is int and value == 1]
    for name, (counted, one) in itertools.product(ones, singular.items()):
        template = template.replace(f"{{{name}}} {counted}", f"{{{name}}} {one}")
    return template


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


def _parse(path: Path, data: bytes) -> dict[str, Any]:
    import tomllib  # noqa: PLC0415 - only where the build has not parsed the file already

    try:
        return tomllib.loads(data.decode())
    except tomllib.TOMLDecodeError as error:
        raise ContentError(f"{path.name}: {error}") from error


def compile_tables(folder: Path) -> dict[str, Any]:
    """Every content file under ``folder`` parsed, by its path there, with the digest of its
    bytes: what the build writes as COMPILED_FILE."""
    compiled: dict[str, Any] = {}
    for path in sorted([*folder.glob("*.toml"), *folder.glob("locales/*.toml")]):
        data = path.read_bytes()
        table = _parse(path, data)
        if json.loads(json.dumps(table)) != table:  # only what JSON keeps as it is (no dates)
            raise ContentError(f"{path.name}: holds a value JSON cannot carry unchanged")
        compiled[path.relative_to(folder).as_posix()] = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "tables": table,
        }
    return compiled


@functools.cache
def _compiled(folder: Path) -> dict[str, Any]:
    try:
        compiled: dict[str, Any] = json.loads((folder / COMPILED_FILE).read_bytes())
    except FileNotFoundError:
        return {}
    return compiled


def _read(folder: Path, name: str) -> dict[str, Any]:
    """The tables of the content file ``name`` (a path in ``folder``): the build's parse if
    it is of these very bytes, else the TOML parsed now."""
    path = folder / name
    data = path.read_bytes()
    entry = _compiled(folder).get(name)
    if isinstance(entry, dict) and entry.get("sha256") == hashlib.sha256(data).hexdigest():
        tables: dict[str, Any] = entry["tables"]
        return tables
    return _parse(path, data)


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
    "areas",
    "settling",
    "sided",
    "ask",
    "setup",
    "silence",
}
FOCUS_FIELDS = {"name", "summary", "intro", "outro"}
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
    "focus",
}


def _bool(where: str, table: dict[str, Any], key: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise ContentError(f"{where}: '{key}' must be true or false")
    return value


def _ids(where: str, table: dict[str, Any], key: str, required: bool) -> tuple[str, ...]:
    value = table.get(key, [])
    if (
        not isinstance(value, list)
        or (required and not value)
        or not all(isinstance(a, str) and a.strip() for a in value)
        or len(set(value)) != len(value)
    ):
        wanted = "a non-empty list" if required else "a list"
        raise ContentError(f"{where}: '{key}' must be {wanted} of distinct slot value ids")
    return tuple(value)


def parse_step(where: str, table: dict[str, Any]) -> Step:
    _check_keys(where, table, STEP_FIELDS)
    step = Step(
        title=_text(where, table, "title"),
        position=_text(where, table, "position"),
        instruction=_text(where, table, "instruction"),
        seconds=_int(where, table, "seconds", 10, 1800),
        breaths=_int(where, table, "breaths", 0, 200),
        caution=_text(where, table, "caution", required=False),
        exhale_cue=_text(where, table, "exhale_cue", required=False),
        optional=_bool(where, table, "optional"),
        areas=_ids(where, table, "areas", required=False),
        settling=_bool(where, table, "settling"),
        sided=_bool(where, table, "sided"),
        ask=_text(where, table, "ask", required=False),
        setup=_text(where, table, "setup", required=False),
        silence=_int(where, table, "silence", 0, MAX_STEP_SILENCE_SECONDS) if "silence" in table else 0,
    )
    if step.optional and not step.ask:
        raise ContentError(f"{where}: 'ask' (a yes/no question) is required on an optional step")
    if step.ask and not step.optional:
        raise ContentError(f"{where}: 'ask' is only for an optional step")
    if step.ask and not step.ask.endswith("?"):
        raise ContentError(f"{where}: 'ask' must be a question ending with '?'")
    if step.sided and step.optional:
        raise ContentError(f"{where}: 'sided' and 'optional' cannot be combined")
    if step.settling and (step.areas or step.sided or step.optional):
        raise ContentError(f"{where}: a 'settling' step serves every area: no 'areas', 'sided' or 'optional'")
    return step


def both_sides(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    """Every run of consecutive sided steps, once for the first side and again for the second."""
    out: list[Step] = []
    run: list[Step] = []
    for step in (*steps, None):
        if step is not None and step.sided:
            run.append(step)
            continue
        out += [s._replace(side=FIRST_SIDE) for s in run] + [s._replace(side=SECOND_SIDE) for s in run]
        run = []
        if step is not None:
            out.append(step)
    return tuple(out)


def parse_focus(where: str, table: object) -> tuple[Focus, ...]:
    if not isinstance(table, dict):
        raise ContentError(f"{where}: 'focus' must hold one [focus.<area>] table per step area")
    out = []
    for area, spec in table.items():
        at = f"{where} [focus.{area}]"
        if not isinstance(spec, dict):
            raise ContentError(f"{at}: must be a table with {sorted(FOCUS_FIELDS)}")
        _check_keys(at, spec, FOCUS_FIELDS)
        out.append(
            Focus(
                area=area,
                name=_text(at, spec, "name"),
                summary=_text(at, spec, "summary"),
                intro=_text(at, spec, "intro"),
                outro=_text(at, spec, "outro"),
            )
        )
    return tuple(out)


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
    if not all(isinstance(s, dict) for s in steps):
        raise ContentError(f"{where}: 'steps' must be [[steps]] tables")
    parsed = tuple(parse_step(f"{where} step {i + 1}", s) for i, s in enumerate(steps))
    check_steps(where, parsed)
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
        steps=both_sides(parsed),
        lengths=tuple(sorted(lengths)),
        focus=parse_focus(where, table.get("focus", {})),
    )


def check_steps(where: str, steps: tuple[Step, ...]) -> None:
    """Rules on the order of steps, for written and derived routines alike."""
    if steps[0].optional:
        raise ContentError(f"{where}: the first step cannot be optional")
    for index, (step, after) in enumerate(itertools.pairwise(steps)):
        if step.optional and not after.optional:
            # "no" to an optional step ends the routine, so nothing required may follow one
            raise ContentError(f"{where} step {index + 1}: an optional step can only be followed by another")


def focused(parent: Routine, focus: Focus) -> Routine:
    """The settling steps and the steps serving ``focus.area``, as a routine of their own.
    A step that now follows a different step than it was written after is introduced by
    its ``setup`` (from scratch) rather than its ``position`` (relative to that step)."""
    steps: list[Step] = []
    taken: list[int] = []  # indices into parent.steps
    for index, step in enumerate(parent.steps):
        if step.settling or focus.area in step.areas:
            moved = index > 0 and (not taken or taken[-1] != index - 1)
            steps.append(step._replace(position=step.setup) if moved and step.setup else step)
            taken.append(index)
    return Routine(
        id=f"{parent.id}.{focus.area}",
        name=focus.name,
        summary=focus.summary,
        areas=(focus.area,),
        intro=focus.intro,
        outro=focus.outro,
        steps=tuple(steps),
        exhale_cue=parent.exhale_cue,
        parent=parent.id,
    )


def derive_focused(routines: dict[str, Routine]) -> dict[str, Routine]:
    """A focused routine for every step area that no whole routine lists; the focus words
    come from the routine whose steps serve it (only one routine may serve such an area)."""
    claimed = {area for routine in routines.values() for area in routine.areas}
    derived: dict[str, Routine] = {}
    served_by: dict[str, str] = {}
    for routine in routines.values():
        where = f"{routine.id}.toml"
        step_areas = {area for step in routine.steps for area in step.areas}
        focus = {f.area: f for f in routine.focus}
        for area in sorted(focus.keys() - step_areas):
            raise ContentError(f"{where}: [focus.{area}] names an area no step serves")
        for area in sorted(step_areas - claimed):
            if area in served_by:
                raise ContentError(
                    f"{where}: steps serve area '{area}', as in {served_by[area]}.toml: "
                    "list it in one routine's 'areas'"
                )
            if area not in focus:
                raise ContentError(f"{where}: steps serve area '{area}': add a [focus.{area}] table")
            served_by[area] = routine.id
            routine_focus = focused(routine, focus[area])
            check_steps(f"{where} [focus.{area}]", routine_focus.steps)
            derived[routine_focus.id] = routine_focus
    return derived


def parse_paces(where: str, table: dict[str, Any]) -> tuple[dict[str, Pace], str]:
    paces: dict[str, Pace] = {}
    for pace_id, spec in (table.get("paces") or {}).items():
        at = f"{where} pace {pace_id}"
        _check_keys(at, spec, {"name", "inhale", "exhale", "rest", "rate", "settle", "narration_wpm"})
        pace = Pace(
            id=pace_id,
            name=_text(at, spec, "name"),
            inhale=_int(at, spec, "inhale", 1, 10),
            exhale=_int(at, spec, "exhale", 1, 10),
            rest=_int(at, spec, "rest", 0, 10),
            rate=_int(at, spec, "rate", 20, 200),
            settle=_int(at, spec, "settle", 0, 30),
            narration_wpm=_int(at, spec, "narration_wpm", 80, 200),
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


def parse_plans(
    where: str, table: dict[str, Any], routines: dict[str, Routine]
) -> tuple[dict[str, Plan], str, tuple[int, int]]:
    """The plans, each checked against the routines it names; the default; the gap rule."""
    plans: dict[str, Plan] = {}
    for plan_id, spec in (table.get("plans") or {}).items():
        at = f"{where} plan {plan_id}"
        _check_keys(at, spec, {"relaxation", "massage", "days_per_week", "weeks"})
        relaxation, massage = _text(at, spec, "relaxation"), _text(at, spec, "massage")
        for name in (relaxation, massage):
            if name not in routines or routines[name].parent is not None:
                raise ContentError(f"{at}: {name!r} is not a routine")
        days_per_week = _int(at, spec, "days_per_week", 1, 7)
        weeks = []
        for number, week in enumerate(spec.get("weeks") or [], start=1):
            _check_keys(f"{at} week {number}", week, {"minutes", "massage_days"})
            minutes = _int(f"{at} week {number}", week, "minutes", 1, 60)
            if minutes not in routines[relaxation].lengths:
                raise ContentError(f"{at} week {number}: {minutes} is not a length of {relaxation}")
            days = week.get("massage_days") or []
            if not all(
                isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= days_per_week for d in days
            ):
                raise ContentError(f"{at} week {number}: 'massage_days' must be days 1 to {days_per_week}")
            weeks.append((minutes, frozenset(days)))
        if not weeks:
            raise ContentError(f"{at}: a plan needs at least one week")
        plans[plan_id] = Plan(
            id=plan_id,
            relaxation=relaxation,
            massage=massage,
            weeks=tuple(weeks),
            days_per_week=days_per_week,
        )
    default = table.get("default")
    if not plans or default not in plans:
        raise ContentError(f"{where}: 'default' must name one of the plans")
    gap = (_int(where, table, "step_back_after", 1, 60), _int(where, table, "step_back", 0, 28))
    return plans, default, gap


def supported_locale(locale: str | None) -> str:
    """The locale whose content answers ``locale``: itself if we have it, else the base."""
    return locale if locale in LOCALES else BASE_LOCALE


def overlaid(where: str, base: Any, patch: Any) -> Any:
    """``base`` with the texts ``patch`` replaces. A patch may only replace what is there: a
    table patches a table key by key, and a list of tables (a routine's steps) by the
    step's 1-based number ("[routine.psoas_release.steps.3]")."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            if key not in base:
                raise ContentError(f"{where}: '{key}' is not in the base content")
            merged[key] = overlaid(f"{where}.{key}", base[key], value)
        return merged
    if isinstance(base, list) and isinstance(patch, dict):
        items = list(base)
        for key, value in patch.items():
            if not key.isdigit() or not 1 <= int(key) <= len(items):
                raise ContentError(f"{where}: '{key}' is not a step number (1 to {len(items)})")
            items[int(key) - 1] = overlaid(f"{where}.{key}", items[int(key) - 1], value)
        return items
    if isinstance(base, str) and isinstance(patch, str):
        return patch
    raise ContentError(f"{where}: an overlay replaces text only")


def _load_routines(folder: Path, patches: dict[str, Any], where: str) -> dict[str, Routine]:
    """Every routine file (with its overlay patch), and the focused routines derived from them."""
    routines: dict[str, Routine] = {}
    for path in sorted(folder.glob("*.toml")):
        if path.name in NON_CONTENT_FILES:
            continue
        table = _read(folder, path.name)
        if path.stem in patches:
            table = overlaid(f"{where} [routine.{path.stem}]", table, patches[path.stem])
        routine = parse_routine(path.name, table)
        if routine.id != path.stem:
            raise ContentError(f"{path.name}: 'id' must equal the file name ({path.stem})")
        routines[routine.id] = routine
    if not routines:
        raise ContentError(f"{folder}: no routine files")
    unknown = set(patches) - set(routines)
    if unknown:
        raise ContentError(f"{where}: no routine named {', '.join(sorted(unknown))}")
    seen: dict[str, str] = {}
    for routine in routines.values():
        for area in routine.areas:
            if area in seen:
                raise ContentError(f"area '{area}' belongs to both {seen[area]} and {routine.id}")
            seen[area] = routine.id
    routines.update(derive_focused(routines))
    names: dict[str, str] = {}
    for routine in routines.values():
        named = (
            f"{routine.parent}.toml [focus.{routine.areas[0]}]" if routine.parent else f"{routine.id}.toml"
        )
        if routine.name in names:
            raise ContentError(f"{named}: 'name' {routine.name!r} is also the name of {names[routine.name]}")
        names[routine.name] = routine.id
    return routines


def load_library(content_dir: Path | None = None, locale: str = BASE_LOCALE) -> Library:
    """Read and validate every content file, with ``locale``'s overlay; raise ContentError
    on the first fault."""
    folder = content_dir or default_content_dir()
    locale = supported_locale(locale)
    overlay: dict[str, Any] = {}
    if locale != BASE_LOCALE:
        overlay = _read(folder, f"locales/{locale}.toml")
        _check_keys(f"locales/{locale}.toml", overlay, {"speech", "disclaimer", "routine", "answers"})
    where = f"locales/{locale}.toml"
    patches = overlay.get("routine", {})
    if not isinstance(patches, dict):
        raise ContentError(f"{where}: [routine] must be a table of routines")

    routines = _load_routines(folder, patches, where)

    paces, default_pace = parse_paces("paces.toml", _read(folder, "paces.toml"))
    plans, default_plan, plan_gap = parse_plans("plans.toml", _read(folder, "plans.toml"), routines)

    prompt_patch = {key: value for key, value in overlay.items() if key != "routine"}
    prompts_file = overlaid(where, _read(folder, "prompts.toml"), prompt_patch)
    speech = prompts_file.get("speech")
    if not isinstance(speech, dict) or not all(isinstance(v, str) for v in speech.values()):
        raise ContentError("prompts.toml: [speech] must map keys to strings")
    disclaimer = prompts_file.get("disclaimer") or {}
    lengths = prompts_file.get("lengths")
    if not isinstance(lengths, dict) or not lengths:
        raise ContentError("prompts.toml: [lengths] must map length words to minutes")
    understanding = parse_understanding(prompts_file, speech)
    return Library(
        routines=routines,
        paces=paces,
        default_pace=default_pace,
        prompts=dict(speech),
        disclaimer_text=_text("prompts.toml [disclaimer]", disclaimer, "text"),
        disclaimer_version=_int("prompts.toml [disclaimer]", disclaimer, "version", 1, 10_000),
        length_minutes={key: _int("prompts.toml [lengths]", lengths, key, 1, 120) for key in lengths},
        locale=locale,
        plans=plans,
        default_plan=default_plan,
        plan_gap=plan_gap,
        **understanding,
    )


def parse_understanding(prompts_file: dict[str, Any], speech: dict[str, str]) -> dict[str, Any]:
    """The Library's fields for what people say: ``[answers]`` (a topic's answer);
    ``[symptoms]``: ``red_flags`` (which symptoms are red flags), ``red_flag_parts`` (where any
    symptom is one: the chest) and ``soothed`` (feelings answered, not stopped for, each with
    its [speech] key); ``[declined]`` (areas never guided, with the [speech] key that says so)."""
    answers = prompts_file.get("answers", {})
    if not isinstance(answers, dict) or not all(isinstance(v, str) and v.strip() for v in answers.values()):
        raise ContentError("prompts.toml: [answers] must map topic ids to answers")
    symptoms = prompts_file.get("symptoms", {})
    symptoms = symptoms if isinstance(symptoms, dict) else {}
    where = "prompts.toml [symptoms]"
    return {
        "answers": {k: v.strip() for k, v in answers.items()},
        "red_flags": frozenset(_ids(where, symptoms, "red_flags", required=True)),
        "red_flag_parts": frozenset(_ids(where, symptoms, "red_flag_parts", required=False)),
        "pains": frozenset(_ids(where, symptoms, "pain", required=False)),
        "soothed": _keys_of_speech("[symptoms] soothed", symptoms.get("soothed", {}), speech),
        "declined": _keys_of_speech("[declined]", prompts_file.get("declined", {}), speech),
        "singular": _singular(prompts_file.get("singular", {})),
    }


def _singular(table: object) -> dict[str, str]:
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise ContentError("prompts.toml: [singular] must map counted words to their singular")
    return dict(table)


def _keys_of_speech(where: str, table: object, speech: dict[str, str]) -> dict[str, str]:
    if not isinstance(table, dict) or not all(v in speech for v in table.values()):
        raise ContentError(f"prompts.toml: {where} must map slot ids to keys of [speech]")
    return dict(table)


def default_library(locale: str | None = BASE_LOCALE) -> Library:
    """The content for ``locale`` from the default folder, loaded once per container."""
    return _default_library(supported_locale(locale))


@functools.cache
def _default_library(locale: str) -> Library:
    return load_library(locale=locale)
