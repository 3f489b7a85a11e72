"""The Lambda entry point: skill-id verification, configuration from the environment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ask_sdk_core.exceptions import AskSdkException

from pelvic_ease import app, skill
from pelvic_ease.settings import Settings
from pelvic_ease.skill import use_skill
from sim.driver import Conversation
from tests.conftest import stored_items


def test_a_request_from_another_skill_is_rejected_and_nothing_is_read_or_stored(
    handler: Callable[..., dict[str, Any]], dynamodb: Any
) -> None:
    calls: list[str] = []
    dynamodb.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    stranger = Conversation(handler, skill_id="amzn1.ask.skill.11111111-2222-4333-8444-555555555555")
    with pytest.raises(AskSdkException, match="Skill ID Verification failed"):
        stranger.say("open pelvic ease")
    assert calls == []
    assert stored_items(dynamodb) == []


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROGRESS_TABLE", "progress-table")
    monkeypatch.setenv("SKILL_ID", "amzn1.ask.skill.abc")
    monkeypatch.setenv("STALE_AFTER_DAYS", "7")
    assert Settings.from_env() == Settings("progress-table", "amzn1.ask.skill.abc", 7)
    monkeypatch.setenv("SKILL_ID", "")
    assert Settings.from_env().skill_id is None
    monkeypatch.delenv("PROGRESS_TABLE")
    with pytest.raises(RuntimeError, match="PROGRESS_TABLE"):
        Settings.from_env()


def test_the_container_builds_its_skill_once_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, dynamodb: Any
) -> None:
    monkeypatch.setenv("PROGRESS_TABLE", "pelvic-ease-test-progress")
    monkeypatch.delenv("SKILL_ID", raising=False)
    use_skill(None)
    try:
        first = Conversation(app.lambda_handler).say("open pelvic ease")
        assert first.session_open
        assert skill.current() is skill.current()
        assert len(stored_items(dynamodb)) == 1
    finally:
        use_skill(None)
