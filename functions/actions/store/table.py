"""The actions table's client and name: the only place that reaches it."""

from __future__ import annotations

from typing import Any

from functions.actions.config import actions_table
from functions.clients import lazy_client
from functions.dynamodb import Item, to_item

dynamodb = lazy_client("dynamodb")


def name() -> str:
    return actions_table()


def key(action_id: str) -> Item:
    return to_item({"action_id": action_id})


def get_item(action_id: str) -> dict[str, Any] | None:
    """The raw item of ``action_id`` (strongly consistent), or None."""
    response = dynamodb().get_item(TableName=name(), Key=key(action_id), ConsistentRead=True)
    item: dict[str, Any] | None = response.get("Item")
    return item
