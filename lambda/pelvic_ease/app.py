"""The Lambda entry point: observability decorators, the skill built once, invoked per event."""

from __future__ import annotations

import json
from typing import Any, cast

from ask_sdk_core.exceptions import AskSdkException
from ask_sdk_model import Request, RequestEnvelope

from . import skill
from .content import default_library
from .handlers import SILENT_REQUESTS
from .observability import count, log_failure, logger, observed
from .repository import ForgetIncomplete
from .speech import render, say


def _dig(event: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(event, dict):
            return None
        event = event.get(key)
    return event


def _apology(request_type: object = None) -> dict[str, Any]:
    """A spoken apology that ends the session, for a request the skill cannot read (nothing,
    for a request from the device itself, which may not be answered with speech)."""
    if isinstance(request_type, str) and request_type.startswith(SILENT_REQUESTS):
        return {"version": "1.0", "response": {}}
    library = default_library()
    ssml = render(say(library.say("error")), library.pace(None).rate)
    return {
        "version": "1.0",
        "response": {
            "outputSpeech": {"type": "SSML", "ssml": f"<speak>{ssml}</speak>"},
            "shouldEndSession": True,
        },
    }


def answer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One Alexa request envelope in, one response envelope out.

    A request whose caller cannot be verified is rejected (raised, as the SDK does for a
    wrong skill id); a verified but malformed one gets a spoken apology; nothing else escapes.
    """
    current = skill.current()
    application_id = _dig(event, "context", "System", "application", "applicationId")
    if not isinstance(application_id, str):
        logger.warning("request rejected: no application id to verify")
        raise AskSdkException("request rejected: no application id")
    if current.skill_id is not None and application_id != current.skill_id:
        logger.warning("request rejected: wrong application id")
        raise AskSdkException("Skill ID Verification failed!!")
    request = _dig(event, "request")
    if not (isinstance(request, dict) and isinstance(request.get("type"), str)):
        logger.warning("malformed request: no request type")
        count("ErrorSpoken")
        return _apology()
    if request["type"] not in Request.discriminator_value_class_map:
        # a request type newer than the SDK (a new device event): nothing to do, nothing wrong
        logger.info("request type unknown to the SDK: answered with nothing")
        return {"version": "1.0", "response": {}}
    try:
        envelope = current.serializer.deserialize(payload=json.dumps(event), obj_type=RequestEnvelope)
        response = current.invoke(request_envelope=envelope, context=context)
        return cast(dict[str, Any], current.serializer.serialize(response))
    except ForgetIncomplete as error:
        # Records were left behind after SkillDisabled: fail the invocation so it shows as a
        # Lambda error (and an alarm), rather than answer as if all was deleted.
        log_failure("skill disabled, but some stored progress could not be deleted", error)
        count("ForgetFailed")
        raise
    except Exception as error:  # the caller is verified above: whatever this is, it is not a rejection
        log_failure("request could not be answered", error)
        count("ErrorSpoken")
        return _apology(request.get("type"))


lambda_handler = observed(answer)


def _register_snapstart_hooks() -> None:
    """Lambda's Python runtime provides snapshot_restore_py and calls these hooks when SnapStart
    publishes a version (and after each restore); without SnapStart they are never called."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot  # noqa: PLC0415
    except ImportError:  # a local run without the package: no snapshots here
        return
    from . import snapstart  # noqa: PLC0415

    register_before_snapshot(lambda: snapstart.before_snapshot(answer))
    register_after_restore(snapstart.after_restore)


_register_snapstart_hooks()
