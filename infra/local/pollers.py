"""SQS event source mappings, run locally: poll, batch, invoke, delete what succeeded.

``poll_once`` is one round of Lambda's poller: up to ``batch_size`` messages within the
batching window, the event Lambda builds, and deletes of what the function did not
report in ``batchItemFailures`` (none if it raised). What stays comes back after its
visibility timeout, and moto's SQS redrives it to the dead-letter queue. The local cloud
runs ``SqsPoller`` threads, one per batch a mapping may run at once; tests call
``poll_once`` to run the worker as its mapping would.
Why: docs/decisions/0027-tests-move-time-with-time-machine.md (short polls)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:  # the boto3-stubs packages: a dev dependency
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

_FIRST_PAUSE = 0.1  # seconds; doubled while the queue stays empty, up to wait_seconds

Invoke = Callable[[str, dict[str, Any]], dict[str, Any] | None]


@dataclass(frozen=True)
class Mapping:
    function: str
    queue_url: str
    queue_arn: str
    batch_size: int = 10
    batching_window: float = 0.0
    report_batch_item_failures: bool = True


@dataclass
class PollResult:
    received: int = 0
    failed: list[str] = field(default_factory=list)  # message ids left on the queue
    crashed: BaseException | None = None  # what the invocation raised
    kept: list[str] = field(default_factory=list)  # receipt handles left on the queue


def _message_attributes(message: MessageTypeDef) -> dict[str, Any]:
    return {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        for name, value in (message.get("MessageAttributes") or {}).items()
    }


def sqs_event(messages: list[MessageTypeDef], queue_arn: str) -> dict[str, Any]:
    """The event Lambda's SQS event source mapping hands the function."""
    region = queue_arn.split(":")[3]
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": _message_attributes(message),
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


def _receive(sqs: SQSClient, mapping: Mapping) -> list[MessageTypeDef]:
    deadline = time.monotonic() + mapping.batching_window
    messages: list[MessageTypeDef] = []
    while len(messages) < mapping.batch_size:
        batch = sqs.receive_message(
            QueueUrl=mapping.queue_url,
            MaxNumberOfMessages=min(10, mapping.batch_size - len(messages)),
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        messages.extend(batch)
        if not batch or time.monotonic() >= deadline:
            break
    return messages


def poll_once(
    mapping: Mapping,
    invoke: Invoke,
    *,
    sqs: SQSClient | None = None,
    log: Callable[[str], None] = lambda line: None,
    stopping: Callable[[], bool] = lambda: False,
) -> PollResult:
    """One batch: receive (within the window), invoke, delete; says what happened."""
    sqs = sqs or boto3.client("sqs")
    messages = _receive(sqs, mapping)
    result = PollResult(received=len(messages))
    if not messages or stopping():  # stopping: they come back after their visibility timeout
        return result
    name = mapping.queue_arn.rsplit(":", 1)[-1]
    try:
        response = invoke(mapping.function, sqs_event(messages, mapping.queue_arn)) or {}
    except BaseException as exc:  # an invocation error keeps the whole batch
        log(f"{name}: {len(messages)} message(s): invocation failed: {exc}")
        result.crashed = exc
        result.failed = [m["MessageId"] for m in messages]
        result.kept = [m["ReceiptHandle"] for m in messages]
        return result
    failed = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
    if not mapping.report_batch_item_failures and failed:
        failed = {m["MessageId"] for m in messages}
    done = [m for m in messages if m["MessageId"] not in failed]
    result.failed = [m["MessageId"] for m in messages if m["MessageId"] in failed]
    result.kept = [m["ReceiptHandle"] for m in messages if m["MessageId"] in failed]
    for start in range(0, len(done), 10):
        sqs.delete_message_batch(
            QueueUrl=mapping.queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(done[start : start + 10])
            ],
        )
    log(
        f"{name}: {len(messages)} message(s) -> {mapping.function}: "
        f"{len(done)} done, {len(failed)} back to the queue"
    )
    return result


class SqsPoller:
    """A thread polling one mapping's queue until stopped."""

    def __init__(
        self,
        mapping: Mapping,
        invoke: Invoke,
        *,
        log: Callable[[str], None] = print,
        wait_seconds: float = 1.0,
        sqs: SQSClient | None = None,
    ) -> None:
        self.mapping = mapping
        self._invoke = invoke
        self._log = log
        self._wait = wait_seconds
        self._sqs = sqs or boto3.client("sqs")
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"poller-{mapping.queue_arn.rsplit(':', 1)[-1]}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    @staticmethod
    def stop_all(pollers: list[SqsPoller], timeout: float = 5.0) -> None:
        """Tell every poller to stop, then wait for each: the waits overlap."""
        for poller in pollers:
            poller._stop.set()
        deadline = time.monotonic() + timeout
        for poller in pollers:
            poller._thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self) -> None:
        # Short polls and a pause of our own when the queue is empty, not SQS's long
        # poll: moto times a long poll on the wall clock, which the end-to-end tests move
        # (a poll begun hours ahead would block for hours once the clock comes back),
        # and our pause, on the monotonic clock, ends the moment stop() is called.
        pause = _FIRST_PAUSE
        while not self._stop.is_set():
            try:
                received = self.poll()
            except Exception as exc:  # keep polling, as Lambda does; say what went wrong
                self._log(f"poller {self.mapping.queue_arn}: {type(exc).__name__}: {exc}")
                self._stop.wait(1)
                continue
            if received:
                pause = _FIRST_PAUSE
            else:
                self._stop.wait(min(pause, self._wait))
                pause = min(pause * 2, self._wait)

    def poll(self) -> int:
        """One batch; returns how many messages were received."""
        return poll_once(
            self.mapping, self._invoke, sqs=self._sqs, log=self._log, stopping=self._stop.is_set
        ).received
