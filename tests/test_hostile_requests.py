"""Requests the SDK or a slot reader cannot take, and what of a request reaches the logs
(issue 25, the smaller items): each through the real lambda_handler."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from pelvic_ease.content import load_library
from pelvic_ease.engine import Engine
from sim.driver import Conversation, LambdaContext
from tests.support import FaultyClient, client_error
from tests.test_observability import captured_logs, metric_names

LIB = load_library()
Handler = Callable[..., dict[str, Any]]
CANARY = "CANARY-4f1c-said-by-the-request"


def test_a_request_type_the_sdk_does_not_know_is_answered_with_nothing_and_raises_no_alarm(
    handler: Handler, capsys: pytest.CaptureFixture[str]
) -> None:
    conv = Conversation(handler)
    event = conv.envelope({"type": "Alexa.SomethingNew.ThatHappened", "payload": {"x": 1}})
    with captured_logs() as logs:
        response = handler(event, LambdaContext())
    assert response == {"version": "1.0", "response": {}}  # no apology spoken to a device's event
    assert "ErrorSpoken" not in metric_names(capsys.readouterr().out)
    assert "could not be answered" not in logs.getvalue()


@pytest.mark.parametrize("said", ["²", "①", "٣", "5" * 5_000, "12345"])
def test_a_number_slot_that_is_no_plain_short_number_is_no_number(handler: Handler, said: str) -> None:
    conv = Conversation(handler)
    conv.say("open pelvic ease")
    reply = conv.send(
        {
            "type": "IntentRequest",
            "intent": {
                "name": "ChooseByLengthIntent",
                "slots": {"minutes": {"name": "minutes", "value": said}},
            },
        }
    )
    assert reply.text != LIB.say("error")  # understood as no length, never a failure
    assert reply.session_open


def test_no_value_of_a_request_reaches_the_logs_through_an_exceptions_message(
    handler: Handler, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    conv = Conversation(handler)
    with captured_logs() as logs:
        # the SDK cannot read the envelope: its error quotes the value
        event = conv.envelope({"type": "LaunchRequest"})
        event["request"]["timestamp"] = CANARY
        assert handler(event, LambdaContext())["response"]["shouldEndSession"] is True
        # a handler fails with an error that quotes what was said
        conv.say("open pelvic ease")
        conv.say("release my psoas")

        def failing(*args: Any, **kwargs: Any) -> Any:
            raise ValueError(f"could not use {CANARY}")

        monkeypatch.setattr(Engine, "advance", failing)
        assert conv.say("next").text == LIB.say("error")
    text = logs.getvalue() + capsys.readouterr().out
    assert CANARY not in text
    failures = [json.loads(line) for line in logs.getvalue().splitlines() if '"level":"ERROR"' in line]
    assert [(f["message"], f["error"]) for f in failures] == [
        ("request could not be answered", "SerializationException"),
        ("handler failed", "ValueError"),
    ]
    assert any("failing" in where for where in failures[1]["raised"][0]["at"])  # where, not what
    assert len(failures[0]["raised"]) > 1  # and what it was raised in handling (the date parser's error)


def test_a_request_that_fails_before_its_interceptor_carries_no_key_of_the_request_before(
    handler: Handler,
) -> None:
    conv = Conversation(handler)
    conv.say("open pelvic ease")
    conv.say("release my psoas")  # its lines carry the routine and the step
    with captured_logs() as logs:
        event = conv.envelope({"type": "LaunchRequest"})
        event["request"]["timestamp"] = "not a time"  # the SDK cannot read it: no interceptor runs
        handler(event, LambdaContext())
    [line] = [json.loads(line) for line in logs.getvalue().splitlines() if "could not be answered" in line]
    assert not {"routine", "step", "request_type", "intent"} & set(line)


def test_a_storage_error_that_quotes_a_value_is_logged_without_it(
    handler: Handler, table: Any, dynamodb: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    faulty = FaultyClient(dynamodb)
    table._client = faulty
    quoting = client_error("ValidationException", 400, f"One or more values were invalid: {CANARY}")
    conv = Conversation(handler)
    with captured_logs() as logs:
        faulty.fail("get_item", quoting, times=1)
        conv.say("open pelvic ease")  # the read fails
        faulty.fail("put_item", quoting, times=None)
        conv.say("release my psoas")  # the write fails
    failures = [json.loads(line) for line in logs.getvalue().splitlines() if '"level":"ERROR"' in line]
    assert [f["message"] for f in failures] == [
        "could not read progress; going on without it this turn",
        "could not save progress",
    ]
    assert CANARY not in logs.getvalue() + capsys.readouterr().out
    assert [r["type"] for r in failures[0]["raised"]] == ["StoreUnavailable", "ClientError"]  # its cause too
