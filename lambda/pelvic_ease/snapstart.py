"""Lambda SnapStart: a first request's work done before the snapshot, and what must differ
between environments renewed after each restore.

With SnapStart (template.yaml: AutoPublishAlias, SnapStart on published versions) Lambda
initialises the function once when a version is published, runs the before-snapshot hooks,
and snapshots the memory. Every new environment resumes from that snapshot, runs the
after-restore hooks, and answers. So the first "Alexa, open Pelvic Ease" of the day pays
only for what the snapshot lacks.

Before the snapshot:
- the skill is built (handlers, settings, the audio manifest) and the DynamoDB client made;
- a handful of requests are rehearsed through the real handler: one launch per locale, an
  intent, a player report, a remote's button and a session end. This loads each
  locale's content and imports every module a request touches, ask-sdk-model's classes
  and botocore's request path included. The client's HTTP send is answered here, on this
  side of the socket. So no connection is opened and nothing is stored; the requests are
  signed as usual.
- the rehearsal's metrics and log keys are dropped. The Powertools cold-start flag is left
  alone, since only the wrapped handler sets it: the first request after a restore still
  reports ColdStart.

After a restore: `random` gets a fresh seed. Otherwise every environment restored from one
snapshot would draw the same retry jitter and retry in step. Ids and tokens come from
`secrets`, which reads the OS on each call. The DynamoDB client has no connection to drop
(the rehearsal opened none). Its credentials refresh themselves: botocore's container
provider re-reads them when they are about to expire.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .markets import LOCALES

if TYPE_CHECKING:
    from .repository import DynamoTable

Answer = Callable[[dict[str, Any], Any], dict[str, Any]]  # app.answer: an envelope in, a response out
REHEARSAL_USER = "amzn1.ask.account.SNAPSTART-REHEARSAL"
# What a DynamoDB JSON answer holds when there is nothing: no item, no items, no attributes.
_HOOK_ID = "snapshot-rehearsal"
_EMPTY_ANSWERS = {"Query": {"Count": 0, "Items": [], "ScannedCount": 0}}


class RehearsalContext:
    """What a Lambda context offers the handler, for the rehearsal."""

    function_name = "pelvic-ease-snapshot"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:pelvic-ease-snapshot"
    aws_request_id = "snapshot-rehearsal"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 7_000


class _Body:
    """A response body as botocore reads it (``raw.stream()``)."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_: Any) -> Any:
        yield self._content


def answer_locally(request: Any, event_name: str, **_: Any) -> Any:
    """botocore's before-send hook (``before-send.dynamodb.<Operation>``): an empty DynamoDB
    answer instead of a network round trip."""
    from botocore.awsrequest import AWSResponse  # noqa: PLC0415 - botocore is loaded by now

    operation = event_name.rsplit(".", 1)[-1]
    body = json.dumps(_EMPTY_ANSWERS.get(operation, {})).encode()
    headers = {"x-amzn-RequestId": "snapshot-rehearsal", "Content-Type": "application/x-amz-json-1.0"}
    return AWSResponse(request.url, 200, headers, _Body(body))


def rehearsal_events(skill_id: str | None) -> list[dict[str, Any]]:
    """One launch per locale, a one-shot start, a player report, a remote's button, a session end."""
    launches: list[dict[str, Any]] = [{"type": "LaunchRequest", "locale": locale} for locale in LOCALES]
    start: dict[str, Any] = {
        "type": "IntentRequest",
        "locale": LOCALES[0],
        "intent": {
            "name": "StartRoutineIntent",
            "confirmationStatus": "NONE",
            "slots": {
                "area": {
                    "name": "area",
                    "value": "hips",
                    "confirmationStatus": "NONE",
                    # resolved, as Alexa sends it: the resolution models are loaded before the snapshot
                    "resolutions": {
                        "resolutionsPerAuthority": [
                            {
                                "authority": "amzn1.er-authority.echo-sdk.snapshot-rehearsal.AREA",
                                "status": {"code": "ER_SUCCESS_MATCH"},
                                "values": [{"value": {"name": "hips", "id": "hips"}}],
                            }
                        ]
                    },
                }
            },
        },
    }
    report: dict[str, Any] = {
        "type": "AudioPlayer.PlaybackStopped",
        "locale": LOCALES[0],
        "token": "not-ours",
        "offsetInMilliseconds": 0,
    }
    button = {"type": "PlaybackController.PauseCommandIssued", "locale": LOCALES[0]}
    ended = {"type": "SessionEndedRequest", "locale": LOCALES[0], "reason": "USER_INITIATED"}
    return [_envelope(request, skill_id) for request in [*launches, start, report, button, ended]]


