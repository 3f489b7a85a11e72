"""The baseline: a skill that does nothing useful. Bare ask-sdk-core, Powertools Logger and
Metrics, boto3, one GetItem, one spoken sentence. Our skill is measured against it."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import boto3
from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.skill_builder import SkillBuilder
from ask_sdk_model import RequestEnvelope, Response
from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="baseline")
metrics = Metrics(namespace="Baseline", service="baseline")
TABLE = os.environ.get("PROGRESS_TABLE", "baseline")
_client: Any = None


class AnyRequest(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return True

    def handle(self, handler_input: HandlerInput) -> Response:
        global _client  # noqa: PLW0603 - the baseline is written the plain way on purpose
        if _client is None:
            _client = boto3.client("dynamodb")
        user: str = handler_input.request_envelope.context.system.user.user_id  # type: ignore[union-attr,assignment]
        # the key our skill reads (a digest of the user id), so the same stored record comes back
        key = {"user_id": {"S": hashlib.sha256(user.encode()).hexdigest()}, "profile": {"S": "account"}}
        _client.get_item(TableName=TABLE, Key=key, ConsistentRead=True)
        return (
            handler_input.response_builder.speak("Hello from the baseline.")
            .set_should_end_session(True)
            .response
        )


_builder = SkillBuilder()
_builder.add_request_handler(AnyRequest())
_skill = _builder.create()


@logger.inject_lambda_context
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    envelope = _skill.serializer.deserialize(json.dumps(event), RequestEnvelope)
    return _skill.serializer.serialize(_skill.invoke(envelope, context))  # type: ignore[return-value]
