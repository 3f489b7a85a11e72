"""The content files: schema enforcement, and the safety rules every sentence must keep."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pelvic_ease.content import ContentError, load_library
from tests.support import ROOT

LIB = load_library()
CONTENT = ROOT / "routines"
MASSAGE_ROUTINES = ["daily_massage", "psoas_release", "inner_thigh", "lower_back"]


def every_sentence() -> list[str]:
    texts = [LIB.disclaimer_text, *LIB.prompts.values()]
    for routine in LIB.routines.values():
        texts += [routine.intro, routine.outro, routine.summary]
        for step in routine.steps:
            texts += [step.title, step.position, step.instruction, step.caution, step.exhale_cue]
    return texts


def test_the_required_routines_exist() -> None:
    assert set(LIB.routines) >= {
        "down_training",
        "daily_massage",
        "psoas_release",
        "inner_thigh",
        "lower_back",
    }
    assert len([s for s in LIB.routines["psoas_release"].steps if not s.optional]) == 5
    assert len([s for s in LIB.routines["lower_back"].steps if not s.optional]) == 3
    assert any("tennis" in s.title for s in LIB.routines["psoas_release"].steps)
    assert any("tennis" in s.title for s in LIB.routines["lower_back"].steps)
    assert "pillow under your knees" in LIB.routines["down_training"].steps[0].position


def test_daily_massage_goes_clockwise_then_counter_clockwise_then_hips_then_thighs() -> None:
    titles = [s.title for s in LIB.routines["daily_massage"].steps]
    order = ["lower belly, clockwise", "lower belly, counter-clockwise", "hips", "inner thighs"]
    assert [t for t in titles if t in order] == order


def test_disclaimer_says_it_is_not_medical_advice() -> None:
    assert "not medical advice" in LIB.disclaimer_text
    assert "If anything hurts, stop" in LIB.disclaimer_text
    assert "healthcare professional" in LIB.disclaimer_text


@pytest.mark.parametrize("routine_id", list(LIB.routines))
def test_every_routine_says_to_stop_if_anything_hurts(routine_id: str) -> None:
    assert re.search(r"\bstop\b", LIB.routines[routine_id].intro, re.IGNORECASE)


@pytest.mark.parametrize("routine_id", MASSAGE_ROUTINES)
def test_massage_is_external_only(routine_id: str) -> None:
    intro = LIB.routines[routine_id].intro.lower()
    assert "outside" in intro or "over the skin" in intro


def test_no_sentence_promotes_kegels_or_internal_work() -> None:
    for text in every_sentence():
        lowered = text.lower()
        if "kegel" in lowered:
            assert "opposite of a kegel" in lowered, text
        assert "squeeze and lift" not in lowered, text
        assert "internal" not in lowered, text
        assert "insert" not in lowered, text


def test_no_words_shared_with_the_seed_documents() -> None:
    tool = ROOT.parent / "shared" / "tools" / "seed-overlap"
    if not tool.exists():
        pytest.skip("../shared/tools/seed-overlap is not beside this checkout")
    result = subprocess.run([str(tool)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def copy_content(tmp_path: Path) -> Path:
    folder = tmp_path / "routines"
    shutil.copytree(CONTENT, folder)
    return folder


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("psoas_release.toml", 'id = "psoas_release"', 'id = "psoas"', "must equal the file name"),
        ("psoas_release.toml", "breaths = 7", 'breaths = "seven"', "'breaths' must be a whole number"),
        ("psoas_release.toml", "schema = 1", "schema = 2", "'schema' must be 1"),
        ("psoas_release.toml", 'title = "lying down"', 'titel = "lying down"', "unknown field"),
        ("lower_back.toml", 'areas = ["lower_back"]', 'areas = ["psoas"]', "belongs to both"),
        ("paces.toml", "exhale = 7", "exhale = 3", "at least as long as the inhale"),
        ("paces.toml", 'default = "normal"', 'default = "brisk"', "'default' must name"),
        ("prompts.toml", "version = 2", "version = 0", "'version' must be"),
        ("inner_thigh.toml", "[[steps]]", "[[stepz]]", "unknown field"),
    ],
)
def test_schema_errors_name_the_file_and_field(
    tmp_path: Path, file: str, old: str, new: str, message: str
) -> None:
    folder = copy_content(tmp_path)
    path = folder / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ContentError, match=re.escape(message)):
        load_library(folder)


def test_broken_toml_is_reported_with_its_file(tmp_path: Path) -> None:
    folder = copy_content(tmp_path)
    (folder / "lower_back.toml").write_text("id = [unclosed")
    with pytest.raises(ContentError, match=r"lower_back\.toml"):
        load_library(folder)
