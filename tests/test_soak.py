"""The soak (tests/soak.py) at a size for every run: played and spoken users at once, a few
percent of DynamoDB calls faulted; ``make soak`` runs it with 500 played and 100 spoken users,
50 at a time."""

from __future__ import annotations

from pathlib import Path

from tests.soak import soak, stage


def test_many_users_at_once_with_faulted_calls_have_every_completion_heard_stored(
    rendered_audio: Path,
) -> None:
    with stage(rendered_audio, seed=3) as where:
        result = soak(where, played=30, spoken=10, concurrency=10, seed=3)
    print("\n" + result.table())
    assert [u.user for u in result.users if u.problem is not None] == []
    assert result.faulted > 0
    for user in result.users:
        assert user.stored == user.heard, user
    assert sum(u.heard for u in result.kind(played=True)) > 0
    assert sum(u.heard for u in result.kind(played=False)) > 0
