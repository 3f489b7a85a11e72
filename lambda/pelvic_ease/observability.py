"""Logger, Metrics and Tracer, made once and imported wherever they are needed.

Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE (set in template.yaml), with defaults for local runs.
Tracing is on only when template.yaml turns it on (POWERTOOLS_TRACE_DISABLED=false):
Powertools' Tracer imports the X-Ray SDK even when disabled, so it is not built otherwise.
Never log the envelope: it carries the user's access token and ids.
"""

from __future__ import annotations

import os
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
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def count(name: str) -> None:
    """Add one to a business metric (RoutineStarted, SegmentSpoken, ...)."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def tracing_enabled() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "true").strip().lower() == "false"


def observed(handler: LambdaHandler) -> LambdaHandler:
    """The handler wrapped for logs (correlation id: the Alexa requestId), metrics
    (with the cold-start metric) and, when enabled, X-Ray traces without the response."""
    wrapped: LambdaHandler = metrics.log_metrics(capture_cold_start_metric=True)(handler)
    wrapped = logger.inject_lambda_context(correlation_id_path="request.requestId")(wrapped)
    if tracing_enabled():
        from aws_lambda_powertools import Tracer  # noqa: PLC0415 - only when tracing is on

        wrapped = Tracer(service=SERVICE).capture_lambda_handler(wrapped, capture_response=False)
    return wrapped
