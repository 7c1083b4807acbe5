"""Fire the EventBridge Scheduler schedules that moto stores but never runs.

Each ``tick()`` reads every schedule, works out which occurrence is due at
``clock.now()`` and sends the target's input to its SQS queue (context attributes filled
in), as EventBridge Scheduler would: ``at``, ``rate`` (on its start's grid) and ``cron``
(six fields, in the schedule's time zone); each occurrence at most once, no backfill;
failed sends retried once a tick within the retry policy, then dead-lettered;
``ActionAfterCompletion=DELETE`` honoured. Every outcome is one ``Fired`` and one log
line. A ``ManualClock`` makes time a test input; ``SystemClock`` (``run``) makes it the
local scheduler.
Why: docs/decisions/0026-the-local-scheduler-clock-fires-schedules.md
"""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol
from zoneinfo import ZoneInfo

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from functions.actions.cron import aws_cron_to_crontab, latest_cron_run

if TYPE_CHECKING:  # the boto3-stubs packages: a dev dependency
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_scheduler.type_defs import (
        GetScheduleOutputTypeDef,
        RetryPolicyTypeDef,
        TargetOutputTypeDef,
    )
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageRequestTypeDef

_MICROSECOND = timedelta(microseconds=1)
_AT = re.compile(r"at\(\s*(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\s*\)")
_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")
_CRON = re.compile(r"cron\(\s*(.+?)\s*\)")
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
# EventBridge Scheduler's defaults for a target without a RetryPolicy, or a part of one.
_DEFAULT_MAX_RETRIES = 185
_DEFAULT_MAX_AGE_SECONDS = 86400

Status = Literal["delivered", "retrying", "dead-lettered", "dropped"]


# -- clocks -------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...

    def wait_until(self, moment: datetime, stop: threading.Event) -> bool:
        """Block until the clock reads ``moment``; False if ``stop`` was set first."""
        ...


# How often a wait looks again at a clock that does not say when it moves (the wall
# clock under time-machine) and at its stop event.
_WAIT_POLL_SECONDS = 0.2


class SystemClock:
    """The wall clock (time-machine moves it too)."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait_until(self, moment: datetime, stop: threading.Event) -> bool:
        while (remaining := (moment - self.now()).total_seconds()) > 0:
            if stop.wait(min(remaining, _WAIT_POLL_SECONDS)):
                return False
        return True


def _aware_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a timezone-aware datetime is required, not {moment!r}")
    return moment.astimezone(UTC)


class ManualClock:
    """A clock that moves only when told to: ``advance(seconds)`` or ``set(moment)``.

    What waits on it (``wait_until``) wakes when it moves; ``waiting`` counts the waits
    under way, so a test can tell that something waits before it moves the clock.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _aware_utc(start) if start else datetime.now(UTC).replace(microsecond=0)
        self._moved = threading.Condition()
        self.waiting = 0

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("a clock does not go backwards; use set() for that")
        with self._moved:
            self._now += timedelta(seconds=seconds)
            self._moved.notify_all()
        return self._now

    def set(self, moment: datetime) -> datetime:
        with self._moved:
            self._now = _aware_utc(moment)
            self._moved.notify_all()
        return self._now

    def wait_until(self, moment: datetime, stop: threading.Event) -> bool:
        with self._moved:
            self.waiting += 1
            self._moved.notify_all()
            try:
                while self._now < moment:
                    if stop.is_set():
                        return False
                    self._moved.wait(_WAIT_POLL_SECONDS)  # wakes when moved; looks at stop
            finally:
                self.waiting -= 1
                self._moved.notify_all()
        return True

    def wait_for_waiters(self, count: int, timeout: float) -> bool:
        """Block until ``count`` waits are under way (False after ``timeout`` seconds)."""
        with self._moved:
            return self._moved.wait_for(lambda: self.waiting >= count, timeout)


# -- schedules ----------------------------------------------------------------------


@dataclass(frozen=True)
class Fired:
    """One delivery outcome of one occurrence of a schedule."""

    schedule_arn: str
    group: str
    name: str
    scheduled_time: datetime  # the occurrence, UTC
    fired_at: datetime  # clock time of the tick
    status: Status
    target_arn: str
    queue: str  # queue name (the dead-letter queue's when dead-lettered)
    queue_url: str | None
    body: str
    execution_id: str
    attempt: int
    message_id: str | None = None
    error: str | None = None


