"""The console: a Cognito user pool for people, the page and its JSON API on the stack's
API (same origin, either flavour), the API behind a Cognito authorizer (REST: user
pools authorizer; HTTP: JWT authorizer with the pool as issuer, the page's client as audience).

- ``/console/`` and ``/console/{file+}``: the page's files (``web/``, a layer of the page
  function, which has no AWS permissions at all) and ``config.json`` (the pool, client
  and managed login domain the page signs in with). Not authenticated: the page holds
  no data.
- ``/console/api/{proxy+}``: the console API's function (``functions.handlers.console``),
  behind the Cognito authorizer; the function checks the ``operators`` group on every
  change.

Why: docs/decisions/0059-the-console-is-served-by-the-stacks-api.md,
0057-the-console-api.md
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from aws_cdk import ArnFormat, CfnElement, Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.config import DeploymentConfig
from infra.constructs.action_store import ActionStore
from infra.constructs.api import Api, Auth, Throttle
from infra.constructs.function import PythonFunction
from infra.constructs.job_queues import JobQueues
from infra.constructs.nag import acknowledge
from infra.constructs.payloads import Payloads
from infra.constructs.scheduling import Scheduling

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
OPERATORS, VIEWERS = "operators", "viewers"
PAGE_PATH = "/console/"
# Each console route's own throttle: a page refreshing every few seconds per person.
THROTTLE = Throttle(20, 40)
API_METHODS = ("GET", "POST")


class Console(Construct):
    """The user pool (``user_pool``, ``client``, ``domain``), the page and API functions,
    and ``url``: where a person opens the console (the Cognito callback URL)."""

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
        saga: sfn.StateMachine,
        health_environment: dict[str, str],
        health_queue_arns: list[str],
        log_groups: list[str],
        config: DeploymentConfig,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # Built from the API's id, not its stage: the stage's deployment depends on the
        # page's route, whose function names the app client, whose callback is this URL.
        self.url = f"{api.base_url}{PAGE_PATH}"
        self._user_pool(stack)

        self.handler = PythonFunction(
            self,
            "Api",
            code=code,
            handler="functions.handlers.console.lambda_handler",
            description="Console API: lists, reads, runs, cancels and redrives, for people "
            "signed in with Cognito",
            # A redrive of many dead letters, or a search, reads for a while.
            timeout=Duration.seconds(28),
            memory_size=512,
            settings=config.functions,
            environment={
                "POWERTOOLS_SERVICE_NAME": "console",
                "POWERTOOLS_LOGGER_LOG_EVENT": "false",
                "JOB_QUEUES": queues.lambda_environment(),
                "ACTIONS_TABLE_NAME": store.actions.table_name,
                "CIRCUITS_TABLE_NAME": store.circuits.table_name,
                **scheduling.environment(),
                **payloads.environment(),
                **health_environment,
                "ORDER_SAGA_ARN": saga.state_machine_arn,
                "CONSOLE_LOG_GROUPS": stack.to_json_string(log_groups),
            },
        )
        self._grant(
            queues=queues,
            store=store,
            scheduling=scheduling,
            payloads=payloads,
            saga=saga,
            health_queue_arns=health_queue_arns,
        )

        self.page = PythonFunction(
            self,
            "Page",
            code=code,
            handler="functions.handlers.console_page.lambda_handler",
            description="Console page: serves web/ and config.json (no AWS permissions)",
            timeout=Duration.seconds(5),
            memory_size=256,
            settings=config.functions,
            environment={
                "POWERTOOLS_SERVICE_NAME": "console-page",
                "CONSOLE_WEB_DIR": "/opt",
                "CONSOLE_CONFIG": stack.to_json_string(
                    {
                        "region": stack.region,
                        "user_pool_id": self.user_pool.user_pool_id,
                        "client_id": self.client.user_pool_client_id,
                        "login_base_url": self.domain.base_url(),
                        "redirect_uri": self.url,
                        "logout_uri": self.url,
                        "scopes": ["openid", "email", "profile"],
                        "api_base": f"{api.path_prefix}/console/api",
                        "local": False,
                    }
                ),
            },
        )
        self.page.function.add_layers(
            lambda_.LayerVersion(
                self,
                "Files",
                code=lambda_.Code.from_asset(str(WEB_DIR)),
                description="The console page's files (web/), under /opt",
            )
        )
        self._routes(api, config)

    def _user_pool(self, stack: Stack) -> None:
        self.user_pool = cognito.UserPool(
            self,
            "Users",
            # People are invited by an administrator (actionsctl, the AWS console): no
            # one signs themselves up.
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            removal_policy=RemovalPolicy.RETAIN,
        )
        for name, about in (
            (VIEWERS, "See everything in the console"),
            (OPERATORS, "See everything, and run, cancel and redrive actions"),
        ):
            cognito.CfnUserPoolGroup(
                self,
                f"Group{name.title()}",
                user_pool_id=self.user_pool.user_pool_id,
                group_name=name,
                description=about,
            )
        self.domain = self.user_pool.add_domain(
            "Login",
            cognito_domain=cognito.CognitoDomainOptions(
                domain_prefix=f"{stack.stack_name.lower()}-console-{stack.account}"
                if not Token.is_unresolved(stack.stack_name)
                else "action-scheduler-console"
            ),
        )
        self.client = self.user_pool.add_client(
            "Page",
            generate_secret=False,  # a browser page keeps no secret: PKCE instead
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[
                    cognito.OAuthScope.OPENID,
                    cognito.OAuthScope.EMAIL,
                    cognito.OAuthScope.PROFILE,
                ],
                callback_urls=[self.url],
                logout_urls=[self.url],
            ),
            prevent_user_existence_errors=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.hours(12),
            enable_token_revocation=True,
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG2",
            "MFA is optional (TOTP, no SMS) so that an administrator can invite operators "
            "without a second factor first; a team that requires it sets it on the pool "
            "(MfaConfiguration ON) and every user enrolls at the next sign-in.",
        )
        for rule in ("AwsSolutions-COG3", "AwsSolutions-COG8"):
            acknowledge(
                self.user_pool,
                rule,
                "Threat protection (the Plus feature plan) is billed per monthly active "
                "user; the pool has no self sign-up, invited users only, strong passwords "
                "and short-lived tokens. Choose the plan on the pool where it is wanted.",
            )

    def _routes(self, api: Api, config: DeploymentConfig) -> None:
        authorizer = api.user_pool_authorizer(self, self.user_pool, self.client)
        throttle = THROTTLE.within(config)
        page = self.page.function
        self.page_methods = [
            api.add_route(path, "GET", page, throttle=throttle)
            for path in ("/console", "/console/{file+}")
        ]
        self.api_methods = [
            api.add_route(
                "/console/api/{proxy+}",
                method,
                self.handler.function,
                auth=Auth.USER_POOL,
                authorizer=authorizer,
                throttle=throttle,
                validator="console-request",
            )
            for method in API_METHODS
        ]
        public = (
            "The console's page (HTML, CSS, JS and config.json: the user pool's public ids) "
            "is public like any sign-in page: it holds no data, and every call it makes "
            "goes to /console/api/*, which requires a Cognito ID token (authorizer) and "
            "the operators group for changes (checked in the function)."
        )
        for method in self.page_methods:
            for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
                acknowledge(method, rule, public)

    def _grant(
        self,
        *,
        queues: JobQueues,
        store: ActionStore,
        scheduling: Scheduling,
        payloads: Payloads,
        saga: sfn.StateMachine,
        health_queue_arns: list[str],
    ) -> None:
        """What the console's operations call: the actions API's rights, plus dead-letter
        reads and redrives, the health report's reads, the saga's executions and metrics."""
        function = self.handler.function
        role = self.handler.role
        store.grant_write_actions(function)
        store.grant_query_actions(function)
        scheduling.grant_schedule(function)
        payloads.grant_get(function)
        queues.grant_send(function, dead_letters=False)
        dead_letters = [pair.dead_letter_queue.queue_arn for pair in queues.pairs.values()]
        # The health report counts the scheduler's and saga outcomes' dead letters too.
        every_queue = [
            *(pair.queue.queue_arn for pair in queues.pairs.values()),
            *dead_letters,
            *health_queue_arns,
        ]
        role.add_to_policy(
            iam.PolicyStatement(actions=["sqs:GetQueueAttributes"], resources=every_queue)
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:StartMessageMoveTask",
                ],
                resources=dead_letters,
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=["dynamodb:Scan"], resources=[store.circuits.table_arn])
        )
        executions = Stack.of(self).format_arn(
            service="states",
            resource="execution",
            resource_name=f"{saga.state_machine_name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["states:ListExecutions"], resources=[saga.state_machine_arn]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["states:DescribeExecution", "states:GetExecutionHistory"],
                resources=[executions],
            )
        )
        metrics = iam.Policy(
            self,
            "MetricReads",
            statements=[
                iam.PolicyStatement(
                    actions=["cloudwatch:GetMetricData"],
                    resources=["*"],
                )
            ],
        )
        metrics.attach_to_role(role)
        acknowledge(
            metrics,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:GetMetricData supports no resource-level permissions ('*' is the "
            "only resource AWS accepts); it only reads metrics: the charts' and the webhook "
            "counts' series.",
        )
        stack = Stack.of(self)
        machine = stack.get_logical_id(cast(CfnElement, saga.node.default_child))
        # cdk-nag names the resource as synthesized: literals where the stack has them.
        partition, region, account = (
            f"<AWS::{name}>" if Token.is_unresolved(value) else value
            for name, value in (
                ("Partition", stack.partition),
                ("Region", stack.region),
                ("AccountId", stack.account),
            )
        )
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::arn:{partition}:states:{region}:{account}:"
            f"execution:<{machine}.Name>:*]",
            "The order saga's executions are named per order at run time; the grant reads "
            "(describe, history) the executions of this one state machine only.",
        )
