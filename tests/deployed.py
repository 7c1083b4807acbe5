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
    console_environment: dict[str, str]  # the console API function's own variables

    @property
    def queue_url(self) -> str:
        """The default job queue, where webhook deliveries go."""
        return self.queues["default"].url

    @classmethod
    def of(cls, deployment: Deployment) -> Resources:
        environment: dict[str, str] = {}
        saga_table = ""
        console: dict[str, str] = {}
        for function in deployment.functions.values():
            saga_table = function.environment.get("SAGA_TABLE_NAME", saga_table)
            if function.handler == "functions.handlers.console.lambda_handler":
                console = dict(function.environment)
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
            console_environment=console,
        )


def deploy_stack(template: dict[str, Any]) -> Resources:
    """Deploy the template into the current (moto) account, the webhook sources' secrets
    set to the local demo secrets."""
    return Resources.of(
        deploy(template, stack_name="ActionScheduler", secret_values=demo_secret_value)
    )


def fill_actions(table: str, hook: str, start: int, count: int, statuses: tuple[str, ...]) -> None:
    """Actions ``start``..``start+count`` of ``hook`` written straight into the table, as
    the store writes them (BatchWriteItem), over ``statuses`` in turn, a minute apart: a
    big table in seconds, for what must cost the same at any size."""
    from datetime import UTC, datetime, timedelta

    import boto3

    from functions.actions import store
    from functions.actions.envelope import Envelope
    from functions.dynamodb import to_item

    now = datetime.now(UTC)
    model = store.Action.new(
        Envelope(
            action_id="model", hook=hook, args={"n": 0}, group="g",
            scheduled_for=now + timedelta(hours=1), enqueued_at=now,
        )
    )  # fmt: skip
    client = boto3.client("dynamodb")
    batch: list[dict[str, Any]] = []
    for n in range(start, start + count):
        action = model.but(
            action_id=f"a{n:07d}",
            status=store.ActionStatus(statuses[n % len(statuses)]),
            scheduled_for=now + timedelta(minutes=1 + n),
            args={"n": n},
        )
        batch.append({"PutRequest": {"Item": to_item(store.record.to_item(action))}})
        if len(batch) == 25:
            client.batch_write_item(RequestItems={table: batch})
            batch = []
    if batch:
        client.batch_write_item(RequestItems={table: batch})
