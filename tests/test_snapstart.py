"""SnapStart: the hooks Lambda runs before the snapshot and after each restore.

Each first request runs in a fresh process, as in a restored environment. The process imports
the handler, runs the before-snapshot hooks the runtime would run, then the after-restore hooks,
and then answers one real envelope against moto's DynamoDB server. The request must answer as
it would without the hooks. It must import nothing and load no content. It must make no
DynamoDB client, and it must carry none of the rehearsal's metrics.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pelvic_ease import snapstart
from sim.driver import DEFAULT_SKILL_ID, Reply
from sim.local_dynamodb import LOCAL_TABLE, child_environment, moto_server
from tests.support import EVENTS, ROOT

FIRST_REQUEST = """
import json, sys
sys.path[:0] = [sys.argv[1]]
from pelvic_ease import app, content, skill, snapstart
from snapshot_restore_py import get_after_restore, get_before_snapshot

class Context:
    function_name = "pelvic-ease"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:pelvic-ease:live"
    aws_request_id = "first-request"

hooks = sys.argv[2] == "hooks"
if hooks:
    for function, args, kwargs in get_before_snapshot():
        function(*args, **kwargs)
    # the snapshot is taken here; a new environment resumes from it
    for function, args, kwargs in get_after_restore():
        function(*args, **kwargs)
before = {
    "modules": set(sys.modules),
    "skill": skill._container.get("skill"),
    "contents_loaded": content._default_library.cache_info().misses,
}
from botocore.session import Session
made = []
original = Session.create_client
Session.create_client = lambda self, *a, **k: made.append(a) or original(self, *a, **k)
with open(sys.argv[3]) as handle:
    response = app.lambda_handler(json.load(handle), Context())
print("RESULT " + json.dumps({
    "response": response,
    "new_modules": sorted(set(sys.modules) - before["modules"]),
    "same_skill": skill._container.get("skill") is before["skill"],
    "contents_loaded": content._default_library.cache_info().misses - before["contents_loaded"],
    "clients_made": len(made),
}))
"""
FIRST_REQUESTS = [
    "launch_en-GB.json",
    "start_routine.json",
    "one_shot_resume.json",
    "playback_stopped.json",
    "help.json",
]


def first_request(url: str, event: str, *, hooks: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The child's result, and the EMF metric lines it printed, on an empty table."""
    empty(url)
    env = child_environment(
        url, SKILL_ID=DEFAULT_SKILL_ID, POWERTOOLS_METRICS_NAMESPACE="PelvicEase", PYTHONHASHSEED="0"
    )
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            FIRST_REQUEST,
            str(ROOT / "lambda"),
            "hooks" if hooks else "none",
            str(EVENTS / event),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    lines = completed.stdout.splitlines()
    result = json.loads(next(line for line in lines if line.startswith("RESULT ")).removeprefix("RESULT "))
    emf = [json.loads(line) for line in lines if line.startswith('{"_aws"')]
    result["log"] = [json.loads(line) for line in lines if line.startswith('{"level"')]
    return result, emf


def stored_users(url: str) -> set[str]:
    import boto3  # noqa: PLC0415

    table = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1")
    return {item["user_id"]["S"] for item in table.scan(TableName=LOCAL_TABLE)["Items"]}


def empty(url: str) -> None:
    import boto3  # noqa: PLC0415

    table = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1")
    for item in table.scan(TableName=LOCAL_TABLE)["Items"]:
        table.delete_item(TableName=LOCAL_TABLE, Key={"user_id": item["user_id"], "profile": item["profile"]})


def metric_names(emf: list[dict[str, Any]]) -> list[str]:
    return sorted(
        metric["Name"]
        for line in emf
        for directive in line["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    )


@pytest.fixture(scope="module")
def dynamodb() -> Any:
    with moto_server() as url:
        yield url


@pytest.mark.parametrize("event", FIRST_REQUESTS)
def test_the_first_request_after_a_restore_pays_for_nothing_and_answers_as_without(
    dynamodb: str, event: str
) -> None:
    restored, restored_emf = first_request(dynamodb, event, hooks=True)
    plain, plain_emf = first_request(dynamodb, event, hooks=False)
    assert restored["new_modules"] == []
    assert restored["same_skill"] is True
    assert restored["contents_loaded"] == 0
    assert restored["clients_made"] == 0
    # Without the hooks the same request imports modules and loads its content itself.
    assert plain["new_modules"]
    assert plain["contents_loaded"] >= 1
    request = json.loads((EVENTS / event).read_text())
    assert Reply(request, restored["response"]).problems() == []
    # What the user hears and the device gets; the session's record differs only in its write id.
    assert restored["response"]["response"] == plain["response"]["response"]
    assert set(restored["response"].get("sessionAttributes", {})) == set(
        plain["response"].get("sessionAttributes", {})
    )
    # The rehearsal's own metrics are gone; the restore still counts as a cold start.
    assert metric_names(restored_emf) == metric_names(plain_emf)
    assert "ColdStart" in metric_names(restored_emf)
    # Its turns are not logged as users' turns.
    assert turn_lines(restored["log"]) == turn_lines(plain["log"]) == 1


def turn_lines(log: list[dict[str, Any]]) -> int:
    return sum(1 for line in log if line.get("message") == "turn answered")


def test_a_line_logged_before_the_first_request_is_read_carries_no_rehearsal_keys(
    dynamodb: str, tmp_path: Path
) -> None:
    malformed = json.loads((EVENTS / "launch.json").read_text())
    del malformed["request"]["type"]  # logged as malformed before any interceptor runs
    path = tmp_path / "malformed.json"
    path.write_text(json.dumps(malformed))
    restored, _ = first_request(dynamodb, str(path), hooks=True)
    warning = next(
        line for line in restored["log"] if line.get("message") == "malformed request: no request type"
    )
    assert "request_type" not in warning
    assert "intent" not in warning


def test_the_rehearsal_stores_nothing(dynamodb: str) -> None:
    result, _ = first_request(dynamodb, "launch.json", hooks=True)
    assert result["new_modules"] == []
    # One user's record (stored under a hash of the id): the real request's, not the rehearsal's.
    assert len(stored_users(dynamodb)) == 1


def test_each_restored_environment_draws_its_own_retry_jitter() -> None:
    random.seed(1234)  # the state a snapshot would hold
    snapshot = random.getstate()
    snapstart.after_restore()
    assert random.getstate() != snapshot


def test_the_local_answer_is_an_empty_dynamodb_answer() -> None:
    class Request:
        url = "https://dynamodb.us-east-1.amazonaws.com/"

    for operation, expected in (("GetItem", {}), ("Query", {"Count": 0, "Items": [], "ScannedCount": 0})):
        response = snapstart.answer_locally(Request(), event_name=f"before-send.dynamodb.{operation}")
        assert response.status_code == 200
        assert json.loads(response.content) == expected


def test_the_rehearsal_envelopes_call_no_alexa_api(tmp_path: Path) -> None:
    for envelope in snapstart.rehearsal_events(DEFAULT_SKILL_ID):
        system = envelope["context"]["System"]
        assert "apiEndpoint" not in system
        assert "apiAccessToken" not in system
        assert system["application"]["applicationId"] == DEFAULT_SKILL_ID
