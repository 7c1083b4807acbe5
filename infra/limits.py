"""AWS's hard limits that this stack meets, each with the AWS page that states it, and the
synth-time checks of those a template shows.

``LIMITS`` is the one table (docs/reference/limits.md prints it); the runtime's own
limits, checked at the door, stay in ``functions/actions/limits.py`` and the modules that
size messages (``functions/actions/envelope.py``, ``queues.py``, ``payloads/``).
``LimitChecks`` is a CDK validation plugin: at every synth (``npx cdk synth``, the tests,
the local cloud) it checks each function's environment as CloudFormation will resolve it,
the template's resource count and size, each role's inline policies, and each function
asset's unzipped size, and fails the synth with a message that names the limit, the size
and what to change.
Why: docs/decisions/0065-aws-limits-checked-at-synth.md
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import (
    IPolicyValidationContext,
    IPolicyValidationPlugin,
    PolicyValidationPluginReport,
    PolicyViolatingResource,
    PolicyViolation,
)

KB = 1024
MB = 1024 * 1024


@dataclass(frozen=True)
class Limit:
    """One hard limit: its value, the AWS page stating it, and where we check it."""

    name: str
    value: int
    unit: str
    source: str
    checked: str


LAMBDA_QUOTAS = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
LIMITS: dict[str, Limit] = {
    "lambda_environment": Limit(
        "Lambda environment variables, in total, as resolved",
        4 * KB,
        "bytes",
        LAMBDA_QUOTAS,
        "synth (each function, tokens resolved with realistic lengths); local cloud "
        "(a function over it does not start)",
    ),
    "lambda_asset": Limit(
        "Lambda deployment package, unzipped (with layers)",
        250 * MB,
        "bytes",
        LAMBDA_QUOTAS,
        "synth (each function's asset directory)",
    ),
    "lambda_payload": Limit(
        "Lambda synchronous invocation payload (request and response)",
        6 * MB,
        "bytes",
        LAMBDA_QUOTAS,
        "door (WEBHOOK_MAX_BODY_BYTES is validated against it); SQS batches stay under it "
        "(10 messages of 256 KiB)",
    ),
    "sqs_message": Limit(
        "SQS message, body and attributes, per the queue's MaximumMessageSize",
        256 * KB,
        "bytes (default and our queues' MaximumMessageSize)",
        "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html",
        "door (functions/actions/queues.py check_size); local cloud and tests (SendMessage "
        "refused over the queue's MaximumMessageSize, attributes counted)",
    ),
    "dynamodb_item": Limit(
        "DynamoDB item, attribute names and values",
        400 * KB,
        "bytes",
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html",
        "door (args above PAYLOAD_INLINE_BYTES go to S3); local cloud and tests (PutItem, "
        "UpdateItem refused over it, counted once per attribute)",
    ),
    "scheduler_input": Limit(
        "EventBridge Scheduler target input",
        256 * KB,
        "bytes",
        "https://docs.aws.amazon.com/scheduler/latest/UserGuide/scheduler-quotas.html",
        "door (the envelope fits SQS's 256 KiB); local cloud and tests (CreateSchedule, "
        "UpdateSchedule refused over it)",
    ),
    "states_payload": Limit(
        "Step Functions input or output of a task, state or execution",
        256 * KB,
        "bytes (UTF-8)",
        "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html",
        "door (a saga's order above the inline threshold is a claim check); local cloud "
        "and tests (StartExecution refused; a task result over it fails its state, as "
        "moto's interpreter already does)",
    ),
    "cloudformation_template": Limit(
        "CloudFormation template body (uploaded to S3, as the CDK does)",
        1 * MB,
        "bytes",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html",
        "synth",
    ),
    "cloudformation_resources": Limit(
        "CloudFormation resources per stack",
        500,
        "resources",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html",
        "synth",
    ),
    "iam_role_inline_policies": Limit(
        "IAM inline policies of a role, in total (whitespace not counted)",
        10_240,
        "characters",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html",
        "synth (each role, tokens resolved with realistic lengths)",
    ),
    "api_gateway_payload": Limit(
        "API Gateway REST API request payload",
        10 * MB,
        "bytes",
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html",
        "door (the webhook receiver's body limit stays below Lambda's 6 MB, which is lower)",
    ),
}


# Lengths a deployed stack's names really have: the longest commercial region name, a
# 12-digit account, and CloudFormation's generated names (stack-LogicalId-SUFFIX, cut to
# the type's maximum), so a check passes only where AWS would.
REGION = "ap-southeast-4"
ACCOUNT = "123456789012"
_SUFFIX = "ABCDEFGHIJ123"  # CloudFormation's random part of a generated name: 13 characters
_MAX_NAME = {
    "AWS::SQS::Queue": 80,
    "AWS::S3::Bucket": 63,
    "AWS::IAM::Role": 64,
    "AWS::Lambda::Function": 64,
    "AWS::StepFunctions::StateMachine": 80,
    "AWS::SNS::Topic": 256,
    "AWS::DynamoDB::Table": 255,
}
_NAME_PROPERTY = {
    "AWS::SQS::Queue": "QueueName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SSM::Parameter": "Name",
    "AWS::Scheduler::ScheduleGroup": "Name",
    "AWS::Logs::LogGroup": "LogGroupName",
}


class RealisticResolver:
    """Resolves a template's intrinsics to strings as long as CloudFormation's would be."""

    def __init__(self, template: dict[str, Any], stack_name: str) -> None:
        self.resources: dict[str, Any] = template.get("Resources", {})
        self.stack_name = stack_name

    def pseudo(self, name: str) -> str | None:
        return {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/"
            f"{self.stack_name}/12345678-1234-1234-1234-123456789012",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": "",
        }.get(name)

    def name(self, logical_id: str) -> str:
        resource = self.resources.get(logical_id, {})
        kind = resource.get("Type", "")
        given = resource.get("Properties", {}).get(_NAME_PROPERTY.get(kind, ""))
        if given is not None:
            return str(self(given))
        generated = f"{self.stack_name}-{logical_id}-{_SUFFIX}"
        if kind == "AWS::S3::Bucket":
            generated = generated.lower()
        return generated[: _MAX_NAME.get(kind, 255)]

    def ref(self, logical_id: str) -> str:
        pseudo = self.pseudo(logical_id)
        if pseudo is not None:
            return pseudo
        kind = self.resources.get(logical_id, {}).get("Type", "")
        name = self.name(logical_id)
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
        if kind in ("AWS::SecretsManager::Secret", "AWS::StepFunctions::StateMachine"):
            return self.arn(logical_id)
        if kind == "AWS::SNS::Topic":
            return self.arn(logical_id)
        return name

    def arn(self, logical_id: str) -> str:
        kind = self.resources.get(logical_id, {}).get("Type", "")
        name = self.name(logical_id)
        service = kind.split("::")[1].lower() if kind.count("::") == 2 else "service"
        prefix = f"arn:aws:{service}:{REGION}:{ACCOUNT}:"
        return {
            "AWS::SQS::Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}",
            "AWS::SNS::Topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}",
            "AWS::DynamoDB::Table": f"{prefix}table/{name}",
            "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "AWS::IAM::ManagedPolicy": f"arn:aws:iam::{ACCOUNT}:policy/{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::Lambda::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
            "AWS::StepFunctions::StateMachine": f"arn:aws:states:{REGION}:{ACCOUNT}:"
            f"stateMachine:{name}",
            "AWS::SecretsManager::Secret": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:"
            f"secret:{name}-AbCdEf",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*",
            "AWS::KMS::Key": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/12345678-1234-1234-1234-"
            "123456789012",
        }.get(kind, f"{prefix}{kind.rsplit('::', 1)[-1].lower()}/{name}")

    def attribute(self, logical_id: str, attribute: str) -> str:
        if attribute == "Arn":
            return self.arn(logical_id)
        if attribute.endswith("Arn"):  # StreamArn and the like: the longest kind
            return f"{self.arn(logical_id)}/stream/2026-11-30T00:00:00.000"
        if attribute in ("QueueUrl",):
            return self.ref(logical_id)
        if attribute.endswith("Name"):
            return self.name(logical_id)
        if attribute.endswith("Id"):
            return "abcdefghij"
        return self.name(logical_id)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::GetAtt":
                logical_id, attribute = (
                    argument if isinstance(argument, list) else argument.split(".", 1)
                )
                return self.attribute(logical_id, attribute)
            if key == "Fn::Join":
                separator, parts = argument
                return separator.join(str(self(part)) for part in self(parts))
            if key == "Fn::Select":
                index, items = argument
                return self(items)[int(self(index))]
            if key == "Fn::Split":
                separator, text = argument
                return str(self(text)).split(separator)
            if key == "Fn::Sub":
                return self._sub(argument)
            if key == "Fn::If":
                _, yes, no = argument
                resolved = [self(yes), self(no)]
                return max(resolved, key=lambda item: len(json.dumps(item)))
            if key == "Fn::ImportValue":
                return "x" * 128
            if key == "Fn::GetAZs":
                return [f"{REGION}a", f"{REGION}b", f"{REGION}c"]
        return {key: self(item) for key, item in value.items()}

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {name: self(value) for name, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return str(values[name])
            if "." in name and self.pseudo(name) is None:
                return self.attribute(*name.split(".", 1))
            return self.ref(name)

        return re.sub(r"\$\{([^}!]+)\}", replace, text)


@dataclass(frozen=True)
class Violation:
    """One limit a template breaks: which, where, how big, and what to change."""

    limit: str
    logical_id: str
    size: int
    fix: str

    @property
    def message(self) -> str:
        limit = LIMITS[self.limit]
        return (
            f"{limit.name}: {self.logical_id} is {self.size:,} {limit.unit.split(' ')[0]}, "
            f"over AWS's limit of {limit.value:,} ({limit.source}). {self.fix}"
        )


def environment_size(variables: dict[str, Any]) -> int:
    """The bytes Lambda measures: its error names the compact JSON of the variables."""
    return len(json.dumps(variables, separators=(",", ":"), ensure_ascii=False).encode())


def function_environments(template: dict[str, Any], stack_name: str) -> dict[str, int]:
    """Each function's environment size, resolved as CloudFormation will resolve it."""
    resolve = RealisticResolver(template, stack_name)
    sizes = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        variables = resource.get("Properties", {}).get("Environment", {}).get("Variables", {})
        sizes[logical_id] = environment_size(resolve(variables))
    return sizes


