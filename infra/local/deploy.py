"""Deploy the synthesized template into moto, resource by resource, as CloudFormation would.

Creates what holds state or routes work (queues, tables, buckets, secrets, roles,
schedules, state machines, event rules), records what runs code or answers requests
(functions, event source mappings, API routes, gateway responses), skips what has no
local effect, and resolves every intrinsic the CDK emits, so functions see the
environment they get on AWS.
Why: docs/decisions/0024-the-local-cloud-deploys-the-synthesized-template.md
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:  # the boto3-stubs packages: a dev dependency
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import LifecycleRuleTypeDef
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType
    from mypy_boto3_stepfunctions import SFNClient

ACCOUNT = "123456789012"


@dataclass
class FunctionResource:
    logical_id: str
    name: str
    arn: str
    handler: str
    environment: dict[str, str]
    timeout: float
    memory_mb: int


@dataclass
class EventSource:
    function: str
    queue_arn: str
    batch_size: int
    batching_window: float
    max_concurrency: int
    report_batch_item_failures: bool


@dataclass
class ApiRoute:
    method: str
    resource: str
    function: str
    authorization: str = "NONE"  # the method's AuthorizationType: NONE, AWS_IAM, JWT, ...
    # its AuthorizerId (a key of Deployment.authorizers or jwt_authorizers), if any
    authorizer: str = ""


@dataclass(frozen=True)
class JwtAuthorizer:
    """An HTTP API's JWT authorizer: the issuer whose tokens it takes, for these audiences."""

    issuer: str
    audiences: tuple[str, ...]


@dataclass
class Deployment:
    stack_name: str
    region: str
    functions: dict[str, FunctionResource] = field(default_factory=dict)
    event_sources: list[EventSource] = field(default_factory=list)
    routes: list[ApiRoute] = field(default_factory=list)
    # ResponseType -> the AWS::ApiGateway::GatewayResponse's properties, resolved.
    gateway_responses: dict[str, dict[str, Any]] = field(default_factory=dict)
    stage: str = "v1"
    outputs: dict[str, str] = field(default_factory=dict)
    physical: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)  # ARN -> URL
    # AuthorizerId -> the user pool ids of a COGNITO_USER_POOLS authorizer.
    authorizers: dict[str, list[str]] = field(default_factory=dict)
    user_pools: dict[str, str] = field(default_factory=dict)  # logical id -> pool id
    user_pool_clients: dict[str, str] = field(default_factory=dict)  # logical id -> client id
    # The API's flavour: "rest" (AWS::ApiGateway::*) or "http" (AWS::ApiGatewayV2::*).
    flavour: str = "rest"
    # An HTTP API's integrations (id -> function name) and JWT authorizers (by id).
    integrations: dict[str, str] = field(default_factory=dict)
    jwt_authorizers: dict[str, JwtAuthorizer] = field(default_factory=dict)


