"""The one path to stored progress: ``ProgressRepository`` over a ``ProgressTable``.

The repository owns the policy: the key (a SHA-256 of the Alexa ids, never the raw id),
the conditional write on the item version, idempotency (each change carries a write id
that the record keeps, so a write whose response was lost is recognised, not applied
again), applying a change to a record another device wrote meanwhile, retries of
transient faults within the turn's time budget, and what stays unsaved for the next turn.

A table is only storage: read one record, write one if its version is as expected, list
and delete an account's records. ``DynamoTable`` is DynamoDB through botocore; an
in-memory table (``memory_table.py``) drops in for fast tests and is held to the
DynamoDB one by a contract test (tests/test_repository.py).
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import fields, replace
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from .budget import Budget
from .observability import log_failure, logger
from .progress import Change, Progress, applied, completions, kind

if TYPE_CHECKING:
    from botocore.client import BaseClient

ACCOUNT_PROFILE = "account"
ATTEMPTS = 3  # tries of one call on a transient fault (throttling, 5xx, timeout, reset)
RETRY_BACKOFF = (0.05, 0.4)  # full-jitter exponential backoff: base and cap, seconds
SAVE_ROUNDS = 5  # read-apply-write rounds when other devices keep writing
CONFLICT_BACKOFF = (0.005, 0.03)
MAX_UNSAVED = 32  # changes kept in the session for the next turn, newest kept
CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 1.0


# -- errors --------------------------------------------------------------------------------
class StoreUnavailable(Exception):
    """Storage could not be reached or refused the call. ``transient``: worth trying again."""

    def __init__(self, message: str, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


class Conflict(Exception):
    """The record's version is not the one expected: another write came first.
    ``current`` is the stored record as it is now (None: there is none)."""

    def __init__(self, current: dict[str, Any] | None) -> None:
        super().__init__("version conflict")
        self.current = current


class SaveFailed(Exception):
    """The changes could not be stored in the time there was. ``progress``: the record with
    them applied, as the user now has it; ``unsaved``: what to try again next turn."""

    def __init__(self, progress: Progress, unsaved: tuple[Change, ...]) -> None:
        super().__init__("progress not saved")
        self.progress = progress
        self.unsaved = unsaved


class Stored(NamedTuple):
    """A save that succeeded: the record as stored, and the routines it counted as finished."""

    progress: Progress
    completed: tuple[str, ...] = ()


class ForgetIncomplete(Exception):
    """Some of an account's records could not be deleted."""


class UnknownUser(Exception):
    """The request carries no user id, so there is nothing to key a record by."""


# -- who --------------------------------------------------------------------------------
class ProgressKey(NamedTuple):
    """The key of one stored record: digests of the Alexa ids, never the raw ids."""

    user: str  # SHA-256 of the Alexa userId
    profile: str  # "account", or "person-" and a SHA-256 of the voice profile's personId

    @classmethod
    def of(cls, user_id: str | None, person_id: str | None = None) -> ProgressKey:
        if not user_id:
            raise UnknownUser("request has no context.System.user.userId")
        profile = f"person-{_digest(person_id)}" if person_id else ACCOUNT_PROFILE
        return cls(_digest(user_id), profile)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


# -- storage ----------------------------------------------------------------------------
class ProgressTable(Protocol):
    """One record per key, written only if its version is the one expected."""

    attempt_seconds: float  # the longest one call can take (its timeouts)

    def get(self, key: ProgressKey) -> dict[str, Any] | None:
        """The stored record (plain values, unvalidated) or None. Strongly consistent."""

    def put(self, key: ProgressKey, record: dict[str, Any], expected_version: int) -> None:
        """Write ``record`` if the stored version is ``expected_version`` (0: none stored);
        else raise Conflict."""

    def keys_page(self, user: str, start: Any) -> tuple[list[ProgressKey], Any]:
        """One page of the keys stored under ``user`` and where the next page starts (None: last)."""

    def delete(self, key: ProgressKey) -> None: ...


