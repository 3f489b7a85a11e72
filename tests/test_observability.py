"""Powertools logs and metrics, read back as CloudWatch would see them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aws_lambda_powertools.metrics.provider import cold_start

from pelvic_ease.content import load_library
from pelvic_ease.engine import Engine
from pelvic_ease.observability import logger
from sim.driver import Conversation, LambdaContext

LIB = load_library()
Handler = Callable[..., dict[str, Any]]


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Every line the skill's Logger writes inside the block."""
    stream = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def metric_names(stdout: str) -> list[str]:
    blobs = [json.loads(line) for line in stdout.splitlines() if line.startswith('{"_aws"')]
    assert all(b["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "PelvicEase" for b in blobs)
    return [m["Name"] for b in blobs for d in b["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]


def secrets_of(conv: Conversation) -> list[str]:
    system = conv.replies[0].request["context"]["System"]
    return [conv.user_id, system["apiAccessToken"], "amzn1.ask.account", "apiAccessToken"]


def test_business_metrics_are_emitted_in_emf(handler: Handler, capsys: pytest.CaptureFixture[str]) -> None:
    conv = Conversation(handler)
    conv.say("open pelvic ease")
    conv.say("release my psoas")
    for _ in LIB.routines["psoas_release"].steps[1:]:
        conv.say("next")
    conv.say("no")  # no tennis ball: the end
    conv.say("massage my lower back")
    conv.say("stop")
    conv.say("ask pelvic ease to resume")
    out = capsys.readouterr().out
    names = metric_names(out)
    for wanted in ("DisclaimerRead", "RoutineStarted", "SegmentSpoken", "RoutineCompleted", "SessionResumed"):
        assert wanted in names
    assert names.count("RoutineCompleted") == 1
    assert names.count("SegmentSpoken") == len(LIB.routines["psoas_release"].steps) + 2
    for secret in secrets_of(conv):
        assert secret not in out


def test_log_lines_carry_the_request_context_and_no_secrets(handler: Handler) -> None:
    with captured_logs() as stream:
        conv = Conversation(handler)
        conv.say("open pelvic ease")
        conv.say("release my psoas")
        conv.say("next")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    request_ids = [reply.request["request"]["requestId"] for reply in conv.replies]
    assert {line["correlation_id"] for line in lines} == set(request_ids)
    turns = [line for line in lines if line["message"] == "turn answered"]
    assert [(t["request_type"], t.get("intent")) for t in turns] == [
        ("LaunchRequest", None),
        ("IntentRequest", "StartRoutineIntent"),
        ("IntentRequest", "AMAZON.NextIntent"),
    ]
    assert (turns[-1]["routine"], turns[-1]["step"]) == ("psoas_release", 2)
    for secret in secrets_of(conv):
        assert secret not in stream.getvalue()


def test_an_error_is_logged_with_its_exception_and_counted(
    handler: Handler, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with captured_logs() as stream:
        conv = Conversation(handler)
        conv.say("open pelvic ease")
        conv.say("release my psoas")
        monkeypatch.setattr(Engine, "advance", lambda *a, **k: 1 / 0)
        assert conv.say("next").text == LIB.say("error")
    failures = [json.loads(line) for line in stream.getvalue().splitlines() if '"handler failed"' in line]
    assert len(failures) == 1
    assert failures[0]["error"] == "ZeroDivisionError"  # what and where, never the message
    assert failures[0]["raised"][0]["at"]
    assert "ErrorSpoken" in metric_names(capsys.readouterr().out)


def test_the_cold_start_metric_is_captured(handler: Handler, capsys: pytest.CaptureFixture[str]) -> None:
    cold_start.is_cold_start = True
    Conversation(handler).say("open pelvic ease")
    assert "ColdStart" in metric_names(capsys.readouterr().out)


def test_no_token_or_user_id_reaches_the_logs_even_on_errors(
    handler: Handler, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    consent, access = "CONSENT-TOKEN-SECRET-123", "ACCOUNT-LINK-TOKEN-SECRET-456"
    conv = Conversation(handler)
    original = conv.envelope

    def with_tokens(request: dict[str, Any]) -> dict[str, Any]:
        envelope = original(request)
        envelope["context"]["System"]["user"].update(
            permissions={"consentToken": consent}, accessToken=access
        )
        return envelope

    monkeypatch.setattr(conv, "envelope", with_tokens)
    with captured_logs() as stream:
        conv.say("open pelvic ease")
        conv.say("release my psoas")
        monkeypatch.setattr(Engine, "advance", lambda *a, **k: 1 / 0)
        conv.say("next")  # the exception handler logs a traceback
        broken = with_tokens({"type": "IntentRequest"})
        broken["request"]["intent"] = 42  # malformed: the entry point's own error path
        handler(broken, LambdaContext())
    text = stream.getvalue() + capsys.readouterr().out
    assert "handler failed" in text
    assert "request could not be answered" in text
    for secret in [consent, access, *secrets_of(conv)]:
        assert secret not in text
