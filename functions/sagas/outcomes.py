"""How a saga ended, recorded on the action that started it.

Step Functions sends an "Execution Status Change" event to EventBridge when an execution
succeeds, fails, times out or is aborted; a rule per saga puts it on the saga outcomes
queue, whose function calls ``record``. The execution's input carries the origin (the
action that started it: ``functions.sagas.tasks.origin_input``). An action waiting for
the saga completes, or fails with the saga's error; any other gets a log entry.
Why: docs/decisions/0036-a-saga-reports-its-outcome-to-its-action.md
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from functions.actions import store
from functions.observability import logger
from functions.sagas import tasks
from functions.sagas.ended import DETAIL_TYPE, STATUSES


@dataclass(frozen=True)
class Ended:
    """An execution that ended, as its status change event says."""

    execution_arn: str
    status: str
    error: str  # one line: the error, its message, the compensations that ran
    origin: tasks.Origin

    @property
    def outcome(self) -> store.SagaOutcome:
        return store.SagaOutcome(self.execution_arn, self.status, self.error)


def parse(event: dict[str, Any]) -> Ended:
    """The ended execution an EventBridge event describes; ValueError if it is not one."""
    detail = event.get("detail")
    if event.get("detail-type") != DETAIL_TYPE or not isinstance(detail, dict):
        raise ValueError(f"not a Step Functions status change: {event.get('detail-type')!r}")
    arn, status = detail.get("executionArn"), detail.get("status")
    if not isinstance(arn, str) or status not in STATUSES:
        raise ValueError(f"not an ended execution: {arn!r} {status!r}")
    # The input is left out of the event above 248 KiB: then the origin is not known.
    execution_input = _json(detail.get("input"))
    origin = tasks.origin(execution_input) if isinstance(execution_input, dict) else tasks.Origin()
    return Ended(arn, status, describe_error(detail.get("error"), detail.get("cause")), origin)


def record(ended: Ended) -> store.Action | None:
    """Log that the saga ended, and record it on the action that started it, if any."""
    logger.set_correlation_id(ended.origin.correlation_id or ended.outcome.execution_name)
    fields = {
        "execution": ended.outcome.execution_name,
        "status": ended.status,
        "action_id": ended.origin.action_id,
        "error": ended.error or None,
    }
    if ended.status == "SUCCEEDED":
        logger.info("saga succeeded", extra=fields)
    else:
        logger.warning(f"saga {ended.status.lower().replace('_', ' ')}", extra=fields)
    if ended.origin.action_id is None:
        return None
    action = store.record_saga_outcome(ended.origin.action_id, ended.outcome)
    if action is None:
        logger.warning("the action that started the saga is gone", extra=fields)
    return action


def describe_error(error: Any, cause: Any) -> str:
    """The error in one line: ``PermanentError: create_shipment failed; compensated:
    cancel_shipment, refund_payment``. ``cause`` is the saga's summary (infra's Saga
    construct), a Lambda error, or text."""
    if not error:
        return ""
    summary = _json(cause)
    if isinstance(summary, dict) and "compensated" in summary:
        text = f"{error}: {_message(summary.get('cause'))}"
        compensated = summary.get("compensated") or []
        return f"{text}; compensated: {', '.join(map(str, compensated)) or 'nothing'}"
    message = _message(cause)
    return f"{error}: {message}" if message else str(error)


def _message(cause: Any) -> str:
    """A Lambda error's message (``{"errorType", "errorMessage", ...}``), or the text."""
    found = _json(cause)
    if isinstance(found, dict) and "errorMessage" in found:
        return str(found["errorMessage"])
    return " ".join(str(cause or "").split())


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