@dataclass
class _State:
    not_before: datetime  # occurrences earlier than this are not fired
    anchor: datetime  # rate() grid origin when there is no StartDate
    last_fired: datetime | None = None


@dataclass
class _Pending:
    arn: str
    group: str
    name: str
    target: TargetOutputTypeDef
    scheduled_time: datetime
    execution_id: str
    delete_after: bool
    retries: int = 0  # failed attempts retried so far
    last_error: tuple[str, str] = ("", "")


@dataclass(frozen=True)
class _Try:
    """One delivery try of a pending occurrence: what each of its outcomes records."""

    item: _Pending
    now: datetime  # clock time of the tick
    attempt: int  # 1, then 2... on retries
    body: str  # the target's input, rendered for this attempt

    def outcome(
        self,
        status: Status,
        queue: str,
        *,
        url: str | None = None,
        message_id: str | None = None,
        error: str | None = None,
    ) -> Fired:
        item = self.item
        return Fired(
            schedule_arn=item.arn,
            group=item.group,
            name=item.name,
            scheduled_time=item.scheduled_time,
            fired_at=self.now,
            status=status,
            target_arn=item.target.get("Arn", ""),
            queue=queue,
            queue_url=url,
            body=self.body,
            execution_id=item.execution_id,
            attempt=self.attempt,
            message_id=message_id,
            error=error,
        )


class _SendError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _queue_name(arn: str) -> str:
    parts = arn.split(":")
    if len(parts) != 6 or parts[2] != "sqs":
        raise _SendError("UnsupportedTarget", f"only SQS targets run locally: {arn}")
    return parts[5]


def _retry_policy(target: TargetOutputTypeDef) -> tuple[int, int]:
    """The target's (MaximumRetryAttempts, MaximumEventAgeInSeconds), defaults filled in."""
    policy: RetryPolicyTypeDef = target.get("RetryPolicy") or {}
    return (
        policy.get("MaximumRetryAttempts", _DEFAULT_MAX_RETRIES),
        policy.get("MaximumEventAgeInSeconds", _DEFAULT_MAX_AGE_SECONDS),
    )


def _utc(value: datetime | float | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value), UTC)


