"""The bench's own arithmetic: cost lines, ratios, verdicts. Fast; runs in ``make test``.

The benchmarks themselves never run under pytest: their timings are figures, not
assertions.
"""

from __future__ import annotations

import pytest

from tests.bench.coldstart import import_costs, offenders
from tests.bench.cost import (
    CostInputs,
    LambdaUse,
    billed_ms,
    dynamodb_item_bytes,
    per_million,
    write_units,
)
from tests.bench.figures import _dynamodb_units
from tests.bench.ledger import Index, Table, write_cost
from tests.bench.report import Figure, table
from tests.bench.sections import percentile


def test_cost_lines_multiply_quantities_by_list_prices():
    cost = per_million(
        CostInputs(
            api_requests=1,
            functions=(LambdaUse("webhook", 1, 99.2, 512),),
            sqs_requests=3,
            dynamodb_wru=5,
            dynamodb_rru=2,
            secret_reads=0.001,
            log_bytes=2000,
            xray_traces=0.1,
        )
    )
    dollars = {line.item: line.dollars for line in cost}

    assert dollars["API Gateway REST"] == pytest.approx(3.50)
    assert dollars["Lambda webhook requests"] == pytest.approx(0.20)
    # 100 ms billed (rounded up) x 0.5 GB = 0.05 GB-s per webhook, a million times.
    assert dollars["Lambda webhook duration"] == pytest.approx(0.05 * 0.0000133334 * 1e6)
    assert dollars["SQS"] == pytest.approx(1.20)
    assert dollars["DynamoDB writes"] == pytest.approx(5 * 0.625)
    assert dollars["DynamoDB reads"] == pytest.approx(2 * 0.125)
    assert dollars["Secrets Manager"] == pytest.approx(0.001 * 0.05 / 10_000 * 1e6)
    assert dollars["CloudWatch Logs"] == pytest.approx(2.0 * 0.50)  # 2 GB
    assert dollars["X-Ray"] == pytest.approx(0.5)
    assert cost.total == pytest.approx(sum(dollars.values()))
    assert "100 ms x 0.5 GB" in cost.text()


def test_lambda_bills_whole_milliseconds_and_dynamodb_whole_kilobytes():
    assert [billed_ms(0.2), billed_ms(1.0), billed_ms(1.01)] == [1, 1, 2]
    assert [write_units(10), write_units(1024), write_units(1025)] == [1, 1, 2]
    item = {"id": {"S": "abc"}, "n": {"N": "12345"}, "m": {"M": {"k": {"BOOL": True}}}}
    assert dynamodb_item_bytes(item) == (2 + 3) + (1 + 4) + (1 + 3 + 1 + 1 + 1)


def test_dynamodb_units_are_the_ledgers_per_webhook():
    total, text = _dynamodb_units({"webhook_wru": [3.0, 0.0], "worker_wru": [2.0, 3.0]})

    assert total == 8
    assert "accept 3 + 0 WRU, run 2 + 3 WRU" in text


def test_ratio_targets_and_absolute_targets():
    slow = Figure("handler", 160.0, "us", baseline=100.0, target=1.5, target_of="ratio")
    fast = Figure("handler", 150.4, "us", baseline=100.0, target=1.5, target_of="ratio")
    count = Figure("requests", 5, "", baseline=1, target=4, reason="calls: a, b")

    assert slow.ratio == pytest.approx(1.6)
    assert (slow.verdict, fast.verdict, count.verdict) == ("MISS", "ok", "MISS")
    assert Figure("untargeted", 1.0, "").verdict == ""
    assert Figure("no baseline", 1.0, "", baseline=0, target=2, target_of="ratio").verdict == (
        "n/a"
    )
    printed = table([slow, count])
    assert "1.60x" in printed
    assert "MISS: calls: a, b" in printed


def test_percentiles_are_nearest_rank():
    values = list(range(1, 101))
    assert (percentile(values, 50), percentile(values, 99), percentile([7], 99)) == (50, 99, 7)


def test_import_offenders_leave_out_what_the_floor_imports():
    stderr = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:      2000 |       2000 |   botocore.session",
            "import time:      9000 |       9000 |     pydantic.main",
            "import time:      1000 |      10000 | pydantic",
            "import time:      4000 |       4000 | functions.handlers.webhook",
        ]
    )
    costs = import_costs(stderr)

    assert costs == {"botocore": 2.0, "pydantic": 10.0, "functions": 4.0}
    assert offenders(costs) == [("pydantic", 10.0), ("functions", 4.0)]
    # What the floor's own run spent on a package (the standard library boto3 brings) is
    # taken off; what is left within the noise is not an offender.
    assert offenders(costs, {"pydantic": 3.0, "functions": 3.8}) == [("pydantic", 7.0)]


