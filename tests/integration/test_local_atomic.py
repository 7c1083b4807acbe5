"""DynamoDB's requests are atomic in the local cloud (infra/local/atomic.py), as in AWS:
two conditional puts of one new item, sent at once, never run inside moto together, and
exactly one succeeds. Without it, a sender's two copies of one delivery could both pass
Powertools idempotency's conditional put and both be accepted (a soak run saw it).
tests/local/test_cloud.py runs the same race against a running local cloud."""

from __future__ import annotations

import pytest

from infra.local.atomic import atomic_dynamodb
from tests.dynamodb_race import JOIN_SECONDS, JOIN_SECONDS_BARE, create_table, race


@pytest.fixture
def table(aws):
    return create_table("t")


def test_concurrent_conditional_puts_never_overlap_and_one_succeeds(table):
    with atomic_dynamodb():
        outcomes, most = race(table, JOIN_SECONDS)

    assert most == 1
    assert outcomes == ["ConditionalCheckFailedException", "put"]


def test_without_it_moto_runs_them_together(table):
    """The hazard the local cloud removes, shown on bare moto: the second put runs while
    the first is inside (this test fails the day moto serializes requests itself)."""
    _, most = race(table, JOIN_SECONDS_BARE)

    assert most == 2
