"""The job queues: SQS queues that feed the worker, each with its dead-letter queue."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.nag import acknowledge

RETENTION = Duration.days(14)


class JobQueues(Construct):
    """The default job queue and its dead-letter queue.

    ``max_receive_count`` is the safety net for a worker that crashes or times out;
    retries of failing hooks are the worker's own and never rely on it. The
    visibility timeout is six times the worker's timeout, as AWS advises for SQS
    event sources, so a batch still running is never handed to a second worker.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        worker_timeout: Duration,
        max_receive_count: int = 5,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = self._queue("DeadLetterQueue")
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This is the dead-letter queue itself; its messages are inspected and "
            "redriven by operators, so it has no dead-letter queue of its own.",
        )
        self.default_queue = self._queue(
            "DefaultQueue",
            visibility_timeout=Duration.seconds(worker_timeout.to_seconds() * 6),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=max_receive_count
            ),
        )

    def _queue(self, construct_id: str, **props) -> sqs.Queue:
        """Every queue here: SSE, TLS-only, 14 days of retention."""
        return sqs.Queue(
            self,
            construct_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=RETENTION,
            **props,
        )
