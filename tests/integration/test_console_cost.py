"""What a console list page of 50 costs in AWS requests, however many actions there are.

The issue's target: at most 2 DynamoDB requests for a page of 50, the same at any table
size (one Query of an index, one BatchGetItem of the 50 items). Counted exactly from
botocore's ``before-send`` events (``record_aws_calls``), at two table sizes.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import record_aws_calls
from tests.deployed import fill_actions

HOOK = "console_cost_hook"


# CONSOLE_COST_SIZES=10000,100000 measures larger tables (minutes on moto).
SIZES = [int(n) for n in os.environ.get("CONSOLE_COST_SIZES", "500,5000").split(",")]


@pytest.mark.parametrize("size", SIZES)
def test_a_list_page_of_50_is_two_dynamodb_requests_at_any_size(console, stack, register, size):
    register(HOOK, lambda args, action: None)
    fill_actions(stack.resources.actions_table, HOOK, 0, size, ("pending", "complete"))
    for query in ("status=pending", "status=complete&order=desc", f"hook={HOOK}&status=pending"):
        calls = record_aws_calls()
        page = console.get("/actions", f"{query}&per_page=50").body
        assert len(page["actions"]) == 50 and page["cursor"]
        assert calls == [("dynamodb", "Query"), ("dynamodb", "BatchGetItem")], (query, calls)
        calls = record_aws_calls()
        following = console.get("/actions", f"{query}&per_page=50&cursor={page['cursor']}")
        assert len(following.body["actions"]) == 50
        assert calls == [("dynamodb", "Query"), ("dynamodb", "BatchGetItem")], (query, calls)
