"""Step Functions: starting saga executions. This module owns the client."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from botocore.exceptions import ClientError

from functions.clients import lazy_client

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
        arn = state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
        return arn, False
    return response["executionArn"], True
