"""Where the CLI finds the stack: the environment, or the stack's CloudFormation outputs.

In this order: the outputs of the stack named with ``--stack``; the environment, when
``JOB_QUEUES`` and ``ACTIONS_TABLE_NAME`` are both set there; the outputs of the stack named
by ``ACTIONS_STACK``, or ``ActionScheduler``. All the configuration comes from one of them.
``require_scheduler`` asks for the scheduler's settings. boto3's ``AWS_ENDPOINT_URL`` applies.
Why: docs/decisions/0029-the-cli-finds-the-stack-from-its-outputs.md
"""

from __future__ import annotations

import json
import os
from collections.abc import MutableMapping
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from infra.cli.errors import CliError

DEFAULT_STACK = "ActionScheduler"
# Stack output -> the environment variable the functions read.
OUTPUTS = {"JobQueues": "JOB_QUEUES", "ActionsTableName": "ACTIONS_TABLE_NAME"}
# Read when the stack has them (older stacks do not).
SCHEDULER_OUTPUTS = {
    "ScheduleGroupName": "SCHEDULE_GROUP",
    "SchedulerRoleArn": "SCHEDULER_ROLE_ARN",
    "SchedulerDeadLetterArn": "SCHEDULER_DEAD_LETTER_ARN",
}
OPTIONAL_OUTPUTS = {
    **SCHEDULER_OUTPUTS,
    "CircuitsTableName": "CIRCUITS_TABLE_NAME",
    # Where args above the inline threshold go (functions/payloads).
    "PayloadBucketName": "PAYLOAD_BUCKET_NAME",
    # The example saga's state machine (actionsctl saga).
    "OrderSagaArn": "ORDER_SAGA_ARN",
}
QUEUE_KEYS = {"url", "arn", "dead_letter_url", "dead_letter_arn"}
HINT = "pass --stack NAME, or set JOB_QUEUES and ACTIONS_TABLE_NAME"


def _cloudformation() -> Any:
    return boto3.client("cloudformation")


def configure(stack: str | None, environ: MutableMapping[str, str] | None = None) -> str:
    """Put the stack's configuration into the environment; return where it came from."""
    environ = os.environ if environ is None else environ
    if stack is None and all(environ.get(name) for name in OUTPUTS.values()):
        source = "environment"
    else:
        name = stack_name(stack, environ)
        outputs = stack_outputs(name)
        for variable in OPTIONAL_OUTPUTS.values():
            if variable not in outputs:
                environ.pop(variable, None)  # not another stack's, nor the shell's
        environ.update(outputs)
        source = f"stack {name}"
    check_job_queues(environ["JOB_QUEUES"], source)
    # The functions cache what they read from the environment; read it again.
    from functions import settings

    settings.reset()
    return source


def stack_name(stack: str | None, environ: MutableMapping[str, str] | None = None) -> str:
    """The stack to read: ``--stack``, else ``ACTIONS_STACK``, else ``ActionScheduler``."""
    environ = os.environ if environ is None else environ
    return stack or environ.get("ACTIONS_STACK") or DEFAULT_STACK


def all_outputs(name: str, hint: str = HINT) -> dict[str, str]:
    """Every output of the stack, by key; a stack that cannot be read is a ``CliError``."""
    try:
        stacks = _cloudformation().describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", str(exc))
        raise CliError(f"cannot read stack {name!r}: {message} ({hint})") from None
    except BotoCoreError as exc:
        raise CliError(f"cannot read stack {name!r}: {exc} ({hint})") from None
    return {
        output["OutputKey"]: output.get("OutputValue", "")
        for output in (stacks[0].get("Outputs") or [] if stacks else [])
    }


def stack_outputs(name: str) -> dict[str, str]:
    """The stack's outputs the functions need, as environment variables."""
    outputs = all_outputs(name)
    missing = [key for key in OUTPUTS if not outputs.get(key)]
    if missing:
        raise CliError(f"stack {name!r} has no output {', '.join(missing)} ({HINT})")
    return {
        variable: outputs[key]
        for key, variable in {**OUTPUTS, **OPTIONAL_OUTPUTS}.items()
        if outputs.get(key)
    }


def require_scheduler(source: str, environ: MutableMapping[str, str] | None = None) -> None:
    """Refuse, naming what is missing, unless the scheduler's configuration is there.

    ``source`` is what ``configure`` returned. Without the group the schedules would
    go to (or be deleted from) the wrong group; without the role they cannot send.
    """
    environ = os.environ if environ is None else environ
    missing = {
        key: variable for key, variable in SCHEDULER_OUTPUTS.items() if not environ.get(variable)
    }
    if not missing:
        return
    if source.startswith("stack "):
        raise CliError(
            f"stack {source.removeprefix('stack ')!r} has no output {', '.join(missing)}, "
            "which EventBridge schedules "
            "need (deploy the stack again)"
        )
    raise CliError(
        f"the environment has no {', '.join(missing.values())}, which EventBridge "
        "schedules need (set them, or pass --stack NAME)"
    )


def check_job_queues(raw: str, source: str) -> None:
    try:
        document = json.loads(raw)
    except ValueError:
        raise CliError(f"JOB_QUEUES from the {source} is not JSON") from None
    if not isinstance(document, dict) or not all(
        isinstance(spec, dict) and set(spec) == QUEUE_KEYS for spec in document.values()
    ):
        raise CliError(
            f"JOB_QUEUES from the {source} must map queue names to objects with "
            f"{', '.join(sorted(QUEUE_KEYS))}"
        )