def test_the_large_webhook_figure_counts_its_requests_and_prices_the_payload_bucket():
    from tests.bench.figures import large_webhook

    counts = {
        "warm_webhooks": 2,
        "accepted": [["dynamodb", "PutItem"], ["sqs", "SendMessage"]] * 2,
        "completed": 1,
        "worker_calls": [["dynamodb", "UpdateItem"], ["dynamodb", "UpdateItem"]],
        "large_webhook": {
            "body_bytes": 1_000_000,
            "event_bytes": 1_334_000,
            "accepted": [["s3", "PutObject"], ["sqs", "SendMessage"]],
            "ran": [["s3", "GetObject"]],
            "sent": [["s3", "PutObject", 990_000], ["sqs", "SendMessage", 800]],
            "received": [["s3", "GetObject", 990_000]],
        },
    }

    figure, lines = large_webhook(counts)

    assert (figure.value, figure.baseline, figure.verdict) == (3, 4, "ok")
    assert "s3 PutObject: 1 x, 990,000 B sent" in lines
    assert "s3 GetObject: 990,000 B received" in lines
    # 1 PUT ($0.005/1k) + 1 GET ($0.0004/1k) + 1 GB-month x 100/30 x $0.023, per million
    assert lines[-1].split(" = ")[-1].startswith("$82.07")


# --- the write ledger's arithmetic (tests/bench/ledger.py) ---------------------------------


def _s(value: str) -> dict:
    return {"S": value}


BY_STATUS = Index("by_status", ("status", "due"), frozenset({"hook"}))
TABLE = Table("actions", ("id",), (BY_STATUS,))


def test_a_write_costs_its_items_larger_size_and_what_it_did_to_each_entry():
    small = {"id": _s("a"), "hook": _s("h")}
    listed = {**small, "status": _s("pending"), "due": _s("1")}
    moved = {**listed, "status": _s("complete")}
    big = {**moved, "args": _s("x" * 1500)}

    # Put without the index's keys (sparse): the item only.
    assert write_cost(TABLE, None, small) == (1, 0)
    # The keys appear: one entry written.
    assert write_cost(TABLE, small, listed) == (1, 1)
    # Unprojected attributes change: the entry stays as it was.
    assert write_cost(TABLE, moved, big) == (2, 0)
    # The key moves: a delete and a put.
    assert write_cost(TABLE, listed, moved) == (1, 2)
    # A refused conditional write: the item as it was, no entry.
    assert write_cost(TABLE, big, big) == (2, 0)
    # A projected attribute changes in place: one write of the entry.
    assert write_cost(TABLE, moved, {**moved, "hook": _s("g")}) == (1, 1)


def test_page_rows_compare_the_largest_table_with_the_smallest():
    from tests.bench.pages import QUERIES, figures

    def at(requests: int, units: float, view: int = 1) -> dict:
        per = {"requests": [requests, requests], "operations": ["BatchGetItem", "Query"]}
        counts = {"counts": {"refresh": 9, "view": view}}
        return {name: {**per, "read_units": [units, units]} for name in QUERIES} | counts

    rows = figures({"sizes": {"10000": at(2, 26.5), "1000": at(2, 26.5)}})
    requests = rows[0]
    assert requests.name.endswith("10,000 actions") and requests.baseline_name == "1,000 actions"
    assert (requests.value, requests.baseline, requests.verdict) == (2, 2, "ok")
    grown = figures({"sizes": {"1000": at(2, 26.5), "10000": at(3, 40.0)}})
    assert grown[0].verdict == "MISS"
    [view] = [row for row in rows if row.name.startswith("Requests / status counts")]
    assert (view.value, view.verdict) == (1, "ok")
    counted = figures({"sizes": {"1000": at(2, 26.5), "10000": at(2, 26.5, view=8)}})
    assert [r.verdict for r in counted if r.name.startswith("Requests / status counts")] == ["MISS"]


def test_xray_counts_the_reservoirs_first_request_of_each_second_then_5_percent():
    from tests.bench.figures import WEBHOOKS_PER_DAY, xray_traces

    # 1,000,000 a day: 86,400 by the reservoir, then 5% of the other 913,600.
    assert xray_traces(1) == pytest.approx((86_400 + 0.05 * 913_600) / WEBHOOKS_PER_DAY)
    # Fewer requests than seconds in a day: every one is traced.
    assert xray_traces(0.05) == pytest.approx(0.05)


def test_an_unrecorded_source_is_priced_on_http_with_its_own_calls_and_write_units():
    from tests.bench.figures import AWS_CALL_MS, unrecorded_inputs

    inputs = CostInputs(
        functions=(LambdaUse("webhook", 1, 45.0, 512), LambdaUse("worker", 0.25, 80.0, 512)),
        dynamodb_wru=8,
    )
    data = {
        "overhead": {"webhook_us": 3000.0, "worker_us_per_record": 2000.0},
        "counts": {
            "unrecorded": {
                "accepted": [["dynamodb", "PutItem"], ["sqs", "SendMessage"]] * 20,
                "warm_webhooks": 20,
                "worker_calls": [],
                "completed": 20,
                "webhook_wru": [2.0, 0.0],
                "worker_wru": [0.0, 0.0],
            }
        },
    }

    priced = unrecorded_inputs(data, inputs)

    assert priced is not None
    assert (priced.api_flavour, priced.dynamodb_wru) == ("HTTP", 2.0)
    webhook, worker = priced.functions
    assert webhook.duration_ms == pytest.approx(3.0 + 2 * AWS_CALL_MS)
    assert worker.duration_ms == pytest.approx(4 * 2.0)  # 4 records a batch, no AWS call
    assert unrecorded_inputs({"counts": {}}, inputs) is None
