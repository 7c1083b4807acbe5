"""The Action Scheduler API, writing side: enqueue and schedule actions.

Every function validates everything (hook, args, time, expression, time zone)
before it writes anything, writes the action item, then hands the envelope to
SQS or EventBridge Scheduler; if that hand-off fails, the item is removed again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from functions.actions import cron, hooks, queues, store, timers
from functions.actions.config import QueueConfig, queue_named
from functions.actions.envelope import Envelope, Priority
from functions.actions.exceptions import InvalidAction
from functions.metrics import Metric
from functions.observability import add_metric, logger

Timestamp = datetime | int | float


def as_datetime(timestamp: Timestamp) -> datetime:
    """A timezone-aware datetime or epoch seconds, as UTC; naive datetimes are refused."""
    if isinstance(timestamp, datetime):
        if timestamp.tzinfo is None or timestamp.utcoffset() is None:
            raise InvalidAction("naive datetimes are ambiguous: give a time zone (tzinfo)")
        return timestamp.astimezone(UTC)
    if isinstance(timestamp, int | float) and not isinstance(timestamp, bool):
        try:
            return datetime.fromtimestamp(timestamp, UTC)
        except (OverflowError, OSError, ValueError):
            raise InvalidAction(f"{timestamp!r} is not a usable epoch time") from None
    raise InvalidAction("timestamps are timezone-aware datetimes or epoch seconds")


def _prepare(
    hook: str,
    args: Any,
    group: str,
    priority: Priority | None,
    scheduled_for: datetime,
    *,
    action_id: str | None = None,
    correlation_id: str | None = None,
) -> tuple[Envelope, QueueConfig]:
    spec = hooks.get(hook)
    now = datetime.now(UTC)
    action_id = action_id or str(uuid.uuid4())
    try:
        envelope = Envelope(
            action_id=action_id,
            hook=hook,
            args=args,
            group=group,
            priority=priority or spec.priority,
            max_attempts=spec.max_attempts,
            scheduled_for=scheduled_for,
            enqueued_at=now,
            correlation_id=correlation_id or action_id,
        )
    except ValidationError as exc:
        raise InvalidAction(_first_error(exc)) from None
    envelope.to_message()  # refuses an oversized envelope before anything is written
    return envelope, queue_named(spec.queue if spec.ordered else envelope.priority)


def _write(
    envelope: Envelope,
    unique: bool,
    extra: dict[str, Any],
    hand_off: Callable[[], object],
) -> bool:
    """Write the item, then hand the envelope off; remove the item if the hand-off fails."""
    created = store.create(envelope, unique=unique, extra=extra)
    try:
        hand_off()
    except (ClientError, BotoCoreError, InvalidAction):
        if created:
            store.discard(envelope.action_id)
        raise
    logger.info(
        "action scheduled",
        extra={
            "action_id": envelope.action_id,
            "hook": envelope.hook,
            "group": envelope.group,
            "kind": extra.get("kind"),
            "scheduled_for": envelope.scheduled_for.isoformat(),
            "repeat": not created,
        },
    )
    if created:
        # Counted where the action is made (the webhook function, the worker when a
        # hook enqueues more); a repeat hand-off of the same action is not a new one.
        add_metric(
            Metric.ACTIONS_ENQUEUED if extra.get("kind") == "async" else Metric.ACTIONS_SCHEDULED,
            hook=envelope.hook,
            priority=envelope.priority,
        )
    return created


def enqueue_async_action(
    hook: str,
    args: Any = None,
    group: str = "",
    unique: bool = False,
    priority: Priority | None = None,
    *,
    action_id: str | None = None,
    correlation_id: str | None = None,
) -> str:
    """Run ``hook(args)`` as soon as a worker is free; return the action id.

    ``priority`` overrides the hook's own. ``unique=True`` refuses (``DuplicateAction``)
    a second pending or running action with the same hook, args and group, atomically.
    ``action_id`` lets a caller that may repeat itself (the webhook receiver after a
    crash) derive the id from its own idempotency key: a repeat then sends the same
    action again, which the worker runs once.
    """
    envelope, queue = _prepare(
        hook,
        args,
        group,
        priority,
        datetime.now(UTC),
        action_id=action_id,
        correlation_id=correlation_id,
    )
    _write(envelope, unique, {"kind": "async"}, lambda: queues.send(envelope, queue))
    return envelope.action_id


def schedule_single_action(
    timestamp: Timestamp,
    hook: str,
    args: Any = None,
    group: str = "",
    unique: bool = False,
    priority: Priority | None = None,
) -> str:
    """Run ``hook(args)`` once at ``timestamp``; a past time runs as soon as possible.

    Up to 15 minutes ahead the message waits on SQS (``DelaySeconds``); later, a
    one-time EventBridge schedule sends it at its time and deletes itself.
    """
    when = as_datetime(timestamp)
    envelope, queue = _prepare(hook, args, group, priority, when)
    delay = (when - datetime.now(UTC)).total_seconds()
    extra: dict[str, Any] = {"kind": "single"}
    if delay <= 0 or (delay <= queues.MAX_DELAY_SECONDS and not queue.fifo):

        def hand_off() -> object:
            return queues.send(envelope, queue, delay_seconds=max(0.0, delay))

    else:
        extra["schedule_name"] = timers.schedule_name(envelope.action_id)

        def hand_off() -> object:
            return timers.create_at(envelope, queue)

    _write(envelope, unique, extra, hand_off)
    return envelope.action_id


def schedule_recurring_action(
    timestamp: Timestamp,
    interval_seconds: int,
    hook: str,
    args: Any = None,
    group: str = "",
    unique: bool = False,
    priority: Priority | None = None,
) -> str:
    """Run ``hook(args)`` every ``interval_seconds`` (whole minutes) from ``timestamp``.

    Runs fall on ``timestamp + k * interval`` whatever happens to earlier runs: no
    drift. Each run is an action of its own, ``<this id>@<its time>``.
    """
    if isinstance(interval_seconds, bool) or not isinstance(interval_seconds, int):
        raise InvalidAction("interval_seconds must be an integer")
    expression = cron.rate_expression(interval_seconds)
    start = as_datetime(timestamp)
    now = datetime.now(UTC)
    first = cron.next_rate_run(start, interval_seconds, now - timedelta(seconds=1))
    recurrence = {"kind": "rate", "interval_seconds": interval_seconds, "start": start.timestamp()}
    return _recurring(hook, args, group, unique, priority, first, expression, "UTC", recurrence)


def schedule_cron_action(
    timestamp: Timestamp,
    cron_expression: str,
    hook: str,
    args: Any = None,
    group: str = "",
    unique: bool = False,
    priority: Priority | None = None,
    timezone: str = "UTC",
) -> str:
    """Run ``hook(args)`` on a five-field cron expression, in an IANA time zone, from ``timestamp``.

    Each run is an action of its own, ``<this id>@<its time>``.
    """
    if not isinstance(cron_expression, str):
        raise InvalidAction("cron must be a string of five fields")
    expression = cron.validate_cron(cron_expression, timezone)
    start = max(as_datetime(timestamp), datetime.now(UTC))
    first = cron.next_cron_run(expression, timezone, start - timedelta(seconds=1))
    if first is None:
        raise InvalidAction(f"{cron_expression!r} never matches in the next 50 years")
    recurrence = {"kind": "cron", "cron": expression, "timezone": timezone}
    return _recurring(
        hook, args, group, unique, priority, first, cron.to_aws_cron(expression), timezone,
        recurrence,
    )  # fmt: skip


def _recurring(
    hook: str,
    args: Any,
    group: str,
    unique: bool,
    priority: Priority | None,
    first: datetime,
    expression: str,
    timezone: str,
    recurrence: dict[str, Any],
) -> str:
    envelope, queue = _prepare(hook, args, group, priority, first)
    extra = {
        "kind": recurrence["kind"],
        "recurrence": recurrence,
        "schedule_name": timers.schedule_name(envelope.action_id),
    }
    _write(
        envelope,
        unique,
        extra,
        lambda: timers.create_recurring(
            envelope, queue, expression=expression, timezone=timezone, start=first
        ),
    )
    return envelope.action_id


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}"
