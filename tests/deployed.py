"""The synthesized stack deployed on moto, as the local cloud deploys it
(infra/local/deploy.py), and what the tests and benchmarks address in it, by role."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from functions.actions.config import QueueConfig, expand_compact
from infra.local.demo_secrets import demo_secret_value
from infra.local.deploy import Deployment, deploy

# What the test process runs: the webhook receiver's, the worker's and the actions API's
# environment, less Powertools' per-function logging settings.
_HANDLERS = (
    "functions.handlers.webhook.lambda_handler",
    "functions.handlers.worker.lambda_handler",
    "functions.handlers.actions_api.lambda_handler",
)
_PER_FUNCTION = {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_LOGGER_SAMPLE_RATE",
    "POWERTOOLS_LOGGER_LOG_EVENT",
}


@dataclass
class Resources:
    """What the tests address in the deployed stack, by role."""

    environment: dict[str, str]
    queues: dict[str, QueueConfig]
    table_name: str  # the idempotency table
    actions_table: str
    circuits_table: str
    schedule_group: str
    scheduler_dead_letter_url: str
    secret_names: dict[str, str]
    saga_table: str  # the order saga's state
    payload_bucket: str  # args above the inline threshold

    @property
    def queue_url(self) -> str:
        """The default job queue, where webhook deliveries go."""
        return self.queues["default"].url

    @classmethod
    def of(cls, deployment: Deployment) -> Resources:
        environment: dict[str, str] = {}
        saga_table = ""
        for function in deployment.functions.values():
            saga_table = function.environment.get("SAGA_TABLE_NAME", saga_table)
            if function.handler in _HANDLERS:
                environment.update(function.environment)
        for name in _PER_FUNCTION:
            environment.pop(name, None)
        queues = json.loads(environment["JOB_QUEUES"])
        if "queues" in queues:  # the functions' compact form: the tests read the full one
            queues = expand_compact(queues)
            environment["JOB_QUEUES"] = json.dumps(queues)
        # The sources are in the functions' asset, and in the stack's outputs: the test
        # process (the checkout, no asset) takes them from the outputs, as the local cloud.
        environment["WEBHOOK_SOURCES"] = deployment.outputs["WebhookSources"]
        sources = json.loads(environment["WEBHOOK_SOURCES"])
        return cls(
            environment=environment,
            queues={name: QueueConfig(name=name, **spec) for name, spec in queues.items()},
            table_name=environment["IDEMPOTENCY_TABLE_NAME"],
            actions_table=environment["ACTIONS_TABLE_NAME"],
            circuits_table=environment["CIRCUITS_TABLE_NAME"],
            schedule_group=environment["SCHEDULE_GROUP"],
            scheduler_dead_letter_url=deployment.queue_urls[
                environment["SCHEDULER_DEAD_LETTER_ARN"]
            ],
            secret_names={name: spec["secret"] for name, spec in sources.items()},
            saga_table=saga_table,
            payload_bucket=environment["PAYLOAD_BUCKET_NAME"],
        )


def deploy_stack(template: dict[str, Any]) -> Resources:
    """Deploy the template into the current (moto) account, the webhook sources' secrets
    set to the local demo secrets."""
    return Resources.of(
        deploy(template, stack_name="ActionScheduler", secret_values=demo_secret_value)
    )
