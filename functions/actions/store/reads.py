"""The read side of the actions table: queries by index, cursors, batch reads, counts.

Never scans: a hook (``by_hook``), an exact hook, args and group (``by_match``) or a
status (``by_status``) picks the index partition; the time range is the sort key; args
and group filter within it. The indexes hold only keys and ``INDEX_ATTRIBUTES``, so
whole actions are then read from the table in batches.
"""

from __future__ import annotations

import base64
import json
import random
import time
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from functions.actions.exceptions import InvalidAction, TransientError
from functions.actions.store import table
from functions.actions.store.record import (
    INDEX_KEYS,
    Action,
    ActionStatus,
    IndexEntry,
    args_hash,
    entry_from_item,
    from_item,
    match_key,
    status_key,
)
from functions.dynamodb import from_item as plain
from functions.dynamodb import to_values

ANY: Any = object()  # "args=None matches any args": None itself is a valid JSON value
BATCH_GET_KEYS = 100  # BatchGetItem's limit per call
COUNT_PAGE = 1000  # index entries a COUNT query reads at most, per call
_BATCH_ATTEMPTS = 5
_LOW, _HIGH = 0.0, 1e12  # the whole time range, in epoch seconds
_TALLY_FILTER_PAGES = 4  # pages a filtered tally reads at most while it has found none

T = TypeVar("T", Action, IndexEntry)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    cursor: str | None


@dataclass(frozen=True)
class Tally:
    """A bounded count of actions: ``more`` says the bound stopped the count.

    ``sample`` holds the first few matches as index entries (id, hook, times) when
    they were asked for; never their args, log or error.
    """

    count: int
    more: bool
    sample: list[IndexEntry]


@dataclass(frozen=True)
class Criteria:
    """Which actions a query asks for: a hook and/or a status, then args, group and a
    time range (epoch seconds) within them. ``args=ANY`` and ``group=None`` match any."""

    hook: str | None = None
    status: ActionStatus | None = None
    args: Any = ANY
    group: str | None = None
    date_from: float | None = None
    date_to: float | None = None


@dataclass
class _KeyQuery:
    """An index, its key condition and its filters, as one Query's parameters."""

    index: str
    partition: str  # the partition key's value
    condition: str
    names: dict[str, str]
    values: dict[str, Any]
    filters: list[str]

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "TableName": table.name(),
            "IndexName": self.index,
            "KeyConditionExpression": self.condition,
            "ExpressionAttributeValues": to_values(self.values),
        }
        if self.names:
            params["ExpressionAttributeNames"] = self.names
        if self.filters:
            params["FilterExpression"] = " AND ".join(self.filters)
        return params


def _key_query(criteria: Criteria) -> _KeyQuery:
    """The index query that answers ``criteria``, with as little filtered as can be.

    An exact hook, args and group is one ``by_match`` partition that holds exactly the
    matches: no filter, nothing read in vain.
    """
    hook, status, args, group = criteria.hook, criteria.status, criteria.args, criteria.group
    if hook is None and status is None:
        raise InvalidAction("query by hook, by status, or both")
    if hook is not None and args is not ANY and group is not None:
        index, partition, args, group = "by_match", match_key(hook, args, group), ANY, None
    elif hook is not None:
        index, partition = "by_hook", hook
    else:
        index, partition = "by_status", str(status)
    attribute, sort = INDEX_KEYS[index]
    names = {"#p": attribute, "#k": sort}
    values: dict[str, Any] = {"p": partition}
    filters: list[str] = []
    low, high = criteria.date_from, criteria.date_to
    start, end = _LOW if low is None else low, _HIGH if high is None else high
    if index == "by_status":
        values.update(low=start, high=end)
        condition = "#p = :p AND #k BETWEEN :low AND :high"
    elif status is not None:
        values.update(low=status_key(status, start), high=status_key(status, end))
        condition = "#p = :p AND #k BETWEEN :low AND :high"
    else:
        del names["#k"]
        condition = "#p = :p"
        if low is not None or high is not None:
            names["#t"] = "scheduled_for"
            values.update(low=start, high=end)
            filters.append("#t BETWEEN :low AND :high")
    if args is not ANY:
        values["args_hash"] = args_hash(args)
        filters.append("args_hash = :args_hash")
    if group is not None:
        names["#g"] = "group"
        values["group"] = group
        filters.append("#g = :group")
    return _KeyQuery(index, partition, condition, names, values, filters)


