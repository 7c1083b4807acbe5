"""The Action Scheduler API, reading and canceling side: has, next, get, unschedule.

Answered from the actions table's indexes (``by_hook``, ``by_match``, ``by_status``),
never by listing schedules or scanning. ``args=None`` and ``group=None`` match any.
has, next and unschedule need no more than the indexes hold; the items that
``get_scheduled_actions`` returns are then read from the table in batches.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.actions import hooks, limits, queues, store, timers
from functions.actions.config import queue_named
from functions.actions.envelope import Envelope
from functions.actions.exceptions import InvalidAction
from functions.actions.store import Action, ActionKind, ActionStatus, IndexEntry
from functions.observability import logger

PAST_DUE = "past-due"
_STORED = tuple(str(status) for status in ActionStatus)
STATUSES = (*_STORED, PAST_DUE)
_PAGE = 100


# Query bounds are clamped to the times an action can have (limits.EARLIEST..LATEST).
_EARLIEST, _LATEST = limits.EARLIEST.timestamp(), limits.LATEST.timestamp()


def _checked(hook: str | None, args: Any, group: str | None) -> None:
    """Refuse, before any query, what no action can match and DynamoDB would refuse as
    a key or value: the same limits enqueue applies (functions/actions/limits.py)."""
    if hook is not None:
        limits.check_hook_name(hook)
    if args is not None:
        limits.check_args(args)
    if group is not None:
        limits.check_group(group)


def _criteria(hook: str, args: Any, group: str | None, status: ActionStatus) -> store.Criteria:
    """Action Scheduler's matching: ``args=None`` matches any args, and an empty hook any
    hook within a group (which reads the status index: every action in ``status``)."""
    if hook == "":
        if not group:
            raise InvalidAction("name a hook, or a group to match every hook's actions in it")
        _checked(None, args, group)
        return store.Criteria(None, status, _any_if_none(args), group)
    _checked(hook, args, group)
    return store.Criteria(hook, status, _any_if_none(args), group)


def _any_if_none(args: Any) -> Any:
    return store.ANY if args is None else args


def _matches(hook: str, args: Any, group: str | None, status: ActionStatus) -> Iterator[IndexEntry]:
    """Each action of ``hook`` in ``status`` matching args and group, soonest first, a
    page at a time. Index entries only: their id and time are all a cancel needs."""
    criteria = _criteria(hook, args, group, status)
    cursor = None
    while True:
        page = store.entries(criteria, per_page=_PAGE, cursor=cursor)
        yield from page.items
        if not page.cursor:
            return
        cursor = page.cursor


def next_run(action: Action | IndexEntry, now: datetime | None = None) -> datetime | None:
    """The run of a recurring action that follows ``now`` (a one-off: its own time):
    where the worker moves a recurring action when one of its runs starts."""
    now = now or datetime.now(UTC)
    recurrence = action.recurrence
    if recurrence is None:
        return action.scheduled_for
    from functions.actions import cron  # time zones and cron: only recurring actions need them

    if recurrence.kind is ActionKind.RATE and recurrence.start:
        return cron.next_rate_run(recurrence.start, recurrence.interval_seconds, now)
    if recurrence.kind is ActionKind.CRON:
        # Not before its first run (its scheduled time): a cron action may start later.
        after = max(now, action.scheduled_for - timedelta(seconds=1))
        return cron.next_cron_run(recurrence.cron, recurrence.timezone, after)
    return action.scheduled_for


def has_scheduled_action(hook: str, args: Any = None, group: str | None = None) -> bool:
    """Is a matching action pending or running?"""
    return any(
        store.entries(_criteria(hook, args, group, status), per_page=1).items
        for status in (ActionStatus.PENDING, ActionStatus.IN_PROGRESS)
    )


def next_scheduled_action(hook: str, args: Any = None, group: str | None = None) -> datetime | bool:
    """As Action Scheduler answers: True if a match is running, or the soonest pending
    match is async; else that match's scheduled time (UTC), past-due or not (a recurring
    action's is its next run not yet started); False if none is pending or running.
    """
    running = store.entries(_criteria(hook, args, group, ActionStatus.IN_PROGRESS), per_page=1)
    if running.items:
        return True
    soonest = store.entries(_criteria(hook, args, group, ActionStatus.PENDING), per_page=1).items
    if not soonest:
        return False
    return True if soonest[0].kind is ActionKind.ASYNC else soonest[0].scheduled_for


def cancel_action(action_id: str, reason: str = "canceled") -> bool:
    """Cancel one pending action and delete its schedule; False if it was not pending."""
    limits.check_action_id(action_id)
    old = store.cancel(action_id, reason)
    if old is None:
        return False
    if old.schedule_name:
        timers.delete(old.schedule_name)
    logger.info("action canceled", extra={"action_id": action_id, "hook": old.hook})
    return True


def unschedule_action(hook: str, args: Any = None, group: str | None = None) -> str | None:
    """Cancel the soonest pending match (a recurring one: all its future runs)."""
    for entry in _matches(hook, args, group, ActionStatus.PENDING):
        if cancel_action(entry.action_id, "unscheduled"):
            return entry.action_id
    return None


def unschedule_all_actions(hook: str, args: Any = None, group: str | None = None) -> list[str]:
    """Cancel every pending match; return the ids canceled. An empty hook with a group
    cancels the group's actions of every hook, as Action Scheduler's does."""
    matches = list(_matches(hook, args, group, ActionStatus.PENDING))  # before any changes
    return [entry.action_id for entry in matches if cancel_action(entry.action_id, "unscheduled")]


def get_scheduled_actions(
    *,
    hook: str | None = None,
    args: Any = None,
    group: str | None = None,
    status: str | Sequence[str] | None = None,
    date_from: datetime | float | None = None,
    date_to: datetime | float | None = None,
    per_page: int = 25,
    cursor: str | None = None,
    order: str = "asc",
) -> store.Page[Action]:
    """Actions by hook and/or status (``past-due`` = pending and due), soonest first.

    ``status`` may be a list of statuses, as Action Scheduler's query takes: their
    actions come merged by scheduled time. Pages: pass back ``page.cursor`` for the
    next one; None means the last page.
    """
    if order not in {"asc", "desc"}:
        raise InvalidAction("order is 'asc' or 'desc'")
    if not 1 <= per_page <= 1000:
        raise InvalidAction("per_page is 1..1000")
    statuses = _statuses(status)
    _checked(hook, args, group)
    low, high = _epoch(date_from), _epoch(date_to)
    descending = order == "desc"
    if len(statuses) > 1:
        each = [
            store.Criteria(hook, ActionStatus(one), _any_if_none(args), group, low, high)
            for one in statuses
        ]
        return store.query_each(each, per_page=per_page, cursor=cursor, descending=descending)
    status = statuses[0] if statuses else None
    wanted = None if status is None or status == PAST_DUE else ActionStatus(status)
    if status == PAST_DUE:
        wanted = ActionStatus.PENDING
        now = datetime.now(UTC).timestamp()
        high = now if high is None else min(high, now)
    if hook is None and wanted is None:
        wanted = ActionStatus.PENDING
    criteria = store.Criteria(hook, wanted, _any_if_none(args), group, date_from=low, date_to=high)
    return store.query(criteria, per_page=per_page, cursor=cursor, descending=descending)


def _statuses(status: str | Sequence[str] | None) -> list[str]:
    """The statuses asked for: none, one, or a list of distinct ones (``past-due``,
    which is not a status of its own but pending and due, only alone)."""
    if status is None:
        return []
    if isinstance(status, str):
        if status not in STATUSES:
            raise InvalidAction(f"status is one of {STATUSES}, or a list of them")
        return [status]
    if not isinstance(status, list | tuple) or not status:
        raise InvalidAction("status is a status, or a non-empty list of them")
    if len(status) == 1:
        return _statuses(status[0])
    if not all(isinstance(one, str) and one in _STORED for one in status):
        raise InvalidAction(f"a list of statuses holds {_STORED} (past-due only alone)")
    if len(set(status)) != len(status):
        raise InvalidAction("a list of statuses names each once")
    return list(status)


def count_scheduled_actions(
    status: str, *, hook: str | None = None, limit: int | None = None
) -> int:
    """How many actions (of ``hook``, or any) are in ``status`` (``past-due``: pending and due).

    For counts only, so cheaper than paging through ``get_scheduled_actions``: COUNT
    queries of an index, no item read from the table. With ``limit`` the count stops
    once it is reached (and may pass it by up to a page of 1000).
    """
    if status not in STATUSES:
        raise InvalidAction(f"status is one of {STATUSES}")
    _checked(hook, None, None)
    if status == PAST_DUE:
        return store.count(
            status=ActionStatus.PENDING,
            hook=hook,
            scheduled_before=datetime.now(UTC).timestamp(),
            limit=limit,
        )
    return store.count(status=ActionStatus(status), hook=hook, limit=limit)


def run_action_now(action_id: str) -> bool:
    """Send a pending action to its queue now (its schedule, if any, is deleted)."""
    limits.check_action_id(action_id)
    action = store.get(action_id)
    if action is None or action.status is not ActionStatus.PENDING or action.is_recurring:
        return False
    if action.schedule_name:
        timers.delete(action.schedule_name)
    now = datetime.now(UTC)
    envelope = Envelope(
        action_id=action_id,
        hook=action.hook,
        args=action.args,
        args_ref=action.args_ref,
        group=action.group,
        priority=action.priority,
        attempt=action.attempts + 1,
        max_attempts=action.max_attempts,
        scheduled_for=now - timedelta(seconds=1),
        enqueued_at=now,
        correlation_id=action.correlation_id or action_id,
    )
    spec = hooks.get(envelope.hook)
    queues.send(envelope, queue_named("fifo" if spec.ordered else envelope.priority))
    return True


def _epoch(value: datetime | float | None) -> float | None:
    """A query bound in epoch seconds, clamped to the times an action can have."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidAction("naive datetimes are ambiguous: give a time zone (tzinfo)")
        seconds = value.timestamp()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except OverflowError:  # an int beyond any float: past either end
            seconds = math.inf if value > 0 else -math.inf
    else:
        raise InvalidAction("date bounds are timezone-aware datetimes or epoch seconds")
    if math.isnan(seconds):
        raise InvalidAction("a date bound is a number, not NaN")
    return min(max(seconds, _EARLIEST), _LATEST)
