"""The stack's configuration for a process it did not deploy: its CloudFormation outputs.

The stack's functions find their queues, tables, schedule group and bucket in the
environment the stack gives them. Any other process (``actionsctl``, a team's own app, a
script) names the stack instead, ``ACTION_SCHEDULER_STACK=ActionScheduler``, and the
settings readers (functions/settings.py) read the same variables from the stack's
outputs: nothing else is set by hand. Only a process that names a stack and does not
itself set ``JOB_QUEUES`` and ``ACTIONS_TABLE_NAME`` asks CloudFormation, once.

Every failure to read the stack is a ``StackUnavailable`` whose message names the
setting to fix: the stack's name, the credentials, the region, or ``AWS_ENDPOINT_URL``
(the local cloud's endpoint).
Why: docs/decisions/0029-the-cli-finds-the-stack-from-its-outputs.md,
0039-settings-found-from-the-stack.md
"""

from __future__ import annotations

import functools
import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from functions.clients import lazy_client

STACK_VARIABLE = "ACTION_SCHEDULER_STACK"
DEFAULT_STACK = "ActionScheduler"
# Stack output -> the environment variable the functions read. Without these two, no
# action can be enqueued or read.
REQUIRED = {"JobQueues": "JOB_QUEUES", "ActionsTableName": "ACTIONS_TABLE_NAME"}
SCHEDULER = {
    "ScheduleGroupName": "SCHEDULE_GROUP",
    "SchedulerRoleArn": "SCHEDULER_ROLE_ARN",
    "SchedulerDeadLetterArn": "SCHEDULER_DEAD_LETTER_ARN",
}
# Read when the stack has them (older stacks do not).
OPTIONAL = {
    **SCHEDULER,
    "CircuitsTableName": "CIRCUITS_TABLE_NAME",
    "PayloadBucketName": "PAYLOAD_BUCKET_NAME",
    # The example saga's state machine (actionsctl saga).
    "OrderSagaArn": "ORDER_SAGA_ARN",
    # GET (IAM-signed): the hooks the worker runs (``hooks`` below).
    "HooksUrl": "HOOKS_URL",
}
# A JSON object of the health function's HEALTH_* variables.
HEALTH_OUTPUT = "HealthSettings"
HEALTH_PREFIX = "HEALTH_"
# What the local cloud prints for a second terminal (``make run``'s banner).
LOCAL_CLOUD = (
    "for the local cloud: export AWS_ENDPOINT_URL=http://127.0.0.1:4566 "
    "AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local"
)
NAME_IT = f"set {STACK_VARIABLE} to the name it was deployed under"

_cloudformation = lazy_client("cloudformation")


class StackUnavailable(RuntimeError):
    """The stack's configuration could not be read; the message says what to set."""


def from_stack(variable: str) -> bool:
    """Whether ``variable`` is one the stack's outputs give (so the environment's is not used)."""
    return (
        variable in REQUIRED.values()
        or variable in OPTIONAL.values()
        or (variable.startswith(HEALTH_PREFIX))
    )


