"""Queries read what they return, not the table: the items DynamoDB reads are counted.

DynamoDB's own ``ScannedCount`` says how many items a query read. If it does not
grow with the number of other actions, a query costs the same with a million of
them; that is what these tests pin, with a few hundred on moto. The indexes hold
only keys and a few small attributes, so a query that returns whole items then
reads them from the table with BatchGetItem: those items are counted too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from functions.actions import (
    count_scheduled_actions,
    enqueue_async_action,
    get_scheduled_actions,
    has_scheduled_action,
    next_scheduled_action,
    store,
    unschedule_action,
)
from functions.actions.envelope import Envelope
from functions.actions.exceptions import TransientError
from functions.actions.store import reads as store_reads
from functions.actions.store import table as store_table
from functions.clients import each_client

OTHERS = 400


@pytest.fixture
def crowded(stack, register):
    """Many pending actions of one hook, each with its own args, and a few of another."""
    register("test_crowd", lambda args, action: None)
    now = datetime.now(UTC)
    for n in range(OTHERS):
        store.create(
            Envelope(
                action_id=f"crowd-{n}",
                hook="test_crowd",
                args={"n": n},
                group="g",
                scheduled_for=now + timedelta(hours=1, seconds=n),
                enqueued_at=now,
            )
        )
    return stack


@pytest.fixture
def reads():
    """Items read by each DynamoDB query or batch read from now on.

    A Query's ScannedCount (index entries read, before any filter), a BatchGetItem's
    items returned (each read from the table).
    """
    counts: list[int] = []

    def record(parsed, **_):
        if "ScannedCount" in parsed:
            counts.append(parsed["ScannedCount"])

    def record_batch(parsed, **_):
        counts.append(sum(len(items) for items in parsed.get("Responses", {}).values()))

    for client in each_client():
        client.meta.events.register("after-call.dynamodb.Query", record)
        client.meta.events.register("after-call.dynamodb.BatchGetItem", record_batch)
    return counts


def test_a_match_on_hook_args_and_group_reads_only_the_match(crowded, reads):
    assert has_scheduled_action("test_crowd", {"n": 399}, "g") is True
    assert reads == [1]


def test_next_for_specific_args_reads_only_the_matches(crowded, reads):
    expected = datetime.now(UTC) + timedelta(hours=1, seconds=250)

    found = next_scheduled_action("test_crowd", {"n": 250}, "g")

    assert abs((found - expected).total_seconds()) < 5
    assert sum(reads) == 1


def test_has_for_any_args_reads_one_item(crowded, reads):
    assert has_scheduled_action("test_crowd") is True
    assert reads == [1]


def test_a_page_by_status_reads_the_page(crowded, reads):
    page = get_scheduled_actions(status="pending", per_page=10)

    assert len(page.items) == 10
    assert all(item.args for item in page.items)  # whole items, from the table
    assert reads == [10, 10]  # the page's index entries, then its items in one batch


def test_a_page_of_a_match_reads_the_match(crowded, reads):
    [item] = get_scheduled_actions(hook="test_crowd", args={"n": 12}, group="g").items

    assert item.action_id == "crowd-12"
    assert reads == [1, 1]


def test_a_count_reads_no_item(crowded, reads):
    assert count_scheduled_actions("pending", hook="test_crowd") == OTHERS
    assert count_scheduled_actions("pending") == OTHERS
    assert sum(reads) == 2 * OTHERS  # index entries only: no BatchGetItem


def test_index_entries_carry_no_args_log_or_error(crowded):
    """What keeps the writes cheap: each entry is its keys and a few small attributes."""
    client = store_table.dynamodb()
    for index, attributes in store.INDEX_ATTRIBUTES.items():
        key, value = {
            "by_hook": ("hook", "test_crowd"),
            "by_match": ("match_key", store.match_key("test_crowd", {"n": 1}, "g")),
            "by_status": ("#s", "pending"),
        }[index]
        params = {
            "TableName": store_table.name(),
            "IndexName": index,
            "KeyConditionExpression": f"{key} = :v",
            "ExpressionAttributeValues": {":v": {"S": value}},
            "Limit": 5,
        }
        if key == "#s":
            params["ExpressionAttributeNames"] = {"#s": "status"}
        entries = client.query(**params)["Items"]
        assert entries, index
        for entry in entries:
            assert set(entry) <= {"action_id", *store.INDEX_KEYS[index], *attributes}, index
            assert not {"args", "log", "last_error"} & set(entry)


def test_unschedule_of_specific_args_reads_only_the_match(crowded, reads):
    assert unschedule_action("test_crowd", {"n": 7}, "g") == "crowd-7"
    assert sum(reads) == 1


def test_fetch_reads_in_chunks_of_100_and_asks_again_for_unprocessed_keys(crowded, monkeypatch):
    client = store_table.dynamodb()
    calls: list[int] = []

    class Throttled:
        """DynamoDB leaving the last key of each first answer unprocessed."""

        def batch_get_item(self, RequestItems):  # noqa: N803 - boto3's name
            [(table, request)] = RequestItems.items()
            calls.append(len(request["Keys"]))
            response = client.batch_get_item(RequestItems=RequestItems)
            if len(calls) % 2 == 1 and len(request["Keys"]) > 1:
                kept, left = request["Keys"][:-1], request["Keys"][-1:]
                response = client.batch_get_item(RequestItems={table: {"Keys": kept}})
                response["UnprocessedKeys"] = {table: {"Keys": left}}
            return response

    monkeypatch.setattr(store_table, "dynamodb", Throttled)
    monkeypatch.setattr(store_reads.time, "sleep", lambda seconds: None)
    ids = [f"crowd-{n}" for n in range(150)] + ["no-such-action"]

    found = store.fetch(ids)

    assert set(found) == set(ids[:150])
    assert found["crowd-149"].args == {"n": 149}
    assert calls == [100, 1, 51, 1]  # each chunk, then its unprocessed key


def test_fetch_gives_up_with_a_transient_error(crowded, monkeypatch):
    client = store_table.dynamodb()

    class Stuck:
        def batch_get_item(self, RequestItems):  # noqa: N803 - boto3's name
            return {"Responses": {}, "UnprocessedKeys": RequestItems}

        def __getattr__(self, name):
            return getattr(client, name)

    monkeypatch.setattr(store_table, "dynamodb", Stuck)
    monkeypatch.setattr(store_reads.time, "sleep", lambda seconds: None)

    with pytest.raises(TransientError, match="1 action"):
        store.fetch(["crowd-1"])


def test_next_for_any_args_reads_one_entry(crowded, reads):
    """The soonest pending match is the first entry of its index: one read, however many
    pending actions the hook has (it read them all while it computed each one's next run)."""
    found = next_scheduled_action("test_crowd")

    assert found == store.get("crowd-0").scheduled_for
    assert reads == [0, 1]  # none running, then the soonest pending


# --- writes: what uniqueness costs, and who pays it ------------------------------------------


@pytest.fixture
def writes():
    """Each DynamoDB write request from now on: its operation, the items it writes, and
    the table it writes to (a transaction's first item's)."""
    made: list[tuple[str, int, str]] = []
    operations = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}

    def record(params, model, **_):
        if model.name in operations:
            parts = params.get("TransactItems", [])
            table = next(iter(parts[0].values()))["TableName"] if parts else params["TableName"]
            made.append((model.name, len(parts) or 1, table))

    for client in each_client():
        client.meta.events.register("provide-client-params.dynamodb.*", record)
    return made


