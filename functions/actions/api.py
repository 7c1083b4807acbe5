"""The Action Scheduler API, writing side: enqueue and schedule actions.

Every function validates everything (hook, args, time, expression, time zone)
before it writes anything, writes the action item, then hands the envelope to
SQS or EventBridge Scheduler; if that hand-off fails, the item is removed again.
Args above the inline threshold are first put into the payload bucket, and the
envelope and the item carry a reference instead (functions/payloads).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.actions import hooks, limits, queues, store
from functions.actions.config import QueueConfig, queue_named
from functions.actions.envelope import (
    MAX_ARGS_BYTES,
    Envelope,
    InvalidEnvelope,
    Priority,
)
from functions.actions.exceptions import ActionTooLarge, InvalidAction
from functions.actions.store import ActionKind, Recurrence
from functions.metrics import Metric
from functions.observability import add_metric, logger
from functions.payloads import store as payloads

Timestamp = datetime | int | float
# A recurring action's first run due within this many seconds (or past) is sent to SQS
# by the API, not left to the schedule's StartDate (EventBridge fires to the minute).
FIRST_RUN_LEAD_SECONDS = 60


def as_datetime(timestamp: Timestamp) -> datetime:
    """A timezone-aware datetime or epoch seconds, as UTC; naive datetimes are refused,
    and so are times EventBridge Scheduler cannot express (``limits.check_time``)."""
    if isinstance(timestamp, datetime):
        if timestamp.tzinfo is None or timestamp.utcoffset() is None:
            raise InvalidAction("naive datetimes are ambiguous: give a time zone (tzinfo)")
        try:
            return limits.check_time(timestamp.astimezone(UTC), "the timestamp")
        except OverflowError:  # a time near year 1 or 9999 that UTC cannot hold
            raise InvalidAction(f"{timestamp!r} is not a usable time") from None
    if isinstance(timestamp, int | float) and not isinstance(timestamp, bool):
        try:
            moment = datetime.fromtimestamp(timestamp, UTC)
        except (OverflowError, OSError, ValueError):
            raise InvalidAction(f"{timestamp!r} is not a usable epoch time") from None
        return limits.check_time(moment, "the timestamp")
    raise InvalidAction("timestamps are timezone-aware datetimes or epoch seconds")


@dataclass(frozen=True)
class _Request:
    """What every enqueue and schedule function is asked for, besides the time."""

    hook: str
    args: Any
    group: str
    unique: bool
    priority: Priority | None


@dataclass(frozen=True)
class _Shape:
    """How the action recurs, if it does: what its item records besides the envelope."""

    kind: ActionKind
    recurrence: Recurrence | None = None
    schedule_name: str | None = None


def _prepare(
    request: _Request,
    scheduled_for: datetime,
    *,
    action_id: str | None = None,
    correlation_id: str | None = None,
    recurring: bool = False,
    run_now: bool = False,
    recorded: bool = True,
) -> tuple[Envelope, QueueConfig]:
    spec = hooks.get(request.hook)
    _check_unique(request, spec)
    if not recorded:
        _check_unrecorded(request, spec)
    now = datetime.now(UTC)
    action_id = action_id or str(uuid.uuid4())
    try:
        envelope = Envelope(
            action_id=action_id,
            hook=request.hook,
            args=request.args,
            group=request.group,
            priority=request.priority or spec.priority,
            max_attempts=spec.max_attempts,
            scheduled_for=scheduled_for,
            enqueued_at=now,
            correlation_id=correlation_id or action_id,
            # Unique actions stay listed: a unique check may look for them in the indexes.
            listed=not (run_now and not request.unique and not spec.listed_while_queued),
            recorded=recorded,
        )
    except InvalidEnvelope as exc:
        raise InvalidAction(str(exc)) from None
    limits.check_time(envelope.scheduled_for, "the scheduled time")
    if spec.ordered:
        limits.check_fifo_group(envelope.group or envelope.hook)
    due_in = None if recurring else (scheduled_for - now).total_seconds()
    envelope = _claim_check(envelope, due_in)
    queue = queue_named(spec.queue if spec.ordered else envelope.priority)
    # Refuses, before anything is written, an envelope SQS could not carry with its
    # message attributes, or as a dead letter.
    queues.check_size(envelope, queue)
    return envelope, queue


def _check_unique(request: _Request, spec: hooks.HookSpec) -> None:
    """``unique`` is a bool, and asks for what the hook counts (``unique_by``)."""
    if not isinstance(request.unique, bool):
        raise InvalidAction("unique is True or False")
    if request.unique and spec.unique_by is None:
        raise InvalidAction(
            f"unique=True needs the hook to count its actions: register {request.hook!r} "
            "with unique_by='group' (Action Scheduler's unique) or unique_by='args'"
        )


def _check_unrecorded(request: _Request, spec: hooks.HookSpec) -> None:
    """``recorded=False`` is for an action to run now, on a standard queue, not unique:
    nothing else can do without its item.
    Why: docs/decisions/0071-unrecorded-actions-are-an-opt-in.md"""
    if request.unique:
        raise InvalidAction(
            "recorded=False cannot be unique: a unique check counts the actions' items, "
            "and an unrecorded action has none"
        )
    if spec.ordered:
        raise InvalidAction(
            f"recorded=False cannot run on the ordered (FIFO) queue: {request.hook!r} is "
            "ordered, and an ordered action counts its attempts in its item"
        )


def _claim_check(envelope: Envelope, due_in_seconds: float | None) -> Envelope:
    """The envelope with its args in the payload bucket if they are above the inline
    threshold (``due_in_seconds``: when it first runs; None for a recurring action).

    The object is written before the item, so no item names an object that is not
    there; an object whose item is never written expires with its lifecycle.
    """
    text = envelope.args_text.encode("utf-8")
    if len(text) <= payloads.inline_bytes():
        return envelope
    if len(text) > MAX_ARGS_BYTES:
        raise ActionTooLarge(
            f"the action's args are {len(text)} bytes; an action takes at most {MAX_ARGS_BYTES}"
        )
    try:
        ref = payloads.put(
            text,
            name=envelope.action_id,
            args_hash=store.args_hash(envelope.args),
            lifetime=payloads.lifetime_days(due_in_seconds),
        )
    except payloads.PayloadUnavailable as exc:
        raise ActionTooLarge(f"the action's args are {len(text)} bytes: {exc}") from None
    return replace(envelope, args=None, args_ref=ref)


def _write(
    envelope: Envelope,
    unique: bool,
    shape: _Shape,
    hand_off: Callable[[], object],
) -> bool:
    """Write the item, then hand the envelope off; remove the item if the hand-off fails."""
    created = store.create(
        envelope,
        unique=unique,
        unique_by=hooks.get(envelope.hook).unique_by,
        kind=shape.kind,
        recurrence=shape.recurrence,
        schedule_name=shape.schedule_name,
    )
    try:
        hand_off()
    except (ClientError, BotoCoreError, InvalidAction):
        if created:
            store.discard(envelope.action_id)
        raise
    # An action to run now is said at DEBUG: the webhook receiver's "webhook accepted"
    # and the worker's "action completed" carry its id, and its log keeps "created".
    say = logger.debug if shape.kind is ActionKind.ASYNC else logger.info
    say(
        "action scheduled",
        extra={
            "action_id": envelope.action_id,
            "hook": envelope.hook,
            "group": envelope.group,
            "kind": str(shape.kind),
            "scheduled_for": envelope.scheduled_for.isoformat(),
            "repeat": not created,
        },
    )
    if created:
        # Counted where the action is made (the webhook function, the worker when a
        # hook enqueues more); a repeat hand-off of the same action is not a new one.
        add_metric(
            Metric.ACTIONS_ENQUEUED if shape.kind is ActionKind.ASYNC else Metric.ACTIONS_SCHEDULED,
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
    recorded: bool = True,
) -> str:
    """Run ``hook(args)`` as soon as a worker is free; return the action id.

    ``priority`` overrides the hook's own. ``unique=True`` refuses (``DuplicateAction``)
    it while another pending or running action of the hook has the same group (or, for
    a hook with ``unique_by="args"``, the same args and group), atomically; the hook must
    have ``unique_by``.
    ``action_id`` lets a caller that may repeat itself (the webhook receiver after a
    crash) derive the id from its own idempotency key: a repeat then sends the same
    action again, which the worker runs once.
    ``recorded=False`` writes no item: only the message carries the action, and the
    worker runs it without a claim and writes nothing to the actions table. ``get``,
    lists, cancel and the console never see it, and a repeated delivery of its message
    may run it twice. Not with ``unique``, nor for an ordered hook.
    Why: docs/decisions/0071-unrecorded-actions-are-an-opt-in.md
    """
    if not isinstance(recorded, bool):
        raise InvalidAction("recorded is True or False")
    envelope, queue = _prepare(
        _Request(hook, args, group, unique, priority),
        datetime.now(UTC),
        action_id=action_id,
        correlation_id=correlation_id,
        run_now=True,
        recorded=recorded,
    )
    if not recorded:
        queues.send(envelope, queue)
        logger.debug("action sent unrecorded", extra={"action_id": envelope.action_id})
        add_metric(Metric.ACTIONS_ENQUEUED, hook=envelope.hook, priority=envelope.priority)
        return envelope.action_id
    _write(envelope, unique, _Shape(ActionKind.ASYNC), lambda: queues.send(envelope, queue))
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
    envelope, queue = _prepare(_Request(hook, args, group, unique, priority), when)
    delay = (when - datetime.now(UTC)).total_seconds()
    shape = _Shape(ActionKind.SINGLE)
    if delay <= 0 or (delay <= queues.MAX_DELAY_SECONDS and not queue.fifo):

        def hand_off() -> object:
            return queues.send(envelope, queue, delay_seconds=max(0.0, delay))

    else:
        from functions.actions import timers  # EventBridge Scheduler: only this branch needs it

        shape = _Shape(ActionKind.SINGLE, schedule_name=timers.schedule_name(envelope.action_id))

        def hand_off() -> object:
            return timers.create_at(envelope, queue)

    _write(envelope, unique, shape, hand_off)
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
    """Run ``hook(args)`` every ``interval_seconds`` (whole minutes), first at ``timestamp``.

    As in Action Scheduler, the first run is at ``timestamp`` even when it is past: it is
    past-due and runs at once (one run, however many intervals it missed). Runs then
    fall on ``timestamp + k * interval`` whatever happens to earlier runs: no drift.
    Each run is an action of its own, ``<this id>@<its time>``.
    """
    if isinstance(interval_seconds, bool) or not isinstance(interval_seconds, int):
        raise InvalidAction("interval_seconds must be an integer")
    from functions.actions import cron  # time zones and cron: only recurring actions need them

    expression = cron.rate_expression(interval_seconds)
    start = as_datetime(timestamp)
    request = _Request(hook, args, group, unique, priority)
    recurrence = Recurrence.rate(interval_seconds, start)

    def following(after: datetime) -> datetime | None:
        return cron.next_rate_run(start, interval_seconds, after)

    return _recurring(request, start, expression, recurrence, following)


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
    """Run ``hook(args)`` on a five-field cron expression, in an IANA time zone.

    The first run is the expression's first match at or after ``timestamp``, even when
    that is past (then it runs at once, once), as in Action Scheduler. Each run is an
    action of its own, ``<this id>@<its time>``.
    """
    if not isinstance(cron_expression, str):
        raise InvalidAction("cron must be a string of five fields")
    from functions.actions import cron

    expression = cron.validate_cron(cron_expression, timezone)
    start = as_datetime(timestamp)
    first = cron.next_cron_run(expression, timezone, start - timedelta(seconds=1))
    if first is None:
        raise InvalidAction(f"{cron_expression!r} never matches in the 50 years after its start")
    request = _Request(hook, args, group, unique, priority)
    recurrence = Recurrence.cron_rule(expression, timezone)

    def following(after: datetime) -> datetime | None:
        return cron.next_cron_run(expression, timezone, after)

    return _recurring(request, first, cron.to_aws_cron(expression), recurrence, following)


def _recurring(
    request: _Request,
    first: datetime,
    expression: str,
    recurrence: Recurrence,
    following: Callable[[datetime], datetime | None],
) -> str:
    """Write a recurring action, first run at ``first``, and its EventBridge schedule
    (``expression``, AWS syntax; ``following(t)``: its first run after ``t``).

    EventBridge Scheduler runs a schedule from a StartDate still ahead of it, to the
    minute: a first run past, or within ``FIRST_RUN_LEAD_SECONDS``, is sent here, to
    SQS (with the rest of its wait as a delay), and the schedule starts at the run
    after it, on the same grid. Why: docs/decisions/0046-the-first-run-is-at-the-timestamp.md
    """
    now = datetime.now(UTC)
    lead = (first - now).total_seconds()
    sent_here = lead <= FIRST_RUN_LEAD_SECONDS
    then = following(max(first, now)) if sent_here else first
    from functions.actions import timers

    if then is None:  # a five-field cron matches again within a few years: never seen
        raise InvalidAction("the expression has no run after its first within 50 years")
    envelope, queue = _prepare(request, first, recurring=True)
    name = timers.schedule_name(envelope.action_id)
    shape = _Shape(recurrence.kind, recurrence, name)

    def schedule(start: datetime) -> str:
        return timers.create_recurring(
            envelope, queue, expression=expression, timezone=recurrence.timezone, start=start
        )

    if not sent_here:
        _write(envelope, request.unique, shape, lambda: schedule(first))
        return envelope.action_id
    run = timers.run_of(envelope, first)

    def hand_off() -> None:
        schedule(then)
        try:
            queues.send(run, queue, delay_seconds=max(0.0, lead))
        except (ClientError, BotoCoreError):
            timers.delete(name)  # no schedule left behind an action that is not written
            raise

    _write(envelope, request.unique, shape, hand_off)
    return envelope.action_id