class SchedulerClock:
    """Fires due EventBridge Scheduler schedules into SQS; see the module docstring."""

    def __init__(
        self,
        clock: Clock,
        *,
        sqs: SQSClient | None = None,
        scheduler: EventBridgeSchedulerClient | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        self.clock = clock
        self._sqs = sqs
        self._scheduler = scheduler
        self.log = log
        self._states: dict[tuple[str, str], _State] = {}
        self._pending: list[_Pending] = []
        self._invalid: set[tuple[str, str]] = set()

    @property
    def sqs(self) -> SQSClient:
        if self._sqs is None:
            self._sqs = boto3.client("sqs")
        return self._sqs

    @property
    def scheduler(self) -> EventBridgeSchedulerClient:
        if self._scheduler is None:
            self._scheduler = boto3.client("scheduler")
        return self._scheduler

    # -- the loop ---------------------------------------------------------------

    def tick(self) -> list[Fired]:
        """Fire every schedule due at ``clock.now()``, and retry failed deliveries.

        Each occurrence fires once. After a gap (a late tick, a clock moved far ahead)
        only the most recent due occurrence of each schedule fires: like EventBridge
        Scheduler, this does not backfill the runs it missed.
        """
        now = _aware_utc(self.clock.now())
        fired = self._retry_pending(now)
        seen: set[tuple[str, str]] = set()
        for schedule in self._schedules():
            key = (schedule["Arn"], str(schedule.get("CreationDate")))
            seen.add(key)
            outcome = self._consider(key, schedule, now)
            if outcome is not None:
                fired.append(outcome)
        for key in set(self._states) - seen:  # deleted schedules
            del self._states[key]
        self._invalid &= seen
        return fired

    def run(self, interval: float = 1.0, stop: threading.Event | None = None) -> None:
        """Tick every ``interval`` seconds until ``stop`` is set (``make run``'s scheduler)."""
        stop = stop or threading.Event()
        while not stop.is_set():
            self.tick()
            stop.wait(interval)

    def _schedules(self) -> Iterator[GetScheduleOutputTypeDef]:
        for page in self.scheduler.get_paginator("list_schedules").paginate():
            for summary in page.get("Schedules", []):
                try:
                    yield self.scheduler.get_schedule(
                        Name=summary["Name"], GroupName=summary.get("GroupName", "default")
                    )
                except ClientError as exc:
                    if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                        raise

    # -- when -------------------------------------------------------------------

    def _consider(
        self, key: tuple[str, str], schedule: GetScheduleOutputTypeDef, now: datetime
    ) -> Fired | None:
        start, end = _utc(schedule.get("StartDate")), _utc(schedule.get("EndDate"))
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = _State(not_before=start or now, anchor=start or now)
        if schedule.get("State", "ENABLED") != "ENABLED":
            state.not_before = max(state.not_before, now + _MICROSECOND)
            return None
        try:
            occurrence = self._due(schedule, state, now, start, end)
        except (ValueError, KeyError) as exc:
            if key not in self._invalid:
                self._invalid.add(key)
                self.log(f"schedule {_label(schedule)} skipped: {exc}")
            return None
        if occurrence is None:
            return None
        state.last_fired = occurrence
        target = schedule["Target"]
        one_time = schedule["ScheduleExpression"].strip().startswith("at(")
        pending = _Pending(
            arn=schedule["Arn"],
            group=schedule.get("GroupName", "default"),
            name=schedule["Name"],
            target=target,
            scheduled_time=occurrence,
            execution_id=str(uuid.uuid4()),
            delete_after=one_time and schedule.get("ActionAfterCompletion") == "DELETE",
        )
        return self._attempt(pending, now, attempt=1)

    def _due(
        self,
        schedule: GetScheduleOutputTypeDef,
        state: _State,
        now: datetime,
        start: datetime | None,
        end: datetime | None,
    ) -> datetime | None:
        expression = schedule["ScheduleExpression"].strip()
        timezone = ZoneInfo(schedule.get("ScheduleExpressionTimezone") or "UTC")
        at = _AT.fullmatch(expression)
        if at:
            when = datetime.fromisoformat(at.group(1)).replace(tzinfo=timezone).astimezone(UTC)
            if when <= now and (state.last_fired is None or when > state.last_fired):
                return when
            return None
        floor = state.not_before
        if state.last_fired is not None:
            floor = max(floor, state.last_fired + _MICROSECOND)
        if start is not None:
            floor = max(floor, start)
        upto = now if end is None else min(now, end - _MICROSECOND)
        if upto < floor:
            return None
        rate = _RATE.fullmatch(expression)
        if rate:
            unit = _RATE_UNITS[rate.group(2).removesuffix("s")]
            interval = timedelta(seconds=int(rate.group(1)) * unit)
            if interval <= timedelta(0):
                raise ValueError(f"bad rate {expression!r}")
            anchor = start or state.anchor
            if upto < anchor:
                return None
            run = anchor + ((upto - anchor) // interval) * interval
            return run if run >= floor else None
        if _CRON.fullmatch(expression):
            return latest_cron_run(aws_cron_to_crontab(expression), timezone, upto, floor)
        raise ValueError(f"unsupported schedule expression {expression!r}")

    # -- delivery ---------------------------------------------------------------

    def _retry_pending(self, now: datetime) -> list[Fired]:
        pending, self._pending = self._pending, []
        fired = []
        for item in pending:
            _, max_age = _retry_policy(item.target)
            age = (now - item.scheduled_time).total_seconds()
            if age > max_age:
                fired.append(self._give_up(item, now, "MaximumEventAgeInSeconds"))
                continue
            item.retries += 1
            fired.append(self._attempt(item, now, attempt=item.retries + 1))
        return fired

    def _attempt(self, item: _Pending, now: datetime, *, attempt: int) -> Fired:
        target = item.target
        tried = _Try(item, now, attempt, self._render(item, attempt))
        queue = target.get("Arn", "")
        try:
            queue = _queue_name(target.get("Arn", ""))
            url, message_id = self._send(target, queue, tried.body, item)
        except _SendError as exc:
            item.last_error = (exc.code, exc.message)
            max_retries, _ = _retry_policy(target)
            if item.retries >= max_retries:
                return self._give_up(item, now, "MaximumRetryAttempts")
            self._pending.append(item)
            self.log(
                f"schedule {item.group}/{item.name} fired at {_iso(item.scheduled_time)} "
                f"-> {queue} failed (attempt {attempt}): {exc}; retrying on the next tick"
            )
            return tried.outcome("retrying", queue, error=str(exc))
        self.log(
            f"schedule {item.group}/{item.name} fired at {_iso(item.scheduled_time)} -> {queue}"
        )
        self._complete(item)
        return tried.outcome("delivered", queue, url=url, message_id=message_id)

    def _give_up(self, item: _Pending, now: datetime, condition: str) -> Fired:
        code, message = item.last_error
        attempt = item.retries + 1
        tried = _Try(item, now, attempt, self._render(item, attempt))
        dead_letter = (item.target.get("DeadLetterConfig") or {}).get("Arn")
        label = f"schedule {item.group}/{item.name} fired at {_iso(item.scheduled_time)}"
        failure = f"{code}: {message}"
        self._complete(item)
        if not dead_letter:
            self.log(f"{label} -> {item.target.get('Arn')} dropped after {condition}: {failure}")
            return tried.outcome("dropped", "", error=failure)
        attributes = {
            "ERROR_CODE": code,
            "ERROR_MESSAGE": message or code,
            "EXHAUSTED_RETRY_CONDITION": condition,
            "RETRY_ATTEMPTS": str(item.retries),
            "SCHEDULE_ARN": item.arn,
            "TARGET_ARN": item.target.get("Arn", ""),
        }
        queue = dead_letter
        try:
            queue = _queue_name(dead_letter)
            url = self.sqs.get_queue_url(QueueName=queue)["QueueUrl"]
            response = self.sqs.send_message(
                QueueUrl=url,
                MessageBody=tried.body,
                MessageAttributes={
                    name: {"DataType": "String", "StringValue": value or "-"}
                    for name, value in attributes.items()
                },
            )
        except (ClientError, BotoCoreError, _SendError) as exc:
            self.log(f"{label} -> {queue} dropped: {failure}; the dead-letter queue failed: {exc}")
            return tried.outcome("dropped", queue, error=failure)
        self.log(f"{label} -> {queue} dead-lettered after {condition}: {failure}")
        return tried.outcome(
            "dead-lettered", queue, url=url, message_id=response["MessageId"], error=failure
        )

    def _send(
        self, target: TargetOutputTypeDef, queue: str, body: str, item: _Pending
    ) -> tuple[str, str]:
        try:
            url = self.sqs.get_queue_url(QueueName=queue)["QueueUrl"]
            params: SendMessageRequestTypeDef = {"QueueUrl": url, "MessageBody": body}
            if queue.endswith(".fifo"):
                group = (target.get("SqsParameters") or {}).get("MessageGroupId")
                if not group:
                    raise _SendError("ValidationException", "a FIFO target needs a MessageGroupId")
                seed = f"{item.arn}@{_iso(item.scheduled_time)}".encode()
                params["MessageGroupId"] = group
                params["MessageDeduplicationId"] = hashlib.sha256(seed).hexdigest()
            response = self.sqs.send_message(**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise _SendError(error.get("Code", "ClientError"), error.get("Message", "")) from exc
        except BotoCoreError as exc:
            raise _SendError(type(exc).__name__, str(exc)) from exc
        return url, response["MessageId"]

    def _complete(self, item: _Pending) -> None:
        if not item.delete_after:
            return
        try:
            self.scheduler.delete_schedule(Name=item.name, GroupName=item.group)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise

    @staticmethod
    def _render(item: _Pending, attempt: int) -> str:
        text = item.target.get("Input")
        if text is None:
            return "{}"
        for placeholder, value in (
            ("<aws.scheduler.schedule-arn>", item.arn),
            ("<aws.scheduler.scheduled-time>", _iso(item.scheduled_time)),
            ("<aws.scheduler.execution-id>", item.execution_id),
            ("<aws.scheduler.attempt-number>", str(attempt)),
        ):
            text = text.replace(placeholder, value)
        return text


def _label(schedule: GetScheduleOutputTypeDef) -> str:
    return f"{schedule.get('GroupName', 'default')}/{schedule.get('Name')}"
