"""Helpers shared by the tests: the template's own table, events, a controllable clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError

from sim.driver import Clock
from sim.local_dynamodb import create_table_from_template, load_template

__all__ = ["FAULTS", "Clock", "FaultyClient", "create_table_from_template", "load_event", "load_template"]

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
TABLE_NAME = "pelvic-ease-test-progress"


def load_event(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return data


def client_error(code: str, status: int, message: str = "injected") -> Callable[[str], Exception]:
    def make(operation: str) -> Exception:
        return ClientError(
            {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
            operation,
        )

    return make


FAULTS: dict[str, Callable[[str], Exception]] = {
    "throttling": client_error("ThrottlingException", 400),
    "capacity": client_error("ProvisionedThroughputExceededException", 400),
    "internal-error": client_error("InternalServerError", 500),
    "read-timeout": lambda op: ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
    "connect-timeout": lambda op: ConnectTimeoutError(
        endpoint_url="https://dynamodb.us-east-1.amazonaws.com"
    ),
    "access-denied": client_error("AccessDeniedException", 400),
    "conditional-check": client_error("ConditionalCheckFailedException", 400),
}


class FaultyClient:
    """A DynamoDB client whose named operation fails: the next ``times`` calls, or every call
    until ``clear()`` when ``times`` is None. ``fired`` counts the failures raised."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.failing: dict[str, tuple[Callable[[str], Exception], int | None]] = {}
        self.fired = 0

    def fail(self, operation: str, fault: Callable[[str], Exception], times: int | None = 1) -> None:
        self.failing[operation] = (fault, times)

    def clear(self) -> None:
        self.failing.clear()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)

        def call(**kwargs: Any) -> Any:
            fault, times = self.failing.get(name, (None, 0))
            if fault is not None and (times is None or times > 0):
                if times is not None:
                    self.failing[name] = (fault, times - 1)
                self.fired += 1
                raise fault(name)
            return method(**kwargs)

        return call


def dynamodb_item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB bills it (attribute names plus values; a write costs one
    unit per started KB): strings in UTF-8 bytes, numbers about one byte per two significant
    digits plus one, lists and maps 3 bytes plus one per element."""

    def size(value: dict[str, Any]) -> int:
        (kind, inner), *_ = value.items()
        if kind == "S":
            return len(inner.encode("utf-8"))
        if kind == "N":
            return (len(inner.strip("-").lstrip("0").replace(".", "")) + 1) // 2 + 1
        if kind == "L":
            return 3 + sum(1 + size(v) for v in inner)
        if kind == "M":
            return 3 + sum(1 + len(k.encode("utf-8")) + size(v) for k, v in inner.items())
        raise ValueError(kind)

    return sum(len(name.encode("utf-8")) + size(value) for name, value in item.items())