class _Resolver:
    def __init__(self, template: dict[str, Any], stack: str, region: str) -> None:
        self.template = template
        self.stack = stack
        self.region = region
        self.refs: dict[str, str] = {}
        self.attributes: dict[tuple[str, str], str] = {}

    def pseudo(self, name: str) -> str | None:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::StackName": self.stack,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": "",
        }.get(name)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                resolved = self.pseudo(argument)
                return resolved if resolved is not None else self.refs[argument]
            if key == "Fn::GetAtt":
                logical_id, attribute = (
                    argument if isinstance(argument, list) else argument.split(".", 1)
                )
                return self.attributes[(logical_id, attribute)]
            if key == "Fn::Join":
                separator, parts = argument
                return separator.join(str(self(part)) for part in parts)
            if key == "Fn::Select":
                index, items = argument
                return self(items)[int(self(index))]
            if key == "Fn::Split":
                separator, text = argument
                return str(self(text)).split(separator)
            if key == "Fn::Sub":
                return self._sub(argument)
        return {key: self(item) for key, item in value.items()}

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        variables = {k: self(v) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            pseudo = self.pseudo(name)
            if pseudo is not None:
                return pseudo
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return self.attributes[(logical_id, attribute)]
            return self.refs[name]

        return re.sub(r"\$\{([^}]+)\}", replace, text)


def deploy(
    template: dict[str, Any],
    *,
    stack_name: str,
    region: str = "us-east-1",
    secret_values: Callable[[str], str | None] = lambda name: None,
    log: Callable[[str], None] = lambda line: None,
) -> Deployment:
    """Create the template's resources in the current moto account; return what runs code.

    ``secret_values`` gives the local value of a generated secret by its name (the
    local cloud seeds the webhook sources' demo secrets this way).
    """
    resolve = _Resolver(template, stack_name, region)
    deployment = Deployment(stack_name=stack_name, region=region)
    clients = _Clients(region)

    pending = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource["Type"] in _CREATORS:
            pending.append((logical_id, resource))
        else:  # no local effect; still answers Ref with a name, as others may refer to it
            resolve.refs[logical_id] = logical_id
    # Several passes: a resource that refers to one not made yet waits for the next pass.
    while pending:
        waiting = []
        for logical_id, resource in pending:
            kind = resource["Type"]
            creator = _CREATORS[kind]
            try:
                props = resolve(resource.get("Properties", {}))
            except KeyError:
                waiting.append((logical_id, resource))
                continue
            creator(_Resource(logical_id, props, resolve, deployment, clients, secret_values))
            log(f"created {kind} {logical_id}")
        if len(waiting) == len(pending):
            names = ", ".join(logical_id for logical_id, _ in waiting)
            raise ValueError(f"cannot resolve the references of: {names}")
        pending = waiting

    for name, output in template.get("Outputs", {}).items():
        deployment.outputs[name] = str(resolve(output["Value"]))
    return deployment


class _Clients:
    """The deploy's AWS clients in its region, each made when a resource first needs it."""

    def __init__(self, region: str) -> None:
        self.region = region

    @functools.cached_property
    def iam(self) -> IAMClient:
        return boto3.client("iam", region_name=self.region)

    @functools.cached_property
    def logs(self) -> CloudWatchLogsClient:
        return boto3.client("logs", region_name=self.region)

    @functools.cached_property
    def sqs(self) -> SQSClient:
        return boto3.client("sqs", region_name=self.region)

    @functools.cached_property
    def dynamodb(self) -> DynamoDBClient:
        return boto3.client("dynamodb", region_name=self.region)

    @functools.cached_property
    def secretsmanager(self) -> SecretsManagerClient:
        return boto3.client("secretsmanager", region_name=self.region)

    @functools.cached_property
    def scheduler(self) -> EventBridgeSchedulerClient:
        return boto3.client("scheduler", region_name=self.region)

    @functools.cached_property
    def s3(self) -> S3Client:
        return boto3.client("s3", region_name=self.region)

    @functools.cached_property
    def events(self) -> Any:  # no boto3-stubs package for EventBridge is pinned
        return boto3.client("events", region_name=self.region)

    @functools.cached_property
    def cognito(self) -> Any:  # no boto3-stubs package for cognito-idp is pinned
        return boto3.client("cognito-idp", region_name=self.region)

    @functools.cached_property
    def stepfunctions(self) -> SFNClient:
        return boto3.client("stepfunctions", region_name=self.region)


@dataclass(frozen=True)
class _Resource:
    """The resource being deployed, and the deployment its creator reads and records into."""

    logical_id: str
    props: dict[str, Any]  # its Properties, every intrinsic resolved (JSON values)
    resolve: _Resolver  # what Ref and Fn::GetAtt of each created resource give
    deployment: Deployment
    clients: _Clients
    secret_values: Callable[[str], str | None]

    @property
    def region(self) -> str:
        return self.deployment.region

    def physical_name(self, limit: int = 64) -> str:
        """A name made of the stack's and the logical id, as CloudFormation makes one."""
        return f"{self.deployment.stack_name}-{self.logical_id}"[:limit]

    def name(self, prop: str, limit: int = 64) -> str:
        """The name the template gives in ``prop``, or a physical name."""
        given = self.props.get(prop)
        return str(given) if given else self.physical_name(limit)

    def answers(self, ref: str, **attributes: str) -> None:
        """Record what ``Ref`` (``ref``) and ``Fn::GetAtt`` (``attributes``) of it give."""
        self.resolve.refs[self.logical_id] = ref
        for attribute, value in attributes.items():
            self.resolve.attributes[(self.logical_id, attribute)] = value


def _role(resource: _Resource) -> None:
    name = resource.name("RoleName")
    arn = resource.clients.iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(resource.props.get("AssumeRolePolicyDocument", {})),
    )["Role"]["Arn"]
    resource.answers(name, Arn=arn)


