"""Progress in DynamoDB, behind ask-sdk's persistence contract.

Our own adapter rather than ``ask_sdk_dynamodb``'s, because every write here is
conditional on the item version (two devices of one user cannot silently overwrite each
other), pushes the TTL out, and stores numbers as DynamoDB numbers. The low-level client
is created on first use, never at import, and the table is never created at run time.

Item layout: partition key ``user_id`` (a SHA-256 of the Alexa userId, so the raw id is
never stored), sort key ``profile`` (``account``, or ``person-`` and a SHA-256 of the
voice profile's personId), and the fields of ``Progress`` plus ``expires_at`` (TTL).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_model import RequestEnvelope

from .observability import logger
from .progress import CorruptProgress

if TYPE_CHECKING:
    from botocore.client import BaseClient

ACCOUNT_PROFILE = "account"
NUMBER_FIELDS = (
    "version",
    "disclaimer_version",
    "step",
    "segment",
    "updated_at",
    "minutes",
    "earlier_days",
    "run_before",
)
TEXT_FIELDS = ("routine", "pace")


class StoreError(Exception):
    """DynamoDB could not be reached or refused the call (throttling, 5xx, timeout, access)."""


class ProgressConflict(StoreError):
    """The item changed since it was read: another device of the same user wrote it."""


class UnknownUser(StoreError):
    """The request carries no user id, so there is nothing to key a record by."""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def user_key(envelope: RequestEnvelope) -> tuple[str, str]:
    """(partition key, sort key) for the request's user and, when recognised, voice profile."""
    system = envelope.context.system if envelope.context else None
    user = system.user if system else None
    if user is None or not user.user_id:
        raise UnknownUser("request has no context.System.user.userId")
    person = system.person if system else None
    profile = f"person-{_digest(person.person_id)}" if person and person.person_id else ACCOUNT_PROFILE
    return _digest(user.user_id), profile


def default_client() -> BaseClient:
    """The low-level client from botocore itself: boto3's import (s3transfer and its resource
    layer) costs ~90 ms of cold start and nothing here uses it. Same environment: region,
    credentials, AWS_ENDPOINT_URL_DYNAMODB."""
    import botocore.session  # noqa: PLC0415 - imported on first use

    return botocore.session.get_session().create_client("dynamodb")


def encode(record: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {key: {"N": str(record[key])} for key in NUMBER_FIELDS if key in record}
    item.update({key: {"S": record[key]} for key in TEXT_FIELDS if record.get(key)})
    item["completed"] = {"M": {k: {"N": str(v)} for k, v in record.get("completed", {}).items()}}
    if record.get("days"):
        item["days"] = {"L": [{"N": str(day)} for day in record["days"]]}
    return item


def decode(item: dict[str, Any]) -> dict[str, Any]:
    try:
        record: dict[str, Any] = {key: int(item[key]["N"]) for key in NUMBER_FIELDS if key in item}
        record.update({key: item[key]["S"] for key in TEXT_FIELDS if key in item})
        record["completed"] = {k: int(v["N"]) for k, v in item.get("completed", {}).get("M", {}).items()}
        if "days" in item:
            record["days"] = [int(day["N"]) for day in item["days"]["L"]]
    except (KeyError, TypeError, ValueError) as error:
        raise CorruptProgress(f"stored item does not follow the schema: {error}") from error
    return record


class DynamoProgressStore(AbstractPersistenceAdapter):
    def __init__(
        self,
        table_name: str,
        client_factory: Callable[[], BaseClient] = default_client,
        ttl_days: int = 365,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table_name = table_name
        self._client_factory = client_factory
        self._client: BaseClient | None = None
        self._client_lock = threading.Lock()
        self.ttl_seconds = ttl_days * 86_400
        self.clock = clock

    @property
    def client(self) -> BaseClient:
        # Created once, under a lock: boto3's default session is not safe to build clients
        # from in several threads at once (the simulator and the tests run threads).
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
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise ProgressConflict(operation) from error
            raise StoreError(f"{operation}: {error.response.get('Error', {}).get('Code')}") from error
        except BotoCoreError as error:
            raise StoreError(f"{operation}: {type(error).__name__}") from error

    def _key(self, envelope: RequestEnvelope) -> dict[str, Any]:
        user_id, profile = user_key(envelope)
        return {"user_id": {"S": user_id}, "profile": {"S": profile}}

    # -- AbstractPersistenceAdapter ---------------------------------------------------
    def get_attributes(self, request_envelope: RequestEnvelope) -> dict[str, Any]:
        """The stored record, or {} for a user with none. One strongly consistent GetItem."""
        result = self._call("get_item", Key=self._key(request_envelope), ConsistentRead=True)
        item = result.get("Item")
        if not item:
            return {}
        try:
            return decode(item)
        except CorruptProgress:
            # Keep only the version, so the next conditional write replaces the bad item
            # instead of failing on it for ever.
            version = item.get("version", {}).get("N", "")
            logger.exception("stored progress is malformed; starting the user afresh")
            return {"version": int(version)} if version.isdigit() else {}

    def save_attributes(self, request_envelope: RequestEnvelope, attributes: dict[str, Any]) -> None:
        """Write the record if the stored version still equals ``attributes["version"]``.

        On success the stored version is one higher, and so is ``attributes["version"]``
        (updated in place, so the caller's session copy stays in step). On a version
        mismatch raise ProgressConflict and write nothing.
        """
        expected = int(attributes.get("version", 0))
        record = dict(attributes, version=expected + 1)
        item = encode(record)
        item.update(self._key(request_envelope))
        item["expires_at"] = {"N": str(int(self.clock()) + self.ttl_seconds)}
        if expected == 0:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(user_id)"}
        else:
            condition = {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(expected)}},
            }
        self._call("put_item", Item=item, **condition)
        attributes["version"] = expected + 1

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        """Delete every record of the account (all its voice profiles)."""
        user_id, _ = user_key(request_envelope)
        result = self._call(
            "query",
            KeyConditionExpression="user_id = :user",
            ExpressionAttributeValues={":user": {"S": user_id}},
            ProjectionExpression="user_id, profile",
        )
        for key in result.get("Items", []):
            self._call("delete_item", Key=key)
