"""The stack: composes one construct per concern and wires them together."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Stack
from constructs import Construct

from infra.config import DeploymentConfig
from infra.constructs.bundling import lambda_code
from infra.constructs.job_queues import JobQueues
from infra.constructs.webhook_api import WebhookApi

WORKER_TIMEOUT = Duration.seconds(30)


class ActionSchedulerStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        config = DeploymentConfig.from_context(self)
        code = lambda_code()

        self.queues = JobQueues(self, "JobQueues", worker_timeout=WORKER_TIMEOUT)
        self.webhooks = WebhookApi(
            self, "Webhooks", code=code, job_queue=self.queues.default_queue, config=config
        )

        CfnOutput(self, "WebhookUrl", value=self.webhooks.url, description="POST {url}{source}")
        CfnOutput(self, "JobQueueUrl", value=self.queues.default_queue.queue_url)
        CfnOutput(self, "DeadLetterQueueUrl", value=self.queues.dead_letter_queue.queue_url)
        CfnOutput(self, "IdempotencyTableName", value=self.webhooks.idempotency_table.table_name)
        for source, secret in self.webhooks.secrets.items():
            CfnOutput(
                self,
                f"SecretOf{source.title().replace('-', '').replace('_', '')}",
                value=secret.secret_name,
                description=f"signing secrets of {source}",
            )
