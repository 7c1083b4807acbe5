"""The stack's API in either flavour (context ``apiFlavour``): a REST API or an HTTP API.

Every construct that serves requests (the webhook receiver, the actions API, the console,
the health check) adds its routes through ``Api.add_route(path, method, function, auth,
throttle)``, and reads its URLs, execute-api ARNs and metrics from the same object, so no
construct knows which flavour it is on:

- ``RestFlavour`` (``rest``, the default): ``apigw.RestApi`` with stage ``v1``, gateway
  responses in the receiver's error shape, request validators, X-Ray on the stage, a WAF
  when asked; per-route throttles are the stage's method settings.
- ``HttpFlavour`` (``http``): ``apigwv2.HttpApi`` on its ``$default`` stage (no stage in
  the URL: a named stage would put its name in every event's ``path`` and the functions'
  routers would not match), Lambda integrations with payload format 1.0 (the REST-shaped
  proxy event the handlers parse), IAM and Cognito (JWT) authorizers; per-route
  throttles are the stage's route settings.

The CDK resources are made in the scope given, under the ids the REST API always had, so
the default stack's logical ids do not move.
Why: docs/decisions/0069-the-api-flavour-is-a-setting.md
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

import jsii
from aws_cdk import CfnElement, IStableAnyProducer, Lazy, RemovalPolicy, Stack, Token
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from infra.config import API_FLAVOURS, DeploymentConfig
from infra.constructs.function import UNTRACED
from infra.constructs.nag import acknowledge
from infra.gateway import GATEWAY_ANSWERS

REST, HTTP = API_FLAVOURS
DESCRIPTION = "Webhook receiver of the action scheduler"


class Auth(StrEnum):
    """Who may call a route: anyone, a SigV4-signed IAM principal, a Cognito user."""

    NONE = "none"
    IAM = "iam"
    USER_POOL = "user_pool"


@dataclass(frozen=True)
class Throttle:
    """A route's own limits (requests a second, burst), within the stage's."""

    rate_limit: int
    burst_limit: int

    def within(self, config: DeploymentConfig) -> Throttle:
        return Throttle(
            min(self.rate_limit, config.api_throttle_rate_limit),
            min(self.burst_limit, config.api_throttle_burst_limit),
        )


class ApiMetric(StrEnum):
    """A metric of API Gateway's, by what it counts; the flavours name errors differently."""

    COUNT = "count"
    CLIENT_ERRORS = "4xx"
    SERVER_ERRORS = "5xx"
    LATENCY = "latency"


# Each flavour's names of the metrics it names its own way (the others: Count, Latency).
METRIC_NAMES: dict[str, dict[ApiMetric, str]] = {
    REST: {ApiMetric.CLIENT_ERRORS: "4XXError", ApiMetric.SERVER_ERRORS: "5XXError"},
    HTTP: {ApiMetric.CLIENT_ERRORS: "4xx", ApiMetric.SERVER_ERRORS: "5xx"},
}


@jsii.implements(IStableAnyProducer)
class _Produced:
    """A value computed at synthesis: the routes' throttles, known once all are added."""

    def __init__(self, produce: Any) -> None:
        self._produce = produce

    def produce(self) -> Any:
        return self._produce()


def _placeholders(stack: Stack) -> tuple[str, str, str]:
    """Partition, region and account as cdk-nag names them in a finding's id."""
    return cast(
        tuple[str, str, str],
        tuple(
            f"<AWS::{name}>" if Token.is_unresolved(value) else value
            for name, value in (
                ("Partition", stack.partition),
                ("Region", stack.region),
                ("AccountId", stack.account),
            )
        ),
    )


@dataclass(frozen=True)
class Route:
    """One route as ``Api.add_route`` was asked for it."""

    path: str
    method: str
    auth: Auth
    authorizer: Any  # user_pool_authorizer's, for Auth.USER_POOL
    validator: str | None  # the REST API's request validator's name

    @property
    def parameters(self) -> list[str]:
        """The path parameters' names: ``{action_id}`` and ``{file+}`` give action_id, file."""
        return [part[1:-1].rstrip("+") for part in self.path.split("/") if part.startswith("{")]