def entries(
    criteria: Criteria, *, per_page: int = 25, cursor: str | None = None, descending: bool = False
) -> Page[IndexEntry]:
    """Index entries that match, by scheduled time: enough for has, next and unschedule,
    at half the reads of ``query``. Pages follow DynamoDB's cursor."""
    raw, next_cursor = _page(_key_query(criteria), per_page, cursor, descending)
    return Page([entry_from_item(plain(item)) for item in raw], next_cursor)


def query(
    criteria: Criteria, *, per_page: int = 25, cursor: str | None = None, descending: bool = False
) -> Page[Action]:
    """Whole actions, as ``entries`` finds them, then read from the table in batches.

    An action deleted meanwhile is left out, and so is one that has moved since the
    index was read (another status, or a recurring action on to its next run).
    """
    page = entries(criteria, per_page=per_page, cursor=cursor, descending=descending)
    return Page(_whole(page.items), page.cursor)


_END = "end"  # a merged cursor's mark for a query with nothing left


def query_each(
    each: list[Criteria], *, per_page: int = 25, cursor: str | None = None, descending: bool = False
) -> Page[Action]:
    """Whole actions matching any of ``each`` (say, one criteria per status: Action
    Scheduler's list of statuses), merged by scheduled time, a page at a time.

    Each query reads up to a page from where it stopped; the page takes the soonest
    (latest, ``descending``) of them all. The cursor holds each query's own position,
    so every action comes once, in order, however the pages fall.
    """
    positions = _decode_positions(cursor, len(each))
    streams: list[tuple[_KeyQuery, list[dict[str, Any]], str | None]] = []
    heads: list[tuple[float, int, int]] = []
    for number, (criteria, position) in enumerate(zip(each, positions, strict=True)):
        query = _key_query(criteria)
        raw, following = (
            ([], None) if position == _END else _page(query, per_page, position, descending)
        )
        streams.append((query, raw, following))
        for place, item in enumerate(raw):
            when = entry_from_item(plain(item)).scheduled_for.timestamp()
            heads.append((-when if descending else when, number, place))
    taken = sorted(heads)[:per_page]
    used = [0] * len(each)
    for _, number, place in taken:
        used[number] = max(used[number], place + 1)
    found: list[IndexEntry] = [
        entry_from_item(plain(streams[number][1][place])) for _, number, place in taken
    ]
    after: list[str | None] = []
    for number, (query, raw, following) in enumerate(streams):
        if used[number] == len(raw):
            after.append(following or _END)
        elif used[number]:
            after.append(_encode_cursor(_key_of(raw[used[number] - 1], query.index)))
        else:
            after.append(positions[number])
    more = any(position != _END for position in after)
    return Page(_whole(found), _encode_positions(after) if more else None)


def _encode_positions(positions: list[str | None]) -> str:
    return base64.urlsafe_b64encode(json.dumps({"each": positions}).encode()).decode()


def _decode_positions(cursor: str | None, count: int) -> list[str | None]:
    """Each query's position in a merged cursor (None: from the start); InvalidAction
    unless it is one this function returned for as many queries. Each position is then
    checked against its own query, as a cursor of ``query`` is."""
    if not cursor:
        return [None] * count
    try:
        document = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, AttributeError):
        document = None
    positions = document.get("each") if isinstance(document, dict) else None
    if not (
        isinstance(positions, list)
        and len(positions) == count
        and all(position is None or isinstance(position, str) for position in positions)
    ):
        raise InvalidAction("the cursor is not one this API returned for this query")
    return positions


