"""Step Functions, locally: the deployed state machine run by moto's interpreter.

``inprocess_lambdas`` makes moto's interpreter run Lambda tasks by calling Python
handlers, and records the retry intervals; it waits them on a clock when given one (the
local cloud's), else skips them (tests). When an execution ends, it puts Step Functions'
"Execution Status Change" event on moto's EventBridge, whose rules send it on (the saga
outcomes queue). Built against moto 5.2.x's internals.
Why: docs/decisions/0028-step-functions-locally-through-a-seam-in-moto.md
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import types
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from unittest import mock

from functions.sagas.ended import DETAIL_TYPE
from infra.local.lambda_runtime import LocalContext

if TYPE_CHECKING:
    from infra.local.scheduler_clock import Clock

Handler = Callable[[Any, Any], Any]


def _function_name(function: str) -> str:
    """``my-fn`` from a name, a full ARN, or a qualified ARN (``...:function:my-fn:$LATEST``)."""
    if ":function:" in function:
        return function.split(":function:", 1)[1].split(":", 1)[0]
    return function


def _payload(raw: Any) -> Any:
    if raw is None:
        return {}
    if isinstance(raw, (bytes, bytearray)):
        raw = raw.decode("utf-8")
    if isinstance(raw, str):
        return json.loads(raw) if raw else {}
    return raw


@contextlib.contextmanager
def inprocess_lambdas(
    registry: dict[str, Handler], *, clock: Clock | None = None
) -> Iterator[list[float]]:
    """Run Step Functions' Lambda tasks with ``registry[<function name>](event, context)``.

    Use inside ``mock_aws(config={"stepfunctions": {"execute_state_machine": True}})``.
    A handler's exception becomes an unhandled function error whose ``errorType`` is
    the exception's class name, as the Lambda runtime reports it, so Retry and Catch
    match ``TransientError`` and friends. Yields the list of retry intervals (seconds)
    the interpreter asked to sleep. With a ``clock``, a retry waits its interval on that
    clock, as Step Functions waits it; without one, nothing waits. Leaving the context
    ends every wait (the execution goes on at once).
    """
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import (
        lambda_eval_utils,
    )
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    slept: list[float] = []
    lock = threading.Lock()
    stopped = threading.Event()

    def sleep(seconds: float) -> None:
        with lock:
            slept.append(seconds)
        if clock is not None:
            clock.wait_until(clock.now() + timedelta(seconds=seconds), stopped)

    def invoke(parameters: dict[str, Any], region: str, state_credentials: Any) -> dict[str, Any]:
        name = _function_name(str(parameters["FunctionName"]))
        handler = registry.get(name)
        if handler is None:
            return _error(LookupError(f"no local handler is registered for function {name!r}"))
        try:
            result = handler(_payload(parameters.get("Payload")), LocalContext(function_name=name))
        except Exception as exc:  # the Lambda runtime reports any exception
            return _error(exc)
        return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": result}

    # The interpreter's own end of an execution, then its event; nested seams announce once.
    current = BaseExecutionWorkerCommunication.terminated
    ended = getattr(current, "announcing", current)

    def terminated(communication: Any) -> None:
        ended(communication)
        _announce(communication.execution)

    terminated.announcing = ended  # type: ignore[attr-defined]

    parser_log = logging.getLogger("moto.stepfunctions.parser")
    previous_level = parser_log.level
    parser_log.setLevel(logging.CRITICAL)
    try:
        with (
            mock.patch.object(lambda_eval_utils, "_invoke_lambda_function", invoke),
            mock.patch.object(retrier_decl, "time", types.SimpleNamespace(sleep=sleep)),
            mock.patch.object(BaseExecutionWorkerCommunication, "terminated", terminated),
        ):
            yield slept
    finally:
        stopped.set()
        parser_log.setLevel(previous_level)


def _error(exc: BaseException) -> dict[str, Any]:
    return {
        "StatusCode": 200,
        "ExecutedVersion": "$LATEST",
        "FunctionError": "Unhandled",
        "Payload": {
            "errorType": type(exc).__name__,
            "errorMessage": str(exc),
            "requestId": "",
            "stackTrace": [],
        },
    }


def _announce(execution: Any) -> None:
    """Put the ended execution's status change event on moto's default event bus, as Step
    Functions puts it on EventBridge's; moto matches it to the rules and sends it on."""
    from moto.events.models import events_backends

    def millis(moment: Any) -> int | None:
        return None if moment is None else int(moment.timestamp() * 1000)

    output = execution.output
    detail = {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine_arn,
        "name": execution.name,
        "status": getattr(execution.exec_status, "value", str(execution.exec_status)),
        "startDate": millis(execution.start_date),
        "stopDate": millis(execution.stop_date),
        "input": json.dumps(execution.input_data, separators=(",", ":")),
        "inputDetails": {"included": True},
        "output": None if output is None else json.dumps(output, separators=(",", ":")),
        "outputDetails": None if output is None else {"included": True},
        "error": execution.error,
        "cause": execution.cause,
    }
    event = {
        "Source": "aws.states",
        "DetailType": DETAIL_TYPE,
        "Detail": json.dumps(detail),
        "Resources": [execution.exec_arn],
    }
    try:
        events_backends[execution.account_id][execution.region_name].put_events([event])
    except Exception:  # a lost event is a lost outcome: say so, the execution is over anyway
        logging.getLogger(__name__).exception("the end of %s was not announced", execution.name)