class Api(ABC):
    """One API of the stack, whatever its flavour: see the module's docstring."""

    flavour: str
    stage_name: str
    # What precedes a route's path in its URL: "/v1" (REST's stage), "" ($default).
    path_prefix: str

    # The CDK construct of the API (``apigw.RestApi``, ``apigwv2.HttpApi``), and its id.
    cdk_api: Construct
    api_id: str

    def __init__(
        self, scope: Construct, config: DeploymentConfig, access_logs: logs.ILogGroup
    ) -> None:
        """The API made in ``scope``, its stage logging to ``access_logs``."""
        self.scope = scope
        self.config = config
        self.throttles: dict[tuple[str, str], Throttle] = {}
        self._make(access_logs)

    @abstractmethod
    def _make(self, access_logs: logs.ILogGroup) -> None: ...

    @property
    def stage_ref(self) -> str:
        """The stage's name as the template refers to it (a Ref where it can)."""
        return self.stage_name

    @property
    @abstractmethod
    def api_dimension(self) -> tuple[str, str]:
        """The dimension that names the API in its metrics ("ApiName", "ApiId"), and its value."""

    @property
    def base_url(self) -> str:
        """The API's URL built from its id alone: it depends on no stage or deployment."""
        stack = Stack.of(self.scope)
        return (
            f"https://{self.api_id}.execute-api.{stack.region}.{stack.url_suffix}{self.path_prefix}"
        )

    @abstractmethod
    def url_for_path(self, path: str) -> str: ...

    def add_route(
        self,
        path: str,
        method: str,
        function: lambda_.IFunction,
        *,
        auth: Auth = Auth.NONE,
        throttle: Throttle | None = None,
        authorizer: Any = None,
        validator: str | None = None,
    ) -> IConstruct:
        """``method`` on ``path`` (``{param}``, greedy ``{param+}`` last) calls
        ``function``, within ``throttle``. ``authorizer`` is ``user_pool_authorizer``'s
        for Auth.USER_POOL; ``validator`` names the REST API's request validator of the
        route (HTTP APIs have none). Returns the route's construct (for cdk-nag
        acknowledgments)."""
        if throttle is not None:
            self.throttles[(path, method)] = throttle
        return self._add(Route(path, method, auth, authorizer, validator), function)

    @abstractmethod
    def _add(self, route: Route, function: lambda_.IFunction) -> IConstruct: ...

    @abstractmethod
    def user_pool_authorizer(
        self, scope: Construct, pool: cognito.IUserPool, client: cognito.IUserPoolClient
    ) -> Any: ...

    @abstractmethod
    def execute_api_arn(self, method: str, path: str) -> str:
        """The ``execute-api:Invoke`` resource of ``method`` on ``path`` of the stage."""

    @property
    @abstractmethod
    def _nag_stage(self) -> str:
        """The stage in an execute-api ARN as cdk-nag names it."""

    def execute_api_nag_id(self, method: str, path: str) -> str:
        """``execute_api_arn`` as cdk-nag names it in an AwsSolutions-IAM5 finding."""
        stack = Stack.of(self.scope)
        partition, region, account = _placeholders(stack)
        api = stack.get_logical_id(cast(CfnElement, self.cdk_api.node.default_child))
        return (
            f"arn:{partition}:execute-api:{region}:{account}:<{api}>/{self._nag_stage}/"
            f"{method}{path}"
        )

    def route_metric(
        self, metric: ApiMetric, method: str, path: str, statistic: str, period: Any
    ) -> cloudwatch.Metric:
        """A route's own metric (the stage has detailed metrics on)."""
        name, value = self.api_dimension
        return cloudwatch.Metric(
            namespace="AWS/ApiGateway",
            metric_name=METRIC_NAMES[self.flavour].get(metric, metric.value.title()),
            dimensions_map={
                name: value,
                "Stage": self.stage_ref,
                "Resource": path,
                "Method": method,
            },
            statistic=statistic,
            period=period,
        )

    @abstractmethod
    def _monitor(self, facade: Any) -> Any:
        """The facade's method that charts this flavour of API."""

    def monitor(self, facade: Any, name: str, alarm_name: str) -> None:
        """The API's section of the dashboard (cdk-monitoring-constructs' facade)."""
        self._monitor(facade)(
            api=self.cdk_api,
            api_stage=self.stage_ref,
            human_readable_name=name,
            alarm_friendly_name=alarm_name,
        )

    def _integration_id(self, function: lambda_.IFunction) -> str:
        return Stack.of(self.scope).get_logical_id(cast(CfnElement, function.node.default_child))


def make_api(
    scope: Construct, config: DeploymentConfig, access_logs: logs.ILogGroup
) -> RestFlavour | HttpFlavour:
    """The API of the flavour ``config`` asks for, made in ``scope``."""
    if config.api_flavour == HTTP:
        return HttpFlavour(scope, config, access_logs)
    return RestFlavour(scope, config, access_logs)