def _page(
    query: _KeyQuery, per_page: int, cursor: str | None, descending: bool
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to ``per_page`` raw index items after ``cursor``, and the next page's cursor."""
    params = query.params()
    params["ScanIndexForward"] = not descending
    items: list[dict[str, Any]] = []
    start = _decode_cursor(cursor, query.index, query.partition)
    while True:
        if start:
            params["ExclusiveStartKey"] = start
        # A filter applies after Limit: read a full page at a time then.
        params["Limit"] = max(per_page, 25) if query.filters else max(per_page - len(items), 1)
        response = table.dynamodb().query(**params)
        for item in response.get("Items", []):
            items.append(item)
            if len(items) == per_page:
                return items, _encode_cursor(_key_of(item, query.index))
        start = response.get("LastEvaluatedKey")
        if not start:
            return items, None


def _whole(found: list[IndexEntry]) -> list[Action]:
    """The entries' actions from the table, in the index's order, if still as indexed
    (the same status and time: an entry only answers the query it was found by)."""
    actions = fetch([entry.action_id for entry in found])

    def still_matches(entry: IndexEntry) -> bool:
        action = actions.get(entry.action_id)
        if action is None:
            return False
        return action.status == entry.status and action.scheduled_for == entry.scheduled_for

    return [actions[entry.action_id] for entry in found if still_matches(entry)]


def fetch(action_ids: list[str]) -> dict[str, Action]:
    """The actions with these ids, read with BatchGetItem; ids with no action are absent.

    ``BATCH_GET_KEYS`` keys a call. DynamoDB may leave keys unprocessed (throttling, or
    its 16 MB answer limit): those are asked for again after a jittered backoff, and
    still unprocessed after ``_BATCH_ATTEMPTS`` they raise ``TransientError``, so that a
    caller in a hook is retried rather than shown a page with holes.
    """
    name = table.name()
    ids = list(dict.fromkeys(action_ids))
    found: dict[str, Action] = {}
    for first in range(0, len(ids), BATCH_GET_KEYS):
        request: dict[str, Any] = {
            name: {"Keys": [table.key(key) for key in ids[first : first + BATCH_GET_KEYS]]}
        }
        for attempt in range(_BATCH_ATTEMPTS):
            if attempt:
                time.sleep(random.uniform(0, min(0.05 * 2**attempt, 1.0)))  # noqa: S311
            response = table.dynamodb().batch_get_item(RequestItems=request)
            for raw in response.get("Responses", {}).get(name, []):
                action = from_item(plain(raw))
                found[action.action_id] = action
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            left = len(request.get(name, {}).get("Keys", []))
            raise TransientError(f"DynamoDB left {left} action(s) unread after retries")
    return found


def count(
    *,
    status: ActionStatus,
    hook: str | None = None,
    scheduled_before: float | None = None,
    limit: int | None = None,
) -> int:
    """How many actions of ``hook`` (or any) are in ``status``: COUNT queries of an index.

    Nothing leaves DynamoDB but the count, and nothing is read from the table.
    ``COUNT_PAGE`` bounds each query's read; ``limit``, if given, stops the count once
    it is reached (it may then be passed by up to a page).
    """
    params = _key_query(Criteria(hook=hook, status=status, date_to=scheduled_before)).params()
    params.update(Select="COUNT", Limit=COUNT_PAGE)
    total = 0
    while limit is None or total < limit:
        response = table.dynamodb().query(**params)
        total += int(response.get("Count", 0))
        if "LastEvaluatedKey" not in response:
            break
        params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return total


def tally(
    status: ActionStatus,
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
    read. Without ``sample`` the query selects COUNT: no item leaves DynamoDB at all.
    """
    params: dict[str, Any] = {
        "TableName": table.name(),
        "IndexName": "by_status",
        "KeyConditionExpression": "#s = :status AND scheduled_for < :before",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": to_values({"status": str(status), "before": scheduled_before}),
        "Limit": limit + 1,
    }
    if updated_before is not None:
        params["FilterExpression"] = "updated_at < :updated_before"
        params["ExpressionAttributeValues"].update(to_values({"updated_before": updated_before}))
    if sample:
        params["ProjectionExpression"] = "action_id, #s, hook, scheduled_for, updated_at"
    else:
        params["Select"] = "COUNT"
    response = table.dynamodb().query(**params)
    # With a filter, a page of entries fresh in claim can hide a stuck one behind it (a
    # backlog being drained): look a few pages further, still bounded, before "none".
    for _ in range(_TALLY_FILTER_PAGES - 1):
        if updated_before is None or response.get("Count") or "LastEvaluatedKey" not in response:
            break
        response = table.dynamodb().query(**params, ExclusiveStartKey=response["LastEvaluatedKey"])
    matched = int(response.get("Count", 0))
    more = matched > limit or (updated_before is not None and "LastEvaluatedKey" in response)
    found = [entry_from_item(plain(item)) for item in response.get("Items", [])[:sample]]
    return Tally(count=min(matched, limit), more=more, sample=found)


def _index_keys(index: str) -> set[str]:
    """The attributes of an index's key, the table's key included."""
    return {"action_id", *INDEX_KEYS[index]}


def _key_of(item: dict[str, Any], index: str) -> dict[str, Any]:
    """The index key of a raw item, as DynamoDB's ExclusiveStartKey wants it."""
    keys = _index_keys(index)
    return {name: value for name, value in item.items() if name in keys}


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
    attribute = INDEX_KEYS[index][0]
    if not (
        isinstance(key, dict)
        and set(key) == _index_keys(index)
        and all(isinstance(value, dict) and len(value) == 1 for value in key.values())
        and key[attribute] == {"S": partition}
    ):
        raise InvalidAction("the cursor is not one this API returned for this query")
    return key
