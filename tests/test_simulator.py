"""`make chat` and the audio preview (issue: Try it without an Echo)."""

from __future__ import annotations

import io
import os
import shutil
import wave
from pathlib import Path

import pytest

from pelvic_ease import app
from pelvic_ease.content import load_library
from sim import chat, preview
from sim.local_dynamodb import moto_server

LIB = load_library()
ESPEAK_MISSING = shutil.which("espeak-ng") is None


@pytest.fixture(autouse=True)
def _fresh_skill() -> None:
    app.use_skill(None)


def test_chat_talks_to_the_real_skill_on_moto_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        "open pelvic ease",
        "blah blah blah",  # matches nothing: sent as AMAZON.FallbackIntent
        "massage my lower back",
        "/timeout",
        "next",  # the microphone is closed now
        "/wait 2h",
        "ask pelvic ease to where was I",
        "/person alex",
        "/record",
        "/bogus",
        "/quit",
        "never reached",
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert chat.main([]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "DynamoDB: moto on http://127.0.0.1:" in out
    assert f"alexa> {LIB.say('fallback_menu')}" in out
    assert "Let's begin the lower-back release." in out
    assert "[4 s]" in out
    assert "microphone open; reprompt:" in out
    assert "(!) the microphone is closed" in out
    assert "Picking up where you left off in the lower-back release." in out
    assert "(stored: {}" in out  # alex's voice profile has no record yet
    assert "(!) unknown command '/bogus'" in out
    assert "never reached" not in out


def test_chat_help_lists_the_device_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        chat.main(["--help"])
    text = capsys.readouterr().out
    for command in (
        "/timeout",
        "/end",
        "/drop",
        "/user",
        "/person",
        "/intent",
        "/record",
        "--endpoint",
        "--table",
    ):
        assert command in text


def test_chat_can_use_another_endpoint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with moto_server("elsewhere-table") as url:
        monkeypatch.setattr("sys.stdin", io.StringIO("open pelvic ease\n/quit\n"))
        assert chat.main(["--endpoint", url, "--table", "elsewhere-table"]) == 0
        assert os.environ["AWS_ENDPOINT_URL_DYNAMODB"] == url  # the server's own setting, restored
    out = capsys.readouterr().out
    assert f"DynamoDB at {url}, table elsewhere-table" in out
    assert "Welcome to Pelvic Ease." in out


@pytest.mark.skipif(ESPEAK_MISSING and not os.environ.get("CI"), reason="espeak-ng is not installed here")
def test_a_routine_rendered_to_wav_is_as_long_as_estimated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "lower_back.wav"
    assert preview.main(["lower_back", "--pace", "quick", "--out", str(out)]) == 0
    with wave.open(str(out)) as audio:
        seconds = audio.getnframes() / audio.getframerate()
    responses = preview.routine_responses("lower_back", "quick")
    estimate = sum(preview.read_ssml(ssml).seconds for _, ssml in responses)
    assert seconds == pytest.approx(estimate, rel=0.2)
    report = capsys.readouterr()
    assert "step 1 part 1/1" in report.out
    assert "total" in report.out
    assert f"{len(responses)}/{len(responses)} responses" in report.err  # the progress bar


def test_missing_espeak_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(preview.shutil, "which", lambda name: None)
    assert preview.main(["lower_back"]) == 2
    assert "apt-get install espeak-ng" in capsys.readouterr().err


def test_unknown_routine_names_the_routines(capsys: pytest.CaptureFixture[str]) -> None:
    if ESPEAK_MISSING:
        pytest.skip("espeak-ng is not installed here")
    assert preview.main(["elbows"]) == 2
    assert "psoas_release" in capsys.readouterr().err


def test_flagging() -> None:
    assert preview.Rendered("x", 10.0, 12.5).flagged
    assert not preview.Rendered("x", 10.0, 11.9).flagged
    assert preview.Rendered("x", 10.0, 7.9).flagged
