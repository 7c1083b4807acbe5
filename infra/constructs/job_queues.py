"""The job queues: one SQS queue per priority and a FIFO queue, each with its dead letters."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.nag import acknowledge

RETENTION = Duration.days(14)
PRIORITIES = ("high", "default", "low")
# Crashes and timeouts only: the worker's own retries never count against it. The FIFO
# queue retries and defers in place, and messages held behind a failing head of their
# group are received again too: each is a receive, so it allows far more.
MAX_RECEIVE_COUNT = {"high": 5, "default": 5, "low": 5, "fifo": 100}


@dataclass(frozen=True)
class QueuePair:
    name: str
    queue: sqs.Queue
    dead_letter_queue: sqs.Queue


class JobQueues(Construct):
    """``high``, ``default`` and ``low`` standard queues and the ``fifo`` queue for ordered hooks.

    Each has its own dead-letter queue, so a flood in one never hides another's
    failures. The visibility timeout is six times the worker's timeout, as AWS
    advises for SQS event sources, so a batch still running is never handed to a
    second worker, and a run's claim expires before its message shows again.
    """

    def __init__(self, scope: Construct, construct_id: str, *, worker_timeout: Duration) -> None:
        super().__init__(scope, construct_id)
        self.pairs: dict[str, QueuePair] = {}
        for name in (*PRIORITIES, "fifo"):
            fifo = name == "fifo"
            dead_letters = self._queue(f"{name.title()}DeadLetterQueue", fifo=fifo)
            for rule in ("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"):
                acknowledge(
                    dead_letters,
                    rule,
                    f"This is the {name} queue's dead-letter queue; its messages are inspected "
                    "and redriven by operators (actionsctl dlq), so it has no dead-letter "
                    "queue of its own. An alarm fires on its first message.",
                )
            queue = self._queue(
                f"{name.title()}Queue",
                fifo=fifo,
                visibility_timeout=Duration.seconds(worker_timeout.to_seconds() * 6),
                dead_letter_queue=sqs.DeadLetterQueue(
                    queue=dead_letters, max_receive_count=MAX_RECEIVE_COUNT[name]
                ),
            )
            self.pairs[name] = QueuePair(name, queue, dead_letters)

    @property
    def default_queue(self) -> sqs.Queue:
        return self.pairs["default"].queue

    def environment(self) -> str:
        """``JOB_QUEUES``: what functions/actions/config.py reads."""
        return Stack.of(self).to_json_string(
            {
                name: {
                    "url": pair.queue.queue_url,
                    "arn": pair.queue.queue_arn,
                    "dead_letter_url": pair.dead_letter_queue.queue_url,
                    "dead_letter_arn": pair.dead_letter_queue.queue_arn,
                }
                for name, pair in self.pairs.items()
            }
        )

    def grant_send(
        self,
        grantee: iam.IGrantable,
        names: tuple[str, ...] | None = None,
        *,
        dead_letters: bool = True,
    ) -> None:
        """Send to the named job queues (all by default) and, if asked, their dead letters."""
        for name in names or tuple(self.pairs):
            self.pairs[name].queue.grant_send_messages(grantee)
            if dead_letters:
                self.pairs[name].dead_letter_queue.grant_send_messages(grantee)

    def _queue(
        self,
        construct_id: str,
        *,
        fifo: bool,
        visibility_timeout: Duration | None = None,
        dead_letter_queue: sqs.DeadLetterQueue | None = None,
    ) -> sqs.Queue:
        """Every queue here: SSE, TLS-only, 14 days of retention."""
        # EventBridge Scheduler's SQS FIFO targets need content-based deduplication; our own
        # sends give an explicit deduplication id, which takes precedence. A standard
        # queue leaves both unset (None), as CloudFormation's default.
        return sqs.Queue(
            self,
            construct_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=RETENTION,
            fifo=fifo or None,
            content_based_deduplication=fifo or None,
            visibility_timeout=visibility_timeout,
            dead_letter_queue=dead_letter_queue,
        )
