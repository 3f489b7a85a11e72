"""The real skill on a DynamoDB of your choice: moto on loopback (default), DynamoDB Local
at an endpoint, or a real table through the usual AWS environment."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .driver import DEFAULT_SKILL_ID, Clock, Handler
from .local_dynamodb import LOCAL_TABLE, create_table_from_template, moto_server


def quiet_environment() -> None:
    """Quiet the skill's own JSON logs and metrics so a transcript reads cleanly."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    from pelvic_ease.observability import logger  # noqa: PLC0415 - may be imported already

    logger.setLevel(os.environ["POWERTOOLS_LOG_LEVEL"])


def quietly(handler: Handler) -> Handler:
    """The handler with its stdout (EMF metric blobs, the cold-start one included) held back."""

    def call(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with contextlib.redirect_stdout(io.StringIO()):
            return handler(event, context)

    return call


def restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


@dataclass
class LocalSkill:
    handler: Handler
    table: Any  # pelvic_ease.repository.DynamoTable
    clock: Clock
    where: str  # for the user: which DynamoDB this is
    alexa_api: Any = None  # sim.alexa_api.FakeAlexaApi: the Alexa APIs the envelopes point at


@contextmanager
def local_skill(
    endpoint: str | None = None,
    table: str = LOCAL_TABLE,
    use_aws: bool = False,
    create_table: bool = False,
    clock: Clock | None = None,
    *,
    audio: bool = False,
) -> Iterator[LocalSkill]:
    """The container's skill built on the chosen DynamoDB; the moto server lives as long as
    this. ``audio``: the routines rendered with espeak-ng (once) and served on 127.0.0.1,
    so a device with an audio player plays them."""
    from pelvic_ease import app  # noqa: PLC0415 - after the caller has set the environment
    from pelvic_ease.alexa_api import TimedApiClient  # noqa: PLC0415
    from pelvic_ease.audio import AudioLibrary, Manifest  # noqa: PLC0415
    from pelvic_ease.repository import DynamoTable  # noqa: PLC0415
    from pelvic_ease.settings import Settings  # noqa: PLC0415
    from pelvic_ease.skill import build_skill, use_skill  # noqa: PLC0415

    clock = clock or Clock()
    with contextlib.ExitStack() as stack:
        if endpoint:
            previous = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
            os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
            stack.callback(restore_env, "AWS_ENDPOINT_URL_DYNAMODB", previous)
            where = f"DynamoDB at {endpoint}, table {table}"
        elif use_aws:
            region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
            where = f"AWS DynamoDB ({region}), table {table}"
        else:
            url = stack.enter_context(moto_server(table))
            where = f"DynamoDB: moto on {url}, table {table}"
        if create_table and (endpoint or use_aws):
            import boto3  # noqa: PLC0415

            create_table_from_template(boto3.client("dynamodb"), table)
        progress_table = DynamoTable(table, clock=clock)
        library = AudioLibrary(None, None)
        if audio:
            from .local_audio import audio_server, ensure_rendered  # noqa: PLC0415

            manifest = Manifest.load(ensure_rendered())
            library = AudioLibrary(manifest, stack.enter_context(audio_server()))
            where += f"; audio: {library.base_url}"
        from .alexa_api import alexa_api  # noqa: PLC0415

        api = stack.enter_context(alexa_api())
        where += f"; Alexa APIs: a fake on {api.url}"
        settings = Settings(table, DEFAULT_SKILL_ID)
        client = TimedApiClient(ca_certs=api.ca_path)
        use_skill(build_skill(settings, table=progress_table, clock=clock, audio=library, api_client=client))
        stack.callback(use_skill, None)
        yield LocalSkill(quietly(app.lambda_handler), progress_table, clock, where, api)
