"""Provision the webhook receiver's resources on moto, as the stack does on AWS.

Used by ``make run`` and the integration tests until the local cloud deploys the
synthesized template itself. Names and schemas follow infra/constructs: the
idempotency table (``id`` key, TTL on ``expiration``), the default job queue with
its dead-letter queue, and one secret per source holding a JSON list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3

from infra.config import DEFAULT_SOURCES, DeploymentConfig
from infra.local.demo_secrets import DEMO_SECRETS

STACK = "Local"


@dataclass
class LocalWebhookResources:
    environment: dict[str, str]
    queue_url: str
    dead_letter_queue_url: str
    table_name: str
    secret_names: dict[str, str] = field(default_factory=dict)


def provision(
    sources: dict[str, dict[str, Any]] | None = None,
    secrets: dict[str, list[str]] | None = None,
    config: DeploymentConfig | None = None,
) -> LocalWebhookResources:
    """Create the resources in the current (moto) account; return the function's environment."""
    config = config or DeploymentConfig()
    sources = sources or DEFAULT_SOURCES
    secrets = secrets if secrets is not None else {name: [s] for name, s in DEMO_SECRETS.items()}
    dynamodb = boto3.client("dynamodb")
    sqs = boto3.client("sqs")
    secretsmanager = boto3.client("secretsmanager")

    table_name = f"{STACK}-idempotency"
    dynamodb.create_table(
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"},
    )
    dlq_url = sqs.create_queue(QueueName=f"{STACK}-dead-letter")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName=f"{STACK}-default",
        Attributes={
            "VisibilityTimeout": "180",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}),
        },
    )["QueueUrl"]

    secret_names: dict[str, str] = {}
    for name in sources:
        secret_name = f"{STACK}/webhooks/{name}"
        secretsmanager.create_secret(
            Name=secret_name, SecretString=json.dumps(secrets.get(name, []))
        )
        secret_names[name] = secret_name

    environment = {
        "POWERTOOLS_SERVICE_NAME": "webhook",
        "POWERTOOLS_METRICS_NAMESPACE": config.metrics_namespace,
        "IDEMPOTENCY_TABLE_NAME": table_name,
        "JOB_QUEUE_URL": queue_url,
        "WEBHOOK_SOURCES": json.dumps(
            {name: {**spec, "secret": secret_names[name]} for name, spec in sources.items()}
        ),
        "WEBHOOK_MAX_BODY_BYTES": str(config.webhook_max_body_bytes),
        "WEBHOOK_SECRET_CACHE_SECONDS": str(config.webhook_secret_cache_seconds),
        "WEBHOOK_IDEMPOTENCY_TTL_SECONDS": str(config.webhook_idempotency_ttl_seconds),
    }
    return LocalWebhookResources(
        environment=environment,
        queue_url=queue_url,
        dead_letter_queue_url=dlq_url,
        table_name=table_name,
        secret_names=secret_names,
    )
