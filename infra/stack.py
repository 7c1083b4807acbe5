"""The stack: composes one construct per concern and wires them together."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicies, Stack
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from functions.actions.budget import WORKER_TIMEOUT_SECONDS
from infra import hook_packages
from infra.config import DeploymentConfig
from infra.constructs import webhook_api
from infra.constructs.action_store import ActionStore
from infra.constructs.actions_api import ActionsApi
from infra.constructs.api import RestFlavour
from infra.constructs.bundling import lambda_code
from infra.constructs.console import Console
from infra.constructs.health_check import HealthCheck
from infra.constructs.job_queues import JobQueues
from infra.constructs.monitoring import Monitoring
from infra.constructs.order_saga import OrderSaga
from infra.constructs.payloads import Payloads
from infra.constructs.saga_outcomes import SagaOutcomes
from infra.constructs.scheduling import Scheduling
from infra.constructs.waf import WebAcl
from infra.constructs.webhook_api import WebhookApi
from infra.constructs.worker import Worker

# The worker's time budget (functions/actions/budget.py) is reckoned from this timeout.
WORKER_TIMEOUT = Duration.seconds(WORKER_TIMEOUT_SECONDS)


class ActionSchedulerStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        config = DeploymentConfig.from_context(self)
        code = lambda_code(
            hook_packages.resolve(config.hook_packages),
            example_hooks=config.example_hooks,
            webhook_sources=webhook_api.sources_document(self.stack_name, config),
        )

        self.queues = JobQueues(self, "JobQueues", worker_timeout=WORKER_TIMEOUT)
        self.store = ActionStore(self, "Actions")
        self.payloads = Payloads(self, "Payloads")
        self.webhooks = WebhookApi(
            self,
            "Webhooks",
            code=code,
            queues=self.queues,
            store=self.store,
            payloads=self.payloads,
            config=config,
        )
        self.scheduling = Scheduling(self, "Scheduling", queues=self.queues)
        self.actions_api = ActionsApi(
            self,
            "ActionsApi",
            code=code,
            api=self.webhooks.api,
            queues=self.queues,
            store=self.store,
            scheduling=self.scheduling,
            payloads=self.payloads,
            idempotency_table=self.webhooks.idempotency_table,
            config=config,
        )
        self.order_saga = OrderSaga(
            self, "OrderSaga", code=code, config=config, payloads=self.payloads
        )
        self.worker = Worker(
            self,
            "Worker",
            code=code,
            queues=self.queues,
            store=self.store,
            scheduling=self.scheduling,
            payloads=self.payloads,
            config=config,
            timeout=WORKER_TIMEOUT,
        )
        # The example saga: its start_order_saga hook runs on the worker, and waits for
        # the saga's outcome, which reaches the action through the outcomes queue.
        self.order_saga.let_start(self.worker.handler.function)
        self.saga_outcomes = SagaOutcomes(
            self, "SagaOutcomes", code=code, store=self.store, config=config
        )
        self.saga_outcomes.watch("OrderSagaEnded", self.order_saga.saga.state_machine)
        self.health = HealthCheck(
            self,
            "Health",
            code=code,
            api=self.webhooks.api,
            queues=self.queues,
            store=self.store,
            extra_dead_letter_queues={
                "scheduler": self.scheduling.dead_letter_queue,
                "saga-outcomes": self.saga_outcomes.dead_letter_queue,
            },
            config=config,
            worker_timeout=WORKER_TIMEOUT,
        )
        self.console = Console(
            self,
            "Console",
            code=code,
            api=self.webhooks.api,
            queues=self.queues,
            store=self.store,
            scheduling=self.scheduling,
            payloads=self.payloads,
            saga=self.order_saga.saga.state_machine,
            health_environment=self.health.environment,
            health_queue_arns=self.health.extra_queue_arns,
            log_groups=[
                handler.log_group.log_group_name
                for handler in (
                    self.webhooks.handler,
                    self.actions_api.handler,
                    self.worker.handler,
                    self.order_saga.tasks,
                    self.saga_outcomes.handler,
                )
            ],
            config=config,
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            api=self.webhooks.api,
            queues=self.queues,
            scheduling=self.scheduling,
            worker=self.worker.handler.function,
            functions={
                "Webhook receiver": self.webhooks.handler.function,
                "Actions API": self.actions_api.handler.function,
                "Worker": self.worker.handler.function,
                "Order saga tasks": self.order_saga.tasks.function,
                "Saga outcomes": self.saga_outcomes.handler.function,
                "Health check": self.health.handler.function,
                "Console API": self.console.handler.function,
                "Console page": self.console.page.function,
            },
            sagas={"OrderSaga": self.order_saga.saga},
            other_queues=[self.saga_outcomes.pair],
        )
        # The stage decides what deleting the stack keeps: prod retains every table and
        # queue (and the alarm key), dev removes them, whatever each construct defaults to.
        RemovalPolicies.of(self).apply(
            config.removal_policy,
            apply_to_resource_types=["AWS::DynamoDB::Table", "AWS::SQS::Queue"],
        )
        if config.stage == "prod":
            # A table of prod cannot be deleted by hand or by a replacement either.
            for node in self.node.find_all():
                if isinstance(node, dynamodb.CfnTable):
                    node.deletion_protection_enabled = True
        # Only a REST API takes a WAF (infra/config.py refuses one with apiFlavour=http).
        if config.waf_rate_limit and isinstance(self.webhooks.api, RestFlavour):
            self.waf = WebAcl(
                self,
                "Waf",
                stage=self.webhooks.api.rest.deployment_stage,
                rate_limit=config.waf_rate_limit,
                exempt_ranges=config.waf_exempt_ranges,
            )

        CfnOutput(self, "AlarmTopicArn", value=self.monitoring.topic.topic_arn)
        CfnOutput(self, "DashboardName", value=self.monitoring.dashboard.dashboard_name)
        CfnOutput(self, "WebhookUrl", value=self.webhooks.url, description="POST {url}{source}")
        CfnOutput(
            self,
            "WebhookSources",
            value=json.dumps(self.webhooks.sources, sort_keys=True),
            description="source -> scheme, options and secret name (actionsctl webhook send)",
        )
        CfnOutput(
            self,
            "ActionsApiUrl",
            value=self.actions_api.url,
            description="the actions API (IAM-signed): POST and GET {url}; GET and DELETE "
            "{url}/{id}; POST {url}/{id}/run",
        )
        CfnOutput(
            self,
            "HooksUrl",
            value=self.actions_api.hooks_url,
            description="GET (IAM-signed): the hooks the worker runs, each with its policy; "
            "processes outside the stack validate hook names with it",
        )
        CfnOutput(
            self,
            "ActionsApiPolicyArn",
            value=self.actions_api.invoke_policy.managed_policy_arn,
            description="a managed policy allowing exactly the actions API's routes: attach "
            "it to an application's role",
        )
        CfnOutput(self, "HealthUrl", value=self.health.url, description="GET: 200 or 503")
        CfnOutput(
            self,
            "ConsoleUrl",
            value=self.console.url,
            description="Open in a browser; sign in as a user of the console's user pool",
        )
        CfnOutput(self, "ConsoleUserPoolId", value=self.console.user_pool.user_pool_id)
        CfnOutput(self, "ConsoleClientId", value=self.console.client.user_pool_client_id)
        CfnOutput(
            self,
            "HealthSettings",
            value=self.health.settings_output,
            description="the health check's HEALTH_* thresholds (actionsctl health reads them)",
        )
        CfnOutput(
            self,
            "JobQueuesOutput",
            key="JobQueues",
            value=self.queues.environment(),
            description="queue name -> url, arn and dead-letter queue (actionsctl reads it)",
        )
        CfnOutput(self, "ActionsTableName", value=self.store.actions.table_name)
        CfnOutput(
            self,
            "PayloadBucketName",
            value=self.payloads.bucket.bucket_name,
            description="args above the inline threshold (actionsctl reads it)",
        )
        CfnOutput(self, "CircuitsTableName", value=self.store.circuits.table_name)
        CfnOutput(self, "OrderSagaArn", value=self.order_saga.saga.state_machine.state_machine_arn)
        CfnOutput(self, "OrderSagaTableName", value=self.order_saga.table.table_name)
        CfnOutput(self, "ScheduleGroupName", value=self.scheduling.group.schedule_group_name)
        CfnOutput(self, "SchedulerRoleArn", value=self.scheduling.role.role_arn)
        CfnOutput(self, "SchedulerDeadLetterArn", value=self.scheduling.dead_letter_queue.queue_arn)
        CfnOutput(self, "IdempotencyTableName", value=self.webhooks.idempotency_table.table_name)
        for source, secret in self.webhooks.secrets.items():
            CfnOutput(
                self,
                f"SecretOf{source.title().replace('-', '').replace('_', '')}",
                value=secret.secret_name,
                description=f"signing secrets of {source}",
            )
