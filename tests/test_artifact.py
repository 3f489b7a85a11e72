"""The Lambda artifact, built by the Makefile target `sam build` runs, answers every event
with nothing installed beside it but what the Lambda runtime has (boto3, snapshot-restore-py),
from a read-only folder: every module a request loads has its bytecode, and after SnapStart's
hooks a first request loads nothing more."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from sim.driver import DEFAULT_SKILL_ID, Reply
from sim.local_dynamodb import child_environment, moto_server
from tests.support import EVENTS, ROOT

# Runs in the runtime's Python, with -B: a read-only code folder gets no bytecode written.
ANSWER_EVENTS = """
import importlib.util, json, os, sys
artifact = os.path.realpath(sys.argv[1])
sys.path.insert(0, artifact)
from pelvic_ease.app import lambda_handler

class Context:
    function_name = "pelvic-ease"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:pelvic-ease:live"
    aws_request_id = "artifact-test"

if sys.argv[2] == "hooks":
    from snapshot_restore_py import get_after_restore, get_before_snapshot
    for function, args, kwargs in [*get_before_snapshot(), *get_after_restore()]:
        function(*args, **kwargs)
before = set(sys.modules)
answers = {}
for path in sys.argv[3:]:
    with open(path) as handle:
        answers[path] = lambda_handler(json.load(handle), Context())
loaded = [m for m in sys.modules.values() if (getattr(m, "__file__", None) or "").startswith(artifact)]
print("ANSWERS " + json.dumps({
    "answers": answers,
    "loaded": len(loaded),
    "no_bytecode": sorted(
        m.__name__ for m in loaded
        if m.__file__.endswith(".py") and not os.path.exists(importlib.util.cache_from_source(m.__file__))
    ),
    "new_modules": sorted(set(sys.modules) - before),
    "version": sys.version_info[:2],
}))
"""


def runtime_python() -> Path | None:
    """The Lambda runtime's Python (3.13) with only the runtime's packages, as the build's
    precompile step makes it; None where this machine has no Python 3.13."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import precompile_loaded  # noqa: PLC0415
    finally:
        sys.path.remove(str(ROOT / "tools"))
    python: Path | None = precompile_loaded.runtime_python_3_13()
    return python


AUDIO_BASE_URL = "https://d111111abcdef8.cloudfront.net/"
# every test here runs the one artifact build (conftest.artifact): on the same worker, which builds it
pytestmark = pytest.mark.xdist_group("artifact")


def answer(artifact: Path, *, hooks: bool, events: list[str]) -> dict[str, Any]:
    python = runtime_python()
    if python is None:
        pytest.skip("no Python 3.13 on this machine")
    with moto_server() as url:
        env = child_environment(
            url,
            SKILL_ID=DEFAULT_SKILL_ID,
            POWERTOOLS_METRICS_NAMESPACE="PelvicEase",
            AUDIO_BASE_URL=AUDIO_BASE_URL,
        )
        mode = "hooks" if hooks else "none"
        result = subprocess.run(
            [str(python), "-I", "-B", "-c", ANSWER_EVENTS, str(artifact), mode, *events],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("ANSWERS "))
    found: dict[str, Any] = json.loads(line.removeprefix("ANSWERS "))
    return found


def test_artifact_holds_the_code_content_and_manifest_but_not_boto3(
    artifact: Path, rendered_audio: Path
) -> None:
    assert (artifact / "pelvic_ease" / "app.py").exists()
    assert (artifact / "audio" / "manifest.json").read_bytes() == rendered_audio.read_bytes()
    assert (artifact / "routines" / "prompts.toml").exists()
    assert (artifact / "routines" / "compiled.json").exists()  # the content parsed at build time
    for locale in ("en-GB", "en-CA", "en-AU", "en-IN"):
        assert (artifact / "routines" / "locales" / f"{locale}.toml").exists()
    for provided_by_the_runtime in ("boto3", "botocore", "s3transfer", "snapshot_restore_py.py"):
        assert not (artifact / provided_by_the_runtime).exists()
    assert not (artifact / "tests").exists()
    unzipped = sum(p.stat().st_size for p in artifact.rglob("*") if p.is_file())
    archive = artifact.parent / "artifact.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in artifact.rglob("*"):
            bundle.write(path, path.relative_to(artifact))
    zipped = archive.stat().st_size
    print(f"artifact: {zipped / 1e6:.2f} MB zipped, {unzipped / 1e6:.2f} MB unzipped")
    assert zipped < 5_000_000


def test_artifact_answers_every_event_with_bytecode_for_every_module_it_loads(artifact: Path) -> None:
    events = sorted(str(p) for p in EVENTS.glob("*.json"))
    found = answer(artifact, hooks=False, events=events)
    assert found["version"] == [3, 13]
    assert len(found["answers"]) == len(events)
    for path, response in found["answers"].items():
        request = json.loads(Path(path).read_text())
        assert Reply(request, response).problems() == [], path
    # urllib3 and certifi among them: the artifact's copies shadow the runtime's.
    assert found["loaded"] > 300
    assert found["no_bytecode"] == []
    # The manifest in the artifact is the one played from.
    played = found["answers"][str(EVENTS / "start_played_routine.json")]["response"]
    plays = [d for d in played.get("directives", []) if d["type"] == "AudioPlayer.Play"]
    assert plays
    assert plays[0]["audioItem"]["stream"]["url"].startswith(AUDIO_BASE_URL)


@pytest.mark.parametrize(
    "event", ["launch.json", "start_routine.json", "playback_started.json", "controller_next.json"]
)
def test_after_the_snapstart_hooks_a_first_request_loads_nothing(artifact: Path, event: str) -> None:
    found = answer(artifact, hooks=True, events=[str(EVENTS / event)])
    request = json.loads((EVENTS / event).read_text())
    assert Reply(request, found["answers"][str(EVENTS / event)]).problems() == []
    assert found["new_modules"] == []
