"""The actions API: ``/actions`` and ``/hooks`` routes on the stack's REST API,
IAM-authorized, and the managed policy an application's role needs to call them.

Why: docs/decisions/0050-the-actions-http-api.md
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from aws_cdk import CfnElement, Duration, Stack, Token
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from functions.api.config import DEFAULT_IDEMPOTENCY_TTL_SECONDS
from infra.config import DeploymentConfig
from infra.constructs.action_store import ActionStore
from infra.constructs.function import PythonFunction
from infra.constructs.job_queues import JobQueues
from infra.constructs.nag import acknowledge
from infra.constructs.payloads import Payloads
from infra.constructs.scheduling import Scheduling


@dataclass(frozen=True)
class Route:
    """One method of the API: ``method`` on ``path``, and the path its IAM grant names
    (``{action_id}`` as ``*``)."""

    method: str
    path: str

    @property
    def grant_path(self) -> str:
        return self.path.replace("{action_id}", "*")

    @property
    def stage_key(self) -> str:
        """The key of the stage's method options: ``/actions/{action_id}/DELETE``."""
        return f"{self.path}/{self.method}"


ROUTES = (
    Route("POST", "/actions"),
    Route("GET", "/actions"),
    Route("GET", "/actions/{action_id}"),
    Route("DELETE", "/actions/{action_id}"),
    Route("POST", "/actions/{action_id}/run"),
    Route("GET", "/hooks"),
)
# Each route's own throttle, capped at the stage's limits: one application's loop
# cannot take the whole stage from the webhook senders.
RATE_LIMIT, BURST_LIMIT = 50, 100


def method_options(config: DeploymentConfig) -> dict[str, apigw.MethodDeploymentOptions]:
    """The stage's throttle of each route (the stage is the REST API's: WebhookApi)."""
    options = apigw.MethodDeploymentOptions(
        throttling_rate_limit=min(RATE_LIMIT, config.api_throttle_rate_limit),
        throttling_burst_limit=min(BURST_LIMIT, config.api_throttle_burst_limit),
    )
    return {route.stage_key: options for route in ROUTES}


class ActionsApi(Construct):
    """The routes of ``ROUTES`` on ``api``, each requiring a SigV4 signature (AWS_IAM),
    proxied to one function with a role of its own; and ``invoke_policy``, a managed
    policy allowing ``execute-api:Invoke`` on exactly these routes of the stage.

    The function makes, reads and cancels actions as ``functions.actions`` does, and
    remembers ``Idempotency-Key``s in ``idempotency_table`` (the receiver's).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        api: apigw.RestApi,
        queues: JobQueues,
        store: ActionStore,
        scheduling: Scheduling,
        payloads: Payloads,
        idempotency_table: dynamodb.ITable,
        config: DeploymentConfig,
    ) -> None:
        super().__init__(scope, construct_id)
        self.handler = PythonFunction(
            self,
            "Function",
            code=code,
            handler="functions.handlers.actions_api.lambda_handler",
            description="Actions API: make, list, read, cancel and run actions (IAM-signed)",
            timeout=Duration.seconds(10),
            memory_size=512,
            settings=config.functions,
            environment={
                "POWERTOOLS_SERVICE_NAME": "actions-api",
                "POWERTOOLS_LOGGER_LOG_EVENT": "false",
                "IDEMPOTENCY_TABLE_NAME": idempotency_table.table_name,
                "ACTIONS_API_IDEMPOTENCY_TTL_SECONDS": str(DEFAULT_IDEMPOTENCY_TTL_SECONDS),
                "JOB_QUEUES": queues.lambda_environment(),
                "ACTIONS_TABLE_NAME": store.actions.table_name,
                **scheduling.environment(),
                **payloads.environment(),
            },
        )
        function = self.handler.function
        # Exactly what Powertools' DynamoDB persistence layer calls.
        idempotency_table.grant(
            function,
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        )
        # Make, cancel and read actions, query them; send to any job queue (the hook's
        # priority or FIFO queue decides which); schedule and unschedule; large args.
        store.grant_write_actions(function)
        store.grant_query_actions(function)
        queues.grant_send(function, dead_letters=False)
        scheduling.grant_schedule(function)
        payloads.grant_put(function)

        integration = apigw.LambdaIntegration(function)
        validator = api.add_request_validator(
            "ActionsRequestValidator",
            request_validator_name="actions-request",
            validate_request_parameters=True,
            # No model is attached (the function validates the body), so this adds no
            # check of its own: it satisfies APIG2.
            validate_request_body=True,
        )
        actions = api.root.add_resource("actions")
        one = actions.add_resource("{action_id}")
        resources = {"/actions": actions, "/actions/{action_id}": one}
        resources["/actions/{action_id}/run"] = one.add_resource("run")
        resources["/hooks"] = api.root.add_resource("hooks")
        self.methods: dict[Route, apigw.Method] = {}
        for route in ROUTES:
            self.methods[route] = resources[route.path].add_method(
                route.method,
                integration,
                authorization_type=apigw.AuthorizationType.IAM,
                request_parameters=(
                    {"method.request.path.action_id": True} if "{action_id}" in route.path else None
                ),
                request_validator=validator,
            )

        stage = api.deployment_stage
        self.invoke_policy = iam.ManagedPolicy(
            self,
            "InvokePolicy",
            description="Call the action scheduler's actions API (attach to an application's role)",
            statements=[
                iam.PolicyStatement(
                    actions=["execute-api:Invoke"],
                    resources=[
                        api.arn_for_execute_api(route.method, route.grant_path, stage.stage_name)
                        for route in ROUTES
                    ],
                )
            ],
        )
        self.url = api.url_for_path("/actions")
        self.hooks_url = api.url_for_path("/hooks")
        self._acknowledge(api, stage)

    def _acknowledge(self, api: apigw.RestApi, stage: apigw.Stage) -> None:
        for method in self.methods.values():
            acknowledge(
                method,
                "AwsSolutions-COG4",
                "The actions API is for applications, which sign requests with their IAM "
                "role (AWS_IAM); Cognito user pools authenticate people (the console).",
            )
        # cdk-nag names the resource as synthesized: the API and stage by their tokens.
        stack = Stack.of(self)
        partition, region, account = (
            f"<AWS::{name}>" if Token.is_unresolved(value) else value
            for name, value in (
                ("Partition", stack.partition),
                ("Region", stack.region),
                ("AccountId", stack.account),
            )
        )
        api_id = stack.get_logical_id(cast(CfnElement, api.node.default_child))
        stage_id = stack.get_logical_id(cast(CfnElement, stage.node.default_child))
        for route in ROUTES:
            if "*" not in route.grant_path:
                continue
            acknowledge(
                self.invoke_policy,
                f"AwsSolutions-IAM5[Resource::arn:{partition}:execute-api:{region}:{account}:"
                f"<{api_id}>/<{stage_id}>/{route.method}{route.grant_path}]",
                "The '*' stands for the {action_id} path parameter of this one route: the "
                "policy names each method and path of the actions API, nothing else.",
            )
