"""The registry of saga tasks: the state machine names a task; this finds its function.

A step raises ``TransientError`` when a retry may help (the state machine retries it
with backoff) and ``PermanentError`` when it cannot; anything else counts as
transient. A compensation returns normally once its effect is undone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from functions.actions.exceptions import InvalidAction

Task = Callable[[dict[str, Any]], dict[str, Any] | None]
_TASKS: dict[str, Task] = {}


def task(name: str) -> Callable[[Task], Task]:
    def register(function: Task) -> Task:
        if name in _TASKS and _TASKS[name] is not function:
            raise ValueError(f"saga task {name!r} is registered twice")
        _TASKS[name] = function
        return function

    return register


def run(event: dict[str, Any]) -> dict[str, Any]:
    """Run the task the event names; a compensation also adds itself to ``compensated``."""
    name = event.get("task")
    function = _TASKS.get(name or "")
    if function is None:
        raise InvalidAction(f"no saga task is registered as {name!r}")
    result = function(event.get("input") or {}) or {}
    if event.get("compensation"):
        return {"compensated": [*(event.get("compensated") or []), name]}
    return result
