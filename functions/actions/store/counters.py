"""Counter items: how many actions of a hook and group (or args) are pending or running.

A hook registered with ``unique_by`` has every action counted, plain or unique, in one
counter item per hook and group (``unique_by="group"``, Action Scheduler's meaning of
unique) or per hook, args and group (``unique_by="args"``). The count goes up in the
same transaction that writes the action pending (or a recurring run's item), and down
in the same transaction that ends it (complete, failed, canceled, discarded), so a
unique creation's condition, ``live <= 0``, sees every pending or running match, and
two creations racing are serialized by DynamoDB on the counter item. Hooks without
``unique_by`` keep no counter: their actions are written with one PutItem.

The counter also names its latest creation (``holder``), for ``DuplicateAction``.
Items keyed ``unique#<match key>`` are the locks of unique actions made before
counters (one per action, deleted when it ends); they are still released that way.
Why: docs/decisions/0047-unique-means-hook-and-group-counted-per-hook.md
"""

from __future__ import annotations

import random
import re
import time
from typing import Any

from botocore.exceptions import ClientError

from functions.actions.store import table
from functions.dynamodb import from_item as plain
from functions.dynamodb import to_attribute

# A lock of a unique action made before counters: "unique#" and a bare match key.
_LEGACY = re.compile(r"unique#[0-9a-f]{64}")
CONFLICT_ATTEMPTS = 4  # transactions cancelled by a concurrent one on the counter


def is_legacy(key: str) -> bool:
    return bool(_LEGACY.fullmatch(key))


def count_in(key: str, action_id: str, *, unique: bool) -> dict[str, Any]:
    """The transaction part that counts a new pending (or running) action in ``key``;
    with ``unique``, on condition that nothing is counted there yet."""
    update: dict[str, Any] = {
        "TableName": table.name(),
        "Key": table.key(key),
        "UpdateExpression": "SET #holder = :holder ADD #live :one",
        "ExpressionAttributeNames": {"#holder": "holder", "#live": "live"},
        "ExpressionAttributeValues": {
            ":holder": to_attribute(action_id),
            ":one": to_attribute(1),
        },
    }
    if unique:
        update["ConditionExpression"] = "attribute_not_exists(#live) OR #live <= :zero"
        update["ExpressionAttributeValues"][":zero"] = to_attribute(0)
        update["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return update


def count_out(key: str) -> dict[str, Any]:
    """The transaction part (an ``Update``) that stops counting an action that ends."""
    return {
        "TableName": table.name(),
        "Key": table.key(key),
        "UpdateExpression": "ADD #live :minus_one",
        "ExpressionAttributeNames": {"#live": "live"},
        "ExpressionAttributeValues": {":minus_one": to_attribute(-1)},
    }


def release_legacy(key: str, action_id: str) -> None:
    """Delete a legacy lock after its action ended, unless another action holds it."""
    try:
        table.dynamodb().delete_item(
            TableName=table.name(),
            Key=table.key(key),
            ConditionExpression="attribute_not_exists(action_id) OR holder = :holder",
            ExpressionAttributeValues={":holder": to_attribute(action_id)},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise


def write_ending(params: dict[str, Any], action_id: str, key: str | None) -> None:
    """An UpdateItem that ends an action (``params``), and its counter's count down in
    the same transaction; a legacy lock is deleted after it."""
    if key and not is_legacy(key):
        transact([{"Update": params}, {"Update": count_out(key)}])
        return
    table.dynamodb().update_item(**params)
    if key:
        release_legacy(key, action_id)


def first_condition_failed(exc: ClientError) -> bool:
    """Did this write (alone, or first in a transaction) fail only on its condition?"""
    code = exc.response.get("Error", {}).get("Code")
    if code == "ConditionalCheckFailedException":
        return True
    return code == "TransactionCanceledException" and cancellation_codes(exc)[:1] == [
        "ConditionalCheckFailed"
    ]


def cancellation_codes(exc: ClientError) -> list[str]:
    """Each part's reason code of a cancelled transaction ("None" where it was fine);
    the error itself is raised again if it is not a cancellation."""
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        raise exc
    return [reason.get("Code", "None") for reason in exc.response.get("CancellationReasons", [])]


def old_holder(exc: ClientError, index: int) -> str:
    """The ``holder`` the counter item at part ``index`` had when its condition failed."""
    reasons = exc.response.get("CancellationReasons", [])
    item = reasons[index].get("Item", {}) if index < len(reasons) else {}
    return str(plain(item).get("holder", ""))


def transact(parts: list[Any]) -> None:
    """TransactWriteItems, tried again (jittered) while a concurrent transaction on the
    same counter cancels it: two creations of one hook and group at once are a conflict
    DynamoDB reports rather than waits out."""
    for attempt in range(CONFLICT_ATTEMPTS):
        try:
            table.dynamodb().transact_write_items(TransactItems=parts)
            return
        except ClientError as exc:
            codes = cancellation_codes(exc)
            conflict = "TransactionConflict" in codes and "ConditionalCheckFailed" not in codes
            if not conflict or attempt == CONFLICT_ATTEMPTS - 1:
                raise
        time.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 - jitter, not secrets
