"""The Lambda artifact, built by the Makefile target `sam build` runs, answers every event
with nothing installed beside it but boto3 (as the Lambda runtime has it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sim.driver import DEFAULT_SKILL_ID, Reply
from sim.local_dynamodb import child_environment, moto_server
from tests.support import EVENTS, ROOT

BOTO3_PIN = next(
    line.strip()
    for line in (ROOT / "requirements-dev.txt").read_text().splitlines()
    if line.startswith("boto3==")
)
ANSWER_EVENTS = """
import json, sys
sys.path.insert(0, sys.argv[1])
from pelvic_ease.app import lambda_handler

class Context:
    function_name = "pelvic-ease"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:pelvic-ease"
    aws_request_id = "artifact-test"

answers = {}
for path in sys.argv[2:]:
    with open(path) as handle:
        answers[path] = lambda_handler(json.load(handle), Context())
print("ANSWERS " + json.dumps(answers))
"""


def runtime_python() -> str:
    """The Lambda runtime's Python (3.13) where this machine has it, else this one."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [
        shutil.which("python3.13"),
        *map(str, sorted(pyenv_root.glob("versions/3.13*/bin/python3.13"))),
    ]
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", "pass"], capture_output=True, check=False).returncode == 0:
            return candidate
    return sys.executable


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("artifact") / "SkillFunction"
    subprocess.run(
        ["make", "-s", "build-SkillFunction", f"ARTIFACTS_DIR={folder}", f"PYTHON={sys.executable}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return folder


def test_artifact_holds_the_code_and_content_but_not_boto3(artifact: Path) -> None:
    assert (artifact / "pelvic_ease" / "app.py").exists()
    assert (artifact / "routines" / "prompts.toml").exists()
    assert not (artifact / "boto3").exists()
    assert not (artifact / "botocore").exists()
    if "cpython-313" in runtime_python() or Path(runtime_python()).name == "python3.13":
        assert list((artifact / "pelvic_ease" / "__pycache__").glob("*.cpython-313.pyc"))
    assert not (artifact / "tests").exists()
    unzipped = sum(p.stat().st_size for p in artifact.rglob("*") if p.is_file())
    archive = artifact.parent / "artifact.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in artifact.rglob("*"):
            bundle.write(path, path.relative_to(artifact))
    zipped = archive.stat().st_size
    print(f"artifact: {zipped / 1e6:.2f} MB zipped, {unzipped / 1e6:.2f} MB unzipped")
    assert zipped < 5_000_000


def test_artifact_answers_every_event_with_only_boto3_beside_it(artifact: Path, tmp_path: Path) -> None:
    venv = tmp_path / "runtime"
    subprocess.run([runtime_python(), "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", BOTO3_PIN], check=True, capture_output=True
    )
    events = sorted(str(p) for p in EVENTS.glob("*.json"))
    with moto_server() as url:
        env = child_environment(url, SKILL_ID=DEFAULT_SKILL_ID, POWERTOOLS_METRICS_NAMESPACE="PelvicEase")
        result = subprocess.run(
            [str(python), "-I", "-c", ANSWER_EVENTS, str(artifact), *events],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("ANSWERS "))
    answers = json.loads(line.removeprefix("ANSWERS "))
    assert len(answers) == len(events)
    for path, response in answers.items():
        request = json.loads(Path(path).read_text())
        assert Reply(request, response).problems() == [], path
