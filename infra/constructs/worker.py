"""The worker: one function fed by every job queue through its own event source mapping."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from infra.config import DeploymentConfig
from infra.constructs.action_store import ActionStore
from infra.constructs.function import PythonFunction
from infra.constructs.job_queues import JobQueues
from infra.constructs.nag import acknowledge
from infra.constructs.payloads import Payloads
from infra.constructs.scheduling import Scheduling


class Worker(Construct):
    """Runs actions. Each queue's mapping has its own maximum concurrency (``workerConcurrency``
    in cdk.json), so a flood of low-priority work never takes the workers high-priority
    work needs. Mappings report partial batch failures, so one failed record is the
    only one SQS delivers again.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        queues: JobQueues,
        store: ActionStore,
        scheduling: Scheduling,
        payloads: Payloads,
        config: DeploymentConfig,
        timeout: Duration,
    ) -> None:
        super().__init__(scope, construct_id)
        self.handler = PythonFunction(
            self,
            "Function",
            code=code,
            handler="functions.handlers.worker.lambda_handler",
            description="Worker: runs actions from the job queues",
            timeout=timeout,
            memory_size=config.worker_memory_mb,
            settings=config.functions,
            environment={
                "POWERTOOLS_SERVICE_NAME": "worker",
                "JOB_QUEUES": queues.lambda_environment(),
                "ACTIONS_TABLE_NAME": store.actions.table_name,
                "CIRCUITS_TABLE_NAME": store.circuits.table_name,
                "WORKER_TIMEOUT_SECONDS": str(int(timeout.to_seconds())),
                "CIRCUIT_FAILURE_THRESHOLD": str(config.circuit_failure_threshold),
                "CIRCUIT_WINDOW_SECONDS": str(config.circuit_window_seconds),
                "CIRCUIT_COOLDOWN_SECONDS": str(config.circuit_cooldown_seconds),
                **scheduling.environment(),
                **payloads.environment(),
            },
        )
        function = self.handler.function
        store.grant_write_actions(function)
        store.grant_circuits(function)
        # Hooks may schedule and query actions (the daily report counts them).
        store.grant_query_actions(function)
        scheduling.grant_schedule(function)
        # Retries and hops go back to the queue they came from; failures to its dead letters.
        queues.grant_send(function)
        # Loads large args before a hook runs; a hook's own enqueues may put large args.
        payloads.grant_get(function)
        payloads.grant_put(function)
        acknowledge(
            function,
            "Serverless-LambdaEventSourceMappingDestination",
            "The worker's SQS event source mappings: Lambda supports on-failure destinations "
            "for stream and Kafka sources only. A record that keeps failing goes to its "
            "queue's dead-letter queue by the redrive policy (maxReceiveCount), and the "
            "worker dead-letters actions it gives up on itself.",
        )
        for name, pair in queues.pairs.items():
            fifo = name == "fifo"
            function.add_event_source(
                sources.SqsEventSource(
                    pair.queue,
                    batch_size=10,
                    # SQS FIFO event sources take no batching window.
                    max_batching_window=None if fifo else Duration.seconds(1),
                    report_batch_item_failures=True,
                    max_concurrency=config.worker_concurrency[name],
                )
            )
