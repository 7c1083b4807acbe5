"""A recurring action's failed runs in a row: counted on its item, cleared by a success.

``functions/actions/recurrence.py`` decides what they mean (a stop, at the hook's
``max_failed_runs``); the stop itself is a status change (``transitions.stop_recurring``).
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from functions.actions.store import table
from functions.actions.store.record import ActionStatus
from functions.dynamodb import condition_failed, to_attribute
from functions.dynamodb import from_item as plain

PENDING = ActionStatus.PENDING


def note_failed_run(recurring_id: str) -> int | None:
    """Count a failed run on its recurring action: its failed runs in a row now, or None
    if it recurs no more (no longer pending)."""
    try:
        response = table.dynamodb().update_item(
            TableName=table.name(),
            Key=table.key(recurring_id),
            UpdateExpression="ADD failed_runs :one",
            ConditionExpression="#s = :pending AND attribute_exists(recurrence)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":one": to_attribute(1),
                ":pending": to_attribute(str(PENDING)),
            },
            ReturnValues="UPDATED_NEW",
        )
    except ClientError as exc:
        if condition_failed(exc):
            return None
        raise
    return int(plain(response["Attributes"])["failed_runs"])


def clear_failed_runs(recurring_id: str) -> None:
    """A run succeeded: its recurring action's failed runs in a row start again from 0."""
    try:
        table.dynamodb().update_item(
            TableName=table.name(),
            Key=table.key(recurring_id),
            UpdateExpression="REMOVE failed_runs",
            ConditionExpression="attribute_exists(failed_runs)",
        )
    except ClientError as exc:
        if not condition_failed(exc):
            raise
