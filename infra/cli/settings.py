"""Where the CLI finds the stack: the environment, or the stack's CloudFormation outputs.

In this order: the outputs of the stack named with ``--stack``; the environment, when
``JOB_QUEUES`` and ``ACTIONS_TABLE_NAME`` are both set there; the outputs of the stack named
by ``ACTION_SCHEDULER_STACK``, or ``ActionScheduler``. All the configuration comes from one
of them. The outputs are read by ``functions.stack``, as a team's own app reads them.
``require_scheduler`` asks for the scheduler's settings. boto3's ``AWS_ENDPOINT_URL`` applies.
Why: docs/decisions/0029-the-cli-finds-the-stack-from-its-outputs.md
"""

from __future__ import annotations

import json
import os
from collections.abc import MutableMapping

from functions import stack
from functions.actions.config import expand_compact
from infra.cli.errors import CliError

DEFAULT_STACK = stack.DEFAULT_STACK
QUEUE_KEYS = {"url", "arn", "dead_letter_url", "dead_letter_arn"}
NAMING = f"pass --stack NAME, or set {stack.STACK_VARIABLE}"


def configure(name: str | None, environ: MutableMapping[str, str] | None = None) -> str:
    """Put the stack's configuration into the environment; return where it came from."""
    environ = os.environ if environ is None else environ
    if name is None and all(environ.get(variable) for variable in stack.REQUIRED.values()):
        source = "environment"
    else:
        name = stack_name(name, environ)
        found = stack_variables(name)
        for variable in [variable for variable in environ if stack.from_stack(variable)]:
            del environ[variable]  # not another stack's, nor the shell's
        environ.update(found)
        source = f"stack {name}"
    check_job_queues(environ["JOB_QUEUES"], source)
    # The functions cache what they read from the environment; read it again.
    from functions import settings

    settings.reset()
    return source


def stack_name(name: str | None, environ: MutableMapping[str, str] | None = None) -> str:
    """The stack to read: ``--stack``, else ``ACTION_SCHEDULER_STACK``, else ``ActionScheduler``."""
    environ = os.environ if environ is None else environ
    return name or environ.get(stack.STACK_VARIABLE) or DEFAULT_STACK


def stack_variables(name: str) -> dict[str, str]:
    """The stack's outputs as the functions' environment variables; else a ``CliError``."""
    try:
        return stack.variables(name, NAMING)
    except stack.StackUnavailable as exc:
        raise CliError(str(exc)) from None


def all_outputs(name: str) -> dict[str, str]:
    """Every output of the stack, by key; a stack that cannot be read is a ``CliError``."""
    try:
        return stack.read_outputs(name, NAMING)
    except stack.StackUnavailable as exc:
        raise CliError(str(exc)) from None


def require_scheduler(source: str, environ: MutableMapping[str, str] | None = None) -> None:
    """Refuse, naming what is missing, unless the scheduler's configuration is there.

    ``source`` is what ``configure`` returned. Without the group the schedules would
    go to (or be deleted from) the wrong group; without the role they cannot send.
    """
    environ = os.environ if environ is None else environ
    missing = {
        key: variable for key, variable in stack.SCHEDULER.items() if not environ.get(variable)
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
    if isinstance(document, dict) and isinstance(document.get("queues"), dict):
        # The functions' compact form (URL and ARN prefixes, names): expanded when read.
        try:
            document = expand_compact(document)
        except (KeyError, TypeError, ValueError):
            raise CliError(
                f"JOB_QUEUES from the {source} is neither its full nor its compact form"
            ) from None
    if not isinstance(document, dict) or not all(
        isinstance(spec, dict) and set(spec) == QUEUE_KEYS for spec in document.values()
    ):
        raise CliError(
            f"JOB_QUEUES from the {source} must map queue names to objects with "
            f"{', '.join(sorted(QUEUE_KEYS))}"
        )
