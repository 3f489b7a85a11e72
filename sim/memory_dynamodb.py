"""An in-memory stand-in for the low-level DynamoDB client, for the operations and the
expressions our store uses: under a real DynamoTable it lets the fault tests
(tests/test_faults.py) play hundreds of conversations with injected client errors fast, and
the benchmark's Powertools baseline read without a server.

tests/test_memory_dynamodb.py plays the same operations against moto and this, and
requires the same results, so the stand-in cannot drift from DynamoDB's behaviour.
"""

from __future__ import annotations

import copy
from typing import Any

from botocore.exceptions import ClientError


def _conditional_failure(operation: str, item: dict[str, Any] | None = None) -> ClientError:
    response: dict[str, Any] = {
        "Error": {"Code": "ConditionalCheckFailedException", "Message": "The conditional request failed"}
    }
    if item is not None:  # ReturnValuesOnConditionCheckFailure=ALL_OLD
        response["Item"] = copy.deepcopy(item)
    return ClientError(response, operation)


class MemoryDynamoDB:
    def __init__(self, hash_key: str = "user_id", range_key: str = "profile") -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        self.tables: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}

    def _table(self, name: str) -> dict[tuple[str, str], dict[str, Any]]:
        return self.tables.setdefault(name, {})

    def _key(self, key: dict[str, Any]) -> tuple[str, str]:
        return key[self.hash_key]["S"], key[self.range_key]["S"]

    def get_item(
        self, *, TableName: str, Key: dict[str, Any], ConsistentRead: bool = False
    ) -> dict[str, Any]:
        item = self._table(TableName).get(self._key(Key))
        return {"Item": copy.deepcopy(item)} if item is not None else {}

    def put_item(
        self,
        *,
        TableName: str,
        Item: dict[str, Any],
        ConditionExpression: str | None = None,
        ExpressionAttributeValues: dict[str, Any] | None = None,
        ReturnValuesOnConditionCheckFailure: str = "NONE",
    ) -> dict[str, Any]:
        table = self._table(TableName)
        existing = table.get(self._key(Item))
        old = existing if ReturnValuesOnConditionCheckFailure == "ALL_OLD" else None
        if ConditionExpression == f"attribute_not_exists({self.hash_key})":
            if existing is not None:
                raise _conditional_failure("PutItem", old)
        elif ConditionExpression == "version = :expected":
            expected = (ExpressionAttributeValues or {})[":expected"]
            if existing is None or existing.get("version") != expected:
                raise _conditional_failure("PutItem", old)
        elif ConditionExpression is not None:
            raise NotImplementedError(ConditionExpression)
        table[self._key(Item)] = copy.deepcopy(Item)
        return {}

    def query(
        self,
        *,
        TableName: str,
        KeyConditionExpression: str,
        ExpressionAttributeValues: dict[str, Any],
        ProjectionExpression: str | None = None,
        ConsistentRead: bool = False,
        Limit: int | None = None,
        ExclusiveStartKey: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if KeyConditionExpression != f"{self.hash_key} = :user":
            raise NotImplementedError(KeyConditionExpression)
        wanted = ExpressionAttributeValues[":user"]["S"]
        after = self._key(ExclusiveStartKey)[1] if ExclusiveStartKey else None
        fields = [f.strip() for f in ProjectionExpression.split(",")] if ProjectionExpression else None
        items = [
            {k: v for k, v in item.items() if fields is None or k in fields}
            for (user, profile), item in sorted(self._table(TableName).items())
            if user == wanted and (after is None or profile > after)
        ]
        page: dict[str, Any] = {}
        if Limit is not None and len(items) > Limit:
            items = items[:Limit]
            last = items[-1]
            page["LastEvaluatedKey"] = {k: last[k] for k in (self.hash_key, self.range_key)}
        return {"Items": copy.deepcopy(items), "Count": len(items), **page}

    def delete_item(self, *, TableName: str, Key: dict[str, Any]) -> dict[str, Any]:
        self._table(TableName).pop(self._key(Key), None)
        return {}

    def scan(self, *, TableName: str) -> dict[str, Any]:
        items = list(self._table(TableName).values())
        return {"Items": copy.deepcopy(items), "Count": len(items)}
