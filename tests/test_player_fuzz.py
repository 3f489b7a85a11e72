"""The player-report fuzz (tests/player_fuzz.py) at a size for every run; ``make soak`` runs it
with more than 10,000 reports over more than 100 plays."""

from __future__ import annotations

from pathlib import Path

from tests.player_fuzz import fuzz


def test_reports_in_any_order_repeated_overlapping_or_late_never_move_the_place_back_nor_miscount(
    rendered_audio: Path,
) -> None:
    result = fuzz(rendered_audio, plays=40, events=800, seed=7)
    print("\n" + result.table())
    assert result.events >= 800
    assert result.backward == []
    assert result.over == []
    assert result.under == []
