"""What people say to a guide, and whether the skill does the right thing with it.

The corpus (``tests/corpus/<locale>.toml``) is sentences written fresh, the way a person
lying down talks, each with the behaviour it must get: stop and help (a red flag, another
symptom), check first (a contraindication), an answer, navigation (everyday words), an
honest decline, or a routine started (the check-in). Each sentence is said in the states
its table names, on a device in its locale, through the real Lambda handler, understood by
the simulator's nearest-sample matcher (``sim.driver.InteractionModel(approximate=True)``:
the proxy of Alexa's understanding, see docs/simulator.md), and the reply is judged by what
the skill did (what it said, from the locale's own content, where the place is, what the
player was told), not by the intent it was heard as.

The states: ``menu`` (just opened), ``massage`` (the daily massage, lower belly, spoken),
``ball`` (the psoas release, asked "Do you have a tennis ball handy?"), ``relaxation`` (a
ten minute relaxation, spoken on a device without a player) and ``playback`` (that
relaxation playing straight through; the sentence is said as "Alexa, tell Pelvic Ease ...").

    make understanding                       # the table, every locale
    make understanding ARGS="en-GB -v"       # one locale, and every sentence missed
    make understanding ARGS=--holdout        # the held-out sentences
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import re
import sys
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pelvic_ease import app
from pelvic_ease.audio import AudioLibrary
from pelvic_ease.content import Library, load_library
from pelvic_ease.memory_table import MemoryTable
from pelvic_ease.progress import Progress
from pelvic_ease.repository import ProgressKey
from pelvic_ease.settings import Settings
from pelvic_ease.skill import build_skill, use_skill
from sim.driver import DEFAULT_SKILL_ID, Clock, Conversation, InteractionModel, Reply, Resolved, model_path
from sim.player import Player, fetch_length_ms

CORPUS = Path(__file__).resolve().parent / "corpus"
# Sentences written after the model was tuned on CORPUS, measured once and never tuned on:
# how the listening generalises (reported, not held to a threshold).
HOLDOUT = CORPUS / "holdout"
LOCALES = ("en-US", "en-GB", "en-CA", "en-AU", "en-IN")
STATES = ("menu", "massage", "ball", "relaxation", "playback")
# A table of the corpus names a group of states, or one state.
GROUPS: dict[str, tuple[str, ...]] = {
    "any": ("menu", "massage", "relaxation", "playback"),
    "spoken": ("menu", "massage", "relaxation"),
    "routine": ("massage", "relaxation"),
    **{state: (state,) for state in STATES},
}
CATEGORIES = ("red_flag", "symptom", "check_first", "answer", "navigation", "decline", "start")
# What must be right every time, in every locale; the rest at least THRESHOLD.
ALWAYS = ("red_flag", "check_first")
THRESHOLD = 0.9
EXACT, NEAREST, FALLBACK = "exact", "nearest", "fallback"
QUESTION_WORDS = (
    "what",
    "where",
    "how",
    "why",
    "is",
    "can",
    "could",
    "should",
    "do",
    "does",
    "will",
    "when",
    "am",
)


@dataclass(frozen=True)
class Case:
    """One sentence, said in one state, and the behaviour it must get (``what``: which
    symptom, condition, answer, move or decline, as the corpus names it)."""

    locale: str
    category: str
    what: str
    state: str
    text: str


def load_corpus(locale: str, folder: Path = CORPUS) -> list[Case]:
    """Every (sentence, state) of the locale's corpus file."""
    data = tomllib.loads((folder / f"{locale}.toml").read_text(encoding="utf-8"))
    cases = []
    for category, groups in data.items():
        if category not in CATEGORIES:
            raise ValueError(f"{locale}.toml: unknown category {category!r}")
        for group, table in groups.items():
            for what, sentences in table.items():
                for text in sentences:
                    cases.extend(Case(locale, category, what, state, text) for state in GROUPS[group])
    return cases


def sentences(locale: str) -> set[str]:
    return {case.text for case in load_corpus(locale)}


@dataclass
class Heard:
    """How the matcher took a sentence: an exact sample, its nearest sample, or the fallback."""

    how: str
    intent: str
    sample: str | None = None


@dataclass
class Result:
    case: Case
    heard: Heard
    right: bool
    why: str = ""  # what was wrong
    said: str = ""  # the reply's words


