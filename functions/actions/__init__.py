"""Actions: named hooks with JSON args and a group, run asynchronously by the worker.

The public API mirrors WordPress's Action Scheduler; import it from here.

Each name is loaded from its module on first use (PEP 562), so that importing one
submodule (``functions.actions.exceptions`` from a saga task, ``functions.actions.hooks``
from a hook module) does not load the whole scheduling API with it: a function pays,
at cold start, for the parts it uses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from functions.actions.api import (
        enqueue_async_action,
        schedule_cron_action,
        schedule_recurring_action,
        schedule_single_action,
    )
    from functions.actions.exceptions import (
        ActionError,
        ActionTooLarge,
        DuplicateAction,
        InvalidAction,
        PermanentError,
        TransientError,
    )
    from functions.actions.hooks import ActionContext, hook
    from functions.actions.queries import (
        cancel_action,
        count_scheduled_actions,
        get_scheduled_actions,
        has_scheduled_action,
        next_scheduled_action,
        run_action_now,
        unschedule_action,
        unschedule_all_actions,
    )

# Public name -> the submodule that defines it.
_EXPORTS = {
    "enqueue_async_action": "api",
    "schedule_cron_action": "api",
    "schedule_recurring_action": "api",
    "schedule_single_action": "api",
    "ActionError": "exceptions",
    "ActionTooLarge": "exceptions",
    "DuplicateAction": "exceptions",
    "InvalidAction": "exceptions",
    "PermanentError": "exceptions",
    "TransientError": "exceptions",
    "ActionContext": "hooks",
    "hook": "hooks",
    "cancel_action": "queries",
    "count_scheduled_actions": "queries",
    "get_scheduled_actions": "queries",
    "has_scheduled_action": "queries",
    "next_scheduled_action": "queries",
    "run_action_now": "queries",
    "unschedule_action": "queries",
    "unschedule_all_actions": "queries",
}

__all__ = [
    "ActionContext",
    "ActionError",
    "ActionTooLarge",
    "DuplicateAction",
    "InvalidAction",
    "PermanentError",
    "TransientError",
    "cancel_action",
    "count_scheduled_actions",
    "enqueue_async_action",
    "get_scheduled_actions",
    "has_scheduled_action",
    "hook",
    "next_scheduled_action",
    "run_action_now",
    "schedule_cron_action",
    "schedule_recurring_action",
    "schedule_single_action",
    "unschedule_action",
    "unschedule_all_actions",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
