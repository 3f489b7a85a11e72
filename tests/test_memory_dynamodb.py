"""The in-memory client behaves as moto (DynamoDB) does for every call our store makes."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from pelvic_ease import app
from pelvic_ease.settings import Settings
from pelvic_ease.skill import build_skill
from pelvic_ease.store import DynamoProgressStore
from sim.driver import DEFAULT_SKILL_ID, Conversation
from sim.memory_dynamodb import MemoryDynamoDB
from tests.support import TABLE_NAME


def item(user: str, profile: str, version: int) -> dict[str, Any]:
    return {"user_id": {"S": user}, "profile": {"S": profile}, "version": {"N": str(version)}, "x": {"M": {}}}


def outcome(client: Any, call: str, **kwargs: Any) -> Any:
    try:
        result = getattr(client, call)(TableName=TABLE_NAME, **kwargs)
    except ClientError as error:
        return ("error", error.response["Error"]["Code"])
    return {k: v for k, v in result.items() if k in ("Item", "Items", "Count")}


OPERATIONS: list[tuple[str, dict[str, Any]]] = [
    ("get_item", {"Key": {"user_id": {"S": "a"}, "profile": {"S": "account"}}, "ConsistentRead": True}),
    ("put_item", {"Item": item("a", "account", 1), "ConditionExpression": "attribute_not_exists(user_id)"}),
    ("put_item", {"Item": item("a", "account", 1), "ConditionExpression": "attribute_not_exists(user_id)"}),
    ("put_item", {"Item": item("a", "person-1", 1), "ConditionExpression": "attribute_not_exists(user_id)"}),
    ("put_item", {"Item": item("b", "account", 1)}),
    ("get_item", {"Key": {"user_id": {"S": "a"}, "profile": {"S": "account"}}, "ConsistentRead": True}),
    (
        "put_item",
        {
            "Item": item("a", "account", 2),
            "ConditionExpression": "version = :expected",
            "ExpressionAttributeValues": {":expected": {"N": "1"}},
        },
    ),
    (
        "put_item",
        {
            "Item": item("a", "account", 2),
            "ConditionExpression": "version = :expected",
            "ExpressionAttributeValues": {":expected": {"N": "1"}},
        },
    ),
    (
        "put_item",
        {
            "Item": item("c", "account", 2),
            "ConditionExpression": "version = :expected",
            "ExpressionAttributeValues": {":expected": {"N": "1"}},
        },
    ),
    (
        "query",
        {
            "KeyConditionExpression": "user_id = :user",
            "ExpressionAttributeValues": {":user": {"S": "a"}},
            "ProjectionExpression": "user_id, profile",
        },
    ),
    ("delete_item", {"Key": {"user_id": {"S": "a"}, "profile": {"S": "person-1"}}}),
    ("delete_item", {"Key": {"user_id": {"S": "z"}, "profile": {"S": "account"}}}),
    (
        "query",
        {
            "KeyConditionExpression": "user_id = :user",
            "ExpressionAttributeValues": {":user": {"S": "a"}},
            "ProjectionExpression": "user_id, profile",
        },
    ),
    ("get_item", {"Key": {"user_id": {"S": "a"}, "profile": {"S": "account"}}, "ConsistentRead": True}),
]


def test_same_results_as_moto_for_every_operation_the_store_uses(dynamodb: Any) -> None:
    memory = MemoryDynamoDB()
    for call, kwargs in OPERATIONS:
        assert outcome(memory, call, **kwargs) == outcome(dynamodb, call, **kwargs), (call, kwargs)
    assert sorted(map(str, memory.scan(TableName=TABLE_NAME)["Items"])) == sorted(
        map(str, dynamodb.scan(TableName=TABLE_NAME)["Items"])
    )


def test_same_stored_items_after_a_conversation(handler: Any, dynamodb: Any, clock: Any) -> None:
    """A whole conversation on each store leaves identical items."""
    script = ["open pelvic ease", "release my psoas", "next", "stop"]
    user = "amzn1.ask.account.SAMEONBOTH"
    on_moto = Conversation(handler, user_id=user)
    for line in script:
        on_moto.say(line)
    memory = MemoryDynamoDB()
    store = DynamoProgressStore(TABLE_NAME, client_factory=lambda: memory, clock=clock)
    app.use_skill(build_skill(Settings(TABLE_NAME, DEFAULT_SKILL_ID), store=store, clock=clock))
    on_memory = Conversation(app.lambda_handler, user_id=user)
    for line in script:
        on_memory.say(line)
    assert memory.scan(TableName=TABLE_NAME)["Items"] == dynamodb.scan(TableName=TABLE_NAME)["Items"]


def test_unknown_expressions_are_refused() -> None:
    memory = MemoryDynamoDB()
    with pytest.raises(NotImplementedError):
        memory.put_item(TableName=TABLE_NAME, Item=item("a", "b", 1), ConditionExpression="size(x) > :n")
