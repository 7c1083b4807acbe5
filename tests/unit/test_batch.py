"""The worker's batch loop reports what Powertools' batch processors report.

``functions.actions.batch`` replaces, on the worker's cold path, the part of Powertools'
batch utility the worker used; here the same batches go through both, and both must
handle the same records in the same order and report the same failures.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.actions.batch import SqsRecord, process

ARN = "arn:aws:sqs:us-east-1:1:jobs"


def batch(groups: list[str | None], fifo: bool) -> list[dict[str, Any]]:
    records = []
    for number, group in enumerate(groups):
        attributes = {"ApproximateReceiveCount": str(number + 1)}
        if group is not None:
            attributes["MessageGroupId"] = group
        records.append(
            {
                "messageId": f"m{number}",
                "receiptHandle": f"r{number}",
                "body": f'{{"n": {number}}}',
                "attributes": attributes,
                "eventSourceARN": ARN + (".fifo" if fifo else ""),
            }
        )
    return records


def recording(failing: set[str]) -> tuple[list[str], Any]:
    """A record handler that notes each record's id, and fails those in ``failing``."""
    handled: list[str] = []

    def handler(record: Any) -> None:
        handled.append(record.message_id)
        if record.message_id in failing:
            raise RuntimeError("fails")

    return handled, handler


def with_powertools(
    records: list[dict[str, Any]], failing: set[str], fifo: bool
) -> tuple[list[str], Any]:
    handled, handler = recording(failing)
    processor = (
        SqsFifoPartialProcessor(skip_group_on_error=True)
        if fifo
        else BatchProcessor(event_type=EventType.SQS)
    )
    processor.raise_on_entire_batch_failure = False
    response = process_partial_response({"Records": records}, handler, processor)
    return handled, response


def with_ours(
    records: list[dict[str, Any]], failing: set[str], fifo: bool
) -> tuple[list[str], Any]:
    handled, handler = recording(failing)
    return handled, process(records, handler, fifo=fifo)


@settings(max_examples=200, deadline=None)
@given(
    groups=st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=12),
    failing=st.sets(st.integers(min_value=0, max_value=11)),
    fifo=st.booleans(),
)
def test_the_same_records_are_handled_and_reported(
    groups: list[str], failing: set[int], fifo: bool
) -> None:
    records = batch(list(groups) if fifo else [None] * len(groups), fifo)
    ids = {f"m{n}" for n in failing}

    assert with_ours(records, ids, fifo) == with_powertools(records, ids, fifo)


def test_a_failed_groups_later_records_are_reported_unhandled_on_the_fifo_queue() -> None:
    records = batch(["a", "b", "a", "b"], fifo=True)

    handled, response = with_ours(records, {"m0"}, fifo=True)

    assert handled == ["m0", "m1", "m3"]
    assert response == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m2"}]}


def test_a_standard_queue_handles_every_record_whatever_fails() -> None:
    records = batch([None, None, None], fifo=False)

    handled, response = with_ours(records, {"m0", "m1", "m2"}, fifo=False)

    assert handled == ["m0", "m1", "m2"]
    assert len(response["batchItemFailures"]) == 3


def test_a_record_reads_as_the_worker_reads_it() -> None:
    record = SqsRecord(batch(["g"], fifo=True)[0])

    assert (record.message_id, record.receipt_handle, record.body) == ("m0", "r0", '{"n": 0}')
    assert record.event_source_arn == ARN + ".fifo"
    assert (record.message_group_id, record.approximate_receive_count) == ("g", "1")


def test_an_empty_batch_reports_nothing() -> None:
    """Lambda never sends one; Powertools raises UnexpectedBatchTypeError for it."""
    assert with_ours([], set(), fifo=False) == ([], {"batchItemFailures": []})