class Model(InteractionModel):
    """The locale's model in approximate mode, each sentence resolved once (a sentence said
    in several states is heard the same way in each)."""

    def __init__(self, locale: str) -> None:
        super().__init__(model_path(locale), approximate=True)
        self._seen: dict[str, Resolved] = {}

    def resolve(self, utterance: str) -> Resolved:
        if utterance not in self._seen:
            self._seen[utterance] = super().resolve(utterance)
        return self._seen[utterance]

    def heard(self, utterance: str) -> Heard:
        resolved = self.resolve(utterance)
        if resolved.intent == "AMAZON.FallbackIntent":
            return Heard(FALLBACK, resolved.intent)
        if resolved.approximation is not None:
            return Heard(NEAREST, resolved.intent, resolved.approximation)
        return Heard(EXACT, resolved.intent)


# -- the states ---------------------------------------------------------------------------
@dataclass
class Snapshot:
    """A conversation paused in a state, to be taken up again for each sentence."""

    records: dict[Any, Any]
    attributes: dict[str, Any]
    session_open: bool
    now: float
    user_id: str
    device_id: str
    last: Reply
    player: dict[str, Any] | None = None


@dataclass
class Bench:
    """The real skill on an in-memory table, one locale's devices, and the states prepared once."""

    locale: str
    audio: AudioLibrary | None
    clock: Clock = field(default_factory=Clock)
    table: MemoryTable = field(default_factory=MemoryTable)
    snapshots: dict[str, Snapshot] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.model = Model(self.locale)
        self.library = load_library(locale=self.locale)
        self.skill = build_skill(
            Settings(table_name="understanding", skill_id=DEFAULT_SKILL_ID),
            table=self.table,
            clock=self.clock,
            audio=self.audio,
        )

    def device(self, player: bool) -> Conversation:
        measured = Player(self.clock, measure=measured_length) if player else None
        return Conversation(app.lambda_handler, model=self.model, locale=self.locale, player=measured)

    def prepare(self, state: str) -> Snapshot:
        if state not in self.snapshots:
            use_skill(self.skill)
            conv = self.device(player=state == "playback")
            last = SETUPS[state](conv, self.library)
            player = None
            if conv.player is not None:
                player = {k: copy.copy(v) for k, v in vars(conv.player).items() if k != "conversation"}
            self.snapshots[state] = Snapshot(
                copy.deepcopy(self.table.records),
                copy.deepcopy(conv.session_attributes),
                conv.session_id is not None,
                self.clock.now,
                conv.user_id,
                conv.device_id,
                last,
                player,
            )
        return self.snapshots[state]

    def restore(self, snapshot: Snapshot) -> Conversation:
        self.table.records = copy.deepcopy(snapshot.records)
        self.clock.now = snapshot.now
        conv = self.device(player=snapshot.player is not None)
        conv.user_id, conv.device_id = snapshot.user_id, snapshot.device_id
        if snapshot.player is not None:
            assert conv.player is not None
            for name, value in snapshot.player.items():
                setattr(conv.player, name, copy.copy(value))
        if snapshot.session_open:
            conv.start_session()
            conv._new = False
            conv.session_attributes = copy.deepcopy(snapshot.attributes)
        return conv

    def stored(self, conv: Conversation) -> Progress:
        return Progress.from_dict(self.table.get(ProgressKey.of(conv.user_id)))

    def run(self, case: Case) -> Result:
        use_skill(self.skill)
        snapshot = self.prepare(case.state)
        conv = self.restore(snapshot)
        heard = self.model.heard(case.text)
        before = len(conv.replies)
        utterance = case.text
        if case.state == "playback":
            verb = "ask" if case.text.lower().startswith(QUESTION_WORDS) else "tell"
            utterance = f"{verb} pelvic ease {case.text}"
        reply = conv.say(utterance)
        turn = Turn(self, case, snapshot, conv, reply, conv.replies[before:])
        why = judge(turn)
        return Result(case, heard, why == "", why, reply.text)


@functools.cache
def measured_length(url: str) -> int:
    return fetch_length_ms(url)


def next_until(conv: Conversation, done: Callable[[Reply], bool], limit: int = 40) -> Reply:
    reply = conv.replies[-1]
    for _ in range(limit):
        if done(reply):
            return reply
        reply = conv.say("next")
    raise AssertionError(f"never reached the state: {reply.text[:200]}")


