"""What a console list page of 50 costs in AWS requests, however many actions there are.

The issue's target: at most 2 DynamoDB requests for a page of 50, the same at any table
size (one Query of an index, one BatchGetItem of the 50 items). Counted exactly from
botocore's ``before-send`` events (``record_aws_calls``), at two table sizes.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from functions.actions import store
from functions.actions.envelope import Envelope
from functions.dynamodb import to_item
from tests.conftest import record_aws_calls

HOOK = "console_cost_hook"


def _fill(table: str, count: int, statuses: tuple[store.ActionStatus, ...]) -> None:
    """``count`` actions of HOOK, as the store writes them, spread over ``statuses``:
    one made through the store, the rest its item under other ids (BatchWriteItem)."""
    now = datetime.now(UTC)
    store.create(
        Envelope(
            action_id="model", hook=HOOK, args={"n": 0}, group="g",
            scheduled_for=now + timedelta(hours=1), enqueued_at=now,
        )
    )  # fmt: skip
    model = store.get("model")
    assert model is not None
    client = boto3.client("dynamodb")
    batch: list[dict] = []
    for n in range(count):
        status = statuses[n % len(statuses)]
        action = model.but(
            action_id=f"a{n:06d}",
            status=status,
            scheduled_for=now + timedelta(minutes=1 + n),
            args={"n": n},
        )
        batch.append({"PutRequest": {"Item": to_item(store.record.to_item(action))}})
        if len(batch) == 25:
            client.batch_write_item(RequestItems={table: batch})
            batch = []
    if batch:
        client.batch_write_item(RequestItems={table: batch})


# CONSOLE_COST_SIZES=10000,100000 measures larger tables (minutes on moto).
SIZES = [int(n) for n in os.environ.get("CONSOLE_COST_SIZES", "500,5000").split(",")]


@pytest.mark.parametrize("size", SIZES)
def test_a_list_page_of_50_is_two_dynamodb_requests_at_any_size(console, stack, register, size):
    register(HOOK, lambda args, action: None)
    statuses = (store.ActionStatus.PENDING, store.ActionStatus.COMPLETE)
    _fill(stack.resources.actions_table, size, statuses)
    for query in ("status=pending", "status=complete&order=desc", f"hook={HOOK}&status=pending"):
        calls = record_aws_calls()
        page = console.get("/actions", f"{query}&per_page=50").body
        assert len(page["actions"]) == 50 and page["cursor"]
        assert calls == [("dynamodb", "Query"), ("dynamodb", "BatchGetItem")], (query, calls)
        calls = record_aws_calls()
        following = console.get("/actions", f"{query}&per_page=50&cursor={page['cursor']}")
        assert len(following.body["actions"]) == 50
        assert calls == [("dynamodb", "Query"), ("dynamodb", "BatchGetItem")], (query, calls)