def role_inline_policy_sizes(template: dict[str, Any], stack_name: str) -> dict[str, int]:
    """Each role's inline policies in total, resolved, in characters without whitespace."""
    resolve = RealisticResolver(template, stack_name)
    sizes: dict[str, int] = defaultdict(int)

    def characters(document: Any) -> int:
        return len(re.sub(r"\s", "", json.dumps(resolve(document), separators=(",", ":"))))

    for logical_id, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        if resource.get("Type") == "AWS::IAM::Role":
            sizes[logical_id] += sum(
                characters(policy.get("PolicyDocument", {}))
                + len(str(policy.get("PolicyName", "")))
                for policy in properties.get("Policies", [])
            )
        if resource.get("Type") == "AWS::IAM::Policy":
            size = characters(properties.get("PolicyDocument", {})) + len(
                str(resolve(properties.get("PolicyName", "")))
            )
            for role in properties.get("Roles", []):
                if isinstance(role, dict) and "Ref" in role:
                    sizes[role["Ref"]] += size
    return dict(sizes)


def directory_size(path: Path) -> int:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def check_template(
    template: dict[str, Any], stack_name: str, *, template_bytes: int, assets: Path | None = None
) -> list[Violation]:
    """Every limit the synthesized ``template`` breaks (none: it deploys as far as these go).

    ``template_bytes``: the template file's size; ``assets``: the cloud assembly's folder,
    where each function's asset directory (``asset.<hash>``) is measured."""
    found: list[Violation] = []
    for logical_id, size in function_environments(template, stack_name).items():
        if size > LIMITS["lambda_environment"].value:
            found.append(
                Violation(
                    "lambda_environment",
                    logical_id,
                    size,
                    "Keep settings that grow with use out of the environment: in the asset "
                    "(as the webhook sources are), derived (as the job queues' URLs are), or "
                    "in SSM Parameter Store; or set fewer or shorter values.",
                )
            )
    resources = len(template.get("Resources", {}))
    if resources > LIMITS["cloudformation_resources"].value:
        found.append(
            Violation(
                "cloudformation_resources",
                stack_name,
                resources,
                "Move constructs into a nested stack or a second stack, or configure fewer "
                "webhook sources (each adds a secret and an output).",
            )
        )
    if template_bytes > LIMITS["cloudformation_template"].value:
        found.append(
            Violation(
                "cloudformation_template",
                stack_name,
                template_bytes,
                "Split the stack (nested stacks), or shorten what repeats per source or hook.",
            )
        )
    for logical_id, size in role_inline_policy_sizes(template, stack_name).items():
        if size > LIMITS["iam_role_inline_policies"].value:
            found.append(
                Violation(
                    "iam_role_inline_policies",
                    logical_id,
                    size,
                    "Grant on fewer, broader resources (a secret name prefix instead of one "
                    "statement per secret), or move statements into a managed policy.",
                )
            )
    if assets is not None:
        found.extend(_asset_violations(template, assets))
    return found