def opened(conv: Conversation, library: Library) -> Reply:
    return conv.say("open pelvic ease")


def mid_massage(conv: Conversation, library: Library) -> Reply:
    conv.say("open pelvic ease")
    conv.say("start the daily massage")
    return conv.say("next")  # step 2: the lower belly, clockwise


def at_the_ball(conv: Conversation, library: Library) -> Reply:
    conv.say("open pelvic ease")
    conv.say("release my psoas")
    question = next(step.ask for step in library.routines["psoas_release"].steps if step.optional)
    return next_until(conv, lambda reply: question in reply.text)


def mid_relaxation(conv: Conversation, library: Library) -> Reply:
    conv.say("open pelvic ease")
    conv.say("a ten minute relaxation")
    return conv.say("next")  # step 2: belly breathing


def playing(conv: Conversation, library: Library) -> Reply:
    conv.say("open pelvic ease")
    reply = conv.say("a ten minute relaxation")
    assert conv.player is not None
    assert reply.audio_directives, "the relaxation did not play"
    conv.wait(150)  # into the second step's file
    return reply


SETUPS: dict[str, Callable[[Conversation, Library], Reply]] = {
    "menu": opened,
    "massage": mid_massage,
    "ball": at_the_ball,
    "relaxation": mid_relaxation,
    "playback": playing,
}


# -- judging a reply -------------------------------------------------------------------------
@dataclass
class Turn:
    """One sentence said: the reply and everything around it, for the judges."""

    bench: Bench
    case: Case
    snapshot: Snapshot
    conv: Conversation
    reply: Reply
    replies: list[Reply]

    @property
    def library(self) -> Library:
        return self.bench.library

    @property
    def text(self) -> str:
        return plain(self.reply.text)

    def says(self, key: str, **fields: object) -> bool:
        """The reply speaks the prompt ``key`` (the part before any placeholder not given)."""
        words = fragment(self.library, key, **fields)
        return bool(words) and words in self.text

    def says_text(self, words: str | None) -> bool:
        return bool(words) and plain(words or "") in self.text

    @property
    def before(self) -> Progress:
        return Progress.from_dict(self.snapshot.records.get(ProgressKey.of(self.conv.user_id)))

    @property
    def after(self) -> Progress:
        return self.bench.stored(self.conv)

    @property
    def ended(self) -> bool:
        return not self.reply.session_open

    @property
    def mode(self) -> str | None:
        return self.reply.session_attributes.get("mode") if self.reply.session_open else None

    def directives(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.reply.audio_directives if d.get("type") == f"AudioPlayer.{kind}"]

    @property
    def stopped(self) -> bool:
        return bool(self.directives("Stop"))

    @property
    def played(self) -> bool:
        return bool(self.directives("Play"))

    @property
    def in_routine(self) -> bool:
        return self.case.state in ("massage", "relaxation", "ball")

    @property
    def place_unmoved(self) -> bool:
        return self.after.position == self.before.position

    def offers_a_massage(self) -> bool:
        suggested = self.reply.session_attributes.get("suggested") if self.reply.session_open else None
        routine = suggested[0] if isinstance(suggested, list) and suggested else None
        relaxations = {r.id for r in self.library.routines.values() if "relaxation" in r.areas}
        return self.says("menu") or (routine is not None and routine not in relaxations)


def plain(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("’", "'")).strip().lower()


def fragment(library: Library, key: str, **fields: object) -> str:
    """The prompt's words up to its first placeholder that ``fields`` does not fill."""
    template = library.prompts.get(key)
    if template is None:
        return ""
    for name, value in fields.items():
        template = template.replace(f"{{{name}}}", str(value))
    return plain(template.split("{", 1)[0])


Check = Callable[[Turn], str]


def needs(*checks: tuple[bool, str]) -> str:
    """The first failed condition's reason, or "" when all hold."""
    return next((reason for ok, reason in checks if not ok), "")


def no_say_next(turn: Turn) -> bool:
    return "say next" not in turn.text


