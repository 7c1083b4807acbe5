"""What a page of actions costs as the table grows: requests and read units, counted.

``get_scheduled_actions`` answers from an index: one Query for the page's entries and
one BatchGetItem for their items, whatever the table holds. This section fills the
actions table on moto to ``BENCH_PAGE_SIZES`` actions (default 10,000 and 100,000; half
pending, half complete, one hook) and reads a first page and a cursor page of 50, for
the pending tab, the complete tab latest first, and one hook's pending actions. Requests
are counted from botocore's ``before-send`` events; read units are computed as DynamoDB
bills an eventually consistent read (0.5 per started 4 KB: a Query by the bytes of the
entries it returns, a BatchGetItem item by item), from what moto answered. The console's
list route makes the same two requests (tests/integration/test_console_cost.py). The
tab counts (the console's and ``actionsctl actions counts``) are the kept status tally:
a refresh's COUNT queries are capped per status, a view within its age is one GetItem.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from tests.bench.aws import BASE_ENV

os.environ.update(BASE_ENV)
os.environ.pop("AWS_PROFILE", None)

from tests.bench.report import Figure
from tests.bench.sections import section_main

HOOK = "bench_page_hook"
PER_PAGE = 50
SIZES = [int(n) for n in os.environ.get("BENCH_PAGE_SIZES", "10000,100000").split(",")]
QUERIES: dict[str, dict[str, Any]] = {
    "pending": {"status": "pending"},
    "complete, latest first": {"status": "complete", "order": "desc"},
    "one hook's pending": {"hook": HOOK, "status": "pending"},
}


def _read_units(answers: list[dict[str, Any]]) -> float:
    """Eventually consistent read units of the answers moto gave (Query, BatchGetItem)."""
    from tests.bench.cost import dynamodb_item_bytes

    units = 0.0
    for answer in answers:
        body = json.loads(answer["body"] or "{}")
        if answer["operation"] == "Query":
            size = sum(dynamodb_item_bytes(item) for item in body.get("Items", []))
            units += max(1, math.ceil(size / 4096)) * 0.5
        elif answer["operation"] == "BatchGetItem":
            for items in body.get("Responses", {}).values():
                units += sum(
                    max(1, math.ceil(dynamodb_item_bytes(item) / 4096)) * 0.5 for item in items
                )
    return units


def measure(workdir: Path) -> dict[str, Any]:
    from moto import mock_aws

    from functions.actions import get_scheduled_actions, hooks
    from functions.clients import each_client
    from tests.bench.aws import CallCounter, Recorder
    from tests.conftest import record_aws_calls, reset_process_state
    from tests.deployed import deploy_stack, fill_actions

    results: dict[str, Any] = {"sizes": {}}
    with mock_aws():
        resources = deploy_stack(json.loads((workdir / "template.json").read_text()))
        os.environ.update(resources.environment)
        reset_process_state()
        hooks.hook(HOOK)(lambda args, action: None)
        get_scheduled_actions(status="pending", per_page=1)  # the clients exist
        clients = each_client()
        counter = CallCounter(record_aws_calls())
        recorder = Recorder().attach(clients)  # fill_actions' client is its own: not counted
        filled = 0
        for round_, size in enumerate(SIZES):
            fill_actions(
                resources.actions_table, HOOK, filled, size - filled, ("pending", "complete")
            )
            filled = size
            per_query: dict[str, Any] = {}
            for name, query in QUERIES.items():
                with counter.counting() as first, recorder.recording() as answers:
                    page = get_scheduled_actions(per_page=PER_PAGE, **query)
                with counter.counting() as following, recorder.recording() as more:
                    get_scheduled_actions(per_page=PER_PAGE, cursor=page.cursor, **query)
                assert len(page.items) == PER_PAGE, (name, len(page.items))
                per_query[name] = {
                    "requests": [len(first), len(following)],
                    "operations": sorted({operation for _, operation in first}),
                    "read_units": [_read_units(answers), _read_units(more)],
                }
            # The tab counts (the console's, and actionsctl actions counts): a refresh
            # counts by COUNT queries capped per status; a view within its age reads one item.
            from functions.api.console import tally

            # Now, as a console would count (every pending action is past due), each round
            # far enough after the last that its kept tally is too old.
            now = time.time() + 3600 * round_
            with counter.counting() as refresh:
                tally.counts(clock=lambda at=now: at)
            with counter.counting() as view:
                tally.counts(clock=lambda at=now: at + 1)
            per_query["counts"] = {"refresh": len(refresh), "view": len(view)}
            results["sizes"][str(size)] = per_query
    return results


def figures(data: dict[str, Any]) -> list[Figure]:
    """Requests and read units per page at the largest size, beside the smallest's."""
    sizes = sorted(data["sizes"], key=int)
    small, large = sizes[0], sizes[-1]
    rows = []
    for name in QUERIES:
        at_small, at_large = data["sizes"][small][name], data["sizes"][large][name]
        rows.append(
            Figure(
                f"Requests / page of {PER_PAGE} ({name}), {int(large):,} actions",
                max(at_large["requests"]), "", max(at_small["requests"]),
                f"{int(small):,} actions", 2,
                reason=", ".join(at_large["operations"]),
            )
        )  # fmt: skip
        rows.append(
            Figure(
                f"Read units / page of {PER_PAGE} ({name}), {int(large):,} actions",
                max(at_large["read_units"]), "", max(at_small["read_units"]),
                f"{int(small):,} actions",
            )
        )  # fmt: skip
    small_counts, large_counts = data["sizes"][small]["counts"], data["sizes"][large]["counts"]
    rows += [
        Figure(f"Requests / status counts, a view within the tally's age, {int(large):,} actions",
               large_counts["view"], "", small_counts["view"], f"{int(small):,} actions", 1,
               reason="GetItem of the kept tally"),
        Figure(f"Requests / status tally refresh (once a minute at most), {int(large):,} actions",
               large_counts["refresh"], "", small_counts["refresh"], f"{int(small):,} actions",
               note="COUNT queries of 1,000 entries, capped at 10,000 a status, + 1 PutItem"),
    ]  # fmt: skip
    return rows


if __name__ == "__main__":
    sys.setrecursionlimit(10_000)
    section_main("pages", measure)
