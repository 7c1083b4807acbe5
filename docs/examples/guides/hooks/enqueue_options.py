"""Enqueue a hook's action, with every option of the call.

Docs: Guides, Writing hooks. tests/integration/test_docs_examples.py runs it on moto.
"""

from __future__ import annotations

# --8<-- [start:imports]
from functions.actions import DuplicateAction, InvalidAction, enqueue_async_action

# --8<-- [end:imports]


def enqueue_a_charge() -> str:
    # --8<-- [start:call]
    action_id = enqueue_async_action(
        "charge_subscription",  # a registered hook, else InvalidAction
        args={"customer": "cus_42"},  # any JSON value; sets, NaN and objects are refused
        group="billing",  # optional, at most 255 characters
        unique=True,  # refuse a 2nd pending/running one with these args and group (unique_by)
        priority=None,  # None = the hook's own; "high", "default" or "low" to override
    )
    # --8<-- [end:call]
    return action_id


def enqueue_twice() -> tuple[str, str | None]:
    """The second call finds the first pending: ``DuplicateAction`` names it."""
    first = enqueue_a_charge()
    try:
        enqueue_a_charge()
    except DuplicateAction as duplicate:
        return first, duplicate.existing_action_id
    return first, None


def enqueue_an_unknown_hook() -> str:
    try:
        enqueue_async_action("no_such_hook")
    except InvalidAction as error:
        return str(error)
    return ""