def _on(writes: list[tuple[str, int, str]], table: str) -> list[tuple[str, int]]:
    return [(operation, items) for operation, items, name in writes if name == table]


def test_a_plain_enqueue_writes_one_item_and_no_counter(jobs, register, writes):
    """Hooks without unique_by pay nothing for uniqueness."""
    register("test_plain", lambda args, action: None)
    table = jobs.resources.actions_table

    enqueue_async_action("test_plain", {"n": 1}, group="g")
    assert _on(writes, table) == [("PutItem", 1)]

    writes.clear()
    jobs.work()
    assert _on(writes, table) == [("UpdateItem", 1), ("UpdateItem", 1)]  # claim, complete


def test_a_counted_hook_writes_its_counter_in_the_same_transactions(jobs, register, writes):
    register("test_counted", lambda args, action: None, unique_by="group")
    table = jobs.resources.actions_table

    enqueue_async_action("test_counted", {"n": 1}, group="g")
    assert _on(writes, table) == [("TransactWriteItems", 2)]  # the action and its counter

    writes.clear()
    jobs.work()
    assert _on(writes, table) == [("UpdateItem", 1), ("TransactWriteItems", 2)]


def test_an_accepted_webhook_writes_one_action_item(stack, writes):
    """process_webhook has no unique_by: the receiver's enqueue is still one PutItem."""
    body = b'{"ref": "refs/heads/main", "commits": []}'
    headers = stack.signed("github", body, "cost-1", event_type="push")

    assert stack.post("github", body, headers).status == 202

    assert _on(writes, stack.resources.actions_table) == [("PutItem", 1)]
