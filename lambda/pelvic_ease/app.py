"""The Lambda entry point: observability decorators, the skill built once, invoked per event."""

from __future__ import annotations

import json
from typing import Any, cast

from ask_sdk_core.exceptions import AskSdkException
from ask_sdk_core.skill import CustomSkill
from ask_sdk_model import RequestEnvelope

from .observability import logger, observed
from .settings import Settings
from .skill import build_skill

_container: dict[str, CustomSkill] = {}


def skill() -> CustomSkill:
    """The container's skill, built on the first event and reused after."""
    if "skill" not in _container:
        _container["skill"] = build_skill(Settings.from_env())
    return _container["skill"]


def use_skill(custom: CustomSkill | None) -> None:
    """Replace the container's skill (tests and the simulator inject their own store)."""
    _container.pop("skill", None)
    if custom is not None:
        _container["skill"] = custom


def answer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One Alexa request envelope in, one response envelope out."""
    current = skill()
    envelope = current.serializer.deserialize(payload=json.dumps(event), obj_type=RequestEnvelope)
    try:
        response = current.invoke(request_envelope=envelope, context=context)
    except AskSdkException:
        logger.warning("request rejected by the SDK (skill id or no handler)")
        raise
    return cast(dict[str, Any], current.serializer.serialize(response))


lambda_handler = observed(answer)
