"""Fixtures: moto-backed DynamoDB built from template.yaml, the real handler, a clock."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest

# Before any client exists: fake credentials and a region, so nothing can reach AWS.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    POWERTOOLS_METRICS_NAMESPACE="PelvicEase",
    POWERTOOLS_SERVICE_NAME="pelvic-ease",
)
os.environ.pop("AWS_PROFILE", None)

from pelvic_ease import app
from pelvic_ease.alexa_api import TimedApiClient
from pelvic_ease.audio import AudioLibrary, Manifest
from pelvic_ease.repository import DynamoTable
from pelvic_ease.settings import Settings
from pelvic_ease.skill import build_skill, use_skill
from sim.alexa_api import FakeAlexaApi, alexa_api
from sim.driver import DEFAULT_SKILL_ID, Conversation
from sim.local_dynamodb import moto_endpoint
from tests import offline  # noqa: F401  # before any test runs: no host but this machine
from tests.support import TABLE_NAME, Clock, create_table_from_template


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """moto's server on 127.0.0.1, one for this test process (each xdist worker has its own)."""
    with moto_endpoint() as url:
        yield url


@pytest.fixture(scope="session")
def botocore_session() -> botocore.session.Session:
    """One botocore session: a client made from it costs 7 ms, from a new one 140 ms."""
    return botocore.session.get_session()


@pytest.fixture
def dynamodb(
    moto_url: str, botocore_session: botocore.session.Session, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """A low-level DynamoDB client on moto (a new one: a test may hook its events), with the
    table as template.yaml makes it and nothing in it (any other client the test makes reaches
    the same server). The table is made once a worker and emptied for each test: making it
    anew took 25 ms a test."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_url)
    client = botocore_session.create_client("dynamodb", region_name="us-east-1", endpoint_url=moto_url)
    emptied_table(client)
    return client


def emptied_table(client: Any) -> None:
    """The progress table with no items: made from template.yaml if it is not there (moto is
    per process, one a worker), else every item deleted."""
    try:
        scan = client.get_paginator("scan")
        names = {"#p": "profile"}  # a reserved word
        pages = scan.paginate(
            TableName=TABLE_NAME, ProjectionExpression="user_id, #p", ExpressionAttributeNames=names
        )
        keys = [item for page in pages for item in page["Items"]]
    except client.exceptions.ResourceNotFoundException:
        create_table_from_template(client, TABLE_NAME)
        return
    for start in range(0, len(keys), 25):
        requests = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]
        client.batch_write_item(RequestItems={TABLE_NAME: requests})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def table(dynamodb: Any, clock: Clock) -> DynamoTable:
    return DynamoTable(TABLE_NAME, client_factory=lambda: dynamodb, clock=clock)


@pytest.fixture
def handler(table: DynamoTable, clock: Clock) -> Iterator[Callable[..., dict[str, Any]]]:
    """The real lambda_handler, with the container's skill built on the moto store."""
    settings = Settings(table_name=TABLE_NAME, skill_id=DEFAULT_SKILL_ID)
    use_skill(build_skill(settings, table=table, clock=clock))
    yield app.lambda_handler
    use_skill(None)


@pytest.fixture
def api() -> Iterator[FakeAlexaApi]:
    """The fake of the Alexa APIs on 127.0.0.1 over HTTPS (sim/alexa_api.py)."""
    with alexa_api(time_zone="America/Los_Angeles") as fake:
        yield fake


@pytest.fixture
def skill(table: DynamoTable, clock: Clock, api: FakeAlexaApi) -> Iterator[Callable[..., dict[str, Any]]]:
    """The real handler calling the fake Alexa APIs (``api``), its API client trusting the
    fake's certificate (time-out 0.5 s): the reminders' and check-ins' tests."""
    client = TimedApiClient(ca_certs=api.ca_path, total_seconds=0.5)
    settings = Settings(table_name=TABLE_NAME, skill_id=DEFAULT_SKILL_ID)
    use_skill(build_skill(settings, table=table, clock=clock, api_client=client))
    yield app.lambda_handler
    use_skill(None)


@pytest.fixture
def conv(handler: Callable[..., dict[str, Any]]) -> Conversation:
    return Conversation(handler)


def stored_items(client: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.scan(TableName=TABLE_NAME)["Items"]
    return items


@pytest.fixture(scope="session")
def rendered_audio() -> Path:
    """Every routine rendered with espeak-ng into the project's cache (once; then reused)."""
    from sim.local_audio import ensure_rendered  # noqa: PLC0415

    return ensure_rendered(quiet=True)


@pytest.fixture(scope="session")
def audio_url(rendered_audio: Path) -> Iterator[str]:
    """The rendered files served over HTTP on 127.0.0.1, as the simulator serves them."""
    from sim.local_audio import audio_server  # noqa: PLC0415

    with audio_server(rendered_audio.parent) as url:
        yield url


@pytest.fixture
def audio_library(rendered_audio: Path, audio_url: str) -> AudioLibrary:
    return AudioLibrary(Manifest.load(rendered_audio), audio_url)


@pytest.fixture
def played(
    table: DynamoTable, clock: Clock, audio_library: AudioLibrary
) -> Iterator[Callable[..., dict[str, Any]]]:
    """The real lambda_handler with the rendered audio: devices with a player play routines."""
    settings = Settings(table_name=TABLE_NAME, skill_id=DEFAULT_SKILL_ID)
    use_skill(build_skill(settings, table=table, clock=clock, audio=audio_library))
    yield app.lambda_handler
    use_skill(None)


@pytest.fixture(scope="session")
def artifact(tmp_path_factory: pytest.TempPathFactory, rendered_audio: Path) -> Path:
    """The Lambda artifact, built by the Makefile target `sam build` runs (carrying the locally
    rendered manifest), read-only as Lambda has it. Built once a run: xdist's workers share
    the run's temporary folder, and the first to take the lock builds for all."""
    from filelock import FileLock  # noqa: PLC0415

    from bench.run import build_artifact  # noqa: PLC0415

    run_folder = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run_folder = run_folder.parent  # each worker's folder is in the run's
    folder = run_folder / "artifact" / "SkillFunction"
    built = run_folder / "artifact.built"
    with FileLock(run_folder / "artifact.lock"):
        if not built.exists():
            build_artifact(folder, manifest=rendered_audio)
            # read-only (the children also run with -B, since root may write anyway)
            for path in [folder, *folder.rglob("*")]:
                path.chmod(path.stat().st_mode & ~0o222)
            built.touch()
    return folder


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """pytest-cov's no_cover mark (the fuzz shards run untraced) fails a test run with --no-cov,
    where there is no tracer to pause: it is dropped then."""
    if config.getoption("no_cov", default=False):
        for item in items:
            item.own_markers = [mark for mark in item.own_markers if mark.name != "no_cover"]