def _log_group(resource: _Resource) -> None:
    name = resource.props.get("LogGroupName") or f"/local/{resource.physical_name()}"
    resource.clients.logs.create_log_group(logGroupName=name)
    resource.answers(name, Arn=f"arn:aws:logs:{resource.region}:{ACCOUNT}:log-group:{name}:*")


_QUEUE_ATTRIBUTES: tuple[QueueAttributeNameType, ...] = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds",
    "FifoQueue",
    "ContentBasedDeduplication",
)


def _queue(resource: _Resource) -> None:
    props = resource.props
    fifo = bool(props.get("FifoQueue"))
    name = resource.name("QueueName", 75)
    if fifo and not name.endswith(".fifo"):
        name += ".fifo"
    attributes: dict[QueueAttributeNameType, str] = {
        key: str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
        for key in _QUEUE_ATTRIBUTES
        if key in props
    }
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    url = resource.clients.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = f"arn:aws:sqs:{resource.region}:{ACCOUNT}:{name}"
    resource.answers(url, Arn=arn, QueueName=name, QueueUrl=url)
    resource.deployment.physical[resource.logical_id] = url
    resource.deployment.queue_urls[arn] = url


def _table(resource: _Resource) -> None:
    props = resource.props
    name = resource.name("TableName", 255)
    params: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        params["GlobalSecondaryIndexes"] = [
            {
                "IndexName": i["IndexName"],
                "KeySchema": i["KeySchema"],
                "Projection": i["Projection"],
            }
            for i in props["GlobalSecondaryIndexes"]
        ]
    dynamodb = resource.clients.dynamodb
    dynamodb.create_table(**params)
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
    resource.answers(name, Arn=f"arn:aws:dynamodb:{resource.region}:{ACCOUNT}:table/{name}")
    resource.deployment.physical[resource.logical_id] = name


def _bucket(resource: _Resource) -> None:
    """The bucket with its default encryption, public access block and lifecycle rules
    (its bucket policy, TLS only, has no local effect: the local cloud speaks HTTP)."""
    props = resource.props
    name = str(props.get("BucketName") or resource.physical_name(63).lower())
    s3 = resource.clients.s3
    s3.create_bucket(Bucket=name)
    encryption = props.get("BucketEncryption")
    if encryption:
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                        "BucketKeyEnabled": bool(rule.get("BucketKeyEnabled")),
                    }
                    for rule in encryption["ServerSideEncryptionConfiguration"]
                ]
            },
        )
    if props.get("PublicAccessBlockConfiguration"):
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
        )
    rules = (props.get("LifecycleConfiguration") or {}).get("Rules") or []
    if rules:
        s3.put_bucket_lifecycle_configuration(
            Bucket=name, LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in rules]}
        )
    resource.answers(name, Arn=f"arn:aws:s3:::{name}")
    resource.deployment.physical[resource.logical_id] = name


