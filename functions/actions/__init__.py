"""Actions: named hooks with JSON args and a group, run asynchronously by the worker.

The public API mirrors WordPress's Action Scheduler; import it from here.
"""

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
    get_scheduled_actions,
    has_scheduled_action,
    next_scheduled_action,
    run_action_now,
    unschedule_action,
    unschedule_all_actions,
)

__all__ = [
    "ActionContext",
    "ActionError",
    "ActionTooLarge",
    "DuplicateAction",
    "InvalidAction",
    "PermanentError",
    "TransientError",
    "cancel_action",
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
