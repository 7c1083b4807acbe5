"""Step Functions: starting saga executions, and reading them back (``listed``,
``described``: what ``actionsctl saga`` shows). This module owns the client."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from functions.clients import lazy_client
from functions.sagas import tasks
from functions.sagas.outcomes import describe_error

_sfn = lazy_client("stepfunctions")
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def execution_name(prefix: str, business_id: str) -> str:
    """A name derived from the business id: starting twice cannot run the saga twice."""
    return f"{prefix}-{_NAME_UNSAFE.sub('_', business_id)}"[:80]


def start(state_machine_arn: str, name: str, saga_input: dict[str, Any]) -> tuple[str, bool]:
    """Start an execution; return its ARN and whether this call started it.

    A repeated start with the same name finds the first execution instead (Step
    Functions keeps execution names unique per state machine for 90 days).

    Each call adds its own ``start_request`` id to the input. Step Functions answers a
    repeat with the same name *and the same input* while the first execution still runs
    with that execution's ARN, as if it had started it; a different input makes every
    repeat fail with ``ExecutionAlreadyExists``, so "started" is true of one call only.
    (botocore's own retries of one call resend the same input, and stay idempotent.)
    """
    request = {**saga_input, "start_request": uuid.uuid4().hex}
    try:
        response = _sfn().start_execution(
            stateMachineArn=state_machine_arn, name=name, input=json.dumps(request)
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
            raise
        return execution_arn(state_machine_arn, name), False
    return response["executionArn"], True


def execution_arn(state_machine_arn: str, name: str) -> str:
    """The ARN of the state machine's execution called ``name``."""
    return state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"


@dataclass(frozen=True)
class Execution:
    """A saga's execution as an operator reads it. ``input`` is the saga's own input
    (the order), without what starters and the runtime add; ``error`` one line;
    ``states`` the states it entered, in order (a retried task once per entry)."""

    arn: str
    name: str
    status: str
    started: datetime
    stopped: datetime | None = None
    origin: tasks.Origin = field(default_factory=tasks.Origin)
    input: Any = None
    error: str = ""
    states: tuple[str, ...] = ()

    def to_document(self) -> dict[str, Any]:
        return {
            "arn": self.arn,
            "name": self.name,
            "status": self.status,
            "started": self.started.isoformat(),
            "stopped": self.stopped.isoformat() if self.stopped else None,
            "action_id": self.origin.action_id,
            "correlation_id": self.origin.correlation_id,
            "input": self.input,
            "error": self.error,
            "states": list(self.states),
        }


def listed(
    state_machine_arn: str, *, status: str | None = None, limit: int = 50
) -> list[Execution]:
    """The state machine's executions, newest first (one ``ListExecutions`` a page)."""
    params: dict[str, Any] = {"stateMachineArn": state_machine_arn}
    if status:
        params["statusFilter"] = status
    found: list[Execution] = []
    for page in _sfn().get_paginator("list_executions").paginate(**params):
        for item in page["executions"]:
            found.append(
                Execution(
                    arn=item["executionArn"],
                    name=item["name"],
                    status=item["status"],
                    started=item["startDate"],
                    stopped=item.get("stopDate"),
                )
            )
        if len(found) >= limit:
            break
    found.sort(key=lambda execution: execution.started, reverse=True)
    return found[:limit]


def described(state_machine_arn: str, name_or_arn: str) -> Execution | None:
    """One execution, by name or ARN, with its input, error and states; None if none."""
    arn = (
        name_or_arn
        if ":execution:" in name_or_arn
        else execution_arn(state_machine_arn, name_or_arn)
    )
    try:
        found = _sfn().describe_execution(executionArn=arn)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("ExecutionDoesNotExist", "InvalidArn"):
            return None
        raise
    execution_input = json.loads(found.get("input") or "{}")
    saga_input = execution_input.get("input") if isinstance(execution_input, dict) else None
    return Execution(
        arn=arn,
        name=found["name"],
        status=found["status"],
        started=found["startDate"],
        stopped=found.get("stopDate"),
        origin=tasks.origin(execution_input if isinstance(execution_input, dict) else {}),
        input=(
            {k: v for k, v in saga_input.items() if k != tasks.ORIGIN_KEY}
            if isinstance(saga_input, dict)
            else saga_input
        ),
        error=describe_error(found.get("error"), found.get("cause")),
        states=_states(arn),
    )


def _states(arn: str) -> tuple[str, ...]:
    """The names of the states the execution entered, in order."""
    names: list[str] = []
    pages = (
        _sfn()
        .get_paginator("get_execution_history")
        .paginate(executionArn=arn, includeExecutionData=False)
    )
    for page in pages:
        for event in page["events"]:
            entered = event.get("stateEnteredEventDetails")
            if entered:
                names.append(entered["name"])
    return tuple(names)