def environment(environ: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """What the settings readers read: ``environ`` (``os.environ``) as it is, unless it
    names a stack in ``ACTION_SCHEDULER_STACK`` and does not set ``JOB_QUEUES`` and
    ``ACTIONS_TABLE_NAME`` itself; then the stack's variables over the rest of it.

    All the variables the outputs give come from the stack, none from the environment:
    never one stack's queues with another's table.
    """
    environ = os.environ if environ is None else environ
    name = named(environ)
    if name is None:
        return environ
    kept = {key: value for key, value in environ.items() if not from_stack(key)}
    return {**kept, **variables(name)}


def named(environ: Mapping[str, str]) -> str | None:
    """The stack a process outside it names: ``ACTION_SCHEDULER_STACK``, unless the
    environment sets ``JOB_QUEUES`` and ``ACTIONS_TABLE_NAME`` itself (a stack's function,
    the tests)."""
    name = environ.get(STACK_VARIABLE)
    if not name or all(environ.get(variable) for variable in REQUIRED.values()):
        return None
    return name


def hooks(environ: Mapping[str, str] | None = None) -> dict[str, dict[str, Any]] | None:
    """The hooks the stack's worker runs, name -> policy, from its actions API (``GET``
    the ``HooksUrl`` output, SigV4-signed with this process's credentials), for a process
    outside the stack: one that names it, or has its variables (``actionsctl`` copies
    them into its environment). None for any other. The stack's functions read the same
    from the manifest in their asset: no process that only enqueues imports a hook.
    Why: docs/decisions/0054-processes-outside-the-stack-read-their-hooks-from-it.md"""
    environ = os.environ if environ is None else environ
    name = named(environ)
    url = (variables(name) if name is not None else environ).get("HOOKS_URL")
    if not url:
        if name is None:
            return None
        raise StackUnavailable(
            f"stack {name!r} has no output HooksUrl: it was deployed by an older version; "
            "deploy it again"
        )
    document = _signed_get(url, name or environ.get(STACK_VARIABLE) or DEFAULT_STACK)
    described = document.get("hooks") if isinstance(document, dict) else None
    if not isinstance(described, dict):
        raise StackUnavailable(f"GET {url} did not answer a hooks document")
    return described


def _signed_get(url: str, name: str) -> Any:
    """``GET url`` signed for API Gateway (execute-api) as the AWS CLI would sign it."""
    import boto3
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    if not url.startswith(("https://", "http://")):
        raise StackUnavailable(f"stack {name!r}: HooksUrl is not an HTTP URL: {url!r}")
    session = boto3.session.Session()
    credentials = session.get_credentials()
    if credentials is None:
        raise StackUnavailable(
            f"cannot read the hooks of stack {name!r}: " + unreachable(NoCredentialsError())
        )
    if session.region_name is None:
        raise StackUnavailable(
            f"cannot read the hooks of stack {name!r}: " + unreachable(NoRegionError())
        )
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(credentials.get_frozen_credentials(), "execute-api", session.region_name).add_auth(
        request
    )
    sent = urllib.request.Request(url, headers=dict(request.headers), method="GET")  # noqa: S310
    try:
        with urllib.request.urlopen(sent, timeout=10) as answer:  # noqa: S310 - checked above
            return json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 403:
            raise StackUnavailable(
                f"GET {url} of stack {name!r} was refused (403): this process's role may not "
                "call the actions API; attach the stack's managed policy (output "
                "ActionsApiPolicyArn) to it"
            ) from None
        raise StackUnavailable(f"GET {url} of stack {name!r} answered {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        raise StackUnavailable(f"cannot read the hooks of stack {name!r} at {url}: {exc}") from None


@functools.cache
def variables(name: str, naming: str = NAME_IT) -> dict[str, str]:
    """The stack's outputs as the environment variables the functions read (cached per
    process; ``functions.settings.reset()`` forgets them). ``naming`` is the hint for a
    stack that does not exist: how the caller names another."""
    outputs = read_outputs(name, naming)
    missing = [key for key in REQUIRED if not outputs.get(key)]
    if missing:
        raise StackUnavailable(
            f"stack {name!r} has no output {', '.join(missing)}: it is not an action "
            f"scheduler stack, or an old one (deploy it again), or {naming}"
        )
    found = {
        variable: outputs[key]
        for key, variable in {**REQUIRED, **OPTIONAL}.items()
        if outputs.get(key)
    }
    for variable, value in json.loads(outputs.get(HEALTH_OUTPUT) or "{}").items():
        found[variable] = value if isinstance(value, str) else json.dumps(value)
    return found


def read_outputs(name: str, naming: str = NAME_IT) -> dict[str, str]:
    """Every output of the stack, by key; a stack that cannot be read is ``StackUnavailable``."""
    try:
        stacks = _cloudformation().describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", str(exc))
        if "does not exist" in message:
            raise StackUnavailable(
                f"cannot read stack {name!r}: {message} in {where()}: {naming}"
                + ("" if os.environ.get("AWS_ENDPOINT_URL") else f"; {LOCAL_CLOUD}")
            ) from None
        raise StackUnavailable(f"cannot read stack {name!r}: {message}") from None
    except BotoCoreError as exc:
        raise StackUnavailable(f"cannot read stack {name!r}: {unreachable(exc)}") from None
    return {
        output["OutputKey"]: output.get("OutputValue", "")
        for output in (stacks[0].get("Outputs") or [] if stacks else [])
    }


def where() -> str:
    """The region, and the endpoint if it is not AWS's: where a stack was looked for."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "?"
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    return f"{region} at {endpoint}" if endpoint else region


def unreachable(exc: BotoCoreError) -> str:
    """Why AWS (or the local cloud) could not be asked, and the setting that fixes it."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if isinstance(exc, EndpointConnectionError) and endpoint:
        return (
            f"nothing answers at {endpoint} (AWS_ENDPOINT_URL): start the local cloud "
            "(make run), or unset AWS_ENDPOINT_URL to use AWS"
        )
    if isinstance(exc, NoCredentialsError):
        return (
            "no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
            f"AWS_SECRET_ACCESS_KEY ({LOCAL_CLOUD})"
        )
    if isinstance(exc, NoRegionError):
        return f"no AWS region: set AWS_DEFAULT_REGION ({LOCAL_CLOUD})"
    return str(exc)
