"""Many devices at once against moto's server on 127.0.0.1: no lost update, no corrupt item."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from pelvic_ease.content import load_library
from pelvic_ease.progress import Progress
from pelvic_ease.repository import decode
from sim.driver import Conversation
from sim.local_dynamodb import moto_server
from sim.local_skill import LocalSkill, local_skill
from tests.fault_proxy import FaultProxy

LIB = load_library()
USERS = 6
DEVICES_PER_USER = 2  # twelve writers at once, two racing on each record
ROUNDS = 2  # each device completes the inner-thigh massage this many times


@pytest.fixture
def server_skill() -> Iterator[LocalSkill]:
    # moto's server does not make a conditional write atomic against a concurrent one
    # (DynamoDB does): the proxy lets one request at a time reach it, the clients still race.
    with (
        moto_server() as url,
        FaultProxy(url, atomic=True) as proxy,
        local_skill(endpoint=proxy.url) as skill,
    ):
        yield skill


def test_parallel_devices_lose_no_completion_and_corrupt_no_item(server_skill: LocalSkill) -> None:
    steps = len(LIB.routines["inner_thigh"].steps)
    errors: list[BaseException] = []
    save_warnings: list[str] = []
    start = threading.Barrier(USERS * DEVICES_PER_USER)

    def device(user: str) -> None:
        try:
            conv = Conversation(server_skill.handler, user_id=user)
            start.wait()
            for _ in range(ROUNDS):
                replies = [conv.say("ask pelvic ease to massage my inner thighs")]
                replies += [conv.say("next") for _ in range(steps - 1)]
                replies.append(conv.say("no"))  # no sitting version: the end of the routine
                replies.append(conv.say("no"))  # no other routine: goodbye
                save_warnings.extend(r.text for r in replies if LIB.say("save_failed") in r.text)
        except BaseException as error:
            errors.append(error)

    users = [f"amzn1.ask.account.PARALLEL{i}" for i in range(USERS)]
    threads = [threading.Thread(target=device, args=(u,)) for u in users for _ in range(DEVICES_PER_USER)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    # Under zero think time a save can, rarely, lose five races in a row: the user hears so,
    # and the next turn stores it. What must never happen is checked below: a lost update.
    print(f"{USERS * DEVICES_PER_USER} writers, {len(save_warnings)} save warnings")
    items: list[dict[str, Any]] = boto3.client("dynamodb").scan(TableName=server_skill.table.table_name)[
        "Items"
    ]
    assert len(items) == USERS
    for item in items:
        progress = Progress.from_dict(decode(item))  # no corrupt item
        # every completion of every device is counted: no lost update
        assert progress.completed == {"inner_thigh": DEVICES_PER_USER * ROUNDS}
        assert progress.position is None
        assert progress.disclaimer_version == LIB.disclaimer_version
