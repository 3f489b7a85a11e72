"""`make demo` end to end: the scripted simulator on moto's server on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from pelvic_ease.content import load_library
from pelvic_ease.skill import use_skill
from sim import demo

LIB = load_library()


@pytest.fixture(autouse=True)
def _fresh_skill() -> None:
    use_skill(None)


def test_demo_plays_the_four_journeys(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main([]) == 0
    transcript = capsys.readouterr().out
    assert "DynamoDB: moto on http://127.0.0.1:" in transcript
    first_use = transcript.index("=== First use")
    area = transcript.index("=== Asking for one area")
    resumed = transcript.index("=== Interrupted mid-routine")
    assert "It is not medical advice" in transcript[first_use:area]
    assert "Let's begin the inner-thigh massage." in transcript[area:resumed]
    assert "Picking up where you left off in the psoas release. Step 3 of 9" in " ".join(
        transcript[resumed:].split()
    )
    hips = transcript.index("=== Just the hips")
    assert "Do you have a tennis ball handy?" in transcript[resumed:hips]
    assert "Let's begin the hip massage." in transcript[hips:]
    assert "Step 2 of 2: hips." in " ".join(transcript[hips:].split())
    assert "[4 s]" in transcript  # pauses shown with their length
    assert "Demo finished" in transcript


def test_a_failing_script_exits_non_zero_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "bad.txt"
    script.write_text("open pelvic ease\n/expect a sentence the skill never says\n")
    assert demo.main([str(script)]) == 1
    error = capsys.readouterr().err
    assert "DEMO FAILED: line 2" in error
    assert "a sentence the skill never says" in error


def test_script_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "commands.txt"
    script.write_text(
        "\n".join(
            [
                "/person alex",
                "open pelvic ease",
                "/intent StartRoutineIntent area=psoas",
                "/expect hands-free",  # the demo's device has a player: asked how to play it
                "/intent AMAZON.NoIntent",  # no: guided step by step
                "/expect step 1 of 9",
                "/drop",
                "/wait 2d",
                "/user someone",
                "open pelvic ease",
                "/expect welcome to pelvic ease",
                "/end USER_INITIATED",
                "/record",
                "/frobnicate",
            ]
        )
    )
    assert demo.main([str(script)]) == 1
    captured = capsys.readouterr()
    assert "(voice profile: amzn1.ask.person.ALEX)" in captured.out
    assert "(time passes: 2d)" in captured.out
    assert f"'disclaimer_version': {load_library().disclaimer_version}" in captured.out
    assert "unknown command '/frobnicate'" in captured.err