def _envelope(request: dict[str, Any], skill_id: str | None) -> dict[str, Any]:
    application = {"applicationId": skill_id or "amzn1.ask.skill.snapshot-rehearsal"}
    user = {"userId": REHEARSAL_USER}
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    # No apiEndpoint or access token: nothing in the rehearsal may call an Alexa API.
    envelope: dict[str, Any] = {
        "version": "1.0",
        "context": {
            "System": {
                "application": application,
                "user": user,
                "device": {"deviceId": "snapshot-rehearsal", "supportedInterfaces": {"AudioPlayer": {}}},
            },
            "AudioPlayer": {"playerActivity": "IDLE"},
        },
        "request": {"requestId": "snapshot-rehearsal", "timestamp": stamp, **request},
    }
    if not request["type"].startswith(("AudioPlayer.", "PlaybackController.")):
        envelope["session"] = {
            "new": True,
            "sessionId": "snapshot-rehearsal",
            "application": application,
            "user": user,
            "attributes": {},
        }
    return envelope


def before_snapshot(answer: Answer) -> None:
    """Build the skill and rehearse the first requests through ``answer`` (the entry point's),
    leaving nothing behind that a real request could see: no record, no metric, no log key,
    no open connection."""
    from . import skill  # noqa: PLC0415
    from .observability import logger  # noqa: PLC0415

    started = time.perf_counter()
    table = prepare()
    rehearse(table, rehearsal_events(skill.current().skill_id), answer)
    logger.info("rehearsed before the snapshot", extra={"ms": round((time.perf_counter() - started) * 1000)})


def prepare() -> DynamoTable:
    """The container's skill, built now, with its DynamoDB client made."""
    from .repository import DynamoTable  # noqa: PLC0415
    from .settings import Settings  # noqa: PLC0415
    from .skill import build_skill, use_skill  # noqa: PLC0415

    settings = Settings.from_env()
    table = DynamoTable(settings.table_name, ttl_days=settings.ttl_days)
    use_skill(build_skill(settings, table=table))
    table.client  # noqa: B018 - made now, not on the first request
    return table


def rehearse(table: DynamoTable, envelopes: Iterable[dict[str, Any]], answer: Answer) -> None:
    """Answer ``envelopes`` through ``answer`` (the entry point's, with the container's skill),
    the table's client answered locally. (The build's precompile step rehearses the recorded
    events the same way.)"""
    from .observability import logger, metrics  # noqa: PLC0415

    events = table.client.meta.events
    events.register_first("before-send.dynamodb", answer_locally, unique_id=_HOOK_ID)
    level = logger.log_level
    logger.setLevel(max(level, logging.WARNING))  # the rehearsal's turns are not the users'
    try:
        for envelope in envelopes:
            answer(envelope, RehearsalContext())
        # The one import the real send adds: the socket encodes the host name with IDNA.
        (urlsplit(table.client.meta.endpoint_url).hostname or "").encode("idna")
    finally:
        events.unregister("before-send.dynamodb", unique_id=_HOOK_ID)
        logger.setLevel(level)
        metrics.clear_metrics()
        logger.remove_keys(["request_type", "intent", "routine", "step"])


def after_restore() -> None:
    """What must differ between environments restored from one snapshot."""
    random.seed()  # the repository's retry jitter