def _asset_violations(template: dict[str, Any], assets: Path) -> Iterable[Violation]:
    measured: dict[str, int] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        key = resource.get("Properties", {}).get("Code", {}).get("S3Key")
        if not isinstance(key, str) or not key.endswith(".zip"):
            continue
        folder = assets / f"asset.{key.removesuffix('.zip')}"
        if not folder.is_dir():
            continue
        if key not in measured:
            measured[key] = directory_size(folder)
        if measured[key] > LIMITS["lambda_asset"].value:
            yield Violation(
                "lambda_asset",
                logical_id,
                measured[key],
                "Bundle fewer dependencies (hook packages' requirements count too), or ship "
                "the largest as a container image.",
            )


@jsii.implements(IPolicyValidationPlugin)
class LimitChecks:
    """The synth's check of AWS's limits, run as cdk-nag runs: findings fail the synth."""

    @property
    def name(self) -> str:
        return "AwsLimits"

    @property
    def version(self) -> str | None:
        return "1"

    @property
    def rule_ids(self) -> list[str] | None:
        return list(LIMITS)

    def validate(self, context: IPolicyValidationContext) -> PolicyValidationPluginReport:
        violations = []
        for template_path in context.template_paths:
            path = Path(template_path)
            template = json.loads(path.read_text())
            stack_name = path.name.removesuffix(".template.json")
            for violation in check_template(
                template,
                stack_name,
                template_bytes=os.path.getsize(path),
                assets=path.parent,
            ):
                violations.append(
                    PolicyViolation(
                        rule_name=violation.limit,
                        description=violation.message,
                        fix=violation.fix,
                        severity="error",
                        violating_resources=[
                            PolicyViolatingResource(
                                resource_logical_id=violation.logical_id,
                                template_path=template_path,
                                locations=[],
                            )
                        ],
                    )
                )
        return PolicyValidationPluginReport(success=not violations, violations=violations)
