"""The job queues: one SQS queue per priority and a FIFO queue, each with its dead letters."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.actions.envelope import MAX_MESSAGE_BYTES
from functions.actions.hooks import MAX_ATTEMPTS
from infra.constructs.nag import acknowledge

# A job waits on its queue minutes (a hop is at most 15), an ordered one as long as its
# group is held; its dead letter waits for an operator. SQS's redrive keeps a standard
# message's first enqueue time, so a dead-letter queue keeps messages longer than its
# source, or a message it takes in could expire soon after.
# Why: docs/decisions/0043-dead-letters-outlive-their-source.md
RETENTION = Duration.days(4)
DEAD_LETTER_RETENTION = Duration.days(14)
PRIORITIES = ("high", "default", "low")
# The redrive policy is the safety net for messages the worker never finishes with, not
# the retry mechanism: a run that ends without an outcome (the function timed out or
# crashed) uses its attempt, so the worker itself dead-letters an action whose runs keep
# ending so, after at most MAX_ATTEMPTS of them. A standard message is received again
# only when its batch failed (a run in it timed out: at most MAX_ATTEMPTS times for each
# such action) or its action was running elsewhere; hand-backs and retries are new
# messages. Its count leaves room above MAX_ATTEMPTS.
# A FIFO message is received once for each run of its own action or of one ahead of it in
# its batch (at most 10 actions, each run at most MAX_ATTEMPTS + 1 times), and once for
# each wait in place, which grows to 15 minutes (worker.ORDERED_WAIT_CAP_SECONDS): about
# 10 x 21 + 4 days / 15 min + 10 = 604 receives within RETENTION at most. Its count is
# above that, and still moves a message that never reaches a run to the dead letters
# within 700 visibility timeouts (70 h), before RETENTION ends.
# Why: docs/decisions/0042-start-a-record-only-while-time-remains.md,
# 0045-ordered-work-waits-without-dying.md
STANDARD_RECEIVES = MAX_ATTEMPTS + 10
FIFO_RECEIVES = 700
MAX_RECEIVE_COUNT = {
    "high": STANDARD_RECEIVES,
    "default": STANDARD_RECEIVES,
    "low": STANDARD_RECEIVES,
    "fifo": FIFO_RECEIVES,
}


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
            dead_letters = self._queue(
                f"{name.title()}DeadLetterQueue", fifo=fifo, retention=DEAD_LETTER_RETENTION
            )
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
                retention=RETENTION,
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

    def lambda_environment(self) -> str:
        """``JOB_QUEUES`` as functions receive it: each queue's and dead-letter queue's name
        once, and the URL and ARN prefixes they share, from which ``functions/actions/
        config.py`` derives each URL and ARN. A third of the full form's size, so the job
        queues do not crowd Lambda's 4 KB environment.
        Why: docs/decisions/0066-settings-that-grow-leave-the-environment.md"""
        return Stack.of(self).to_json_string(
            {
                "url": f"https://sqs.{Aws.REGION}.{Aws.URL_SUFFIX}/{Aws.ACCOUNT_ID}/",
                "arn": f"arn:{Aws.PARTITION}:sqs:{Aws.REGION}:{Aws.ACCOUNT_ID}:",
                "queues": {
                    name: [pair.queue.queue_name, pair.dead_letter_queue.queue_name]
                    for name, pair in self.pairs.items()
                },
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
        retention: Duration,
        visibility_timeout: Duration | None = None,
        dead_letter_queue: sqs.DeadLetterQueue | None = None,
    ) -> sqs.Queue:
        """Every queue here: SSE, TLS-only, messages of at most ``MAX_MESSAGE_BYTES``."""
        # EventBridge Scheduler's SQS FIFO targets need content-based deduplication; our own
        # sends give an explicit deduplication id, which takes precedence. A standard
        # queue leaves both unset (None), as CloudFormation's default.
        return sqs.Queue(
            self,
            construct_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=retention,
            max_message_size_bytes=MAX_MESSAGE_BYTES,
            fifo=fifo or None,
            content_based_deduplication=fifo or None,
            visibility_timeout=visibility_timeout,
            dead_letter_queue=dead_letter_queue,
        )
