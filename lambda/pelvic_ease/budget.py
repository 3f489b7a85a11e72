"""Time is a budget: a Lambda turn has 7 s, and every network call (DynamoDB, the Alexa APIs)
is started only if, at its slowest, it still leaves time to speak the answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

RESERVE_MS = 1_500  # what a turn keeps back to speak its answer when a call is slow


class Budget:
    """The time a turn has left (Lambda's own clock when there is one). A call is started
    only if, at its slowest, it would still leave RESERVE_MS to speak the answer."""

    def __init__(self, remaining_ms: Callable[[], int], reserve_ms: int = RESERVE_MS) -> None:
        self.remaining_ms = remaining_ms
        self.reserve_ms = reserve_ms

    @classmethod
    def of(cls, context: Any, timeout_ms: int = 7_000) -> Budget:
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if callable(remaining):
            return cls(lambda: int(remaining()))
        started = time.monotonic()  # no Lambda context (a direct invoke): the template's timeout
        return cls(lambda: timeout_ms - int((time.monotonic() - started) * 1000))

    def allows(self, seconds: float) -> bool:
        return self.remaining_ms() - seconds * 1000 >= self.reserve_ms