# The id CDK gave the webhook route's validator when its method made it: kept, so that
# a deployed stack's validator is not replaced.
_VALIDATOR_IDS = {"webhook-request": "validator"}


class RestFlavour(Api):
    """``apigw.RestApi``, stage ``v1``: everything the stack always had."""

    flavour = REST
    stage_name = "v1"
    path_prefix = "/v1"

    def _make(self, access_logs: logs.ILogGroup) -> None:
        config = self.config
        self.cdk_api = self.rest = apigw.RestApi(
            self.scope,
            "Api",
            description=DESCRIPTION,
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
                stage_name=self.stage_name,
                throttling_rate_limit=config.api_throttle_rate_limit,
                throttling_burst_limit=config.api_throttle_burst_limit,
                tracing_enabled=config.tracing,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
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
        self.api_id = self.rest.rest_api_id
        # The routes' own limits, below the stage's: other routes keep a share of the
        # stage when one is flooded. Known once every route is added.
        cfn_stage = cast(apigw.CfnStage, self.rest.deployment_stage.node.default_child)
        stage_wide = list(cast(list[Any], cfn_stage.method_settings or []))
        cfn_stage.method_settings = Lazy.any(
            _Produced(lambda: [*stage_wide, *self._method_settings()])
        )
        for response_type, answer in GATEWAY_ANSWERS.items():
            self.rest.add_gateway_response(
                f"Json{response_type}",
                type=apigw.ResponseType.of(response_type),
                status_code=answer.status,
                # Static values, quoted as API Gateway's mapping expressions want them.
                response_headers={name: f"'{value}'" for name, value in answer.headers.items()}
                or None,
                templates={"application/json": answer.template},
            )
        self._validators: dict[str, apigw.RequestValidator] = {}
        self._integrations: dict[str, apigw.LambdaIntegration] = {}
        self._acknowledge(config)

    def url_for_path(self, path: str) -> str:
        return self.rest.url_for_path(path)

    def _method_settings(self) -> list[apigw.CfnStage.MethodSettingProperty]:
        return [
            apigw.CfnStage.MethodSettingProperty(
                resource_path="/" + path.replace("/", "~1"),
                http_method=method,
                throttling_rate_limit=throttle.rate_limit,
                throttling_burst_limit=throttle.burst_limit,
                data_trace_enabled=False,
            )
            for (path, method), throttle in self.throttles.items()
        ]

    def _add(self, route: Route, function: lambda_.IFunction) -> IConstruct:
        key = self._integration_id(function)
        integration = self._integrations.setdefault(key, apigw.LambdaIntegration(function))
        authorization = {
            Auth.NONE: None,
            Auth.IAM: apigw.AuthorizationType.IAM,
            Auth.USER_POOL: apigw.AuthorizationType.COGNITO,
        }[route.auth]
        parameters = {f"method.request.path.{name}": True for name in route.parameters}
        return self.rest.root.resource_for_path(route.path).add_method(
            route.method,
            integration,
            authorization_type=authorization,
            authorizer=route.authorizer,
            request_parameters=parameters or None,
            request_validator=self._validator(route.validator) if route.validator else None,
        )

    def _validator(self, name: str) -> apigw.RequestValidator:
        if name not in self._validators:
            construct_id = _VALIDATOR_IDS.get(name) or (
                "".join(part.title() for part in name.split("-")) + "Validator"
            )
            self._validators[name] = self.rest.add_request_validator(
                construct_id,
                request_validator_name=name,
                validate_request_parameters=True,
                # No model is attached (the function validates the body), so this adds
                # no check of its own: it satisfies APIG2.
                validate_request_body=True,
            )
        return self._validators[name]

    def user_pool_authorizer(
        self, scope: Construct, pool: cognito.IUserPool, client: cognito.IUserPoolClient
    ) -> Any:
        return apigw.CognitoUserPoolsAuthorizer(scope, "Authorizer", cognito_user_pools=[pool])

    def execute_api_arn(self, method: str, path: str) -> str:
        return self.rest.arn_for_execute_api(method, path, self.stage_ref)

    @property
    def stage_ref(self) -> str:
        return self.rest.deployment_stage.stage_name

    @property
    def _nag_stage(self) -> str:
        stage = self.rest.deployment_stage.node.default_child
        return f"<{Stack.of(self.scope).get_logical_id(cast(CfnElement, stage))}>"

    @property
    def api_dimension(self) -> tuple[str, str]:
        return "ApiName", self.rest.rest_api_name

    def _monitor(self, facade: Any) -> Any:
        return facade.monitor_api_gateway

    def _acknowledge(self, config: DeploymentConfig) -> None:
        stage = self.rest.deployment_stage
        acknowledge(
            stage,
            "AwsSolutions-APIG3",
            "Requests are throttled at the stage and per route and rejected unless signed; "
            "a WAF web ACL with a per-IP rate rule is on by default for stage=prod and an "
            "opt-in elsewhere (context wafRateLimit, infra/constructs/waf.py), as it costs "
            "per ACL, rule and request.",
        )
        if not config.tracing:
            acknowledge(stage, "Serverless-APIGWXrayEnabled", UNTRACED)
        cloud_watch_role = self.rest.node.try_find_child("CloudWatchRole")
        if cloud_watch_role is not None:
            acknowledge(
                cloud_watch_role,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
                "API Gateway's account-level logging role; AWS documents this managed "
                "policy as the way to let API Gateway write execution logs.",
            )


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogs:
    def __init__(self, group: logs.ILogGroup, fields: dict[str, str]) -> None:
        self._destination = apigwv2.LogGroupLogDestination(group)
        self._format = apigw.AccessLogFormat.custom(json.dumps(fields))

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format


# An HTTP API's access log line: its own $context variables (no resourcePath, no caller).
HTTP_ACCESS_LOG = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
}


