"""Enqueue an action that keeps no item in the actions table (``recorded=False``).

Docs: Guides, Writing hooks. tests/integration/test_docs_examples.py runs it on moto.
"""

from __future__ import annotations

from functions.actions import enqueue_async_action


def enqueue_a_sync() -> str:
    # --8<-- [start:call]
    action_id = enqueue_async_action(
        "sync_external_api",  # a hook that may safely run twice: a sync is idempotent
        args={"account": "acme"},
        group="crm",
        recorded=False,  # no item: the message alone carries the action
    )
    # --8<-- [end:call]
    return action_id
