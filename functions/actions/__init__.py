"""Actions: named hooks with JSON args and a group, run asynchronously by the worker.

The public API mirrors WordPress's Action Scheduler; import it from here.
"""

from functions.actions.api import enqueue_async_action
from functions.actions.exceptions import (
    ActionError,
    ActionTooLarge,
    DuplicateAction,
    InvalidAction,
    PermanentError,
    TransientError,
)
from functions.actions.hooks import ActionContext, hook

__all__ = [
    "ActionContext",
    "ActionError",
    "ActionTooLarge",
    "DuplicateAction",
    "InvalidAction",
    "PermanentError",
    "TransientError",
    "enqueue_async_action",
    "hook",
]
