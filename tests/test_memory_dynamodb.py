"""The in-memory client behaves as moto (DynamoDB) does for every call our store makes."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from pelvic_ease import app
from pelvic_ease.repository import DynamoTable
from pelvic_ease.settings import Settings
from pelvic_ease.skill import build_skill, use_skill
from sim.driver import DEFAULT_SKILL_ID, Conversation
from sim.memory_dynamodb import MemoryDynamoDB
from tests.support import TABLE_NAME


def item(user: str, profile: str, version: int) -> dict[str, Any]:
    return {"user_id": {"S": user}, "profile": {"S": profile}, "version": {"N": str(version)}, "x": {"M": {}}}


def outcome(client: Any, call: str, **kwargs: Any) -> Any:
    try:
        result = getattr(client, call)(TableName=TABLE_NAME, **kwargs)
    except ClientError as error:
        return ("error", error.response["Error"]["Code"], error.response.get("Item"))
    return {k: v for k, v in result.items() if k in ("Item", "Items", "Count", "LastEvaluatedKey")}


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
    # a failed condition returns the stored item: the repository merges without a second read
    *[
        ("put_item", {"Item": item("a", "account", 9), "ReturnValuesOnConditionCheckFailure": "ALL_OLD", **c})
        for c in (
            {"ConditionExpression": "attribute_not_exists(user_id)"},
            {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"N": "7"}},
            },
        )
    ],
    (
        "put_item",
        {
            "Item": item("q", "account", 2),
            "ConditionExpression": "version = :expected",
            "ExpressionAttributeValues": {":expected": {"N": "1"}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        },
    ),
    # an account's records page by page, strongly consistent (SkillDisabled)
    *[("put_item", {"Item": item("p", f"person-{n}", 1)}) for n in range(3)],
    *[
        (
            "query",
            {
                "KeyConditionExpression": "user_id = :user",
                "ExpressionAttributeValues": {":user": {"S": "p"}},
                "ProjectionExpression": "user_id, profile",
                "ConsistentRead": True,
                "Limit": limit,
                **({"ExclusiveStartKey": {"user_id": {"S": "p"}, "profile": {"S": start}}} if start else {}),
            },
        )
        for limit, start in ((1, None), (1, "person-0"), (2, "person-1"), (5, None), (3, None))
    ],
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
    table = DynamoTable(TABLE_NAME, client_factory=lambda: memory, clock=clock)
    use_skill(build_skill(Settings(TABLE_NAME, DEFAULT_SKILL_ID), table=table, clock=clock))
    on_memory = Conversation(app.lambda_handler, user_id=user)
    for line in script:
        on_memory.say(line)

    def comparable(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # write ids are random: compare how many there are, not the ids
        return [item | {"recent_writes": len(item["recent_writes"]["L"])} for item in items]

    on_both = (memory.scan(TableName=TABLE_NAME)["Items"], dynamodb.scan(TableName=TABLE_NAME)["Items"])
    assert comparable(on_both[0]) == comparable(on_both[1])


def test_unknown_expressions_are_refused() -> None:
    memory = MemoryDynamoDB()
    with pytest.raises(NotImplementedError):
        memory.put_item(TableName=TABLE_NAME, Item=item("a", "b", 1), ConditionExpression="size(x) > :n")
