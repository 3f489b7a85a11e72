"""`make chat` and the audio preview (issue: Try it without an Echo)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from pelvic_ease.content import load_library
from pelvic_ease.skill import use_skill
from sim import chat, local_dynamodb, preview
from sim.driver import APPROXIMATION_THRESHOLD, ROOT, InteractionModel, Resolved
from sim.local_dynamodb import moto_server
from sim.ssml_reader import read_ssml

LIB = load_library()
ESPEAK_MISSING = shutil.which("espeak-ng") is None
EXACT = InteractionModel()
APPROXIMATE = InteractionModel(approximate=True)
# What a newcomer says that no sample holds, as real Alexa would very likely take it:
# (utterance, intent, slots as said, slot ids resolved, the sample used)
NEAR_MISSES: list[tuple[str, str, dict[str, str], dict[str, str], str]] = [
    ("my belly", "StartRoutineIntent", {"area": "belly"}, {"area": "lower_abdomen"}, "{area}"),
    ("I want to relax", "StartRoutineIntent", {"area": "relax"}, {"area": "relaxation"}, "I want the {area}"),
    ("massage my hips please", "StartRoutineIntent", {"area": "hips"}, {"area": "hips"}, "massage my {area}"),
    (
        "can you massage my lower back",
        "StartRoutineIntent",
        {"area": "lower back"},
        {"area": "lower_back"},
        "massage my {area}",
    ),
    (
        "a ten minute belly massage",
        "StartRoutineIntent",
        {"minutes": "10", "area": "belly"},
        {"area": "lower_abdomen"},
        "a {minutes} minute {area}",
    ),
    ("go slower please", "ChangePaceIntent", {"pace": "slower"}, {"pace": "slower"}, "go {pace}"),
    ("how am I doing today", "ProgressReportIntent", {}, {}, "how am I doing"),
    ("skip this", "SkipStepIntent", {}, {}, "skip this step"),
    ("stop please", "AMAZON.StopIntent", {}, {}, "stop"),
]
NONSENSE = [
    "purple monkey dishwasher",
    "tell me a joke",
    "blah blah blah",
]
# Questions an open carrier takes ("what is the {topic}"), with a topic the model does not know:
# Alexa sends those with ER_SUCCESS_NO_MATCH, and the skill answers them as it answers the
# fallback (tests/test_dialogue.py).
OPEN_QUESTIONS = [
    "what is the capital of france",
    "what is the weather",  # half its words are "what is the disclaimer"'s
]


def resolved_ids(resolved: Resolved) -> dict[str, str]:
    ids: dict[str, str] = {}
    for name, slot in resolved.slots.items():
        for authority in slot.get("resolutions", {}).get("resolutionsPerAuthority", []):
            assert authority["status"]["code"] == "ER_SUCCESS_MATCH"
            ids[name] = authority["values"][0]["value"]["id"]
    return ids


@pytest.fixture(autouse=True)
def _fresh_skill() -> None:
    use_skill(None)


def test_chat_talks_to_the_real_skill_on_moto_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        "open pelvic ease",
        "blah blah blah",  # matches nothing: sent as AMAZON.FallbackIntent
        "massage my lower back",
        "step by step",  # the device has a player: asked once how a massage should play
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
    estimate = sum(read_ssml(ssml).seconds for _, ssml in responses)
    assert seconds == pytest.approx(estimate, rel=0.2)
    report = capsys.readouterr()
    assert "step 1 part 1/1" in report.out
    assert "total" in report.out
    assert f"{len(responses)}/{len(responses)} responses" in report.err  # the progress bar


def test_missing_espeak_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sim.preview.shutil.which", lambda name: None)
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


@pytest.mark.parametrize("utterance", [u for u, *_ in NEAR_MISSES] + NONSENSE)
def test_exact_matching_is_the_default_and_unchanged(utterance: str) -> None:
    resolved = EXACT.resolve(utterance)
    assert resolved.approximation is None
    assert resolved.score is None
    if utterance == "massage my hips please":  # a sample, with a value Alexa would not know
        assert resolved.said() == {"area": "hips please"}
    elif utterance == "a ten minute belly massage":
        assert resolved.said() == {"minutes": "10", "area": "belly massage"}
    elif utterance == "go slower please":
        assert resolved.said() == {"pace": "slower please"}
    else:
        assert resolved.intent == "AMAZON.FallbackIntent"


@pytest.mark.parametrize("utterance", OPEN_QUESTIONS)
def test_an_open_question_is_sent_with_a_topic_the_model_does_not_know(utterance: str) -> None:
    for model in (EXACT, APPROXIMATE):
        resolved = model.resolve(utterance)
        assert resolved.intent == "QuestionIntent"
        assert resolved.slots["topic"]["resolutions"]["resolutionsPerAuthority"][0]["status"]["code"] == (
            "ER_SUCCESS_NO_MATCH"
        )


@pytest.mark.parametrize(("utterance", "intent", "said", "ids", "sample"), NEAR_MISSES)
def test_approximate_mode_takes_the_nearest_sample_and_says_which(
    utterance: str, intent: str, said: dict[str, str], ids: dict[str, str], sample: str
) -> None:
    resolved = APPROXIMATE.resolve(utterance)
    assert (resolved.intent, resolved.said(), resolved_ids(resolved)) == (intent, said, ids)
    assert resolved.approximate
    assert resolved.approximation == sample
    assert resolved.score is not None
    assert APPROXIMATION_THRESHOLD <= resolved.score <= 1.0


@pytest.mark.parametrize("utterance", NONSENSE)
def test_approximate_mode_still_falls_back_for_what_is_not_near(utterance: str) -> None:
    assert APPROXIMATE.resolve(utterance) == Resolved("AMAZON.FallbackIntent", {})
    nearest = APPROXIMATE.nearest(utterance)
    assert nearest is None or (nearest.score or 0.0) < APPROXIMATION_THRESHOLD


def test_the_threshold_is_what_keeps_a_half_match_out() -> None:
    nearest = APPROXIMATE.nearest("what is the weather")
    assert nearest is not None
    assert (nearest.intent, nearest.approximation, nearest.score) == (
        "ReadDisclaimerIntent",
        "what is the disclaimer",
        0.5,
    )


@pytest.mark.parametrize(
    ("utterance", "said"),
    [
        ("massage my lower back", {"area": "lower back"}),  # a sample: exact, not approximate
        ("start the elbows routine", {"area": "elbows routine"}),  # not "start a routine" (0.67)
        ("massage my elbows", {"area": "elbows"}),
    ],
)
def test_approximate_mode_keeps_what_matched_a_sample(utterance: str, said: dict[str, str]) -> None:
    resolved = APPROXIMATE.resolve(utterance)
    assert (resolved.intent, resolved.said(), resolved.approximation) == ("StartRoutineIntent", said, None)


def test_a_tie_goes_to_the_sample_first_in_the_model() -> None:
    # "my belly" is as near to "{area}" as to "the {area}" and "{area} please" (1.0 each).
    assert APPROXIMATE.resolve("my belly").approximation == "{area}"


def test_approximation_does_not_depend_on_the_run() -> None:
    phrases = [u for u, *_ in NEAR_MISSES] + NONSENSE
    code = (
        "from sim.driver import InteractionModel\n"
        "model = InteractionModel(approximate=True)\n"
        f"for phrase in {phrases!r}:\n"
        "    print(repr(model.resolve(phrase)))\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": f"{ROOT}:{ROOT / 'lambda'}"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1]
    assert runs[0].count("\n") == len(phrases)
    assert runs[0] == "".join(f"{APPROXIMATE.resolve(p)!r}\n" for p in phrases)


def test_the_model_tells_its_listener_about_each_approximation() -> None:
    heard: list[tuple[str, Resolved]] = []
    model = InteractionModel(approximate=True, on_approximation=lambda u, r: heard.append((u, r)))
    for utterance in ("massage my lower back", "purple monkey dishwasher", "my belly"):
        model.resolve(utterance)
    assert [(u, r.approximation) for u, r in heard] == [("my belly", "{area}")]


def test_chat_approximates_and_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a newcomer who types what no sample holds
    lines = ["open pelvic ease", "my belly", "/end", "open pelvic ease", "purple monkey dishwasher", "/quit"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    # WHEN they chat
    assert chat.main([]) == 0
    out = capsys.readouterr().out
    # THEN the approximation is marked, before Alexa's reply, and nonsense still falls back
    marked = '(approximate: heard "my belly" as "{area}" → StartRoutineIntent, area=belly; score 1.0)'
    assert marked in out
    after = out.split(marked, 1)[1].lstrip("\n")
    assert after.startswith(
        "alexa> Before we begin: would you like the belly massage to play straight through"
    )
    assert out.count("(approximate:") == 1
    assert f"alexa> {LIB.say('fallback_menu')}" in " ".join(out.split())


def test_chat_exact_matches_literally(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("open pelvic ease\nmy belly\n/quit\n"))
    assert chat.main(["--exact"]) == 0
    out = capsys.readouterr().out
    assert "(approximate:" not in out
    assert f"alexa> {LIB.say('fallback_menu')}" in " ".join(out.split())


def test_two_slots_never_absorb_the_same_words() -> None:
    # "full" is a length and "full body" an area: not "a {length} {area}" with both.
    resolved = APPROXIMATE.resolve("my full body")
    assert (resolved.approximation, resolved.said()) == ("{area}", {"area": "full body"})


def test_the_played_preview_writes_the_routine_as_it_plays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rendered_audio: Path
) -> None:
    from pelvic_ease.audio import Manifest  # noqa: PLC0415
    from render.mp3 import mp3_info  # noqa: PLC0415

    out = tmp_path / "relax.mp3"
    assert preview.main(["down_training", "--played", "--minutes", "5", "--out", str(out)]) == 0
    tracks = Manifest.load(rendered_audio).tracks("en-US")
    assert tracks is not None
    track = tracks.get("down_training", "normal", 5)
    assert track is not None
    assert mp3_info(out.read_bytes()).seconds * 1000 == pytest.approx(track.ms, rel=0.01)
    assert "min of audio" in capsys.readouterr().out
    assert preview.main(["down_training", "--played", "--minutes", "7", "--out", str(out)]) == 2


def test_make_preview_alone_writes_the_relaxation_with_its_bed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rendered_audio: Path
) -> None:
    """Anyone can hear the bed: `make preview` with nothing named writes the ten minute
    relaxation as it plays; --no-bed and --quiet write the other sounds."""
    from pelvic_ease.audio import Manifest, Sound  # noqa: PLC0415
    from render.measure import decode, longest_quiet_seconds  # noqa: PLC0415

    monkeypatch.chdir(tmp_path)
    assert preview.main([]) == 0
    written = tmp_path / "down_training-normal-10.mp3"
    tracks = Manifest.load(rendered_audio).tracks("en-US")
    assert tracks is not None
    track = tracks.get("down_training", "normal", 10)
    assert track is not None
    assert track.sound.bed
    assert written.read_bytes() == b"".join(
        (rendered_audio.parent / f.path).read_bytes() for f in track.files
    )
    samples, rate = decode(written.read_bytes())
    assert longest_quiet_seconds(samples, rate) < 1.0  # the bed plays under every silence
    assert preview.main(["down_training", "--played", "--minutes", "10", "--no-bed", "--quiet"]) == 0
    quiet = tracks.get("down_training", "normal", 10, Sound(bed=False, quiet=True))
    assert quiet is not None
    hushed = tmp_path / "down_training-normal-10-nobed-quiet.mp3"
    assert hushed.read_bytes() == b"".join((rendered_audio.parent / f.path).read_bytes() for f in quiet.files)


def test_the_template_is_parsed_again_when_its_text_changes_and_each_caller_gets_its_own_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the tests build a table from template.yaml for every test: its parse is kept, never stale
    shutil.copy(ROOT / "template.yaml", tmp_path / "template.yaml")
    monkeypatch.setattr(local_dynamodb, "ROOT", tmp_path)
    first = local_dynamodb.load_template()
    first["Resources"].clear()  # a caller changing its copy changes no one else's
    assert "ProgressTable" in local_dynamodb.load_template()["Resources"]
    template = tmp_path / "template.yaml"
    template.write_text(template.read_text().replace("ProgressTable:", "RenamedTable:", 1))
    assert "RenamedTable" in local_dynamodb.load_template()["Resources"]
