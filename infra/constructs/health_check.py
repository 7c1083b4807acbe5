"""``GET /health``: its function, read-only permissions and route on the stack's API."""

from __future__ import annotations

import json

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.actions.config import ActionSettings
from infra.config import DeploymentConfig
from infra.constructs.action_store import ActionStore
from infra.constructs.api import Api, Throttle
from infra.constructs.function import PythonFunction
from infra.constructs.job_queues import JobQueues
from infra.constructs.nag import acknowledge

# The worker's claim outlives its timeout by this much: the functions' default, which the
# stack does not change.
CLAIM_MARGIN_SECONDS = ActionSettings().claim_margin_seconds


class HealthCheck(Construct):
    """A public, read-only health check: counts and reasons, ``200`` or ``503``.

    The function may read queue attributes, query the actions table's ``by_status``
    index, scan the small circuits table and read SQS's CloudWatch metrics; it can
    change nothing. ``settings_output`` is the ``HEALTH_*`` variables it is given as one
    JSON object, for the stack's ``HealthSettings`` output: ``actionsctl health`` reads it
    and judges as the endpoint does.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        api: Api,
        queues: JobQueues,
        store: ActionStore,
        extra_dead_letter_queues: dict[str, sqs.IQueue],
        config: DeploymentConfig,
        worker_timeout: Duration,
    ) -> None:
        super().__init__(scope, construct_id)
        claim = worker_timeout.to_seconds() + CLAIM_MARGIN_SECONDS
        if config.health_stuck_seconds <= claim:
            raise ValueError(
                f"healthStuckSeconds must exceed the worker's timeout plus the claim margin "
                f"({claim:.0f} s): a run may legitimately hold an action that long"
            )
        thresholds = {
            "HEALTH_MAX_QUEUE_DEPTH": str(config.health_max_queue_depth),
            # Per queue, as the alarms judge it: low work may wait longer than high.
            "HEALTH_MAX_QUEUE_AGE_SECONDS": json.dumps(
                config.alarm_queue_age_seconds, sort_keys=True
            ),
            "HEALTH_MAX_DEAD_LETTERS": str(config.health_max_dead_letters),
            "HEALTH_STUCK_SECONDS": str(config.health_stuck_seconds),
            "HEALTH_PAST_DUE_SECONDS": str(config.health_past_due_seconds),
        }
        dead_letter_urls = {name: q.queue_url for name, q in extra_dead_letter_queues.items()}
        stack = Stack.of(self)
        self.settings_output = stack.to_json_string(
            {**thresholds, "HEALTH_DEAD_LETTER_QUEUES": dead_letter_urls}
        )
        # The HEALTH_* variables and the extra queues it counts: the console's API makes
        # the same report with them.
        self.extra_queue_arns = [q.queue_arn for q in extra_dead_letter_queues.values()]
        self.environment = {
            **thresholds,
            "HEALTH_DEAD_LETTER_QUEUES": stack.to_json_string(dead_letter_urls),
        }
        self.handler = PythonFunction(
            self,
            "Function",
            code=code,
            handler="functions.handlers.health.lambda_handler",
            description="Health check: queue depths and ages, dead letters, circuits, "
            "stuck and past-due actions",
            # Twelve or thirteen sequential reads, each with the clients' retries.
            timeout=Duration.seconds(20),
            memory_size=256,
            settings=config.functions,
            environment={
                "POWERTOOLS_SERVICE_NAME": "health",
                "JOB_QUEUES": queues.lambda_environment(),
                "ACTIONS_TABLE_NAME": store.actions.table_name,
                "CIRCUITS_TABLE_NAME": store.circuits.table_name,
                "HEALTH_CACHE_SECONDS": str(config.health_cache_seconds),
                **thresholds,
                "HEALTH_DEAD_LETTER_QUEUES": stack.to_json_string(dead_letter_urls),
            },
        )
        self._grant_reads(queues, store, extra_dead_letter_queues)

        # Public and unauthenticated: a flood must not scale the function out (each cold
        # one makes a fresh check of AWS calls).
        self.method = api.add_route(
            "/health", "GET", self.handler.function, throttle=Throttle(5, 10)
        )
        self.url = api.url_for_path("/health")
        public = (
            "GET /health is public by design: uptime monitors and load balancers poll it "
            "without credentials. It takes no input and answers counts, queue names and "
            "thresholds only, never args, errors, action ids, hooks, circuit names or "
            "resource names; a warm function answers a burst from one cached check."
        )
        for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
            acknowledge(self.method, rule, public)

    def _grant_reads(
        self,
        queues: JobQueues,
        store: ActionStore,
        extra_dead_letter_queues: dict[str, sqs.IQueue],
    ) -> None:
        """Exactly the reads functions/health makes, each on the resources it names."""
        role = self.handler.role
        queue_arns = [
            arn
            for pair in queues.pairs.values()
            for arn in (pair.queue.queue_arn, pair.dead_letter_queue.queue_arn)
        ] + [queue.queue_arn for queue in extra_dead_letter_queues.values()]
        role.add_to_policy(
            iam.PolicyStatement(actions=["sqs:GetQueueAttributes"], resources=queue_arns)
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["dynamodb:Query"],
                resources=[f"{store.actions.table_arn}/index/by_status"],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=["dynamodb:Scan"], resources=[store.circuits.table_arn])
        )
        # A policy of its own, so its acknowledgment names this statement alone.
        metrics = iam.Policy(
            self,
            "MetricReads",
            statements=[iam.PolicyStatement(actions=["cloudwatch:GetMetricData"], resources=["*"])],
        )
        metrics.attach_to_role(role)
        acknowledge(
            metrics,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:GetMetricData supports no resource-level permissions ('*' is the "
            "only resource AWS accepts); it only reads metrics, here SQS's "
            "ApproximateAgeOfOldestMessage of the job queues.",
        )