class HttpFlavour(Api):
    """``apigwv2.HttpApi`` on its ``$default`` stage, payload format 1.0 integrations."""

    flavour = HTTP
    stage_name = "$default"
    path_prefix = ""

    def _make(self, access_logs: logs.ILogGroup) -> None:
        # Its stage is made below, with the stack's throttles and access logs.
        self.cdk_api = self.http = apigwv2.HttpApi(
            self.scope, "Api", description=DESCRIPTION, create_default_stage=False
        )
        self.api_id = self.http.api_id
        self.stage = apigwv2.HttpStage(
            self.scope,
            "Stage",
            http_api=self.http,
            stage_name=self.stage_name,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=self.config.api_throttle_rate_limit,
                burst_limit=self.config.api_throttle_burst_limit,
            ),
            # Route-level metrics: the webhook route's 5xx alarm reads them.
            detailed_metrics_enabled=True,
            access_log_settings=_AccessLogs(access_logs, HTTP_ACCESS_LOG),
        )
        cfn_stage = cast(apigwv2.CfnStage, self.stage.node.default_child)
        cfn_stage.route_settings = Lazy.any(_Produced(self._route_settings))
        self._integrations: dict[str, integrations.HttpLambdaIntegration] = {}
        self._iam = authorizers.HttpIamAuthorizer()

    def url_for_path(self, path: str) -> str:
        return f"{self.http.api_endpoint}{path}"

    def _route_settings(self) -> dict[str, Any] | None:
        return {
            f"{method} {path}": {
                "ThrottlingRateLimit": throttle.rate_limit,
                "ThrottlingBurstLimit": throttle.burst_limit,
            }
            for (path, method), throttle in self.throttles.items()
        } or None

    def _add(self, route: Route, function: lambda_.IFunction) -> IConstruct:
        key = self._integration_id(function)
        if key not in self._integrations:
            self._integrations[key] = integrations.HttpLambdaIntegration(
                f"{key}Integration",
                function,
                # The REST-shaped proxy event (path, resource, multiValueHeaders,
                # requestContext.identity and authorizer.claims) the handlers parse.
                payload_format_version=apigwv2.PayloadFormatVersion.VERSION_1_0,
            )
        chosen = {Auth.NONE: None, Auth.IAM: self._iam, Auth.USER_POOL: route.authorizer}
        [added] = self.http.add_routes(
            path=route.path,
            methods=[apigwv2.HttpMethod(route.method)],
            integration=self._integrations[key],
            authorizer=chosen[route.auth],
        )
        # A stage's route settings must name routes that exist.
        self.stage.node.add_dependency(added)
        return added

    def user_pool_authorizer(
        self, scope: Construct, pool: cognito.IUserPool, client: cognito.IUserPoolClient
    ) -> Any:
        # A JWT authorizer: the pool as issuer, the page's app client as audience.
        return authorizers.HttpUserPoolAuthorizer("Authorizer", pool, user_pool_clients=[client])

    def execute_api_arn(self, method: str, path: str) -> str:
        return self.http.arn_for_execute_api(method, path, self.stage_name)

    @property
    def _nag_stage(self) -> str:
        return self.stage_name

    @property
    def api_dimension(self) -> tuple[str, str]:
        return "ApiId", self.http.api_id

    def _monitor(self, facade: Any) -> Any:
        return facade.monitor_api_gateway_v2_http_api
