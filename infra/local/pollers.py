"""SQS event source mappings, run locally: poll, batch, invoke, delete what succeeded.

Each mapping of the template gets a poller thread that does what Lambda's poller
does: long-polls its queue, gathers up to ``batch_size`` messages within the
batching window, invokes the function with the SQS event, and deletes the messages
the function did not report in ``batchItemFailures`` (with
``ReportBatchItemFailures``; without it, any error keeps the whole batch). Messages
left behind come back after their visibility timeout, and SQS's redrive policy
moves them to the dead-letter queue after ``maxReceiveCount`` receives, exactly as
on AWS, because moto's SQS does that itself.

Maximum concurrency: the local cloud starts one poller per batch it may run at once
(the mapping's maximum concurrency, capped by the local cloud's own concurrency), as
Lambda scales its pollers; each poller runs one batch at a time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

from infra.local.sqs_poller import sqs_event

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


class SqsPoller:
    def __init__(
        self,
        mapping: Mapping,
        invoke: Invoke,
        *,
        log: Callable[[str], None] = print,
        wait_seconds: float = 1.0,
        sqs: Any = None,
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
        """One batch: receive (within the window), invoke, delete; returns messages received."""
        messages = self._receive()
        if not messages:
            return 0
        if self._stop.is_set():  # stopping: they come back after their visibility timeout
            return len(messages)
        name = self.mapping.queue_arn.rsplit(":", 1)[-1]
        try:
            response = self._invoke(
                self.mapping.function, sqs_event(messages, self.mapping.queue_arn)
            )
            failed = {
                failure["itemIdentifier"]
                for failure in (response or {}).get("batchItemFailures", [])
            }
            if not self.mapping.report_batch_item_failures and failed:
                failed = {m["MessageId"] for m in messages}
        except Exception as exc:  # an invocation error keeps the whole batch
            self._log(f"{name}: {len(messages)} message(s): invocation failed: {exc}")
            return len(messages)
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self._sqs.delete_message_batch(
                QueueUrl=self.mapping.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(done[start : start + 10])
                ],
            )
        self._log(
            f"{name}: {len(messages)} message(s) -> {self.mapping.function}: "
            f"{len(done)} done, {len(failed)} back to the queue"
        )
        return len(messages)

    def _receive(self) -> list[dict[str, Any]]:
        deadline = time.monotonic() + self.mapping.batching_window
        messages: list[dict[str, Any]] = []
        while len(messages) < self.mapping.batch_size:
            batch = self._sqs.receive_message(
                QueueUrl=self.mapping.queue_url,
                MaxNumberOfMessages=min(10, self.mapping.batch_size - len(messages)),
                WaitTimeSeconds=0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages.extend(batch)
            if not batch or time.monotonic() >= deadline:
                break
        return messages
