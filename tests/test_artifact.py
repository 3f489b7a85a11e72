"""The Lambda artifact, built by the Makefile target `sam build` runs, answers every event
with nothing installed beside it but what the Lambda runtime has (boto3, snapshot-restore-py),
from a read-only folder: every module a request loads has its bytecode, and after SnapStart's
hooks a first request loads nothing more."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from publish import ca_bundle
from sim.driver import DEFAULT_SKILL_ID, Reply
from sim.local_dynamodb import child_environment, moto_server
from sim.tls_endpoint import tls_endpoint
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


def answer(artifact: Path, *, hooks: bool, events: list[str], tls: bool = False) -> dict[str, Any]:
    """The artifact's answers to ``events`` under Python 3.13; ``tls``: DynamoDB over HTTPS, as
    on Lambda, trusted through the artifact's CA bundle with the endpoint's own CA added."""
    python = runtime_python()
    if python is None:
        pytest.skip("no Python 3.13 on this machine")
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(moto_server())
        extra: dict[str, str] = {}
        if tls:
            endpoint = stack.enter_context(tls_endpoint(url))
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            bundle = endpoint.trusting(artifact / ca_bundle.IN_ARTIFACT, folder / "bundle.pem")
            url, extra = endpoint.url, {"AWS_CA_BUNDLE": str(bundle)}
        env = child_environment(
            url,
            SKILL_ID=DEFAULT_SKILL_ID,
            POWERTOOLS_METRICS_NAMESPACE="PelvicEase",
            AUDIO_BASE_URL=AUDIO_BASE_URL,
            **extra,
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
    # the CAs botocore is told to trust (template.yaml: AWS_CA_BUNDLE under /var/task)
    assert (artifact / ca_bundle.IN_ARTIFACT).read_bytes() == ca_bundle.BUNDLE.read_bytes()
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


def test_over_tls_a_first_request_after_the_hooks_loads_nothing_either(artifact: Path) -> None:
    # the handshake and the bundle's load happen on the first real call, after the snapshot
    launch = str(EVENTS / "launch.json")
    found = answer(artifact, hooks=True, events=[launch], tls=True)
    assert Reply(json.loads(Path(launch).read_text()), found["answers"][launch]).problems() == []
    assert found["new_modules"] == []


# The Lambda runtime for python3.13 is built on the Amazon Linux 2023 minimal container image,
# which has no /usr/share/zoneinfo (lambda/requirements.txt, tzdata): the artifact's own tzdata
# package is all zoneinfo can find there. PYTHONTZPATH empty is that runtime: no system zones.
KNOWS_ZONES = """
import json, sys
sys.path.insert(0, sys.argv[1])
if sys.argv[2] == "without-tzdata":
    sys.modules["tzdata"] = None  # the package left out of the artifact
from pelvic_ease.alexa_api import known_zone
from pelvic_ease.markets import MARKETS
zones = [*(market.zone for market in MARKETS), "UTC", "America/Los_Angeles", "Asia/Tokyo"]
print("ZONES " + json.dumps({zone: known_zone(zone) for zone in zones}))
"""


@pytest.mark.parametrize("tzdata", ["with-tzdata", "without-tzdata"])
def test_without_system_zone_files_the_artifacts_tzdata_knows_every_zone(artifact: Path, tzdata: str) -> None:
    python = runtime_python()
    if python is None:
        pytest.skip("no Python 3.13 on this machine")
    done = subprocess.run(
        [str(python), "-I", "-B", "-c", KNOWS_ZONES, str(artifact), tzdata],
        env={"PATH": "/usr/bin:/bin", "PYTHONTZPATH": "", "POWERTOOLS_METRICS_NAMESPACE": "PelvicEase"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    line = next(line for line in done.stdout.splitlines() if line.startswith("ZONES "))
    known = json.loads(line.removeprefix("ZONES "))
    # with the package every zone (the locales' fallbacks too) is known; without it, none is,
    # and the zone the device reports would be refused (the locale's zone stands in) while
    # the fallback itself would fail: the package must stay in the artifact
    assert set(known.values()) == {tzdata == "with-tzdata"}, known
