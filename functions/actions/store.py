"""The actions table: one item per action, its status, attempts and a bounded log.

This module owns the DynamoDB client for the table. Every status change is a
conditional write, so concurrent workers, duplicate deliveries and cancellations
never race an action into two states.

Item attributes: ``action_id`` (key), ``hook``, ``args`` (JSON text), ``args_hash``,
``group``, ``priority``, ``status``, ``attempts`` (runs started), ``max_attempts``,
``scheduled_at`` (epoch seconds), ``status_scheduled`` (``<status>#<scheduled_at>``,
the sort key of the ``by_hook`` index), ``created_at``, ``updated_at``,
``last_error``, ``log`` (the newest ``LOG_LIMIT`` entries), ``claim_expires_at``,
``unique_key`` (set when enqueued with ``unique=True``), ``correlation_id`` and
``expires_at`` (the TTL: 31 days after completion or cancellation, 93 after failure).
Indexes: ``by_hook`` (hook, status_scheduled), ``by_match`` (``match_key``: a hash of
hook, args and group; status_scheduled) and ``by_status`` (status, scheduled_at), each
projecting only its keys and ``INDEX_ATTRIBUTES``; whole items come from the table.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from functions.actions.config import actions_table
from functions.actions.envelope import Envelope, dump_args
from functions.actions.exceptions import DuplicateAction, InvalidAction, TransientError
from functions.clients import lazy_client

PENDING, IN_PROGRESS, COMPLETE, FAILED, CANCELED = (
    "pending",
    "in-progress",
    "complete",
    "failed",
    "canceled",
)
STATUSES = (PENDING, IN_PROGRESS, COMPLETE, FAILED, CANCELED)
LOG_LIMIT = 50
ANY = object()  # "args=None matches any args": None itself is a valid JSON value
RETENTION_SECONDS = {COMPLETE: 31 * 86400, CANCELED: 31 * 86400, FAILED: 93 * 86400}

# What each index holds besides its own and the table's keys: exactly what its queries
# filter on, or read without going back to the table. Every write of an action pays
# for each index entry it changes, at the entry's size, and each status change moves
# the entries to a new key (a delete and a put): with the whole item projected (~1.5 KB
# for a webhook's action, whose args carry the payload) that was 2 WRU an entry, with
# these few small attributes it is 1. None of them changes on its own but
# ``updated_at``, whose entry moves anyway on every write that sets it.
INDEX_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    # has/next/unschedule by hook (next_run needs kind, recurrence and the time);
    # the args and group filters; the time filter of a query without a status.
    "by_hook": ("args_hash", "group", "scheduled_at", "kind", "recurrence"),
    # The same for an exact hook, args and group: no filter but the time.
    "by_match": ("scheduled_at", "kind", "recurrence"),
    # get_scheduled_actions by status filters on args and group; the health check's
    # tally filters on updated_at and samples the hook.
    "by_status": ("hook", "args_hash", "group", "updated_at"),
}
BATCH_GET_KEYS = 100  # BatchGetItem's limit per call
COUNT_PAGE = 1000  # index entries a COUNT query reads at most, per call
_BATCH_ATTEMPTS = 5

_dynamodb = lazy_client("dynamodb")
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(_plain_to_dynamo(value)) for key, value in values.items()}


def _plain_to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _plain_to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_to_dynamo(v) for v in value]
    return value


def _dynamo_to_plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _dynamo_to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dynamo_to_plain(v) for v in value]
    return value


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _dynamo_to_plain(_deserializer.deserialize(value)) for key, value in item.items()}


def _values(values: dict[str, Any]) -> dict[str, Any]:
    return {f":{key}": _serializer.serialize(_plain_to_dynamo(v)) for key, v in values.items()}


def args_hash(args: Any) -> str:
    """A stable hash of args: sorted keys, no whitespace. Used to match queries and uniqueness."""
    canonical = json.dumps(args, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def match_key(hook: str, args: Any, group: str) -> str:
    """The ``by_match`` index's key: one partition per hook, args and group."""
    return hashlib.sha256(f"{hook}\n{args_hash(args)}\n{group}".encode()).hexdigest()


def unique_key(hook: str, args: Any, group: str) -> str:
    return "unique#" + match_key(hook, args, group)


