"""The bare skill: ask-sdk-core and botocore, nothing else. One GetItem of the same record our
skill reads, one spoken sentence. The cold-start target is set against it."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import botocore.session
from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.skill_builder import SkillBuilder
from ask_sdk_model import RequestEnvelope, Response

TABLE = os.environ.get("PROGRESS_TABLE", "bare")
_client: Any = None


class AnyRequest(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return True

    def handle(self, handler_input: HandlerInput) -> Response:
        global _client  # noqa: PLW0603 - the bare skill is written the plain way on purpose
        if _client is None:
            _client = botocore.session.get_session().create_client("dynamodb")
        user: str = handler_input.request_envelope.context.system.user.user_id  # type: ignore[union-attr,assignment]
        # the key our skill reads (a digest of the user id), so the same stored record comes back
        key = {"user_id": {"S": hashlib.sha256(user.encode()).hexdigest()}, "profile": {"S": "account"}}
        _client.get_item(TableName=TABLE, Key=key, ConsistentRead=True)
        return (
            handler_input.response_builder.speak("Hello from the bare skill.")
            .set_should_end_session(True)
            .response
        )


_builder = SkillBuilder()
_builder.add_request_handler(AnyRequest())
_skill = _builder.create()


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    envelope = _skill.serializer.deserialize(json.dumps(event), RequestEnvelope)
    return _skill.serializer.serialize(_skill.invoke(envelope, context))  # type: ignore[return-value]
