"""Actions: named hooks with JSON args and a group, run asynchronously by the worker.

The public API mirrors WordPress's Action Scheduler; import it from here.
"""

from functions.actions.api import enqueue_async_action
from functions.actions.exceptions import ActionError, ActionTooLarge, InvalidAction

__all__ = ["ActionError", "ActionTooLarge", "InvalidAction", "enqueue_async_action"]