def status_scheduled(status: str, scheduled_at: float) -> str:
    return f"{status}#{scheduled_at:020.6f}"


def log_entry(event: str, message: str = "", attempt: int = 0) -> dict[str, Any]:
    return {
        "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "event": event,
        "message": message[:1000],
        "attempt": attempt,
    }


def _bounded(log: list[dict[str, Any]], *entries: dict[str, Any]) -> list[dict[str, Any]]:
    return [*log, *entries][-LOG_LIMIT:]


@dataclass(frozen=True)
class Claim:
    """The outcome of trying to start a run: the item as it now is, or why not."""

    claimed: bool
    item: dict[str, Any]
    reason: str = ""
    # A run of a recurring action (``<recurring id>@<time>``): that action's item.
    recurring: dict[str, Any] | None = None


def create(
    envelope: Envelope, *, unique: bool = False, extra: dict[str, Any] | None = None
) -> bool:
    """Write the action as pending. False if an action with this id already exists.

    With ``unique``, a lock item keyed by hook, args and group is written in the same
    transaction, so two concurrent calls create one action; ``DuplicateAction`` names
    the one that exists.
    """
    now = time.time()
    scheduled_at = envelope.scheduled_for.timestamp()
    item = {
        "action_id": envelope.action_id,
        "hook": envelope.hook,
        "args": dump_args(envelope.args),
        "args_hash": args_hash(envelope.args),
        "match_key": match_key(envelope.hook, envelope.args, envelope.group),
        "group": envelope.group,
        "priority": envelope.priority,
        "status": PENDING,
        "attempts": 0,
        "max_attempts": envelope.max_attempts,
        "scheduled_at": scheduled_at,
        "status_scheduled": status_scheduled(PENDING, scheduled_at),
        "created_at": now,
        "updated_at": now,
        "correlation_id": envelope.correlation_id,
        **(extra or {}),
        "log": [
            log_entry(
                "created",
                "past-due" if scheduled_at < now - 1 else f"scheduled for {envelope.scheduled_for}",
            )
        ],
    }
    table = actions_table()
    if not unique:
        try:
            _dynamodb().put_item(
                TableName=table,
                Item=_to_item(item),
                ConditionExpression="attribute_not_exists(action_id)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    lock = unique_key(envelope.hook, envelope.args, envelope.group)
    item["unique_key"] = lock
    try:
        _dynamodb().transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": _to_item(item),
                        "ConditionExpression": "attribute_not_exists(action_id)",
                    }
                },
                {
                    "Put": {
                        "TableName": table,
                        "Item": _to_item({"action_id": lock, "holder": envelope.action_id}),
                        "ConditionExpression": "attribute_not_exists(action_id)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = exc.response.get("CancellationReasons", [])
        if len(reasons) > 1 and reasons[1].get("Code") == "ConditionalCheckFailed":
            holder = from_item(reasons[1].get("Item", {})).get("holder", "")
            raise DuplicateAction(
                f"a pending or running {envelope.hook!r} action with these args and group "
                f"exists: {holder}",
                holder,
            ) from None
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            return False
        raise
    return True


def discard(action_id: str) -> None:
    """Undo ``create`` when the message could not be sent: no pending action without one."""
    try:
        response = _dynamodb().delete_item(
            TableName=actions_table(),
            Key=_to_item({"action_id": action_id}),
            ConditionExpression="#s = :pending",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=_values({"pending": PENDING}),
            ReturnValues="ALL_OLD",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return
        raise
    lock = from_item(response.get("Attributes", {})).get("unique_key")
    if lock:
        _release_lock(lock, action_id)


def get(action_id: str) -> dict[str, Any] | None:
    response = _dynamodb().get_item(
        TableName=actions_table(), Key=_to_item({"action_id": action_id}), ConsistentRead=True
    )
    item = response.get("Item")
    return from_item(item) if item else None


def claim(envelope: Envelope, attempt: int, claim_seconds: float) -> Claim:
    """Move the action to in-progress for run number ``attempt``, or say why not.

    Claims a pending action whose recorded runs are fewer than ``attempt`` (a stale
    duplicate of an earlier attempt is refused), or an in-progress one whose claim
    expired (its worker died) or that an attempt newer than its own supersedes. An
    action that does not exist yet (a recurring run, or one created by a scheduler
    straight onto the queue) is created in-progress, unless it is a run of a recurring
    action that has been canceled since the run was sent.
    """
    now = time.time()
    scheduled_at = envelope.scheduled_for.timestamp()
    entry = log_entry("started", f"attempt {attempt} of {envelope.max_attempts}", attempt)
    recurring = _recurring_of(envelope.action_id)
    canceled = recurring if recurring and recurring.get("status") == CANCELED else None
    # A canceled recurrence starts no new run; a run already recorded goes on.
    create = "" if canceled else "attribute_not_exists(action_id) OR "
    try:
        response = _dynamodb().update_item(
            TableName=actions_table(),
            Key=_to_item({"action_id": envelope.action_id}),
            UpdateExpression=(
                "SET #s = :running, attempts = :attempt, claim_expires_at = :expires, "
                "updated_at = :now, status_scheduled = :ss, "
                "#log = list_append(if_not_exists(#log, :empty), :entry), "
                "hook = if_not_exists(hook, :hook), #args = if_not_exists(#args, :args), "
                "args_hash = if_not_exists(args_hash, :args_hash), "
                "match_key = if_not_exists(match_key, :match_key), "
                "#group = if_not_exists(#group, :group), "
                "priority = if_not_exists(priority, :priority), "
                "max_attempts = if_not_exists(max_attempts, :max_attempts), "
                "scheduled_at = if_not_exists(scheduled_at, :scheduled_at), "
                "created_at = if_not_exists(created_at, :now), "
                "correlation_id = if_not_exists(correlation_id, :correlation_id) "
                "REMOVE expires_at"
            ),
            ConditionExpression=(
                f"{create}(#s = :pending AND attempts < :attempt) "
                "OR (#s = :running AND (claim_expires_at < :now OR attempts < :attempt))"
            ),
            ExpressionAttributeNames={
                "#s": "status",
                "#log": "log",
                "#args": "args",
                "#group": "group",
            },
            ExpressionAttributeValues=_values(
                {
                    "running": IN_PROGRESS,
                    "pending": PENDING,
                    "attempt": attempt,
                    "expires": now + claim_seconds,
                    "now": now,
                    "ss": status_scheduled(IN_PROGRESS, scheduled_at),
                    "empty": [],
                    "entry": [entry],
                    "hook": envelope.hook,
                    "args": dump_args(envelope.args),
                    "args_hash": args_hash(envelope.args),
                    "match_key": match_key(envelope.hook, envelope.args, envelope.group),
                    "group": envelope.group,
                    "priority": envelope.priority,
                    "max_attempts": envelope.max_attempts,
                    "scheduled_at": scheduled_at,
                    "correlation_id": envelope.correlation_id,
                }
            ),
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        item = from_item(exc.response.get("Item", {}))
        if not item and canceled:
            return Claim(False, canceled, "its recurring action is canceled", recurring)
        return Claim(False, item, _why_not(item, attempt), recurring)
    return Claim(True, from_item(response["Attributes"]), recurring=recurring)


def reschedule(action_id: str, scheduled_at: float) -> bool:
    """Move a pending recurring action's time to its next run (its sort keys follow)."""
    try:
        _dynamodb().update_item(
            TableName=actions_table(),
            Key=_to_item({"action_id": action_id}),
            UpdateExpression="SET scheduled_at = :at, status_scheduled = :ss, updated_at = :now",
            ConditionExpression="#s = :pending AND attribute_exists(recurrence)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=_values(
                {
                    "at": scheduled_at,
                    "ss": status_scheduled(PENDING, scheduled_at),
                    "now": time.time(),
                    "pending": PENDING,
                }
            ),
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _recurring_of(action_id: str) -> dict[str, Any] | None:
    """The recurring action of a run (``<recurring id>@<time>``), read once per claim."""
    recurring_id, separator, _ = action_id.partition("@")
    if not separator:
        return None
    recurring = get(recurring_id)
    return recurring if recurring and recurring.get("recurrence") else None


def _why_not(item: dict[str, Any], attempt: int) -> str:
    status = item.get("status", "")
    if status == IN_PROGRESS:
        return "already running"
    if status == PENDING:
        return f"attempt {attempt} already ran (a duplicate delivery)"
    return f"already {status}"


def _finish(
    item: dict[str, Any],
    status: str,
    entries: list[dict[str, Any]],
    *,
    error: str | None = None,
    scheduled_at: float | None = None,
) -> None:
    """Write the run's outcome, on condition that this run still holds the claim."""
    now = time.time()
    scheduled = item.get("scheduled_at", now) if scheduled_at is None else scheduled_at
    names = {"#s": "status", "#log": "log"}
    values: dict[str, Any] = {
        "status": status,
        "log": _bounded(item.get("log", []), *entries),
        "now": now,
        "ss": status_scheduled(status, scheduled),
        "scheduled_at": scheduled,
        "running": IN_PROGRESS,
        "attempt": item.get("attempts", 0),
    }
    sets = [
        "#s = :status",
        "#log = :log",
        "updated_at = :now",
        "status_scheduled = :ss",
        "scheduled_at = :scheduled_at",
    ]
    removes = ["claim_expires_at"]
    if error is not None:
        sets.append("last_error = :error")
        values["error"] = error[:2000]
    if status in RETENTION_SECONDS:
        sets.append("expires_at = :expires_at")
        values["expires_at"] = int(now + RETENTION_SECONDS[status])
    update = {
        "TableName": actions_table(),
        "Key": _to_item({"action_id": item["action_id"]}),
        "UpdateExpression": f"SET {', '.join(sets)} REMOVE {', '.join(removes)}",
        "ConditionExpression": "#s = :running AND attempts = :attempt",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": _values(values),
    }
    lock = item.get("unique_key")
    if lock and status in RETENTION_SECONDS:
        _dynamodb().transact_write_items(
            TransactItems=[{"Update": update}, {"Delete": _lock_delete(lock, item["action_id"])}]
        )
    else:
        _dynamodb().update_item(**update)


def complete(item: dict[str, Any], message: str = "") -> None:
    _finish(item, COMPLETE, [log_entry("completed", message, item.get("attempts", 0))])


def retry_later(item: dict[str, Any], error: str, delay: float) -> None:
    """Back to pending; the next attempt's message is already on its way."""
    attempt = item.get("attempts", 0)
    _finish(
        item,
        PENDING,
        [log_entry("retry", f"{error} - attempt {attempt + 1} in {delay:.1f} s", attempt)],
        error=error,
        scheduled_at=time.time() + delay,
    )


def fail(item: dict[str, Any], error: str, *, dead_lettered: bool = True) -> None:
    attempt = item.get("attempts", 0)
    entries = [log_entry("failed", error, attempt)]
    if dead_lettered:
        entries.append(log_entry("dead-lettered", "sent to the dead-letter queue", attempt))
    _finish(item, FAILED, entries, error=error)


def reset_for_redrive(action_id: str, note: str) -> None:
    """A failed action back to pending with fresh attempts, as a redrive starts it again."""
    now = time.time()
    _dynamodb().update_item(
        TableName=actions_table(),
        Key=_to_item({"action_id": action_id}),
        UpdateExpression=(
            "SET #s = :pending, attempts = :zero, updated_at = :now, status_scheduled = :ss, "
            "scheduled_at = :now, #log = list_append(if_not_exists(#log, :empty), :entry) "
            "REMOVE expires_at, claim_expires_at"
        ),
        ExpressionAttributeNames={"#s": "status", "#log": "log"},
        ExpressionAttributeValues=_values(
            {
                "pending": PENDING,
                "zero": 0,
                "now": now,
                "ss": status_scheduled(PENDING, now),
                "empty": [],
                "entry": [log_entry("redriven", note)],
            }
        ),
    )


def _lock_delete(lock: str, action_id: str) -> dict[str, Any]:
    return {
        "TableName": actions_table(),
        "Key": _to_item({"action_id": lock}),
        "ConditionExpression": "attribute_not_exists(action_id) OR holder = :holder",
        "ExpressionAttributeValues": _values({"holder": action_id}),
    }


def _release_lock(lock: str, action_id: str) -> None:
    try:
        _dynamodb().delete_item(**_lock_delete(lock, action_id))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def cancel(action_id: str, reason: str = "canceled") -> dict[str, Any] | None:
    """Pending -> canceled, releasing a unique lock; the item as it was, or None if not pending.

    The indexes' sort keys keep the action's scheduled time, as every other status
    change does, so canceled actions sort and filter by it like the rest. That needs
    the item's ``scheduled_at``: read it, then write on condition it has not changed.
    """
    for _ in range(3):
        current = get(action_id)
        if not current or current.get("status") != PENDING:
            return None
        now = time.time()
        update = {
            "TableName": actions_table(),
            "Key": _to_item({"action_id": action_id}),
            "UpdateExpression": (
                "SET #s = :canceled, updated_at = :now, expires_at = :expires, "
                "status_scheduled = :ss, #log = list_append(if_not_exists(#log, :empty), :entry)"
            ),
            "ConditionExpression": "#s = :pending AND scheduled_at = :scheduled_at",
            "ExpressionAttributeNames": {"#s": "status", "#log": "log"},
            "ExpressionAttributeValues": _values(
                {
                    "canceled": CANCELED,
                    "pending": PENDING,
                    "now": now,
                    "expires": int(now + RETENTION_SECONDS[CANCELED]),
                    "scheduled_at": current["scheduled_at"],
                    "ss": status_scheduled(CANCELED, current["scheduled_at"]),
                    "empty": [],
                    "entry": [log_entry("canceled", reason)],
                }
            ),
            "ReturnValues": "ALL_OLD",
        }
        try:
            old = from_item(_dynamodb().update_item(**update)["Attributes"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                continue  # it changed since it was read: look again
            raise
        if old.get("unique_key"):
            _release_lock(old["unique_key"], action_id)
        return old
    return None


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    cursor: str | None


def _encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _decode_cursor(cursor: str | None, index: str, partition: str) -> dict[str, Any] | None:
    """The index key a cursor holds; InvalidAction unless it is a key of this index
    within this partition (the hook, match key or status queried)."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, AttributeError):
        key = None
    attribute = {"by_hook": "hook", "by_match": "match_key", "by_status": "status"}[index]
    if not (
        isinstance(key, dict)
        and set(key) == _index_keys(index)
        and all(isinstance(value, dict) and len(value) == 1 for value in key.values())
        and key[attribute] == {"S": partition}
    ):
        raise InvalidAction("the cursor is not one this API returned for this query")
    return key


def query(
    *,
    hook: str | None = None,
    status: str | None = None,
    args: Any = ANY,
    group: str | None = None,
    date_from: float | None = None,
    date_to: float | None = None,
    per_page: int = 25,
    cursor: str | None = None,
    descending: bool = False,
    full: bool = True,
) -> Page:
    """Actions by hook (``by_hook``) or by status (``by_status``), by scheduled time.

    Never scans: a hook, or a status, picks the index partition; the time range is
    the sort key; args and group filter within it. Pages follow DynamoDB's cursor.

    The indexes hold only keys and ``INDEX_ATTRIBUTES`` (so that the writes of an action
    stay cheap), so with ``full`` the page's items are then read from the table
    (``fetch``): an item deleted meanwhile is left out, and so is one whose status is
    no longer the one asked for. Without it the items are the index entries, enough
    for has/next/unschedule and half the reads.
    """
    if hook is None and status is None:
        raise InvalidAction("query by hook, by status, or both")
    names: dict[str, str] = {"#s": "status"}
    values: dict[str, Any] = {}
    filters: list[str] = []
    partition: tuple[str, str] | None = None
    if hook is not None and args is not ANY and group is not None:
        # One partition holds exactly the matches: no filter, nothing read in vain.
        partition = ("by_match", match_key(hook, args, group))
        args, group = ANY, None
    elif hook is not None:
        partition = ("by_hook", hook)
    index, condition = _key_condition(partition, status, date_from, date_to, values, filters)
    if args is not ANY:
        values["args_hash"] = args_hash(args)
        filters.append("args_hash = :args_hash")
    if group is not None:
        names["#g"] = "group"
        values["group"] = group
        filters.append("#g = :group")
    params: dict[str, Any] = {
        "TableName": actions_table(),
        "IndexName": index,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": _values(values),
        "ScanIndexForward": not descending,
    }
    used = {name for name in names if name in condition or any(name in f for f in filters)}
    if used:
        params["ExpressionAttributeNames"] = {name: names[name] for name in used}
    if filters:
        params["FilterExpression"] = " AND ".join(filters)
    items: list[dict[str, Any]] = []
    start = _decode_cursor(cursor, index, values["status" if index == "by_status" else "key"])
    while True:
        if start:
            params["ExclusiveStartKey"] = start
        params["Limit"] = max(per_page - len(items), 1) if not filters else max(per_page, 25)
        response = _dynamodb().query(**params)
        for item in response.get("Items", []):
            items.append(from_item(item))
            if len(items) == per_page:
                page_cursor = _encode_cursor(_key_of(item, index))
                return Page(_whole(items, status) if full else items, page_cursor)
        start = response.get("LastEvaluatedKey")
        if not start:
            return Page(_whole(items, status) if full else items, None)


def _whole(entries: list[dict[str, Any]], status: str | None) -> list[dict[str, Any]]:
    """The index entries' items from the table, in the index's order.

    An item that has moved since the index was read (another status, or a recurring
    action on to its next run) no longer answers the query, and is left out.
    """
    found = fetch([entry["action_id"] for entry in entries])

    def still_matches(entry: dict[str, Any]) -> bool:
        item = found.get(entry["action_id"])
        if item is None or (status is not None and item.get("status") != status):
            return False
        keys = ("status_scheduled", "scheduled_at")
        return all(item.get(key) == entry[key] for key in keys if key in entry)

    return [found[entry["action_id"]] for entry in entries if still_matches(entry)]


def fetch(action_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The items of these actions by id, read with BatchGetItem; ids with no item are absent.

    ``BATCH_GET_KEYS`` keys a call. DynamoDB may leave keys unprocessed (throttling, or
    its 16 MB answer limit): those are asked for again after a jittered backoff, and
    still unprocessed after ``_BATCH_ATTEMPTS`` they raise ``TransientError``, so that a
    caller in a hook is retried rather than shown a page with holes.
    """
    table = actions_table()
    ids = list(dict.fromkeys(action_ids))
    found: dict[str, dict[str, Any]] = {}
    for first in range(0, len(ids), BATCH_GET_KEYS):
        keys = [_to_item({"action_id": key}) for key in ids[first : first + BATCH_GET_KEYS]]
        request: dict[str, Any] = {table: {"Keys": keys}}
        for attempt in range(_BATCH_ATTEMPTS):
            if attempt:
                time.sleep(random.uniform(0, min(0.05 * 2**attempt, 1.0)))  # noqa: S311
            response = _dynamodb().batch_get_item(RequestItems=request)
            for raw in response.get("Responses", {}).get(table, []):
                item = from_item(raw)
                found[item["action_id"]] = item
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            left = len(request.get(table, {}).get("Keys", []))
            raise TransientError(f"DynamoDB left {left} action(s) unread after retries")
    return found


def count(
    *,
    status: str,
    hook: str | None = None,
    scheduled_before: float | None = None,
    limit: int | None = None,
) -> int:
    """How many actions of ``hook`` (or any) are in ``status``: COUNT queries of an index.

    Nothing leaves DynamoDB but the count, and nothing is read from the table: counting
    costs what reading the small index entries costs. ``COUNT_PAGE`` bounds each
    query's read; ``limit``, if given, stops the count once it is reached (it may then
    be passed by up to a page).
    """
    values: dict[str, Any] = {
        "status": status,
        "low": 0.0,
        "high": 1e12 if scheduled_before is None else scheduled_before,
    }
    if hook is None:
        index = "by_status"
        condition = "#s = :status AND scheduled_at BETWEEN :low AND :high"
        names: dict[str, str] = {"#s": "status"}
    else:
        index = "by_hook"
        values.update(
            key=hook,
            low=status_scheduled(status, values["low"]),
            high=status_scheduled(status, values["high"]),
        )
        values.pop("status")
        condition = "hook = :key AND status_scheduled BETWEEN :low AND :high"
        names = {}
    params: dict[str, Any] = {
        "TableName": actions_table(),
        "IndexName": index,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": _values(values),
        "Select": "COUNT",
        "Limit": COUNT_PAGE,
    }
    if names:
        params["ExpressionAttributeNames"] = names
    total = 0
    while limit is None or total < limit:
        response = _dynamodb().query(**params)
        total += int(response.get("Count", 0))
        if "LastEvaluatedKey" not in response:
            break
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return total


def _key_condition(
    partition: tuple[str, str] | None,
    status: str | None,
    date_from: float | None,
    date_to: float | None,
    values: dict[str, Any],
    filters: list[str],
) -> tuple[str, str]:
    """The index and key condition for a query; fills in values and any time filter.

    ``partition`` is ``(index, key value)`` for ``by_hook`` or ``by_match``; without it
    the status picks the ``by_status`` partition.
    """
    low = date_from if date_from is not None else 0.0
    high = date_to if date_to is not None else 1e12
    if partition is None:
        values.update({"status": status, "low": low, "high": high})
        return "by_status", "#s = :status AND scheduled_at BETWEEN :low AND :high"
    index, key = partition
    attribute = {"by_hook": "hook", "by_match": "match_key"}[index]
    values["key"] = key
    if status is not None:
        values["low"] = status_scheduled(status, low)
        values["high"] = status_scheduled(status, high)
        return index, f"{attribute} = :key AND status_scheduled BETWEEN :low AND :high"
    if date_from is not None or date_to is not None:
        values["low"], values["high"] = low, high
        filters.append("scheduled_at BETWEEN :low AND :high")
    return index, f"{attribute} = :key"


def _index_keys(index: str) -> set[str]:
    """The attributes of an index's key, the table's key included."""
    return {"action_id"} | {
        "by_hook": {"hook", "status_scheduled"},
        "by_match": {"match_key", "status_scheduled"},
        "by_status": {"status", "scheduled_at"},
    }[index]


def _key_of(item: dict[str, Any], index: str) -> dict[str, Any]:
    """The index key of an item, as DynamoDB's ExclusiveStartKey wants it."""
    keys = _index_keys(index)
    return {name: value for name, value in item.items() if name in keys}


@dataclass(frozen=True)
class Tally:
    """A bounded count of actions: ``more`` says the bound stopped the count.

    ``sample`` holds the first few matches' ``action_id``, ``hook``, ``scheduled_at``
    and ``updated_at`` when they were asked for; never their args, log or error.
    """

    count: int
    more: bool
    sample: list[dict[str, Any]]


_TALLY_FILTER_PAGES = 4  # pages a filtered tally reads at most while it has found none


def tally(
    status: str,
    *,
    scheduled_before: float,
    limit: int,
    updated_before: float | None = None,
    sample: int = 0,
) -> Tally:
    """Count actions in ``status`` scheduled before a time: ONE query of ``by_status``.

    For health checks polled every minute, so the cost is bounded whatever the
    backlog: the query reads at most ``limit + 1`` index items (``Limit`` bounds what
    DynamoDB reads, before any filter), and a larger set is reported as ``limit``
    with ``more``. ``updated_before`` keeps only items last written before a time
    (an in-progress action is last written when its run claimed it); those older in
    schedule but fresh in claim still count against the bound, so ``more`` may then
    mean "at least"; while none has matched, up to ``_TALLY_FILTER_PAGES`` pages are
    read. Without ``sample`` the query selects COUNT: no item leaves
    DynamoDB at all; with it, only the four fields above are projected.
    """
    params: dict[str, Any] = {
        "TableName": actions_table(),
        "IndexName": "by_status",
        "KeyConditionExpression": "#s = :status AND scheduled_at < :before",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": _values({"status": status, "before": scheduled_before}),
        "Limit": limit + 1,
    }
    if updated_before is not None:
        params["FilterExpression"] = "updated_at < :updated_before"
        params["ExpressionAttributeValues"].update(_values({"updated_before": updated_before}))
    if sample:
        params["ProjectionExpression"] = "action_id, hook, scheduled_at, updated_at"
    else:
        params["Select"] = "COUNT"
    response = _dynamodb().query(**params)
    # With a filter, a page of entries fresh in claim can hide a stuck one behind it (a
    # backlog being drained): look a few pages further, still bounded, before "none".
    for _ in range(_TALLY_FILTER_PAGES - 1):
        if updated_before is None or response.get("Count") or "LastEvaluatedKey" not in response:
            break
        response = _dynamodb().query(**params, ExclusiveStartKey=response["LastEvaluatedKey"])
    matched = int(response.get("Count", 0))
    more = matched > limit or (updated_before is not None and "LastEvaluatedKey" in response)
    items = [from_item(item) for item in response.get("Items", [])[:sample]]
    return Tally(count=min(matched, limit), more=more, sample=items)