def stops_and_marks(turn: Turn) -> str:
    """In a routine or a played one: the routine stops there, the place kept and marked."""
    if turn.case.state == "playback":
        return needs((turn.stopped, "our stream plays on"), (turn.after.hurt == 1, "the place is not marked"))
    if turn.in_routine:
        return needs(
            (turn.ended or turn.mode != "routine", "the routine goes on"),
            (turn.after.hurt == 1, "the place is not marked"),
            (turn.after.position == turn.before.position, "the place moved"),
        )
    return ""


def red_flag(turn: Turn) -> str:
    return needs((turn.says("red_flag"), "no red-flag help")) or stops_and_marks(turn)


def symptom(turn: Turn) -> str:
    return needs(
        (turn.says("symptom_stop"), "no stop-and-rest"), (no_say_next(turn), "says 'say next'")
    ) or stops_and_marks(turn)


def check_first(turn: Turn) -> str:
    found = needs(
        (turn.says("safety_answer"), "no check-first answer"),
        (not turn.offers_a_massage(), "offers a massage"),
    )
    if found:
        return found
    if turn.case.state == "massage":
        return needs((turn.ended or turn.mode != "routine", "the massage goes on"))
    if turn.case.state == "playback":
        return needs((turn.stopped, "our stream plays on"))
    return ""


def keeps_place(turn: Turn) -> str:
    """After an answer: where the user was is where "next" goes on from."""
    if turn.case.state == "playback":
        return needs(
            (not turn.stopped and not turn.played, "the stream was changed"),
            (turn.ended, "a session left open while it plays"),
            (not turn.says("menu"), "the menu offered"),
        )
    if turn.in_routine:
        return needs(
            (turn.mode == turn.snapshot.attributes.get("mode"), "left the routine"),
            (turn.place_unmoved, "the place moved"),
        )
    return ""


def answer_words(turn: Turn) -> bool:
    what = turn.case.what
    answers: dict[str, str] = getattr(turn.library, "answers", {}) or {}
    if what in answers:
        return turn.says_text(answers[what])
    keys = {
        "why": "why_answer",
        "next": "whats_next",
        "how_long": "time_left",
        "about": "about_routine",
        "lengths": "routine_lengths",
    }
    if what == "how_long" and turn.says("time_left_short"):
        return True
    if what == "lengths":  # each routine with its length
        return (turn.says("list_routines") or turn.says("routine_lengths")) and "minutes" in turn.text
    return turn.says(keys.get(what, what))


def answer(turn: Turn) -> str:
    return needs((answer_words(turn), f"no answer about {turn.case.what}")) or keeps_place(turn)


DECLINES = {"kegels": "why_no_kegels", "internal": "external_only", "music": "no_music"}


def decline(turn: Turn) -> str:
    what = turn.case.what
    if what == "area":
        said = turn.says("unknown_area") and "i don't have a routine for" in turn.text
    else:
        said = turn.says(DECLINES[what])
    return needs(
        (said, f"not declined as {what}"),
        (" yet" not in f" {turn.text}".replace(" yet.", " yet "), "says 'yet'"),
        (not (turn.case.state == "playback" and turn.played), "the stream was changed"),
    ) or (keeps_place(turn) if turn.in_routine else "")


def step_header(turn: Turn, step: int) -> str:
    routine = turn.before.position.routine_id if turn.before.position else ""
    total = len(turn.library.routines[routine].steps) if routine else 0
    return plain(f"Step {step} of {total}")


def nav_next(turn: Turn) -> str:
    before, after = turn.before.position, turn.after.position
    moved = after is None or (
        before is not None and (after.step, after.segment) > (before.step, before.segment)
    )
    return needs((moved, "did not go on"))


def nav_previous(turn: Turn) -> str:
    if turn.case.state == "playback":
        return needs((turn.played, "the stream did not go back"))
    before, after = turn.before.position, turn.after.position
    went_back = before is not None and after is not None and after.step < before.step
    return needs(
        (went_back or turn.says("at_first_step"), "did not go back"),
        (not turn.says("pace_changed"), "read as a pace"),
    )


def nav_repeat(turn: Turn) -> str:
    if turn.in_routine:
        return needs((plain(turn.snapshot.last.text) in turn.text, "did not say it again"))
    return needs((turn.says("menu"), "did not say the menu again"))


def nav_stop(turn: Turn) -> str:
    if turn.case.state == "playback":
        return needs((turn.stopped, "our stream plays on"))
    return needs(
        (turn.ended, "the session stays open"),
        (
            not turn.in_routine or turn.says("stop_in_routine") or turn.says("later"),
            "the place not said kept",
        ),
        (not turn.in_routine or turn.place_unmoved, "the place moved"),
    )


