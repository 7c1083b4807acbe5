"""The worker's SQS batches: each record handled on its own, failures reported by id.

Lambda deletes the records of a batch its function returns, except those listed in
``batchItemFailures``, which SQS delivers again. This is the part of Powertools' batch
utility the worker uses (``BatchProcessor(EventType.SQS)``, and on the FIFO queue
``SqsFifoPartialProcessor(skip_group_on_error=True)``, both with
``raise_on_entire_batch_failure=False``), without importing it: its package imports
every event source's data classes, 20 ms of the worker's cold start.
``tests/unit/test_batch.py`` runs the same batches through Powertools' processors and
compares what each handles and reports.
Why: docs/decisions/0073-the-functions-hot-path-is-pydantic-free.md
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypedDict


class PartialItemFailure(TypedDict):
    itemIdentifier: str


class PartialItemFailureResponse(TypedDict):
    batchItemFailures: list[PartialItemFailure]


class SqsRecord:
    """One record of an SQS event, read by the names the worker uses."""

    __slots__ = ("raw",)

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw

    @property
    def message_id(self) -> str:
        return str(self.raw["messageId"])

    @property
    def body(self) -> str:
        return str(self.raw["body"])

    @property
    def receipt_handle(self) -> str:
        return str(self.raw["receiptHandle"])

    @property
    def event_source_arn(self) -> str:
        return str(self.raw.get("eventSourceARN") or "")

    @property
    def attributes(self) -> Mapping[str, Any]:
        return self.raw.get("attributes") or {}

    @property
    def message_group_id(self) -> str | None:
        return self.attributes.get("MessageGroupId")

    @property
    def approximate_receive_count(self) -> str | None:
        return self.attributes.get("ApproximateReceiveCount")


def process(
    records: Iterable[Mapping[str, Any]],
    handler: Callable[[SqsRecord], object],
    *,
    fifo: bool = False,
) -> PartialItemFailureResponse:
    """Handle each record in order; report those whose handler raised.

    On the FIFO queue, once a record of a message group failed, the group's later
    records are reported unhandled: SQS gives them back behind it, in order.
    """
    failures: list[PartialItemFailure] = []
    failed_groups: set[str] = set()
    for raw in records:
        record = SqsRecord(raw)
        group = record.message_group_id if fifo else None
        if group is not None and group in failed_groups:
            failures.append({"itemIdentifier": record.message_id})
            continue
        try:
            handler(record)
        except Exception:
            failures.append({"itemIdentifier": record.message_id})
            if group:
                failed_groups.add(group)
    return {"batchItemFailures": failures}