INVALID = object()  # a stored value of the wrong type: Progress.salvaged drops it


def _number(value: Any) -> Any:
    try:
        return int(value["N"])
    except (KeyError, TypeError, ValueError):
        return INVALID


def _text(value: Any) -> Any:
    return value["S"] if isinstance(value, dict) and isinstance(value.get("S"), str) else INVALID


def _items(value: Any, key: str) -> list[Any]:
    items = value.get(key) if isinstance(value, dict) else None
    return items if isinstance(items, list | dict) else []  # type: ignore[return-value]


def to_attribute(shape: str, value: Any) -> dict[str, Any]:
    """A plain value as a DynamoDB attribute value of ``shape`` (N, S, or M:/L: of one)."""
    outer, _, inner = shape.partition(":")
    if outer == "M":
        return {"M": {k: to_attribute(inner, v) for k, v in value.items()}}
    if outer == "L":
        return {"L": [to_attribute(inner, v) for v in value]}
    return {outer: str(value) if outer == "N" else value}


def from_attribute(shape: str, value: Any) -> Any:
    """A DynamoDB attribute value back to a plain value; one of the wrong type becomes
    INVALID (dropped by Progress.salvaged), never an exception."""
    outer, _, inner = shape.partition(":")
    if outer == "M":
        entries = _items(value, "M")
        return {k: from_attribute(inner, v) for k, v in entries.items()} if isinstance(entries, dict) else {}
    if outer == "L":
        return [from_attribute(inner, v) for v in _items(value, "L")]
    return _number(value) if outer == "N" else _text(value)


def encode(record: dict[str, Any]) -> dict[str, Any]:
    """A Progress record as DynamoDB attribute values, field by field from its kind."""
    return {
        spec.name: to_attribute(kind(spec).shape, record[spec.name])
        for spec in fields(Progress)
        if spec.name in record
    }


