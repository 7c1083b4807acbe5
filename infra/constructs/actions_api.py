"""The actions API: ``/actions`` and ``/hooks`` routes on the stack's API (either flavour),
IAM-authorized, and the managed policy an application's role needs to call them.

Why: docs/decisions/0050-the-actions-http-api.md
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct, IConstruct

from functions.api.config import DEFAULT_IDEMPOTENCY_TTL_SECONDS
from infra.config import DeploymentConfig
from infra.constructs.action_store import ActionStore
from infra.constructs.api import Api, Auth, Throttle
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
THROTTLE = Throttle(50, 100)


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
        api: Api,
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

        throttle = THROTTLE.within(config)
        self.methods: dict[Route, IConstruct] = {
            route: api.add_route(
                route.path,
                route.method,
                function,
                auth=Auth.IAM,
                throttle=throttle,
                validator="actions-request",
            )
            for route in ROUTES
        }
        self.invoke_policy = iam.ManagedPolicy(
            self,
            "InvokePolicy",
            description="Call the action scheduler's actions API (attach to an application's role)",
            statements=[
                iam.PolicyStatement(
                    actions=["execute-api:Invoke"],
                    resources=[
                        api.execute_api_arn(route.method, route.grant_path) for route in ROUTES
                    ],
                )
            ],
        )
        self.url = api.url_for_path("/actions")
        self.hooks_url = api.url_for_path("/hooks")
        self._acknowledge(api)

    def _acknowledge(self, api: Api) -> None:
        for method in self.methods.values():
            acknowledge(
                method,
                "AwsSolutions-COG4",
                "The actions API is for applications, which sign requests with their IAM "
                "role (AWS_IAM); Cognito user pools authenticate people (the console).",
            )
        for route in ROUTES:
            if "*" not in route.grant_path:
                continue
            acknowledge(
                self.invoke_policy,
                "AwsSolutions-IAM5[Resource::"
                f"{api.execute_api_nag_id(route.method, route.grant_path)}]",
                "The '*' stands for the {action_id} path parameter of this one route: the "
                "policy names each method and path of the actions API, nothing else.",
            )
