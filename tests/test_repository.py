"""The progress repository on its own: the in-memory table held to DynamoDB's behaviour
(moto), and the policy (idempotency, merging, the time budget, what stays unsaved) on
tables that fail the way DynamoDB does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pelvic_ease.budget import RESERVE_MS, Budget
from pelvic_ease.engine import Position
from pelvic_ease.memory_table import MemoryTable
from pelvic_ease.progress import KEEP_WRITES_SECONDS, RECENT_WRITES, Change, Progress
from pelvic_ease.repository import (
    ATTEMPTS,
    MAX_UNSAVED,
    Conflict,
    DynamoTable,
    ProgressKey,
    ProgressRepository,
    SaveFailed,
    StoreUnavailable,
)
from tests.support import TABLE_NAME, Clock

KEY = ProgressKey.of("amzn1.ask.account.REPO")
OTHER = ProgressKey.of("amzn1.ask.account.REPO", "amzn1.ask.person.SAM")


def record(version: int, **fields: Any) -> dict[str, Any]:
    return Progress(version=version, **fields).to_dict()


def outcome(call: Callable[[], Any]) -> Any:
    try:
        return ("ok", call())
    except Conflict as conflict:
        current = conflict.current
        return ("conflict", current)


# -- the in-memory table behaves as DynamoDB does -------------------------------------------------
def contract_steps(table: Any) -> list[Any]:
    steps = [
        lambda: table.get(KEY),
        lambda: table.put(KEY, record(1, routine="psoas_release", step=2, pace="slow"), 0),
        lambda: table.put(KEY, record(1, routine="lower_back"), 0),  # exists already
        lambda: table.get(KEY),
        lambda: table.put(KEY, record(2, completed={"psoas_release": 1}, days=(20_775,)), 1),
        lambda: table.put(KEY, record(3), 1),  # stale version: the stored item comes back
        lambda: table.put(OTHER, record(2), 1),  # expected a version, none stored
        lambda: table.put(OTHER, record(1, recent_writes=("abcdefgh",)), 0),
        *[lambda n=n: table.put(ProgressKey(KEY.user, f"person-{n}"), record(1), 0) for n in range(3)],
        lambda: table.keys_page(KEY.user, None)[0],  # the keys (the page token is the table's own)
        lambda: table.get(OTHER),
        lambda: table.delete(OTHER),
        lambda: table.delete(OTHER),  # deleting what is gone is no error
        lambda: table.get(OTHER),
        lambda: table.get(KEY),
    ]
    return [outcome(step) for step in steps]


def pages(table: Any, user: str) -> list[list[str]]:
    found, start = [], None
    while True:
        keys, start = table.keys_page(user, start)
        found.append([k.profile for k in keys])
        if not start:
            return found


def test_the_memory_table_gives_what_dynamodb_gives(dynamodb: Any, clock: Clock) -> None:
    dynamo = DynamoTable(TABLE_NAME, client_factory=lambda: dynamodb, clock=clock, page_size=2)
    memory = MemoryTable(page_size=2)
    assert contract_steps(memory) == contract_steps(dynamo)
    assert pages(memory, KEY.user) == pages(dynamo, KEY.user)  # every record, page by page
    assert [len(page) for page in pages(dynamo, KEY.user)] == [2, 2]


# -- the policy --------------------------------------------------------------------------------------
class FlakyTable(MemoryTable):
    """A table whose puts fail as a network does: ``lose`` writes that land but whose answer
    is lost, then ``fail`` calls that fail outright. ``puts`` counts the attempts."""

    def __init__(self, lose: int = 0, fail: int = 0, attempt_seconds: float = 0.0) -> None:
        super().__init__()
        self.lose, self.fail, self.puts = lose, fail, 0
        self.attempt_seconds = attempt_seconds
        self.remaining_ms = 7_000  # a simulated Lambda clock: each failing call takes its limit

    def put(self, key: ProgressKey, record: dict[str, Any], expected_version: int) -> None:
        self.puts += 1
        self.remaining_ms -= int(self.attempt_seconds * 1000)
        if self.lose:
            self.lose -= 1
            super().put(key, record, expected_version)
            raise StoreUnavailable("put_item: ConnectionClosedError")
        if self.fail:
            self.fail -= 1
            raise StoreUnavailable("put_item: ThrottlingException")
        super().put(key, record, expected_version)


def forever() -> Budget:
    return Budget(lambda: 7_000)


@pytest.fixture
def slept() -> list[float]:
    return []


def repository(table: MemoryTable, slept: list[float]) -> ProgressRepository:
    return ProgressRepository(table, sleep=slept.append)


def test_a_write_whose_answer_is_lost_is_recognised_not_repeated(slept: list[float]) -> None:
    table = FlakyTable(lose=1)
    done = Change(1_000, moved=True, completed="inner_thigh")
    stored = repository(table, slept).save(KEY, Progress(), [done], forever())
    assert stored.completed == {"inner_thigh": 1}
    assert table.puts == 2  # the lost one, then the retry that meets our own write: no third
    assert Progress.from_dict(table.get(KEY)).completed == {"inner_thigh": 1}


def test_what_a_save_counts_as_finished_is_told_once_it_is_stored(slept: list[float]) -> None:
    # GIVEN a completion whose write lands but whose answer is lost (the retry meets it stored)
    table = FlakyTable(lose=1)
    done = Change(1_000, moved=True, completed="inner_thigh")
    stored = repository(table, slept).store(KEY, Progress(), [done], forever())
    assert stored.completed == ("inner_thigh",)  # counted by the write that landed
    assert repository(table, slept).store(KEY, stored.progress, [done], forever()).completed == ()  # once
    finishing = Change(1_010, moved=True, completed="lower_back")
    assert repository(table, slept).store(KEY, stored.progress, [finishing], forever()).completed == (
        "lower_back",
    )


def test_an_unsaved_change_is_stored_once_by_a_later_save(slept: list[float]) -> None:
    table = FlakyTable(lose=1, fail=ATTEMPTS - 1)  # lands, then every retry in the turn fails
    repo = repository(table, slept)
    done = Change(1_000, moved=True, completed="inner_thigh")
    with pytest.raises(SaveFailed) as failed:
        repo.save(KEY, Progress(), [done], forever())
    assert failed.value.unsaved == (done,)  # nothing showed it landed: kept for the next turn
    later = Change(1_060, pace="slow")
    stored = repo.save(KEY, failed.value.progress, [*failed.value.unsaved, later], forever())
    assert stored.completed == {"inner_thigh": 1}
    assert stored.pace == "slow"


def test_retries_stop_while_time_is_left_to_speak(slept: list[float]) -> None:
    table = FlakyTable(fail=99, attempt_seconds=2.0)  # every call hangs until its 2 s timeout
    table.remaining_ms = RESERVE_MS + 2 * 2_000 + 500  # room for two attempts, not three
    budget = Budget(lambda: table.remaining_ms)
    with pytest.raises(SaveFailed):
        repository(table, slept).save(KEY, Progress(), [Change(1_000, pace="slow")], budget)
    assert table.puts == 2  # a third could have overrun the reserve kept to speak
    assert table.remaining_ms >= RESERVE_MS
    table.remaining_ms = RESERVE_MS + 1_999
    with pytest.raises(SaveFailed):
        repository(table, slept).save(KEY, Progress(), [Change(1_000, pace="slow")], budget)
    assert table.puts == 2  # not even one


def test_transient_faults_are_tried_a_few_times_with_growing_jittered_waits(slept: list[float]) -> None:
    table = FlakyTable(fail=ATTEMPTS - 1)
    stored = repository(table, slept).save(KEY, Progress(), [Change(1_000, pace="slow")], forever())
    assert stored.pace == "slow"
    assert table.puts == ATTEMPTS
    assert len([s for s in slept if s > 0]) <= ATTEMPTS - 1


def test_a_refused_call_is_not_retried(slept: list[float]) -> None:
    class Refusing(MemoryTable):
        calls = 0

        def get(self, key: ProgressKey) -> dict[str, Any] | None:
            self.calls += 1
            raise StoreUnavailable("get_item: AccessDeniedException", transient=False)

    table = Refusing()
    with pytest.raises(StoreUnavailable):
        repository(table, slept).load(KEY, forever())
    assert table.calls == 1


def test_an_older_move_never_replaces_a_newer_one() -> None:
    newer = Change(2_000, moved=True, position=Position("lower_back", 2, 0)).applied_to(Progress())
    older = Change(1_000, moved=True, position=Position("psoas_release", 0, 0))
    assert older.applied_to(newer).position == Position("lower_back", 2, 0)


def test_a_disclaimer_acknowledgement_never_goes_backwards(slept: list[float]) -> None:
    # one device heard the newer disclaimer (2) and stored it; another, which read the record
    # before, stores its acknowledgement of the older one (1): the newer stays
    table = MemoryTable()
    repo = repository(table, slept)
    base = repo.save(KEY, Progress(), [Change(1_000, disclaimer_version=1)], forever())
    repo.save(KEY, base, [Change(1_010, disclaimer_version=2)], forever())
    merged = repo.save(KEY, base, [Change(1_020, disclaimer_version=1, pace="slow")], forever())
    assert (merged.disclaimer_version, merged.pace) == (2, "slow")
    assert Progress.from_dict(table.get(KEY)).disclaimer_version == 2


def test_write_ids_are_kept_while_their_change_could_still_be_retried() -> None:
    progress = Progress()
    burst = [Change(1_000 + n, pace="slow") for n in range(RECENT_WRITES + 5)]  # one busy minute
    for change in burst:
        progress = change.applied_to(progress)
    assert progress.recent_writes == tuple(c.write_id for c in burst)  # all young: all kept
    later = Change(1_000 + KEEP_WRITES_SECONDS + 60, pace="quick")
    progress = later.applied_to(progress)
    # once old, only the newest RECENT_WRITES stay: a year of use keeps the record small
    assert progress.recent_writes == tuple(c.write_id for c in [*burst, later][-RECENT_WRITES:])


def test_a_landed_write_is_recognised_after_many_writes_from_another_device(slept: list[float]) -> None:
    """The race the free-running test found: our completion lands but every answer is lost,
    the other device writes twenty times, then our retry meets the record."""
    table = MemoryTable()
    repo = repository(table, slept)
    done = Change(1_000, moved=True, completed="inner_thigh")
    stored = repo.save(KEY, Progress(), [done], forever())  # it landed (we never heard so)
    for n in range(20):
        stored = repo.save(KEY, stored, [Change(1_001 + n, pace="slow" if n % 2 else "quick")], forever())
    again = repo.save(KEY, Progress(), [done], forever())  # the retry, from the old base
    assert again.completed == {"inner_thigh": 1}


def test_a_stored_record_that_breaks_the_schema_keeps_what_validates(slept: list[float]) -> None:
    table = MemoryTable()
    bad = record(4, disclaimer_version=2, routine="psoas_release", pace="slow") | {
        "step": -1,
        "completed": {"inner_thigh": 3, "lower_back": "many"},
        "days": [20_000, "yesterday"],
    }
    table.records[KEY] = bad
    progress = repository(table, slept).load(KEY, forever())
    assert progress.position is None  # the place is dropped as a whole
    assert (progress.version, progress.disclaimer_version, progress.pace) == (4, 2, "slow")
    assert progress.completed == {"inner_thigh": 3}
    assert progress.days == (20_000,)
    stored = repository(table, slept).save(KEY, progress, [Change(1_000, pace="quick")], forever())
    assert stored.version == 5  # and it can be written again


def test_what_stays_unsaved_is_bounded_newest_kept(slept: list[float]) -> None:
    table = FlakyTable(fail=99)
    changes = [Change(1_000 + n, pace="slow") for n in range(MAX_UNSAVED + 8)]
    with pytest.raises(SaveFailed) as failed:
        repository(table, slept).save(KEY, Progress(), changes, forever())
    assert failed.value.unsaved == tuple(changes[-MAX_UNSAVED:])  # the session stays small
