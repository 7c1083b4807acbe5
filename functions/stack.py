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
from collections.abc import Mapping

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
    name = environ.get(STACK_VARIABLE)
    if not name or all(environ.get(variable) for variable in REQUIRED.values()):
        return environ
    kept = {key: value for key, value in environ.items() if not from_stack(key)}
    return {**kept, **variables(name)}


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
