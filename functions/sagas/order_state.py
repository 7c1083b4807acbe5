"""The order saga's state in DynamoDB, written so each step's effect happens once.

One item per order (``order_id``). Every effect is a conditional write keyed by the
order and the step: a retried or repeated task finds its effect already there and
returns it instead of doing it again, so a payment is never charged twice nor
refunded twice. Each effect also counts itself (``times_<effect>``), which is what
tests and operators check.
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from functions.clients import lazy_client
from functions.dynamodb import condition_failed, from_item, to_item, to_values
from functions.sagas.config import settings

_dynamodb = lazy_client("dynamodb")


def _table() -> str:
    return settings().table_name


def _key(order_id: str) -> dict[str, Any]:
    return to_item({"order_id": order_id})


def get(order_id: str) -> dict[str, Any]:
    item = _dynamodb().get_item(TableName=_table(), Key=_key(order_id), ConsistentRead=True)
    return from_item(item.get("Item", {}))


def apply_once(order_id: str, effect: str, value: str, *, requires: str | None = None) -> str:
    """Record ``effect`` (e.g. ``charge``) once; return its value, new or as it was.

    ``requires`` names an effect that must exist first (a refund needs a charge);
    without it, the call does nothing and returns "" (nothing to undo).
    """
    condition = f"attribute_not_exists({effect})"
    if requires:
        condition += f" AND attribute_exists({requires})"
    try:
        _dynamodb().update_item(
            TableName=_table(),
            Key=_key(order_id),
            UpdateExpression=f"SET {effect} = :value, updated_at = :now ADD times_{effect} :one",
            ConditionExpression=condition,
            ExpressionAttributeValues=to_values({"value": value, "now": time.time(), "one": 1}),
        )
    except ClientError as exc:
        if not condition_failed(exc):
            raise
        current = get(order_id)
        return str(current.get(effect, ""))
    return value


def count_call(order_id: str, task: str) -> int:
    """How many times ``task`` has been called for this order, this call included."""
    response = _dynamodb().update_item(
        TableName=_table(),
        Key=_key(order_id),
        UpdateExpression=f"ADD calls_{task} :one",
        ExpressionAttributeValues=to_values({"one": 1}),
        ReturnValues="UPDATED_NEW",
    )
    return int(from_item(response["Attributes"])[f"calls_{task}"])
