"""Provision the stack's stateful resources on moto, as infra/constructs does on AWS.

Used by ``make run`` and the integration tests until the local cloud deploys the
synthesized template itself. Names and schemas follow the constructs: the
idempotency table (``id`` key, TTL on ``expiration``), the actions table and its
indexes, the circuits table, the job queues (high, default, low and FIFO), each
with its dead-letter queue, the schedule group with the scheduler's role and
dead-letter queue, and one secret per webhook source holding a JSON list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3

from functions.actions.config import QueueConfig
from functions.actions.store import INDEX_ATTRIBUTES
from infra.config import DEFAULT_SOURCES, DeploymentConfig
from infra.local.demo_secrets import DEMO_SECRETS

STACK = "Local"
WORKER_TIMEOUT_SECONDS = 60
MAX_RECEIVE_COUNT = {"high": 5, "default": 5, "low": 5, "fifo": 100}


@dataclass
class LocalResources:
    environment: dict[str, str]
    queues: dict[str, QueueConfig]
    table_name: str
    actions_table: str
    circuits_table: str
    schedule_group: str = ""
    scheduler_dead_letter_url: str = ""
    secret_names: dict[str, str] = field(default_factory=dict)

    @property
    def queue_url(self) -> str:
        """The default job queue, where webhook deliveries go."""
        return self.queues["default"].url


def _table(dynamodb: Any, name: str, key: str, indexes: list[tuple[str, str, str, str]] = ()):
    attributes = {key: "S"}
    gsis = []
    for index, partition, sort, sort_type in indexes:
        attributes[partition] = "S"
        attributes[sort] = sort_type
        gsis.append(
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": partition, "KeyType": "HASH"},
                    {"AttributeName": sort, "KeyType": "RANGE"},
                ],
                # As the stack projects them: the keys and a few attributes.
                "Projection": {
                    "ProjectionType": "INCLUDE",
                    "NonKeyAttributes": list(INDEX_ATTRIBUTES[index]),
                },
            }
        )
    params: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": t} for n, t in attributes.items()
        ],
        "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if gsis:
        params["GlobalSecondaryIndexes"] = gsis
    dynamodb.create_table(**params)


def _queue_pair(sqs: Any, name: str) -> QueueConfig:
    fifo = name == "fifo"
    suffix = ".fifo" if fifo else ""
    fifo_attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}

    def arn(url: str) -> str:
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    dlq_url = sqs.create_queue(QueueName=f"{STACK}-{name}-dlq{suffix}", Attributes=fifo_attributes)[
        "QueueUrl"
    ]
    url = sqs.create_queue(
        QueueName=f"{STACK}-{name}{suffix}",
        Attributes={
            **fifo_attributes,
            "VisibilityTimeout": str(WORKER_TIMEOUT_SECONDS * 6),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": arn(dlq_url), "maxReceiveCount": MAX_RECEIVE_COUNT[name]}
            ),
        },
    )["QueueUrl"]
    return QueueConfig(
        name=name, url=url, arn=arn(url), dead_letter_url=dlq_url, dead_letter_arn=arn(dlq_url)
    )


def provision(
    sources: dict[str, dict[str, Any]] | None = None,
    secrets: dict[str, list[str]] | None = None,
    config: DeploymentConfig | None = None,
) -> LocalResources:
    """Create the resources in the current (moto) account; return the functions' environment."""
    config = config or DeploymentConfig()
    sources = sources or DEFAULT_SOURCES
    secrets = secrets if secrets is not None else {name: [s] for name, s in DEMO_SECRETS.items()}
    dynamodb = boto3.client("dynamodb")
    sqs = boto3.client("sqs")
    secretsmanager = boto3.client("secretsmanager")

    table_name = f"{STACK}-idempotency"
    _table(dynamodb, table_name, "id")
    dynamodb.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"},
    )
    actions_table = f"{STACK}-actions"
    _table(
        dynamodb,
        actions_table,
        "action_id",
        [
            ("by_hook", "hook", "status_scheduled", "S"),
            ("by_match", "match_key", "status_scheduled", "S"),
            ("by_status", "status", "scheduled_for", "N"),
        ],
    )
    circuits_table = f"{STACK}-circuits"
    _table(dynamodb, circuits_table, "name")
    queues = {name: _queue_pair(sqs, name) for name in ("high", "default", "low", "fifo")}
    schedule_group = f"{STACK}-schedules"
    boto3.client("scheduler").create_schedule_group(Name=schedule_group)
    scheduler_dlq_url = sqs.create_queue(QueueName=f"{STACK}-scheduler-dlq")["QueueUrl"]
    scheduler_dlq_arn = sqs.get_queue_attributes(
        QueueUrl=scheduler_dlq_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    scheduler_role_arn = boto3.client("iam").create_role(
        RoleName=f"{STACK}-scheduler",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "scheduler.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]

    secret_names: dict[str, str] = {}
    for name in sources:
        secret_name = f"{STACK}/webhooks/{name}"
        secretsmanager.create_secret(
            Name=secret_name, SecretString=json.dumps(secrets.get(name, []))
        )
        secret_names[name] = secret_name

    environment = {
        "POWERTOOLS_METRICS_NAMESPACE": config.metrics_namespace,
        "IDEMPOTENCY_TABLE_NAME": table_name,
        "ACTIONS_TABLE_NAME": actions_table,
        "CIRCUITS_TABLE_NAME": circuits_table,
        "WORKER_TIMEOUT_SECONDS": str(WORKER_TIMEOUT_SECONDS),
        "SCHEDULE_GROUP": schedule_group,
        "SCHEDULER_ROLE_ARN": scheduler_role_arn,
        "SCHEDULER_DEAD_LETTER_ARN": scheduler_dlq_arn,
        "JOB_QUEUES": json.dumps(
            {
                name: {
                    "url": q.url,
                    "arn": q.arn,
                    "dead_letter_url": q.dead_letter_url,
                    "dead_letter_arn": q.dead_letter_arn,
                }
                for name, q in queues.items()
            }
        ),
        "WEBHOOK_SOURCES": json.dumps(
            {name: {**spec, "secret": secret_names[name]} for name, spec in sources.items()}
        ),
        "WEBHOOK_MAX_BODY_BYTES": str(config.webhook_max_body_bytes),
        "WEBHOOK_SECRET_CACHE_SECONDS": str(config.webhook_secret_cache_seconds),
        "WEBHOOK_IDEMPOTENCY_TTL_SECONDS": str(config.webhook_idempotency_ttl_seconds),
    }
    return LocalResources(
        environment=environment,
        queues=queues,
        table_name=table_name,
        actions_table=actions_table,
        circuits_table=circuits_table,
        schedule_group=schedule_group,
        scheduler_dead_letter_url=scheduler_dlq_url,
        secret_names=secret_names,
    )
