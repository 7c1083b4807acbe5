"""The Action Scheduler API, reading and canceling side: has, next, get, unschedule.

Answered from the actions table's indexes (``by_hook``, ``by_match``, ``by_status``),
never by listing schedules or scanning. ``args=None`` and ``group=None`` match any.
has, next and unschedule need no more than the indexes hold; the items that
``get_scheduled_actions`` returns are then read from the table in batches.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.actions import cron, hooks, queues, store, timers
from functions.actions.config import queue_named
from functions.actions.envelope import Envelope
from functions.actions.exceptions import InvalidAction
from functions.observability import logger

PAST_DUE = "past-due"
_PAGE = 100


def _args(args: Any) -> Any:
    return store.ANY if args is None else args


def _matches(hook: str, args: Any, group: str | None, status: str) -> list[dict[str, Any]]:
    """Every action of ``hook`` in ``status`` matching args and group (all pages).

    Index entries only: their id, time, kind and recurrence are all that ``next_run``
    and a cancel need.
    """
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = store.query(
            hook=hook,
            status=status,
            args=_args(args),
            group=group,
            per_page=_PAGE,
            cursor=cursor,
            full=False,
        )
        items.extend(page.items)
        if not page.cursor:
            return items
        cursor = page.cursor


def next_run(item: dict[str, Any], now: datetime | None = None) -> datetime | None:
    """When a pending action runs next: its time, or its recurrence's next occurrence."""
    now = now or datetime.now(UTC)
    recurrence = item.get("recurrence") or {}
    if recurrence.get("kind") == "rate":
        start = datetime.fromtimestamp(recurrence["start"], UTC)
        return cron.next_rate_run(start, int(recurrence["interval_seconds"]), now)
    if recurrence.get("kind") == "cron":
        # Not before its first run (``scheduled_at``): a cron action may start later.
        first = datetime.fromtimestamp(item["scheduled_at"], UTC)
        after = max(now, first - timedelta(seconds=1))
        return cron.next_cron_run(recurrence["cron"], recurrence["timezone"], after)
    return datetime.fromtimestamp(item["scheduled_at"], UTC)


def has_scheduled_action(hook: str, args: Any = None, group: str | None = None) -> bool:
    """Is a matching action pending or running?"""
    return any(
        store.query(
            hook=hook, status=status, args=_args(args), group=group, per_page=1, full=False
        ).items
        for status in (store.PENDING, store.IN_PROGRESS)
    )


def next_scheduled_action(hook: str, args: Any = None, group: str | None = None) -> datetime | bool:
    """The next run's time (UTC) of the soonest pending match; True if that match is
    async (run as soon as possible) or, with none pending, one is running; else False.
    """
    pending = _matches(hook, args, group, store.PENDING)
    if pending:
        soonest = min(pending, key=lambda item: next_run(item) or datetime.max.replace(tzinfo=UTC))
        if soonest.get("kind") == "async":
            return True
        return next_run(soonest) or False
    return bool(
        store.query(
            hook=hook,
            status=store.IN_PROGRESS,
            args=_args(args),
            group=group,
            per_page=1,
            full=False,
        ).items
    )


def cancel_action(action_id: str, reason: str = "canceled") -> bool:
    """Cancel one pending action and delete its schedule; False if it was not pending."""
    old = store.cancel(action_id, reason)
    if old is None:
        return False
    if old.get("schedule_name"):
        timers.delete(old["schedule_name"])
    logger.info("action canceled", extra={"action_id": action_id, "hook": old.get("hook")})
    return True


def unschedule_action(hook: str, args: Any = None, group: str | None = None) -> str | None:
    """Cancel the soonest pending match (a recurring one: all its future runs)."""
    pending = sorted(
        _matches(hook, args, group, store.PENDING),
        key=lambda item: next_run(item) or datetime.max.replace(tzinfo=UTC),
    )
    for item in pending:
        if cancel_action(item["action_id"], "unscheduled"):
            return item["action_id"]
    return None


def unschedule_all_actions(hook: str, args: Any = None, group: str | None = None) -> list[str]:
    """Cancel every pending match; return the ids canceled."""
    return [
        item["action_id"]
        for item in _matches(hook, args, group, store.PENDING)
        if cancel_action(item["action_id"], "unscheduled")
    ]


def get_scheduled_actions(
    *,
    hook: str | None = None,
    args: Any = None,
    group: str | None = None,
    status: str | None = None,
    date_from: datetime | float | None = None,
    date_to: datetime | float | None = None,
    per_page: int = 25,
    cursor: str | None = None,
    order: str = "asc",
) -> store.Page:
    """Actions by hook and/or status (``past-due`` = pending and due), soonest first.

    Pages: pass back ``page.cursor`` for the next one; None means the last page.
    """
    if order not in {"asc", "desc"}:
        raise InvalidAction("order is 'asc' or 'desc'")
    if not 1 <= per_page <= 1000:
        raise InvalidAction("per_page is 1..1000")
    if status is not None and status not in (*store.STATUSES, PAST_DUE):
        raise InvalidAction(f"status is one of {(*store.STATUSES, PAST_DUE)}")
    low, high = _epoch(date_from), _epoch(date_to)
    if status == PAST_DUE:
        status = store.PENDING
        now = datetime.now(UTC).timestamp()
        high = now if high is None else min(high, now)
    if hook is None and status is None:
        status = store.PENDING
    return store.query(
        hook=hook,
        status=status,
        args=_args(args),
        group=group,
        date_from=low,
        date_to=high,
        per_page=per_page,
        cursor=cursor,
        descending=order == "desc",
    )


def count_scheduled_actions(
    status: str, *, hook: str | None = None, limit: int | None = None
) -> int:
    """How many actions (of ``hook``, or any) are in ``status`` (``past-due``: pending and due).

    For counts only, so cheaper than paging through ``get_scheduled_actions``: COUNT
    queries of an index, no item read from the table. With ``limit`` the count stops
    once it is reached (and may pass it by up to a page of 1000).
    """
    if status not in (*store.STATUSES, PAST_DUE):
        raise InvalidAction(f"status is one of {(*store.STATUSES, PAST_DUE)}")
    before = None
    if status == PAST_DUE:
        status, before = store.PENDING, datetime.now(UTC).timestamp()
    return store.count(status=status, hook=hook, scheduled_before=before, limit=limit)


def run_action_now(action_id: str) -> bool:
    """Send a pending action to its queue now (its schedule, if any, is deleted)."""
    item = store.get(action_id)
    if not item or item.get("status") != store.PENDING or item.get("recurrence"):
        return False
    if item.get("schedule_name"):
        timers.delete(item["schedule_name"])
    now = datetime.now(UTC)
    envelope = Envelope(
        action_id=action_id,
        hook=item["hook"],
        args=json.loads(item["args"]),
        group=item.get("group", ""),
        priority=item.get("priority", "default"),
        attempt=int(item.get("attempts", 0)) + 1,
        max_attempts=int(item.get("max_attempts", 5)),
        scheduled_for=now - timedelta(seconds=1),
        enqueued_at=now,
        correlation_id=item.get("correlation_id") or action_id,
    )
    spec = hooks.get(envelope.hook)
    queues.send(envelope, queue_named("fifo" if spec.ordered else envelope.priority))
    return True


def _epoch(value: datetime | float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidAction("naive datetimes are ambiguous: give a time zone (tzinfo)")
        return value.timestamp()
    return float(value)
