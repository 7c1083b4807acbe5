"""Saga outcomes: how each saga's execution ended reaches the action that started it.

Step Functions sends an "Execution Status Change" event to EventBridge when an execution
succeeds, fails, times out or is aborted. ``watch(saga)`` adds a rule that sends those of
one state machine to the outcomes queue; its function records each on the action named in
the execution's input (functions/sagas/outcomes.py): a waiting action completes or fails,
any other gets a log entry. A queue between them, as for the job queues: an outcome the
function cannot record yet is received again, then kept in the dead-letter queue.
Why: docs/decisions/0036-a-saga-reports-its-outcome-to-its-action.md
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from functions.sagas.ended import DETAIL_TYPE, STATUSES
from infra.config import DeploymentConfig
from infra.constructs.action_store import ActionStore
from infra.constructs.function import PythonFunction
from infra.constructs.job_queues import QueuePair
from infra.constructs.nag import acknowledge

TIMEOUT = Duration.seconds(30)
RETENTION = Duration.days(14)
MAX_RECEIVE_COUNT = 5


class SagaOutcomes(Construct):
    """The outcomes queue (``queue``), its dead letters (``dead_letter_queue``) and the
    function that records outcomes (``handler``); ``watch`` adds a saga's rule."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        store: ActionStore,
        config: DeploymentConfig,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = self._queue("DeadLetterQueue")
        for rule in ("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"):
            acknowledge(
                self.dead_letter_queue,
                rule,
                "This is the saga outcomes queue's dead-letter queue (and its rule targets'): "
                "an operator reads what could not be recorded; an alarm fires on its first "
                "message.",
            )
        self.queue = self._queue(
            "Queue",
            # Six times the function's timeout, as AWS advises for SQS event sources.
            visibility_timeout=Duration.seconds(TIMEOUT.to_seconds() * 6),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=MAX_RECEIVE_COUNT
            ),
        )
        self.handler = PythonFunction(
            self,
            "Function",
            code=code,
            handler="functions.handlers.saga_outcome.lambda_handler",
            description="Saga outcomes: records how each saga ended on the action that started it",
            timeout=TIMEOUT,
            memory_size=256,
            settings=config.functions,
            environment={
                "POWERTOOLS_SERVICE_NAME": "saga",
                "ACTIONS_TABLE_NAME": store.actions.table_name,
            },
        )
        function = self.handler.function
        store.grant_record_saga_outcomes(function)
        function.add_event_source(
            sources.SqsEventSource(
                self.queue, batch_size=10, report_batch_item_failures=True, max_concurrency=2
            )
        )
        acknowledge(
            function,
            "Serverless-LambdaEventSourceMappingDestination",
            "An SQS event source mapping: Lambda supports on-failure destinations for stream "
            "and Kafka sources only. An outcome that keeps failing goes to the queue's "
            "dead-letter queue by its redrive policy (maxReceiveCount).",
        )

    @property
    def pair(self) -> QueuePair:
        """The queue and its dead letters, as the monitoring watches queues."""
        return QueuePair("saga-outcomes", self.queue, self.dead_letter_queue)

    def watch(self, construct_id: str, state_machine: sfn.IStateMachine) -> events.Rule:
        """Send the ended executions of ``state_machine`` to the outcomes queue."""
        rule = events.Rule(
            self,
            construct_id,
            description="How each execution of a saga ended, for the action that started it",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=[DETAIL_TYPE],
                detail={
                    "stateMachineArn": [state_machine.state_machine_arn],
                    "status": list(STATUSES),
                },
            ),
        )
        rule.add_target(
            targets.SqsQueue(
                self.queue,
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=185,
                max_event_age=Duration.hours(24),
            )
        )
        return rule

    def _queue(
        self,
        construct_id: str,
        *,
        visibility_timeout: Duration | None = None,
        dead_letter_queue: sqs.DeadLetterQueue | None = None,
    ) -> sqs.Queue:
        """SSE with SQS's own key (EventBridge may send to it), TLS only, 14 days."""
        return sqs.Queue(
            self,
            construct_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=RETENTION,
            visibility_timeout=visibility_timeout,
            dead_letter_queue=dead_letter_queue,
        )
