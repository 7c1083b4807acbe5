"""What a hook's return value makes of its action: complete, or waiting for its saga.

A value goes into the action's log (docs/decisions/0008-hook-return-values-in-the-log.md);
``AwaitSaga`` keeps the action in progress until the saga it started ends
(docs/decisions/0036-a-saga-reports-its-outcome-to-its-action.md).
"""

from __future__ import annotations

from typing import Any

from functions.actions import store
from functions.actions.hooks import AwaitSaga

RESULT_LIMIT = 500  # characters of a return value the log keeps


def record(action: store.Action, result: Any) -> str:
    """Record the run whose hook returned ``result``; the log line that says what it did."""
    if not isinstance(result, AwaitSaga):
        store.complete(action, "" if result is None else str(result)[:RESULT_LIMIT])
        return "action completed"
    note = str(result)[:RESULT_LIMIT]
    waited = store.await_saga(action, result.execution_arn, note, result.wait_seconds)
    if waited.status is store.ActionStatus.IN_PROGRESS:
        return "waiting for its saga"
    return f"action {waited.status}: its saga had ended"
