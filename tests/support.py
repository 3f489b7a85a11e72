"""Helpers shared by the tests: the template's own table, events, a controllable clock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim.driver import Clock
from sim.local_dynamodb import create_table_from_template, load_template

__all__ = ["Clock", "create_table_from_template", "load_event", "load_template"]

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
TABLE_NAME = "pelvic-ease-test-progress"


def load_event(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return data
