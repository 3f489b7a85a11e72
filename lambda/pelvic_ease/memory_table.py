"""Progress records in memory: the repository's second backend (the ProgressTable protocol),
for the fuzz tests and the benchmark's warm turns and counted calls, where DynamoDB's round
trips would only cost time. tests/test_repository.py holds it to
DynamoDB's behaviour (moto). Not used by the deployed skill.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from .repository import Conflict, ProgressKey


class MemoryTable:
    attempt_seconds = 0.0

    def __init__(self, page_size: int = 100) -> None:
        self.records: dict[ProgressKey, dict[str, Any]] = {}
        self.page_size = page_size
        self._lock = threading.Lock()

    def get(self, key: ProgressKey) -> dict[str, Any] | None:
        with self._lock:
            record = self.records.get(key)
            return copy.deepcopy(record) if record is not None else None

    def put(self, key: ProgressKey, record: dict[str, Any], expected_version: int) -> None:
        with self._lock:
            stored = self.records.get(key)
            if (stored.get("version", 0) if stored is not None else 0) != expected_version or (
                stored is not None and expected_version == 0
            ):
                raise Conflict(copy.deepcopy(stored))
            self.records[key] = copy.deepcopy(record)

    def keys_page(self, user: str, start: Any) -> tuple[list[ProgressKey], Any]:
        with self._lock:
            keys = sorted(
                (k for k in self.records if k.user == user and (start is None or k.profile > start)),
                key=lambda k: k.profile,
            )
        page = keys[: self.page_size]
        more = len(keys) > self.page_size
        return page, (page[-1].profile if more else None)

    def delete(self, key: ProgressKey) -> None:
        with self._lock:
            self.records.pop(key, None)