def nav_wait(turn: Turn) -> str:
    key = "wait_routine" if turn.in_routine else "wait_menu"
    return needs((turn.says(key), "no 'take your time'"), (turn.place_unmoved, "the place moved"))


def said_then_kept(key: str) -> Check:
    def check(turn: Turn) -> str:
        return needs((turn.says(key), f"no {key}")) or keeps_place(turn)

    return check


def said(key: str) -> Check:
    def check(turn: Turn) -> str:
        return needs((turn.says(key), f"no {key}"))

    return check


def nav_asleep(turn: Turn) -> str:
    if turn.case.state == "playback":
        return needs((turn.played, "did not go back to where they drifted off"))
    before = turn.before.position
    header = step_header(turn, before.step + 1) if before else ""
    return needs((bool(header) and header in turn.text, "did not go back to the start of the step"))


def nav_no_ball(turn: Turn) -> str:
    outro = turn.library.routines["psoas_release"].outro
    return needs((turn.says_text(outro), "did not close the routine"))


def nav_get_ball(turn: Turn) -> str:
    return needs(
        (turn.mode == "extra_offer", "the question was not kept open"),
        (turn.says("hold_extra"), "no 'take your time'"),
    )


def nav_later(turn: Turn) -> str:
    return needs(
        (turn.ended, "the session stays open"),
        (turn.says("later"), "no 'tomorrow, say ...'"),
        (turn.place_unmoved, "the place moved"),
    )


def nav_resume(turn: Turn) -> str:
    return needs((not turn.played, "rewound the stream"), (not turn.stopped, "stopped the stream"))


def nav_pace(turn: Turn) -> str:
    return needs(
        (turn.says("pace_next_time"), "no 'from next time'"),
        (not turn.played and not turn.stopped, "the stream was changed"),
        (not turn.says("menu"), "the menu offered"),
    )


def nav_help(turn: Turn) -> str:
    return needs((turn.says("help_routine" if turn.in_routine else "help_menu"), "no help"))


NAVIGATION: dict[str, Check] = {
    "next": nav_next,
    "previous": nav_previous,
    "repeat": nav_repeat,
    "stop": nav_stop,
    "wait": nav_wait,
    "thanks": said_then_kept("thanks"),
    "asleep": nav_asleep,
    "cold": said_then_kept("cold_answer"),
    "volume": said_then_kept("volume_answer"),
    "other_side": said_then_kept("other_side_none"),
    "no_ball": nav_no_ball,
    "get_ball": nav_get_ball,
    "later": nav_later,
    "resume": nav_resume,
    "pace": nav_pace,
    "help": nav_help,
    # reminders (none can be reached here: no Alexa API in the envelope)
    "checkins": said("checkins_offer"),
    "reminders": said("reminder_none"),
    "cancel_checkins": said("checkins_none"),
    # the plan (the bench's listener has none)
    "plan_start": said("plan_intro"),
    "plan_today": said("today_no_plan"),
    "plan_status": said("plan_none"),
    "plan_week": said("week_none"),
    "plan_pause": said("plan_none_to_pause"),
}


def navigation(turn: Turn) -> str:
    return NAVIGATION[turn.case.what](turn)


def start(turn: Turn) -> str:
    """A routine asked for (``what``: its id): it begins, spoken, asked how to play or played;
    with another one under way, the question whether to leave it for this one, the place kept."""
    name = turn.library.routines[turn.case.what].name
    begun = any(turn.says(key, routine=name) for key in ("routine_start", "play_offer", "play_start"))
    if begun:
        return ""
    switch = turn.mode == "switch_offer" and plain(name) in turn.text
    return needs((switch, f"did not start the {name}"), (turn.place_unmoved, "the place moved"))


JUDGES: dict[str, Check] = {
    "start": start,
    "red_flag": red_flag,
    "symptom": symptom,
    "check_first": check_first,
    "answer": answer,
    "navigation": navigation,
    "decline": decline,
}


def judge(turn: Turn) -> str:
    try:
        return JUDGES[turn.case.category](turn)
    except (KeyError, AttributeError, IndexError) as error:  # content the skill does not have yet
        return f"cannot judge: {error!r}"


