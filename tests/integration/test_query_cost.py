"""Queries read what they return, not the table: the items DynamoDB reads are counted.

DynamoDB's own ``ScannedCount`` says how many items a query read. If it does not
grow with the number of other actions, a query costs the same with a million of
them; that is what these tests pin, with a few hundred on moto.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from functions.actions import (
    get_scheduled_actions,
    has_scheduled_action,
    next_scheduled_action,
    store,
    unschedule_action,
)
from functions.actions.envelope import Envelope
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
    """Items read by each DynamoDB query from now on (ScannedCount per response)."""
    counts: list[int] = []

    def record(parsed, **_):
        if "ScannedCount" in parsed:
            counts.append(parsed["ScannedCount"])

    for client in each_client():
        client.meta.events.register("after-call.dynamodb.Query", record)
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
    assert sum(reads) == 10


def test_unschedule_of_specific_args_reads_only_the_match(crowded, reads):
    assert unschedule_action("test_crowd", {"n": 7}, "g") == "crowd-7"
    assert sum(reads) == 1
