"""AWS requests per webhook and per completed action, counted on moto: exact, not timed.

Also records what the timed sections replay (moto's raw answers for one accepted
webhook, one worker batch, one saga task and, when it exists, one health request),
the sizes of the items written (for the DynamoDB bill), the log bytes written per
webhook end to end (for the CloudWatch Logs bill), and warm durations on moto.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from tests.bench.aws import BASE_ENV

os.environ.update(BASE_ENV)
os.environ.pop("AWS_PROFILE", None)

from tests.bench.ledger import WriteLedger
from tests.bench.sections import CountingStream, section_main


def _worker_context(local_context: Any) -> Any:
    """The worker's context with its own timeout, as Lambda gives it (its time budget
    reads it: functions/actions/budget.py)."""
    from functions.actions.budget import WORKER_TIMEOUT_SECONDS

    return local_context(function_name="worker", timeout_seconds=WORKER_TIMEOUT_SECONDS)


# Bind the functions' log handlers to a counter before they are imported.
LOG = CountingStream()
sys.stdout = LOG

WARM_WEBHOOKS = 20
BATCH = 10
LARGE_WEBHOOK_BYTES = 1_000_000
ROOT = Path(__file__).resolve().parents[2]


def _writes(calls: list[tuple[str, str]]) -> list[str]:
    return [op for service, op in calls if service == "dynamodb" and op in _WRITE_OPS]


_WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
_READ_OPS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}


def _unrecorded(post, worker_handler, sqs, queue, ledger, counter) -> dict[str, Any]:
    """The same webhooks to a source with ``"record": false``: requests and write units,
    accept and run. Why: docs/decisions/0071-unrecorded-actions-are-an-opt-in.md"""
    import functions.settings
    from infra.local.lambda_runtime import LocalContext
    from infra.local.pollers import sqs_event
    from tests.bench.aws import signed_github

    sources = json.loads(os.environ["WEBHOOK_SOURCES"])
    sources["github-unrecorded"] = {**sources["github"], "record": False}
    os.environ["WEBHOOK_SOURCES"] = json.dumps(sources)
    functions.settings.reset()  # not the clients: the ledger is attached to them

    def event(n: int) -> dict[str, Any]:
        return signed_github(f"bench-unrecorded-{n}", n, source="github-unrecorded")

    assert post(event(0)) == 202  # the new source's first request reads its secret
    before = (ledger.table_units, ledger.index_units)
    accepted: list[tuple[str, str]] = []
    for n in range(1, WARM_WEBHOOKS + 1):
        with counter.counting() as made:
            assert post(event(n)) == 202
        accepted.extend(made)
    accept = (ledger.table_units - before[0], ledger.index_units - before[1])
    before = (ledger.table_units, ledger.index_units)
    ran: list[tuple[str, str]] = []
    completed = 0
    while messages := sqs.receive_message(
        QueueUrl=queue.url, MaxNumberOfMessages=BATCH, AttributeNames=["All"]
    ).get("Messages", []):
        with counter.counting() as made:
            response = worker_handler(sqs_event(messages, queue.arn), _worker_context(LocalContext))
        assert not response["batchItemFailures"], response
        ran.extend(made)
        completed += len(messages)
        sqs.delete_message_batch(
            QueueUrl=queue.url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )
    run = (ledger.table_units - before[0], ledger.index_units - before[1])
    return {
        "accepted": [list(c) for c in accepted],
        "worker_calls": [list(c) for c in ran],
        "warm_webhooks": WARM_WEBHOOKS,
        "completed": completed,
        "webhook_wru": [units / WARM_WEBHOOKS for units in accept],
        "worker_wru": [units / completed for units in run],
    }


def measure(workdir: Path) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    from functions.clients import each_client
    from infra.local.demo_secrets import DEMO_SECRETS
    from infra.local.lambda_runtime import LocalContext
    from infra.local.pollers import sqs_event
    from tests.bench.aws import CallCounter, Recorder, signed_github
    from tests.bench.baseline import BareHandler
    from tests.conftest import record_aws_calls, reset_process_state
    from tests.deployed import deploy_stack

    with mock_aws():
        # The template the assets section synthesized.
        resources = deploy_stack(json.loads((workdir / "template.json").read_text()))
        os.environ.update(resources.environment)
        saga_table = resources.saga_table
        os.environ["SAGA_TABLE_NAME"] = saga_table
        reset_process_state()

        from functions.handlers.saga import lambda_handler as saga_handler
        from functions.handlers.webhook import lambda_handler as webhook_handler
        from functions.handlers.worker import lambda_handler as worker_handler

        clients = each_client()
        counter = CallCounter(record_aws_calls())  # the suites' own counter, shared
        recorder = Recorder().attach(clients)
        ledger = WriteLedger(boto3.client("dynamodb")).attach(clients)
        result: dict[str, Any] = {"answers": {}}

        def post(event: dict) -> int:
            return webhook_handler(event, LocalContext(function_name="webhook"))["statusCode"]

        # The first webhook of a process reads the source's secret; later ones use the cache.
        first = signed_github("bench-first", 0)
        with counter.counting() as cold, recorder.recording() as answers:
            assert post(first) == 202
        result["answers"]["webhook"] = answers
        durations, accepted, log_before = [], [], LOG.bytes
        units_before = (ledger.table_units, ledger.index_units)
        for n in range(1, WARM_WEBHOOKS + 1):
            event = signed_github(f"bench-{n}", n)
            started = time.perf_counter()
            with counter.counting() as made:
                assert post(event) == 202
            durations.append(time.perf_counter() - started)
            accepted.extend(made)
        webhook_log_bytes = (LOG.bytes - log_before) / WARM_WEBHOOKS
        webhook_wru = (
            (ledger.table_units - units_before[0]) / WARM_WEBHOOKS,
            (ledger.index_units - units_before[1]) / WARM_WEBHOOKS,
        )
        with counter.counting() as duplicate:
            assert post(first) == 200
        tampered = signed_github("bench-tampered", 0)
        tampered["body"] = signed_github("bench-tampered", 1)["body"]
        with counter.counting() as rejected:
            assert post(tampered) == 401

        # The worker, as the event source mapping invokes it: batches of BATCH records.
        units_before = (ledger.table_units, ledger.index_units)
        sqs = boto3.client("sqs")
        queue = resources.queues["default"]
        log_before = LOG.bytes
        worker_calls: list[tuple[str, str]] = []
        batch_durations: list[float] = []
        completed = 0
        while True:
            messages = sqs.receive_message(
                QueueUrl=queue.url, MaxNumberOfMessages=BATCH, AttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                break
            event = sqs_event(messages, queue.arn)
            started = time.perf_counter()
            with counter.counting() as made, recorder.recording() as answers:
                response = worker_handler(event, _worker_context(LocalContext))
            batch_durations.append((time.perf_counter() - started) / len(messages))
            assert not response["batchItemFailures"], response
            worker_calls.extend(made)
            completed += len(messages)
            if len(messages) == BATCH and "worker" not in result["answers"]:
                result["answers"]["worker"] = answers
                result["worker_event"] = event
            sqs.delete_message_batch(
                QueueUrl=queue.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )
        worker_log_bytes = (LOG.bytes - log_before) / completed
        worker_wru = (
            (ledger.table_units - units_before[0]) / completed,
            (ledger.index_units - units_before[1]) / completed,
        )

        result["unrecorded"] = _unrecorded(post, worker_handler, sqs, queue, ledger, counter)

        # The bare baseline, counted the same way.
        bare = BareHandler(DEMO_SECRETS["github"].encode(), queue.url)
        bare_counter = CallCounter().attach([bare.sqs])
        with bare_counter.counting() as bare_accepted:
            assert bare.handle(signed_github("bare-1", 1))["statusCode"] == 202
        with bare_counter.counting() as bare_rejected:
            assert bare.handle(tampered)["statusCode"] == 401

        # Item sizes, for the DynamoDB bill.
        dynamodb = boto3.client("dynamodb")
        action_items = dynamodb.scan(TableName=resources.actions_table)["Items"]
        idempotency_items = dynamodb.scan(TableName=resources.table_name)["Items"]
        described = dynamodb.describe_table(TableName=resources.actions_table)["Table"].get(
            "GlobalSecondaryIndexes", []
        )
        indexes = [[key["AttributeName"] for key in index["KeySchema"]] for index in described]
        entry_bytes = [_entry_bytes(index, action_items) for index in described]

        saga_event = {"task": "reserve_inventory", "input": {"order_id": "o-1", "fail": {}}}
        with recorder.recording() as answers:
            saga_handler(saga_event, LocalContext(function_name="saga"))
        result["answers"]["saga"] = answers
        result["saga_event"] = saga_event
        result["health"] = _health(recorder)
        result["large_webhook"] = _large_webhook(
            post, worker_handler, sqs, queue, clients, counter, LARGE_WEBHOOK_BYTES
        )

    from tests.bench.cost import dynamodb_item_bytes

    result.update(
        {
            "accepted_cold": cold,
            "accepted": [list(c) for c in accepted],
            "warm_webhooks": WARM_WEBHOOKS,
            "duplicate": duplicate,
            "rejected": rejected,
            "worker_calls": worker_calls,
            "completed": completed,
            "bare_accepted": bare_accepted,
            "bare_rejected": bare_rejected,
            "webhook_ms_moto": statistics.median(durations) * 1000,
            "worker_ms_per_record_moto": statistics.median(batch_durations) * 1000,
            "webhook_log_bytes": webhook_log_bytes,
            # WRU per webhook as billed, (table, indexes), accept and run (tests/bench/ledger.py).
            "webhook_wru": webhook_wru,
            "worker_wru": worker_wru,
            "worker_log_bytes": worker_log_bytes,
            "action_item_bytes": max(dynamodb_item_bytes(i) for i in action_items),
            "idempotency_item_bytes": max(dynamodb_item_bytes(i) for i in idempotency_items),
            "action_indexes": indexes,
            "action_index_entry_bytes": entry_bytes,
            "action_item_keys": sorted(action_items[0]),
            "environment": dict(resources.environment, SAGA_TABLE_NAME=saga_table),
        }
    )
    return result


def _large_webhook(
    post: Any, worker: Any, sqs: Any, queue: Any, clients: list[Any], counter: Any, size: int
) -> dict[str, Any]:
    """One GitHub delivery of ``size`` bytes, accepted then run: the requests each side
    makes and the bytes each request sends (and S3 returns), by operation."""
    from infra.local.lambda_runtime import LocalContext, webhook_event
    from infra.local.pollers import sqs_event
    from tests.bench.aws import github_headers

    sent: list[tuple[str, str, int]] = []
    received: list[tuple[str, str, int]] = []

    def on_send(event_name: str, request: Any, **_: Any) -> None:
        # The payload's length as sent: an S3 upload's body is a stream (aws-chunked).
        headers = request.headers
        length = headers.get("X-Amz-Decoded-Content-Length") or headers.get("Content-Length")
        if length is None:
            body = request.body
            length = len(body) if isinstance(body, bytes | str) else 0
        _, service, operation = event_name.split(".")[:3]
        sent.append((service, operation, int(length)))

    def on_call(event_name: str, parsed: dict[str, Any], **_: Any) -> None:
        _, service, operation = event_name.split(".")[:3]
        received.append((service, operation, int(parsed.get("ContentLength") or 0)))

    for client in clients:
        client.meta.events.register("before-send.*", on_send)
        client.meta.events.register("after-call.s3.GetObject", on_call)
    commit = {"id": "0" * 40, "message": "Fix the thing " * 60, "author": "dev"}
    each = len(json.dumps(commit)) + 2
    body = json.dumps(
        {"ref": "refs/heads/main", "commits": [commit] * ((size - 100) // each)}
    ).encode()
    body += b" " * (size - len(body))
    from infra.local.demo_secrets import DEMO_SECRETS

    event = webhook_event(
        "github", github_headers(body, "bench-large", DEMO_SECRETS["github"]), body
    )
    sqs.purge_queue(QueueUrl=queue.url)  # the bare baseline's message
    try:
        with counter.counting() as accepted:
            status = post(event)
        assert status == 202, f"the {size} B webhook answered {status}"
        accept_sent = list(sent)
        messages = sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=1)["Messages"]
        with counter.counting() as ran:
            response = worker(sqs_event(messages, queue.arn), _worker_context(LocalContext))
        assert not response["batchItemFailures"], response
    finally:
        for client in clients:
            client.meta.events.unregister("before-send.*", on_send)
            client.meta.events.unregister("after-call.s3.GetObject", on_call)
    return {
        "body_bytes": size,
        "event_bytes": len(json.dumps(event)),
        "accepted": [list(c) for c in accepted],
        "ran": [list(c) for c in ran],
        "sent": [list(c) for c in sent],
        "accept_sent": [list(c) for c in accept_sent],
        "received": [list(c) for c in received],
    }


def _entry_bytes(index: dict[str, Any], items: list[dict[str, Any]]) -> int:
    """The largest entry ``index`` holds for these items, as its projection cuts them.

    Billed like an item (attribute names plus values); an entry's 100 bytes of index
    overhead are added, conservatively, though they are documented for storage.
    """
    from tests.bench.cost import dynamodb_item_bytes

    projection = index["Projection"]
    keys = {"action_id"} | {key["AttributeName"] for key in index["KeySchema"]}
    if projection["ProjectionType"] == "ALL":
        kept = None
    else:
        kept = keys | set(projection.get("NonKeyAttributes", []))
    sizes = [
        dynamodb_item_bytes({k: v for k, v in item.items() if kept is None or k in kept})
        for item in items
        if keys <= set(item)  # an item without the index's keys has no entry (sparse)
    ]
    return max(sizes, default=0) + 100


def _health(recorder: Any) -> dict[str, Any] | None:
    """One GET /health, recorded, when the health handler exists (it is being written)."""
    if not (ROOT / "functions" / "handlers" / "health.py").exists():
        return None
    from functions.clients import each_client
    from infra.local.lambda_runtime import LocalContext, rest_proxy_event

    event = rest_proxy_event("GET", "/health", resource="/health", body=None)
    try:
        from functions.handlers.health import lambda_handler

        # The clients only the health check uses (CloudWatch) exist once it is imported:
        # an answer left unrecorded would fail its replayed cold start.
        recorder.attach(each_client())
        with recorder.recording() as answers:
            lambda_handler(event, LocalContext(function_name="health"))
    except Exception as exc:  # the handler is work in progress elsewhere: report, do not fail
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"event": event, "answers": answers}


if __name__ == "__main__":
    section_main("counts", measure)