# -- measuring --------------------------------------------------------------------------------
def measure(locale: str, audio: AudioLibrary | None, folder: Path = CORPUS) -> list[Result]:
    bench = Bench(locale, audio)
    try:
        return [bench.run(case) for case in load_corpus(locale, folder)]
    finally:
        use_skill(None)


@dataclass(frozen=True)
class Share:
    right: int
    total: int

    @property
    def ratio(self) -> float:
        return self.right / self.total if self.total else 1.0

    def __str__(self) -> str:
        return f"{round(100 * self.ratio):>3}%" if self.total else "   -"


def shares(results: list[Result]) -> dict[tuple[str, str], Share]:
    """(category, state) -> the share right."""
    found: dict[tuple[str, str], Share] = {}
    for result in results:
        key = (result.case.category, result.case.state)
        old = found.get(key, Share(0, 0))
        found[key] = Share(old.right + result.right, old.total + 1)
    return found


def table(by_locale: dict[str, list[Result]]) -> str:
    """Category × state × locale → the share with the right behaviour, and how each was heard."""
    lines = []
    header = f"{'':<12}{'':<11}" + "".join(f"{locale:>7}" for locale in by_locale)
    lines.append(header)
    counted = {locale: shares(results) for locale, results in by_locale.items()}
    for category in CATEGORIES:
        for state in STATES:
            cells = [counted[locale].get((category, state)) for locale in by_locale]
            if not any(cells):
                continue
            row = "".join(f"{str(cell) if cell else '   -':>7}" for cell in cells)
            lines.append(f"{category:<12}{state:<11}{row}")
        totals = [
            Share(
                sum(s.right for (c, _), s in counted[locale].items() if c == category),
                sum(s.total for (c, _), s in counted[locale].items() if c == category),
            )
            for locale in by_locale
        ]
        lines.append(f"{category:<12}{'(all)':<11}" + "".join(f"{t!s:>7}" for t in totals))
    heard = []
    for locale, results in by_locale.items():
        unique = {r.case.text: r.heard.how for r in results}
        counts = {how: sum(1 for h in unique.values() if h == how) for how in (EXACT, NEAREST, FALLBACK)}
        heard.append(f"{locale}: " + ", ".join(f"{n} {how}" for how, n in counts.items()))
    total = sum(len(r) for r in by_locale.values())
    right = sum(r.right for results in by_locale.values() for r in results)
    lines.append(
        f"right: {right} of {total} ({100 * right / total:.1f} %); sentences heard as " + "; ".join(heard)
    )
    return "\n".join(lines)


def misses(results: list[Result]) -> Iterator[str]:
    for r in results:
        if not r.right:
            sample = f" ~ {r.heard.sample!r}" if r.heard.sample else ""
            yield (
                f"{r.case.locale} {r.case.state:<10} {r.case.category}/{r.case.what}: {r.case.text!r} "
                f"-> {r.heard.how} {r.heard.intent}{sample}: {r.why} | {r.said[:120]}"
            )


def below_threshold(results: list[Result]) -> list[str]:
    """The (category, state) cells of one locale below what they must reach."""
    failing = []
    for (category, state), share in shares(results).items():
        need = 1.0 if category in ALWAYS else THRESHOLD
        if share.ratio < need:
            failing.append(f"{category} in {state}: {share} of {share.total} (needs {round(100 * need)} %)")
    return failing


def main(argv: list[str]) -> int:
    from pelvic_ease.audio import Manifest  # noqa: PLC0415
    from pelvic_ease.observability import logger  # noqa: PLC0415
    from sim.local_audio import audio_server, ensure_rendered  # noqa: PLC0415

    verbose = "-v" in argv
    folder = HOLDOUT if "--holdout" in argv else CORPUS
    locales = [a for a in argv if a in LOCALES] or list(LOCALES)
    manifest = ensure_rendered(quiet=True)
    logger.setLevel("ERROR")  # the turns' log lines and metrics are not the report
    with audio_server(manifest.parent) as url, contextlib.redirect_stdout(io.StringIO()):
        audio = AudioLibrary(Manifest.load(manifest), url)
        by_locale = {locale: measure(locale, audio, folder) for locale in locales}
    print(table(by_locale))
    if verbose:
        for results in by_locale.values():
            for line in misses(results):
                print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
