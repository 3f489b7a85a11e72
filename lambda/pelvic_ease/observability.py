"""Logger, Metrics and Tracer, made once and imported wherever they are needed.

Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE (set in template.yaml), with defaults for local runs.
Tracing is on only when template.yaml turns it on (POWERTOOLS_TRACE_DISABLED=false):
Powertools' Tracer imports the X-Ray SDK even when disabled, so it is not built otherwise.
Never log the envelope: it carries the user's access token and ids; nor an exception's
message (``log_failure``): it can copy the envelope's values.
"""

from __future__ import annotations

import os
import traceback
import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "pelvic-ease")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "PelvicEase")

# A turn that changes nothing (help, repeat) emits no business metric; that is expected.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(service=SERVICE)
MAX_CHAIN, MAX_FRAMES = 4, 6  # of a failure logged: the exceptions it chains, the frames of each
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def log_failure(message: str, error: BaseException) -> None:
    """An error logged by what it is and where it was raised (each exception of its chain: its
    type, and the file, line and function of its last frames), never by its message: a message
    can copy what the request held (a slot's words, an envelope's value, a token)."""
    chain: list[dict[str, Any]] = []
    seen: BaseException | None = error
    while seen is not None and len(chain) < MAX_CHAIN:
        frames = traceback.extract_tb(seen.__traceback__)[-MAX_FRAMES:]
        where = [f"{os.path.basename(f.filename)}:{f.lineno} {f.name}" for f in frames]
        chain.append({"type": type(seen).__name__, "at": where})
        seen = seen.__cause__ or seen.__context__
    logger.error(message, extra={"error": type(error).__name__, "raised": chain})


def count(name: str) -> None:
    """Add one to a business metric (RoutineStarted, SegmentSpoken, ...)."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def tracing_enabled() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "true").strip().lower() == "false"


def observed(handler: LambdaHandler) -> LambdaHandler:
    """The handler wrapped for logs (correlation id: the Alexa requestId), metrics
    (with the cold-start metric) and, when enabled, X-Ray traces without the response."""
    wrapped: LambdaHandler = metrics.log_metrics(capture_cold_start_metric=True)(handler)
    # clear_state: a line logged before this request's interceptor (a request the SDK cannot
    # read) carries none of the previous request's keys (its routine and step)
    wrapped = logger.inject_lambda_context(correlation_id_path="request.requestId", clear_state=True)(wrapped)
    if tracing_enabled():
        from aws_lambda_powertools import Tracer  # noqa: PLC0415 - only when tracing is on

        wrapped = Tracer(service=SERVICE).capture_lambda_handler(wrapped, capture_response=False)
    return wrapped
