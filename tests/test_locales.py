"""Every English-speaking Alexa market: locale is a dimension of the content.

The base content is en-US; en-GB, en-CA, en-AU and en-IN are overlays of only what differs
(routines/locales/). Each locale renders within Alexa's limits and is spoken, from its own
interaction model, through the real lambda_handler.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pelvic_ease.alexa_api import known_zone
from pelvic_ease.content import ContentError, load_library, supported_locale
from pelvic_ease.engine import Engine, Position
from pelvic_ease.markets import BASE_LOCALE, LOCALES, MARKETS
from pelvic_ease.speech import MAX_SILENCE_RUN_SECONDS, render, silent_runs
from sim.driver import LOCALES as MODEL_LOCALES
from sim.driver import Conversation, LambdaContext, Reply
from sim.ssml_reader import read_ssml
from tests.support import ROOT
from tests.test_rendering import all_segments, every_way_of_saying

CONTENT = ROOT / "routines"
OVERLAID = [locale for locale in LOCALES if locale != BASE_LOCALE]
BASE = load_library()
LIBRARIES = {locale: load_library(locale=locale) for locale in LOCALES}


def overlay(locale: str) -> dict[str, Any]:
    with (CONTENT / "locales" / f"{locale}.toml").open("rb") as handle:
        return tomllib.load(handle)


def test_every_market_has_content_a_model_and_a_zone() -> None:
    assert set(MODEL_LOCALES) == set(LOCALES)
    assert {path.stem for path in (CONTENT / "locales").glob("*.toml")} == set(OVERLAID)
    for market in MARKETS:
        assert known_zone(market.zone), market
        assert (ROOT / "events" / f"launch_{market.locale}.json").is_file() or market.locale == BASE_LOCALE


@pytest.mark.parametrize("locale", OVERLAID)
def test_an_overlay_holds_only_what_differs(locale: str) -> None:
    patch = overlay(locale)
    library = LIBRARIES[locale]
    assert library.locale == locale
    for key, text in patch.get("speech", {}).items():
        assert text != BASE.prompts[key], f"{locale} [speech] {key} says what the base says"
        assert library.prompts[key] == text
    if "disclaimer" in patch:
        assert patch["disclaimer"]["text"] != BASE.disclaimer_text
        assert library.disclaimer_text == patch["disclaimer"]["text"]
    # the structure is the base's: the same routines, steps, timing and areas
    for routine_id, routine in BASE.routines.items():
        ours = library.routines[routine_id]
        assert [(s.breaths, s.silence, s.areas, s.side) for s in ours.steps] == [
            (s.breaths, s.silence, s.areas, s.side) for s in routine.steps
        ]
    assert library.paces == BASE.paces
    assert library.length_minutes == BASE.length_minutes
    assert library.disclaimer_version == BASE.disclaimer_version


@pytest.mark.parametrize(
    ("locale", "words", "instead_of"),
    [
        ("en-GB", "anticlockwise", "counter-clockwise"),
        ("en-GB", "practised", "practiced"),
        ("en-GB", "physiotherapist", "physical therapist"),
        ("en-AU", "physio", "physical therapist"),
        ("en-IN", "anticlockwise", "counter-clockwise"),
        ("en-CA", "physiotherapist", "physical therapist"),
    ],
)
def test_a_locale_says_its_own_words(locale: str, words: str, instead_of: str) -> None:
    def everything(locale: str) -> str:
        library = LIBRARIES[locale]
        steps = [s.title for r in library.routines.values() for s in r.steps]
        return " ".join([library.disclaimer_text, *library.prompts.values(), *steps])

    assert words in everything(locale)
    assert instead_of not in everything(locale)
    assert instead_of in everything(BASE_LOCALE)


@pytest.mark.parametrize("locale", [None, "", "de-DE", "en-ZA", "fr-CA"])
def test_any_other_locale_gets_the_base_content(locale: str | None) -> None:
    assert supported_locale(locale) == BASE_LOCALE


def write_overlay(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "routines"
    folder.mkdir()
    for path in CONTENT.glob("*.toml"):
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "locales").mkdir()
    (folder / "locales" / "en-GB.toml").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ('[speech]\nno_such_prompt = "Hello."\n', "'no_such_prompt' is not in the base content"),
        ('[routine.psoas_release.steps.99]\ntitle = "x"\n', "'99' is not a step number"),
        ('[routine.no_such_routine]\nname = "x"\n', "no routine named no_such_routine"),
        ("[speech]\nmenu = 3\n", "an overlay replaces text only"),
        ("[lengths]\nshort = 6\n", r"unknown field\(s\) \['lengths'\]"),  # numbers are the base's alone
        ('routine = "psoas_release"\n', r"\[routine\] must be a table"),
    ],
)
def test_a_bad_overlay_is_refused_naming_the_fault(tmp_path: Path, text: str, fault: str) -> None:
    with pytest.raises(ContentError, match=fault):
        load_library(write_overlay(tmp_path, text), locale="en-GB")


def test_prompts_without_length_words_are_refused(tmp_path: Path) -> None:
    folder = write_overlay(tmp_path, "")
    prompts = (folder / "prompts.toml").read_text(encoding="utf-8")
    (folder / "prompts.toml").write_text(prompts.split("[lengths]")[0], encoding="utf-8")
    with pytest.raises(ContentError, match=r"\[lengths\] must map length words to minutes"):
        load_library(folder)


ROUTINES = sorted(BASE.routines)


@pytest.mark.parametrize("locale", OVERLAID)
@pytest.mark.parametrize("routine_id", ROUTINES)
def test_every_routine_renders_within_limits_in_every_locale(locale: str, routine_id: str) -> None:
    library = LIBRARIES[locale]
    engine = Engine(library)
    lead = len(library.disclaimer_text) + 200  # the longest thing said before a segment, in characters
    for pace in library.paces.values():
        for minutes in (None, *library.routines[routine_id].lengths):
            for step, part in all_segments(routine_id, pace.id, minutes, engine):
                position = Position(routine_id, step, part)
                where = f"{locale} {routine_id} {pace.id} {minutes} step {step + 1} part {part + 1}"
                for segment in every_way_of_saying(position, pace.id, minutes, engine=engine):
                    ssml = f"<speak>{render(segment.script, pace.rate)}</speak>"
                    spoken = read_ssml(ssml)
                    assert spoken.problems == (), where
                    assert len(ssml) + lead < 8000, where
                    assert max(silent_runs(spoken.parts), default=0) <= MAX_SILENCE_RUN_SECONDS, where
                    assert spoken.seconds <= 200, where  # room within 240 s for the lead


@pytest.mark.parametrize("locale", LOCALES)
def test_a_journey_in_each_locale(handler: Callable[..., dict[str, Any]], locale: str) -> None:
    # GIVEN a new user on a device in this locale
    library = LIBRARIES[locale]
    conv = Conversation(handler, locale=locale)
    # WHEN they open the skill, ask for the belly and go through it
    first = conv.say("open pelvic ease")
    assert library.disclaimer_text in first.text
    belly = conv.say("massage my tummy")
    routine = library.routines["daily_massage.lower_abdomen"]
    assert belly.text.startswith(library.say("routine_start", routine=routine.name))
    second = conv.say("next")
    assert routine.steps[1].title in second.text
    end = second
    while library.say("another_offer") not in end.text:
        end = conv.say("next")
    # THEN the end, the report and the menu are in the locale's words
    report = conv.say("how am I doing")
    assert report.text.startswith(library.say("report", week=1, total=1))
    assert conv.say("no").text == library.say("goodbye")


def test_british_english_is_heard_on_a_british_device(handler: Callable[..., dict[str, Any]]) -> None:
    conv = Conversation(handler, locale="en-GB")
    conv.say("open pelvic ease")
    conv.say("massage my tummy")
    conv.say("next")
    assert "Step 3 of 3: lower belly, anticlockwise." in conv.say("next").text
    assert "practised" in conv.say("how am I doing").text
    american = Conversation(handler)
    assert "doctor or a physical therapist" in american.say("open pelvic ease").text


def test_a_locale_without_content_of_its_own_hears_the_base(handler: Callable[..., dict[str, Any]]) -> None:
    conv = Conversation(handler)
    conv.start_session()
    envelope = conv.envelope({"type": "LaunchRequest"})
    envelope["request"]["locale"] = "en-ZA"  # not a market of ours
    reply = Reply(envelope, handler(envelope, LambdaContext()))
    assert reply.problems() == []
    assert BASE.disclaimer_text in reply.text