def _lifecycle_rule(rule: dict[str, Any]) -> LifecycleRuleTypeDef:
    """A lifecycle rule as CloudFormation spells it, as S3's API takes it (the parts
    the stack uses: a prefix, an expiration, incomplete uploads)."""
    api: LifecycleRuleTypeDef = {
        "ID": rule.get("Id", ""),
        "Status": rule.get("Status", "Enabled"),
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    if "ExpirationInDays" in rule:
        api["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        api["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    return api


def _secret(resource: _Resource) -> None:
    name = resource.name("Name")
    value = (
        resource.secret_values(name)
        or resource.props.get("SecretString")
        or json.dumps([resource.logical_id])
    )
    arn = resource.clients.secretsmanager.create_secret(Name=name, SecretString=value)["ARN"]
    resource.answers(arn)
    resource.deployment.physical[resource.logical_id] = name


def _function(resource: _Resource) -> None:
    props = resource.props
    name = resource.name("FunctionName")
    arn = f"arn:aws:lambda:{resource.region}:{ACCOUNT}:function:{name}"
    resource.deployment.functions[resource.logical_id] = FunctionResource(
        logical_id=resource.logical_id,
        name=name,
        arn=arn,
        handler=props["Handler"],
        environment={
            k: str(v) for k, v in (props.get("Environment") or {}).get("Variables", {}).items()
        },
        timeout=float(props.get("Timeout", 3)),
        memory_mb=int(props.get("MemorySize", 128)),
    )
    resource.answers(name, Arn=arn)


def _event_source(resource: _Resource) -> None:
    props = resource.props
    resource.deployment.event_sources.append(
        EventSource(
            function=props["FunctionName"],
            queue_arn=props["EventSourceArn"],
            batch_size=int(props.get("BatchSize", 10)),
            batching_window=float(props.get("MaximumBatchingWindowInSeconds", 0)),
            max_concurrency=int((props.get("ScalingConfig") or {}).get("MaximumConcurrency", 2)),
            report_batch_item_failures="ReportBatchItemFailures"
            in (props.get("FunctionResponseTypes") or []),
        )
    )


def _rest_api(resource: _Resource) -> None:
    resource.answers(f"local-{resource.logical_id}", RootResourceId="/")


def _api_resource(resource: _Resource) -> None:
    parent = resource.props["ParentId"]
    resource.answers(("" if parent == "/" else parent) + "/" + resource.props["PathPart"])


def _stage(resource: _Resource) -> None:
    deployment = resource.deployment
    deployment.stage = resource.props.get("StageName", deployment.stage)
    resource.answers(deployment.stage)


def _function_name(uri: str) -> str | None:
    """The function a Lambda integration's URI (or ARN) names."""
    match = re.search(r"function:([^/:]+)", uri)
    return match.group(1) if match else None


def _method(resource: _Resource) -> None:
    props = resource.props
    integration = props.get("Integration") or {}
    function = _function_name(str(integration.get("Uri", "")))
    if integration.get("Type") != "AWS_PROXY" or not function:
        return  # not a Lambda proxy method
    resource.deployment.routes.append(
        ApiRoute(
            method=props["HttpMethod"],
            resource=props["ResourceId"],
            function=function,
            authorization=str(props.get("AuthorizationType", "NONE")),
            authorizer=str(props.get("AuthorizerId", "")),
        )
    )


def _authorizer(resource: _Resource) -> None:
    """A Cognito user pools authorizer: the pools whose ID tokens it takes, by id."""
    props = resource.props
    if props.get("Type") == "COGNITO_USER_POOLS":
        pools = [str(arn).rsplit("/", 1)[-1] for arn in props.get("ProviderARNs", [])]
        resource.deployment.authorizers[resource.logical_id] = pools
    resource.answers(resource.logical_id)


# --- an HTTP API (apiFlavour=http): its routes, Lambda integrations, JWT authorizers, stage.


def _http_api(resource: _Resource) -> None:
    api_id = f"local-{resource.logical_id}"
    resource.deployment.flavour = "http"
    endpoint = f"https://{api_id}.execute-api.{resource.region}.amazonaws.com"
    resource.answers(api_id, ApiEndpoint=endpoint, ApiId=api_id)


def _http_integration(resource: _Resource) -> None:
    """A Lambda proxy integration: its function, for the routes that target it."""
    props = resource.props
    function = _function_name(str(props.get("IntegrationUri", "")))
    if props.get("IntegrationType") == "AWS_PROXY" and function:
        resource.deployment.integrations[resource.logical_id] = function
    resource.answers(resource.logical_id)


def _http_route(resource: _Resource) -> None:
    """``METHOD /path`` to an integration; its AuthorizationType NONE, AWS_IAM or JWT."""
    props = resource.props
    method, _, path = str(props["RouteKey"]).partition(" ")
    target = str(props.get("Target", "")).removeprefix("integrations/")
    function = resource.deployment.integrations.get(target)
    if function is not None:  # a Lambda proxy route
        resource.deployment.routes.append(
            ApiRoute(
                method=method,
                resource=path,
                function=function,
                authorization=str(props.get("AuthorizationType", "NONE")),
                authorizer=str(props.get("AuthorizerId", "")),
            )
        )
    resource.answers(resource.logical_id)


def _http_authorizer(resource: _Resource) -> None:
    props = resource.props
    if props.get("AuthorizerType") == "JWT":
        jwt = props.get("JwtConfiguration") or {}
        resource.deployment.jwt_authorizers[resource.logical_id] = JwtAuthorizer(
            issuer=str(jwt.get("Issuer", "")),
            audiences=tuple(str(audience) for audience in jwt.get("Audience") or ()),
        )
    resource.answers(resource.logical_id)


def _user_pool(resource: _Resource) -> None:
    """A user pool in moto's Cognito, with the template's password policy and sign-up rule."""
    props = resource.props
    params: dict[str, Any] = {"PoolName": resource.name("UserPoolName", 128)}
    for key in ("Policies", "AdminCreateUserConfig", "UsernameConfiguration"):
        if key in props:
            params[key] = props[key]
    pool = resource.clients.cognito.create_user_pool(**params)["UserPool"]
    pool_id = pool["Id"]
    resource.deployment.user_pools[resource.logical_id] = pool_id
    url = f"cognito-idp.{resource.clients.region}.amazonaws.com/{pool_id}"
    resource.answers(pool_id, Arn=pool["Arn"], ProviderName=url, ProviderURL=f"https://{url}")


def _user_pool_client(resource: _Resource) -> None:
    props = resource.props
    client = resource.clients.cognito.create_user_pool_client(
        UserPoolId=props["UserPoolId"],
        ClientName=resource.name("ClientName", 128),
        GenerateSecret=bool(props.get("GenerateSecret", False)),
        # The template's flows, and the password flow the local sign-in uses.
        ExplicitAuthFlows=[*props.get("ExplicitAuthFlows", []), "ALLOW_USER_PASSWORD_AUTH"],
        CallbackURLs=props.get("CallbackURLs", []),
        LogoutURLs=props.get("LogoutURLs", []),
        AllowedOAuthFlows=props.get("AllowedOAuthFlows", []),
        AllowedOAuthScopes=props.get("AllowedOAuthScopes", []),
        AllowedOAuthFlowsUserPoolClient=bool(props.get("AllowedOAuthFlowsUserPoolClient")),
        SupportedIdentityProviders=props.get("SupportedIdentityProviders", ["COGNITO"]),
    )["UserPoolClient"]
    resource.deployment.user_pool_clients[resource.logical_id] = client["ClientId"]
    resource.answers(client["ClientId"])


def _user_pool_group(resource: _Resource) -> None:
    props = resource.props
    resource.clients.cognito.create_group(
        GroupName=props["GroupName"],
        UserPoolId=props["UserPoolId"],
        Description=props.get("Description", ""),
    )
    resource.answers(props["GroupName"])


def _gateway_response(resource: _Resource) -> None:
    props = resource.props
    resource.deployment.gateway_responses[str(props["ResponseType"])] = props
    resource.answers(resource.logical_id)


def _schedule_group(resource: _Resource) -> None:
    name = resource.name("Name")
    arn = resource.clients.scheduler.create_schedule_group(Name=name)["ScheduleGroupArn"]
    resource.answers(name, Arn=arn)


_SCHEDULE_PROPERTIES = {
    "GroupName",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "FlexibleTimeWindow",
    "Target",
    "State",
    "Description",
    "StartDate",
    "EndDate",
}


def _schedule(resource: _Resource) -> None:
    name = resource.name("Name")
    params = {key: value for key, value in resource.props.items() if key in _SCHEDULE_PROPERTIES}
    resource.clients.scheduler.create_schedule(Name=name, **params)
    resource.answers(name)


def _event_rule(resource: _Resource) -> None:
    """A rule on the default bus with its targets: moto matches events to it and sends them
    to SQS targets (the saga outcomes queue, from infra/local/stepfunctions.py)."""
    props = resource.props
    name = resource.name("Name")
    events = resource.clients.events
    arn = events.put_rule(
        Name=name,
        EventPattern=json.dumps(props.get("EventPattern", {})),
        State=props.get("State", "ENABLED"),
        Description=props.get("Description", ""),
    )["RuleArn"]
    targets = [
        {"Id": target["Id"], "Arn": target["Arn"]}
        for target in props.get("Targets", [])
        if ":sqs:" in str(target.get("Arn", ""))  # what moto delivers to
    ]
    if targets:
        events.put_targets(Rule=name, Targets=targets)
    resource.answers(name, Arn=arn)


def _state_machine(resource: _Resource) -> None:
    props = resource.props
    name = resource.name("StateMachineName", 80)
    definition = props.get("DefinitionString")
    if not isinstance(definition, str):
        definition = json.dumps(props.get("Definition", {}))
    arn = resource.clients.stepfunctions.create_state_machine(
        name=name, definition=definition, roleArn=props["RoleArn"], type="STANDARD"
    )["stateMachineArn"]
    resource.answers(arn, Name=name)
    resource.deployment.physical[resource.logical_id] = arn


_CREATORS: dict[str, Callable[[_Resource], None]] = {
    "AWS::IAM::Role": _role,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::SQS::Queue": _queue,
    "AWS::DynamoDB::Table": _table,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::S3::Bucket": _bucket,
    "AWS::Lambda::Function": _function,
    "AWS::Lambda::EventSourceMapping": _event_source,
    "AWS::ApiGateway::RestApi": _rest_api,
    "AWS::ApiGateway::Resource": _api_resource,
    "AWS::ApiGateway::Stage": _stage,
    "AWS::ApiGateway::Method": _method,
    "AWS::ApiGateway::GatewayResponse": _gateway_response,
    "AWS::ApiGateway::Authorizer": _authorizer,
    "AWS::ApiGatewayV2::Api": _http_api,
    "AWS::ApiGatewayV2::Integration": _http_integration,
    "AWS::ApiGatewayV2::Route": _http_route,
    "AWS::ApiGatewayV2::Authorizer": _http_authorizer,
    "AWS::ApiGatewayV2::Stage": _stage,
    "AWS::Cognito::UserPool": _user_pool,
    "AWS::Cognito::UserPoolClient": _user_pool_client,
    "AWS::Cognito::UserPoolGroup": _user_pool_group,
    "AWS::Scheduler::ScheduleGroup": _schedule_group,
    "AWS::Scheduler::Schedule": _schedule,
    "AWS::StepFunctions::StateMachine": _state_machine,
    "AWS::Events::Rule": _event_rule,
}
