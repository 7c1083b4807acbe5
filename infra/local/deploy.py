"""Deploy the synthesized template into moto, resource by resource, as CloudFormation would.

moto's own CloudFormation skips or cannot run several of our resource types
(schedules, stages, Lambda code from the CDK asset bucket, executable state
machines), so the local cloud walks the template itself. It creates what holds
state or routes work (queues, tables, secrets, roles, schedule groups and
schedules, state machines), records what runs code (functions, event source
mappings, API routes) for the process runtime, pollers and HTTP front, and
skips what has no local effect (policies, permissions, alarms, log wiring). Every
intrinsic the CDK emits here (Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split,
Fn::Sub) is resolved, so functions see the same environment they get on AWS.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

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


@dataclass
class Deployment:
    stack_name: str
    region: str
    functions: dict[str, FunctionResource] = field(default_factory=dict)
    event_sources: list[EventSource] = field(default_factory=list)
    routes: list[ApiRoute] = field(default_factory=list)
    stage: str = "v1"
    outputs: dict[str, str] = field(default_factory=dict)
    physical: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)  # ARN -> URL


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
    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in clients:
            clients[service] = boto3.client(service, region_name=region)
        return clients[service]

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
            creator(logical_id, props, resolve, deployment, client, secret_values)
            log(f"created {kind} {logical_id}")
        if len(waiting) == len(pending):
            names = ", ".join(logical_id for logical_id, _ in waiting)
            raise ValueError(f"cannot resolve the references of: {names}")
        pending = waiting

    for name, output in template.get("Outputs", {}).items():
        deployment.outputs[name] = str(resolve(output["Value"]))
    return deployment


def _physical_name(deployment: Deployment, logical_id: str, limit: int = 64) -> str:
    return f"{deployment.stack_name}-{logical_id}"[:limit]


def _role(logical_id, props, resolve, deployment, client, secrets) -> None:
    name = props.get("RoleName") or _physical_name(deployment, logical_id)
    arn = client("iam").create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(props.get("AssumeRolePolicyDocument", {})),
    )["Role"]["Arn"]
    resolve.refs[logical_id] = name
    resolve.attributes[(logical_id, "Arn")] = arn


def _log_group(logical_id, props, resolve, deployment, client, secrets) -> None:
    name = props.get("LogGroupName") or f"/local/{_physical_name(deployment, logical_id)}"
    client("logs").create_log_group(logGroupName=name)
    resolve.refs[logical_id] = name
    resolve.attributes[(logical_id, "Arn")] = (
        f"arn:aws:logs:{deployment.region}:{ACCOUNT}:log-group:{name}:*"
    )


_QUEUE_ATTRIBUTES = {
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds",
    "FifoQueue",
    "ContentBasedDeduplication",
}


def _queue(logical_id, props, resolve, deployment, client, secrets) -> None:
    fifo = bool(props.get("FifoQueue"))
    name = props.get("QueueName") or _physical_name(deployment, logical_id, 75)
    if fifo and not name.endswith(".fifo"):
        name += ".fifo"
    attributes = {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in props.items()
        if key in _QUEUE_ATTRIBUTES
    }
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    url = client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    resolve.refs[logical_id] = url
    resolve.attributes[(logical_id, "Arn")] = f"arn:aws:sqs:{deployment.region}:{ACCOUNT}:{name}"
    resolve.attributes[(logical_id, "QueueName")] = name
    resolve.attributes[(logical_id, "QueueUrl")] = url
    deployment.physical[logical_id] = url
    deployment.queue_urls[resolve.attributes[(logical_id, "Arn")]] = url


def _table(logical_id, props, resolve, deployment, client, secrets) -> None:
    name = props.get("TableName") or _physical_name(deployment, logical_id, 255)
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
    dynamodb = client("dynamodb")
    dynamodb.create_table(**params)
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
    resolve.refs[logical_id] = name
    resolve.attributes[(logical_id, "Arn")] = (
        f"arn:aws:dynamodb:{deployment.region}:{ACCOUNT}:table/{name}"
    )
    deployment.physical[logical_id] = name


def _secret(logical_id, props, resolve, deployment, client, secrets) -> None:
    name = props.get("Name") or _physical_name(deployment, logical_id)
    value = secrets(name) or props.get("SecretString") or json.dumps([logical_id])
    arn = client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"]
    resolve.refs[logical_id] = arn
    deployment.physical[logical_id] = name


def _function(logical_id, props, resolve, deployment, client, secrets) -> None:
    name = props.get("FunctionName") or _physical_name(deployment, logical_id)
    arn = f"arn:aws:lambda:{deployment.region}:{ACCOUNT}:function:{name}"
    deployment.functions[logical_id] = FunctionResource(
        logical_id=logical_id,
        name=name,
        arn=arn,
        handler=props["Handler"],
        environment={
            k: str(v) for k, v in (props.get("Environment") or {}).get("Variables", {}).items()
        },
        timeout=float(props.get("Timeout", 3)),
        memory_mb=int(props.get("MemorySize", 128)),
    )
    resolve.refs[logical_id] = name
    resolve.attributes[(logical_id, "Arn")] = arn


def _event_source(logical_id, props, resolve, deployment, client, secrets) -> None:
    deployment.event_sources.append(
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


def _rest_api(logical_id, props, resolve, deployment, client, secrets) -> None:
    resolve.refs[logical_id] = f"local-{logical_id}"
    resolve.attributes[(logical_id, "RootResourceId")] = "/"


def _api_resource(logical_id, props, resolve, deployment, client, secrets) -> None:
    parent = props["ParentId"]
    path = ("" if parent == "/" else parent) + "/" + props["PathPart"]
    resolve.refs[logical_id] = path


def _stage(logical_id, props, resolve, deployment, client, secrets) -> None:
    deployment.stage = props.get("StageName", deployment.stage)
    resolve.refs[logical_id] = deployment.stage


def _method(logical_id, props, resolve, deployment, client, secrets) -> None:
    integration = props.get("Integration") or {}
    uri = str(integration.get("Uri", ""))
    match = re.search(r"function:([^/:]+)", uri)
    if integration.get("Type") != "AWS_PROXY" or not match:
        return  # not a Lambda proxy method
    deployment.routes.append(
        ApiRoute(method=props["HttpMethod"], resource=props["ResourceId"], function=match.group(1))
    )


def _schedule_group(logical_id, props, resolve, deployment, client, secrets) -> None:
    name = props.get("Name") or _physical_name(deployment, logical_id)
    arn = client("scheduler").create_schedule_group(Name=name)["ScheduleGroupArn"]
    resolve.refs[logical_id] = name
    resolve.attributes[(logical_id, "Arn")] = arn


def _schedule(logical_id, props, resolve, deployment, client, secrets) -> None:
    name = props.get("Name") or _physical_name(deployment, logical_id)
    params = {
        key: value
        for key, value in props.items()
        if key
        in {
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
    }
    client("scheduler").create_schedule(Name=name, **params)
    resolve.refs[logical_id] = name


def _state_machine(logical_id, props, resolve, deployment, client, secrets) -> None:
    name = props.get("StateMachineName") or _physical_name(deployment, logical_id, 80)
    definition = props.get("DefinitionString")
    if not isinstance(definition, str):
        definition = json.dumps(props.get("Definition", {}))
    arn = client("stepfunctions").create_state_machine(
        name=name, definition=definition, roleArn=props["RoleArn"], type="STANDARD"
    )["stateMachineArn"]
    resolve.refs[logical_id] = arn
    resolve.attributes[(logical_id, "Name")] = name
    deployment.physical[logical_id] = arn


_CREATORS: dict[str, Callable[..., None]] = {
    "AWS::IAM::Role": _role,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::SQS::Queue": _queue,
    "AWS::DynamoDB::Table": _table,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::Lambda::Function": _function,
    "AWS::Lambda::EventSourceMapping": _event_source,
    "AWS::ApiGateway::RestApi": _rest_api,
    "AWS::ApiGateway::Resource": _api_resource,
    "AWS::ApiGateway::Stage": _stage,
    "AWS::ApiGateway::Method": _method,
    "AWS::Scheduler::ScheduleGroup": _schedule_group,
    "AWS::Scheduler::Schedule": _schedule,
    "AWS::StepFunctions::StateMachine": _state_machine,
}
