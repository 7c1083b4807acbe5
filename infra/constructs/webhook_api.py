"""The webhook receiver: the stack's API (either flavour), function, idempotency table and
signing secrets."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import DeploymentConfig
from infra.constructs.action_store import ActionStore
from infra.constructs.api import Throttle, make_api
from infra.constructs.function import PythonFunction, log_retention
from infra.constructs.job_queues import JobQueues
from infra.constructs.nag import acknowledge
from infra.constructs.payloads import Payloads


def source_settings(stack_name: str, config: DeploymentConfig) -> dict[str, dict[str, Any]]:
    """``WEBHOOK_SOURCES``: each source's scheme, options and the literal name of its
    secret (not the construct's token: the document stays readable, and is known before
    the secrets are made, so the stack can write it into the functions' asset)."""
    return {
        name: {**spec, "secret": spec.get("secret") or f"{stack_name}/webhooks/{name}"}
        for name, spec in config.webhook_sources.items()
    }


def sources_document(stack_name: str, config: DeploymentConfig) -> str:
    return json.dumps(source_settings(stack_name, config), sort_keys=True)


class WebhookApi(Construct):
    """``POST /webhooks/{source}``: verify, de-duplicate, enqueue, answer 202."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        queues: JobQueues,
        store: ActionStore,
        payloads: Payloads,
        config: DeploymentConfig,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        retention = log_retention(config.log_retention_days)

        self.idempotency_table = dynamodb.Table(
            self,
            "IdempotencyTable",
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute="expiration",
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # Records only de-duplicate deliveries and expire on their own.
            removal_policy=RemovalPolicy.DESTROY,
        )

        self.secrets: dict[str, secretsmanager.ISecret] = {}
        sources = source_settings(stack.stack_name, config)
        for name, spec in config.webhook_sources.items():
            self.secrets[name] = self._secret(name, spec.get("secret"), sources[name]["secret"])
        # Each source's scheme, options and secret name (no secret): the stack outputs it,
        # and the functions' asset holds it (``lambda_code(webhook_sources=...)``).
        self.sources = sources

        self.handler = PythonFunction(
            self,
            "Receiver",
            code=code,
            handler="functions.handlers.webhook.lambda_handler",
            description="Webhook receiver: verifies signatures, de-duplicates, enqueues",
            timeout=Duration.seconds(10),
            memory_size=512,
            settings=config.functions,
            environment={
                "POWERTOOLS_SERVICE_NAME": "webhook",
                "POWERTOOLS_LOGGER_LOG_EVENT": "false",
                "IDEMPOTENCY_TABLE_NAME": self.idempotency_table.table_name,
                "JOB_QUEUES": queues.lambda_environment(),
                "ACTIONS_TABLE_NAME": store.actions.table_name,
                **payloads.environment(),
                "WEBHOOK_MAX_BODY_BYTES": str(config.webhook_max_body_bytes),
                "WEBHOOK_SECRET_CACHE_SECONDS": str(config.webhook_secret_cache_seconds),
                "WEBHOOK_IDEMPOTENCY_TTL_SECONDS": str(config.webhook_idempotency_ttl_seconds),
            },
        )
        function = self.handler.function
        # Exactly what Powertools' DynamoDB persistence layer calls.
        self.idempotency_table.grant(
            function,
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        )
        # Every webhook becomes a process_webhook action: its item, then its message.
        store.grant_write_actions(function)
        queues.grant_send(function, ("default",), dead_letters=False)
        # A body above the inline threshold goes to the payload bucket first.
        payloads.grant_put(function)
        self._grant_secrets(function, config)

        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=retention, removal_policy=RemovalPolicy.DESTROY
        )
        # The stack's one API, of the flavour asked for: every construct adds its routes.
        self.api = make_api(self, config, self.access_logs)
        self.webhook_route = self.api.add_route(
            "/webhooks/{source}",
            "POST",
            function,
            # The webhook route's own limits, below the stage's: other routes keep a
            # share of the stage when senders flood it.
            throttle=Throttle(config.api_webhook_rate_limit, config.api_webhook_burst_limit),
            validator="webhook-request",
        )
        self.url = self.api.url_for_path("/webhooks/")
        webhook_auth = (
            "Webhook senders (GitHub, Stripe, Shopify...) cannot sign requests with IAM or "
            "obtain Cognito tokens; every request is authenticated by its HMAC signature, "
            "verified in the function before anything is stored or enqueued."
        )
        for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
            acknowledge(self.webhook_route, rule, webhook_auth)

    def _grant_secrets(self, function: lambda_.Function, config: DeploymentConfig) -> None:
        """Read the sources' secrets: the stack's own by their name prefix, in one
        statement, so the role's inline policies (10,240 characters in all) do not grow
        with each source; a secret a source names is granted on its own."""
        stack = Stack.of(self)
        own = [name for name, spec in config.webhook_sources.items() if not spec.get("secret")]
        if own:
            prefix = f"{stack.stack_name}/webhooks/"
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                    resources=[
                        stack.format_arn(
                            service="secretsmanager",
                            resource="secret",
                            resource_name=f"{prefix}*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    ],
                )
            )
            # cdk-nag names the resource as synthesized: literals where the stack has them.
            region = "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region
            account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
            acknowledge(
                function.role or function,
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:"
                f"{region}:{account}:secret:{prefix}*]",
                "The stack's own webhook signing secrets, by their name prefix (Secrets "
                "Manager appends a random suffix to each ARN): one statement however many "
                "sources, so the role stays under IAM's 10,240 characters of inline policy.",
            )
        for name, spec in config.webhook_sources.items():
            if spec.get("secret"):
                self.secrets[name].grant_read(function)

    def _secret(self, source: str, existing: str | None, name: str) -> secretsmanager.ISecret:
        construct_id = f"Secret-{source}"
        if existing and existing.startswith("arn:"):
            return secretsmanager.Secret.from_secret_complete_arn(self, construct_id, existing)
        if existing:
            return secretsmanager.Secret.from_secret_name_v2(self, construct_id, existing)
        secret = secretsmanager.Secret(
            self,
            construct_id,
            secret_name=name,
            description=f"Signing secrets of webhook source {source!r}: a JSON list, newest "
            "first, or one secret as plain text",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True, password_length=48
            ),
        )
        acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "A webhook signing secret is shared with its sender (GitHub, Stripe...), "
            "which no rotation Lambda can update; rotation is the documented manual "
            "procedure: add the new secret to the list, switch the sender, drop the old one.",
        )
        return secret
