"""The webhook receiver: REST API, function, idempotency table and signing secrets."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import DeploymentConfig
from infra.constructs.action_store import ActionStore
from infra.constructs.function import UNTRACED, PythonFunction, log_retention
from infra.constructs.job_queues import JobQueues
from infra.constructs.nag import acknowledge
from infra.constructs.payloads import Payloads
from infra.gateway import GATEWAY_ANSWERS


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
        method_options: Mapping[str, apigw.MethodDeploymentOptions] | None = None,
    ) -> None:
        """``method_options``: the stage's settings of other routes of the API (their
        throttles), keyed as ``/path/METHOD``."""
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
        self.api = apigw.RestApi(
            self,
            "Api",
            description="Webhook receiver of the action scheduler",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Every body reaches the function base64-encoded, so signatures are
            # checked over the exact bytes the sender signed, whatever the type.
            binary_media_types=["*/*"],
            # Retained: deleting the stack must not leave the account's setting pointing
            # at a deleted role, which would break every other API's logs in the region.
            cloud_watch_role=config.api_gateway_cloud_watch_role,
            cloud_watch_role_removal_policy=(
                RemovalPolicy.RETAIN if config.api_gateway_cloud_watch_role else None
            ),
            deploy_options=apigw.StageOptions(
                stage_name="v1",
                throttling_rate_limit=config.api_throttle_rate_limit,
                throttling_burst_limit=config.api_throttle_burst_limit,
                # The webhook route's own limits, below the stage's: other routes keep a
                # share of the stage when senders flood it.
                method_options={
                    "/webhooks/{source}/POST": apigw.MethodDeploymentOptions(
                        throttling_rate_limit=config.api_webhook_rate_limit,
                        throttling_burst_limit=config.api_webhook_burst_limit,
                    ),
                    # Public and unauthenticated: a flood must not scale the health
                    # function out (each cold one makes a fresh check of AWS calls).
                    "/health/GET": apigw.MethodDeploymentOptions(
                        throttling_rate_limit=5, throttling_burst_limit=10
                    ),
                    **(method_options or {}),
                },
                tracing_enabled=config.tracing,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
            ),
        )
        for response_type, answer in GATEWAY_ANSWERS.items():
            self.api.add_gateway_response(
                f"Json{response_type}",
                type=apigw.ResponseType.of(response_type),
                status_code=answer.status,
                # Static values, quoted as API Gateway's mapping expressions want them.
                response_headers={name: f"'{value}'" for name, value in answer.headers.items()}
                or None,
                templates={"application/json": answer.template},
            )
        source = self.api.root.add_resource("webhooks").add_resource("{source}")
        self.webhook_method = source.add_method(
            "POST",
            apigw.LambdaIntegration(function),
            request_parameters={"method.request.path.source": True},
            request_validator_options=apigw.RequestValidatorOptions(
                request_validator_name="webhook-request",
                validate_request_parameters=True,
                # No model is attached (the body is verified by signature in the
                # function), so this adds no check of its own: it satisfies APIG2.
                validate_request_body=True,
            ),
        )
        self.url = self.api.url_for_path("/webhooks/")
        self._acknowledge()
        if not config.tracing:
            acknowledge(self.api.deployment_stage, "Serverless-APIGWXrayEnabled", UNTRACED)

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

    def _acknowledge(self) -> None:
        webhook_auth = (
            "Webhook senders (GitHub, Stripe, Shopify...) cannot sign requests with IAM or "
            "obtain Cognito tokens; every request is authenticated by its HMAC signature, "
            "verified in the function before anything is stored or enqueued."
        )
        for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
            acknowledge(self.webhook_method, rule, webhook_auth)
        acknowledge(
            self.api.deployment_stage,
            "AwsSolutions-APIG3",
            "Requests are throttled at the stage and per route and rejected unless signed; "
            "a WAF web ACL with a per-IP rate rule is on by default for stage=prod and an "
            "opt-in elsewhere (context wafRateLimit, infra/constructs/waf.py), as it costs "
            "per ACL, rule and request.",
        )
        cloud_watch_role = self.api.node.try_find_child("CloudWatchRole")
        if cloud_watch_role is not None:
            acknowledge(
                cloud_watch_role,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
                "API Gateway's account-level logging role; AWS documents this managed "
                "policy as the way to let API Gateway write execution logs.",
            )
