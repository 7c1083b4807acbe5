"""A Lambda function as every function of this stack is built.

Python on arm64 from the shared asset, X-Ray tracing (unless the ``tracing`` setting is
off), a log group of its own with a
retention, and a role of its own that may write to that log group and nothing else until
the caller grants more. No dead-letter queue: every function here is invoked synchronously.
Why: docs/decisions/0019-each-function-has-its-own-role-and-log-group.md
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import FunctionSettings
from infra.constructs.bundling import ARCHITECTURE, PYTHON_VERSION, RUNTIME
from infra.constructs.nag import acknowledge

_RETENTION_NAMES = {
    1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS",
    30: "ONE_MONTH", 60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS",
    150: "FIVE_MONTHS", 180: "SIX_MONTHS", 365: "ONE_YEAR", 400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS", 1096: "THREE_YEARS", 1827: "FIVE_YEARS",
    3653: "TEN_YEARS",
}  # fmt: skip


# Why a stack deployed with ``tracing: false`` has no X-Ray (cdk-nag asks for it).
UNTRACED = (
    "The deployer turned X-Ray off (context: tracing=false) to save its traces' cost; "
    "logs with correlation ids and metrics remain (docs: Metrics and logs)."
)


def log_retention(days: int) -> logs.RetentionDays:
    """The RetentionDays member for a number of days (jsii enums are keyed by name)."""
    return logs.RetentionDays[_RETENTION_NAMES[days]]


class PythonFunction(Construct):
    """``settings`` are what every function shares (logs, sampling, metrics namespace);
    ``environment`` adds the function's own variables, and wins on a name in both."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        handler: str,
        description: str,
        environment: dict[str, str],
        timeout: Duration,
        memory_size: int,
        settings: FunctionSettings,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=log_retention(settings.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of: {description}",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            code=code,
            handler=handler,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            description=description,
            # Debug lines of a sampled share of invocations (context: logSampleRate); a
            # caller's own setting wins. The log format stays Lambda's default (text):
            # Powertools writes JSON itself, and Lambda's JSON format would add a log-level
            # filter (INFO unless set) that Powertools defers to, dropping sampled DEBUG.
            environment={
                "POWERTOOLS_LOGGER_SAMPLE_RATE": str(settings.log_sample_rate),
                "POWERTOOLS_METRICS_NAMESPACE": settings.metrics_namespace,
                # pydantic looks for plugins in every installed distribution's entry points
                # on its first validator (about 16 ms of a cold start); the asset has none.
                "PYDANTIC_DISABLE_PLUGINS": "__all__",
                # Untraced: the X-Ray SDK is never imported (functions/observability.py).
                **({} if settings.tracing else {"POWERTOOLS_TRACE_DISABLED": "true"}),
                **environment,
            },
            timeout=timeout,
            memory_size=memory_size,
            role=self.role,
            log_group=self.log_group,
            tracing=lambda_.Tracing.ACTIVE if settings.tracing else lambda_.Tracing.DISABLED,
        )
        acknowledge(
            self.function,
            "Serverless-LambdaDLQ",
            f"{description}: invoked synchronously only (API Gateway proxy, an SQS event "
            "source mapping or a Step Functions task), and a function's dead-letter queue "
            "receives failed asynchronous invocations only. Failures surface to the caller: "
            "a 5xx, the job queue's redrive to its dead letters, the saga's catch.",
        )
        for rule in ("AwsSolutions-L1", "Serverless-LambdaLatestVersion"):
            acknowledge(
                self.function,
                rule,
                f"{description}: runs Python {PYTHON_VERSION}, the version the whole test "
                "suite runs on; a newer runtime comes with tests on it "
                "(docs/decisions/0041-lambda-runs-the-python-the-tests-run-on.md).",
            )
        if not settings.tracing:
            acknowledge(self.function, "Serverless-LambdaTracing", UNTRACED)
        else:
            acknowledge(
                self.role,
                "AwsSolutions-IAM5[Resource::*]",
                "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level "
                "permissions; '*' is the only resource AWS accepts for them.",
            )