def decode(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values back to plain values, field by field from its kind."""
    return {
        spec.name: from_attribute(kind(spec).shape, item[spec.name])
        for spec in fields(Progress)
        if spec.name in item
    }


TRANSIENT_CODES = {
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
}


def default_client() -> BaseClient:
    """The low-level client from botocore itself: boto3's import (s3transfer and its resource
    layer) costs ~90 ms of cold start and nothing here uses it. Same environment: region,
    credentials, AWS_ENDPOINT_URL_DYNAMODB.

    botocore makes one attempt per call with short timeouts: its own retry loop cannot see
    the Lambda deadline, so the repository retries, and only while the turn has time.
    """
    import botocore.session  # noqa: PLC0415 - imported on first use
    from botocore.config import Config  # noqa: PLC0415

    config = Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": 1},
    )
    session = botocore.session.get_session()
    session.register_component("data_loader", _dynamodb_loader(session.get_config_variable("data_path")))
    client = session.create_client("dynamodb", config=config)
    client.meta.events.register("after-call.dynamodb", verify_crc32)
    return client


def _dynamodb_loader(data_path: str | None) -> Any:
    """botocore's data loader, on the same search path, told that DynamoDB is the one service
    it will be asked for. Before loading one service's model, the stock loader lists every
    service's folder (about 400 folders, 2,700 stat calls): ~20 ms of a cold start's ~70 ms
    client creation, measured under Python 3.13."""
    from botocore.loaders import Loader  # noqa: PLC0415

    class DynamoDBLoader(Loader):  # type: ignore[misc]  # botocore has no type hints
        def list_available_services(self, type_name: str) -> list[str]:
            return ["dynamodb"]

    paths = [os.path.expanduser(os.path.expandvars(p)) for p in (data_path or "").split(os.pathsep) if p]
    return DynamoDBLoader(extra_search_paths=paths)


def verify_crc32(http_response: Any, **_: Any) -> None:
    """Refuse an answer whose body does not match DynamoDB's x-amz-crc32 header. botocore
    does not enforce Content-Length, and with one attempt it returns a body cut short as if
    whole: a GetItem would read as "no record" and the user would be greeted as new."""
    from botocore.exceptions import ChecksumError  # noqa: PLC0415

    expected = http_response.headers.get("x-amz-crc32")
    if expected is not None and zlib.crc32(http_response.content) != int(expected):
        raise ChecksumError(
            checksum_type="crc32",
            expected_checksum=expected,
            actual_checksum=zlib.crc32(http_response.content),
        )


class DynamoTable:
    """Progress items in DynamoDB. Item layout: partition key ``user_id``, sort key
    ``profile``, the fields of Progress, and ``expires_at`` (TTL, pushed out on every write).
    The client is created on first use, never at import; the table is never created here."""

    attempt_seconds = CONNECT_TIMEOUT + READ_TIMEOUT

    def __init__(
        self,
        table_name: str,
        client_factory: Callable[[], BaseClient] = default_client,
        ttl_days: int = 365,
        clock: Callable[[], float] = time.time,
        page_size: int = 100,
    ) -> None:
        self.table_name = table_name
        self._client_factory = client_factory
        self._client: BaseClient | None = None
        self._client_lock = threading.Lock()
        self.ttl_seconds = ttl_days * 86_400
        self.clock = clock
        self.page_size = page_size

    @property
    def client(self) -> BaseClient:
        # Created once, under a lock: a botocore session is not safe to build clients from
        # in several threads at once (the simulator and the tests run threads).
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = self._client_factory()
        return self._client

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            result: dict[str, Any] = getattr(self.client, operation)(TableName=self.table_name, **kwargs)
            return result
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code == "ConditionalCheckFailedException" and operation == "put_item":
                item = error.response.get("Item")
                raise Conflict(decode(item) if item else None) from error
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            transient = code in TRANSIENT_CODES or status >= 500
            raise StoreUnavailable(f"{operation}: {code}", transient=transient) from error
        except BotoCoreError as error:  # timeouts, resets, a response cut short
            raise StoreUnavailable(f"{operation}: {type(error).__name__}") from error

    @staticmethod
    def _key(key: ProgressKey) -> dict[str, Any]:
        return {"user_id": {"S": key.user}, "profile": {"S": key.profile}}

    def get(self, key: ProgressKey) -> dict[str, Any] | None:
        item = self._call("get_item", Key=self._key(key), ConsistentRead=True).get("Item")
        return decode(item) if item else None

    def put(self, key: ProgressKey, record: dict[str, Any], expected_version: int) -> None:
        item = encode(record)
        item.update(self._key(key))
        item["expires_at"] = {"N": str(int(self.clock()) + self.ttl_seconds)}
        if expected_version == 0:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(user_id)"}
        else:
            condition = {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
            }
        # On a failed condition DynamoDB returns the stored item: no second read to merge.
        self._call("put_item", Item=item, ReturnValuesOnConditionCheckFailure="ALL_OLD", **condition)

    def keys_page(self, user: str, start: Any) -> tuple[list[ProgressKey], Any]:
        page = self._call(
            "query",
            KeyConditionExpression="user_id = :user",
            ExpressionAttributeValues={":user": {"S": user}},
            ProjectionExpression="user_id, profile",
            ConsistentRead=True,
            Limit=self.page_size,
            **({"ExclusiveStartKey": start} if start else {}),
        )
        keys = [ProgressKey(item["user_id"]["S"], item["profile"]["S"]) for item in page.get("Items", [])]
        return keys, page.get("LastEvaluatedKey")

    def delete(self, key: ProgressKey) -> None:
        self._call("delete_item", Key=self._key(key))


# -- policy -----------------------------------------------------------------------------
class ProgressRepository:
    def __init__(self, table: ProgressTable, sleep: Callable[[float], None] = time.sleep) -> None:
        self.table = table
        self.sleep = sleep

    def _attempt(self, call: Callable[[], Any], budget: Budget) -> Any:
        """One storage call, tried again on a transient fault while the budget allows."""
        limit = self.table.attempt_seconds
        last = StoreUnavailable("no time left for storage")
        for attempt in range(ATTEMPTS):
            delay = random.uniform(0, min(RETRY_BACKOFF[1], RETRY_BACKOFF[0] * 2**attempt)) if attempt else 0
            if not budget.allows(delay + limit):
                raise last
            self.sleep(delay)
            try:
                return call()
            except StoreUnavailable as error:
                if not error.transient:
                    raise
                last = error
        raise last

    def load(self, key: ProgressKey, budget: Budget) -> Progress:
        """The user's record (a new one if none). Fields that break the schema are dropped and
        logged: a bad field never locks the user out. Raises StoreUnavailable."""
        record = self._attempt(lambda: self.table.get(key), budget)
        return self._salvaged(record)

    @staticmethod
    def _salvaged(record: dict[str, Any] | None) -> Progress:
        progress, dropped = Progress.salvaged(record)
        if dropped:
            logger.warning(
                "stored progress had fields that break the schema; dropped", extra={"fields": dropped}
            )
        return progress

    def save(self, key: ProgressKey, base: Progress, changes: Sequence[Change], budget: Budget) -> Progress:
        """Apply ``changes`` to ``base`` (the record as last read) and store the result.

        On a version conflict the changes are applied to the stored record instead, except
        those it already holds (our own write that landed although its answer was lost).
        Returns the record as stored; raises SaveFailed when time or retries run out.
        """
        return self.store(key, base, changes, budget).progress

    def store(self, key: ProgressKey, base: Progress, changes: Sequence[Change], budget: Budget) -> Stored:
        """``save``, also telling which routines the changes counted as finished in the write
        that stored them (a played change is decided against the record it lands on)."""
        changes = tuple(changes)
        current = base
        seen: Progress | None = None  # the stored record, once a conflict has shown it
        target = applied(current, changes)
        for attempt in range(SAVE_ROUNDS):
            try:
                record = target.to_dict() | {"version": current.version + 1}
                self._attempt(partial(self.table.put, key, record, current.version), budget)
                return Stored(replace(target, version=current.version + 1), completions(current, changes))
            except Conflict as conflict:
                logger.info(
                    "progress changed since it was read; applying this turn's change to the newer record"
                )
                tried, current = current, self._salvaged(conflict.current)
                seen = current
                if all(change.write_id in current.recent_writes for change in changes):
                    # every change is stored already: ours landed, on the record it was tried on
                    return Stored(current, completions(tried, changes))
                target = applied(current, changes)
                delay = random.uniform(*CONFLICT_BACKOFF) if attempt else 0.0
                if not budget.allows(delay + self.table.attempt_seconds):
                    break
                self.sleep(delay)
            except StoreUnavailable as error:
                log_failure("could not save progress", error)
                break
        landed = seen.recent_writes if seen else ()
        unsaved = tuple(change for change in changes if change.write_id not in landed)
        raise SaveFailed(target, unsaved[-MAX_UNSAVED:])

    def forget(self, user_id: str | None, budget: Budget) -> int:
        """Delete every record of the account (all its voice profiles), page by page.
        Deletes what it can; raises ForgetIncomplete if anything is left."""
        user = ProgressKey.of(user_id).user
        deleted, failures, start = 0, 0, None
        while True:
            try:
                keys, start = self._attempt(partial(self.table.keys_page, user, start), budget)
            except StoreUnavailable as error:
                log_failure("could not list the account's records", error)
                raise ForgetIncomplete(f"deleted {deleted}, could not list the rest") from None
            for key in keys:
                try:
                    self._attempt(partial(self.table.delete, key), budget)
                    deleted += 1
                except StoreUnavailable as error:
                    log_failure("could not delete a record", error)
                    failures += 1
            if not start:
                break
        if failures:
            raise ForgetIncomplete(f"deleted {deleted}, {failures} left")
        return deleted
