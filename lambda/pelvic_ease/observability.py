"""Logger and Metrics, made once and imported wherever they are needed.

Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE (set in template.yaml), with defaults for local runs.
Never log the envelope: it carries the user's access token and ids.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "pelvic-ease")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "PelvicEase")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def count(name: str) -> None:
    """Add one to a business metric (RoutineStarted, SegmentSpoken, ...)."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
