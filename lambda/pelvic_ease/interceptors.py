"""Interceptors that give every log line of a request its context."""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestInterceptor, AbstractResponseInterceptor
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import IntentRequest, Response

from .observability import logger


class LogContextInterceptor(AbstractRequestInterceptor):
    """Request type and intent name as log keys (never the envelope, tokens or user ids)."""

    def process(self, handler_input: HandlerInput) -> None:
        request = handler_input.request_envelope.request
        intent = request.intent.name if isinstance(request, IntentRequest) and request.intent else None
        # (the previous request's keys are cleared as each invocation begins: observability.observed)
        logger.append_keys(request_type=getattr(request, "object_type", None), intent=intent)


class LogOutcomeInterceptor(AbstractResponseInterceptor):
    """One line per turn: did the session stay open."""

    def process(self, handler_input: HandlerInput, response: Response | None) -> None:
        logger.info(
            "turn answered", extra={"session_open": bool(response and not response.should_end_session)}
        )
