"""The registry of saga tasks: the state machine names a task; this finds its function.

A step raises ``TransientError`` when a retry may help (the state machine retries it
with backoff) and ``PermanentError`` when it cannot; anything else counts as
transient. A compensation returns normally once its effect is undone.

Each run is counted by task: ``SagaStepsCompleted``/``SagaStepsRaised`` for steps,
``SagaCompensationsCompleted``/``SagaCompensationsRaised`` for compensations. A task
cannot know how its execution ends (the state machine decides what follows, and
retries); the executions' outcomes are Step Functions' own ``AWS/States`` metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from functions.actions.exceptions import InvalidAction
from functions.metrics import Metric
from functions.observability import add_metric, logger
from functions.sagas import claim

# Where the starter of a saga puts what correlates its executions' logs with the
# action (and webhook delivery) that started it: a key of the saga's input, which
# the state machine hands every task.
ORIGIN_KEY = "origin"

Task = Callable[[dict[str, Any]], dict[str, Any] | None]
_TASKS: dict[str, Task] = {}


def task(name: str) -> Callable[[Task], Task]:
    def register(function: Task) -> Task:
        if name in _TASKS and _TASKS[name] is not function:
            raise ValueError(f"saga task {name!r} is registered twice")
        _TASKS[name] = function
        return function

    return register


@dataclass(frozen=True)
class Origin:
    """The action that started a saga, and its correlation id (None when not known)."""

    action_id: str | None = None
    correlation_id: str | None = None


def origin_input(action_id: str, correlation_id: str) -> dict[str, dict[str, str]]:
    """What a starter adds to the saga's input so its tasks log the same correlation id."""
    return {ORIGIN_KEY: {"action_id": action_id, "correlation_id": correlation_id}}


def origin(event: dict[str, Any]) -> Origin:
    """The origin a task event carries in its input, if its starter gave one."""
    saga_input = event.get("input")
    found = saga_input.get(ORIGIN_KEY) if isinstance(saga_input, dict) else None
    if not isinstance(found, dict):
        return Origin()
    action_id, correlation_id = found.get("action_id"), found.get("correlation_id")
    return Origin(
        action_id=action_id if isinstance(action_id, str) else None,
        correlation_id=correlation_id if isinstance(correlation_id, str) else None,
    )


def run(event: dict[str, Any]) -> dict[str, Any]:
    """Run the task the event names; a compensation also adds itself to ``compensated``."""
    name = str(event.get("task") or "")
    function = _TASKS.get(name)
    if function is None:
        raise InvalidAction(f"no saga task is registered as {name!r}")
    compensation = bool(event.get("compensation"))
    try:
        # An order too large for Step Functions is loaded from the payload bucket.
        result = function(claim.check_out(event.get("input") or {})) or {}
    except Exception as exc:
        # ``name`` is a registered task here: a small, closed set of dimension values.
        raised = Metric.SAGA_COMPENSATIONS_RAISED if compensation else Metric.SAGA_STEPS_RAISED
        add_metric(raised, task=name)
        if compensation:  # one line; the state machine retries it, then gives up
            error = f"{type(exc).__name__}: {exc}"
            logger.warning("compensation raised", extra={"compensation": name, "error": error})
        raise
    completed = Metric.SAGA_COMPENSATIONS_COMPLETED if compensation else Metric.SAGA_STEPS_COMPLETED
    add_metric(completed, task=name)
    if compensation:
        logger.info("compensation ran", extra={"compensation": name})
        return {"compensated": [*(event.get("compensated") or []), name]}
    return result
