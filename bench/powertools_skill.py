"""The bare skill with Powertools Logger and Metrics set up the way pelvic_ease/observability.py
sets them up: the same ask-sdk-core and botocore, the same GetItem of the same record, one
sentence, one business metric, the handler wrapped for the correlation id and the cold-start
metric. The cold-start and memory targets are set against it: what our skill costs beyond
a skill that observes itself as ours does."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from typing import Any

import botocore.session
from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.skill_builder import SkillBuilder
from ask_sdk_model import RequestEnvelope, Response
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "bare-powertools")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "BarePowertools")
TABLE = os.environ.get("PROGRESS_TABLE", "bare")
warnings.filterwarnings("ignore", message="No application metrics to publish")
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
_client: Any = None


class AnyRequest(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return True

    def handle(self, handler_input: HandlerInput) -> Response:
        global _client  # noqa: PLW0603 - the reference skill is written the plain way on purpose
        if _client is None:
            _client = botocore.session.get_session().create_client("dynamodb")
        user: str = handler_input.request_envelope.context.system.user.user_id  # type: ignore[union-attr,assignment]
        # the key our skill reads (a digest of the user id), so the same stored record comes back
        key = {"user_id": {"S": hashlib.sha256(user.encode()).hexdigest()}, "profile": {"S": "account"}}
        _client.get_item(TableName=TABLE, Key=key, ConsistentRead=True)
        metrics.add_metric(name="Answered", unit=MetricUnit.Count, value=1)
        logger.info("answered")
        return (
            handler_input.response_builder.speak("Hello from the bare skill with Powertools.")
            .set_should_end_session(True)
            .response
        )


_builder = SkillBuilder()
_builder.add_request_handler(AnyRequest())
_skill = _builder.create()


def answer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    envelope = _skill.serializer.deserialize(json.dumps(event), RequestEnvelope)
    return _skill.serializer.serialize(_skill.invoke(envelope, context))  # type: ignore[return-value]


lambda_handler = logger.inject_lambda_context(correlation_id_path="request.requestId")(
    metrics.log_metrics(capture_cold_start_metric=True)(answer)
)
