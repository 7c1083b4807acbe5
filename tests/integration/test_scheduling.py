"""The scheduling API on moto: SQS delays, EventBridge Scheduler schedules, the actions table.

Moto stores schedules but never fires them. ``_fire`` has the local cloud's scheduler
clock (``infra.local.scheduler_clock``) do what EventBridge Scheduler would at a given
time: send the target input of each due schedule to its queue, with
``<aws.scheduler.scheduled-time>`` filled in, and delete a one-time schedule afterwards
(``ActionAfterCompletion=DELETE``). The ``clock`` fixture moves time forward for SQS
(delays) and for the worker (is the action due?) alike.
"""

from __future__ import annotations

import base64
import concurrent.futures
import copy
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import boto3
import pytest
import time_machine
from botocore.exceptions import ClientError

from functions.actions import (
    DuplicateAction,
    InvalidAction,
    cancel_action,
    enqueue_async_action,
    get_scheduled_actions,
    has_scheduled_action,
    next_scheduled_action,
    run_action_now,
    schedule_cron_action,
    schedule_recurring_action,
    schedule_single_action,
    timers,
    unschedule_action,
    unschedule_all_actions,
)
from functions.actions import queues as queues_module
from functions.actions.exceptions import PermanentError, TransientError
from infra.local.scheduler_clock import ManualClock, SchedulerClock

HOOK = "test_sched"
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"


class Recorder:
    """A hook that records its calls (args, action id); ``during`` runs inside each call."""

    def __init__(self, during=None) -> None:
        self.calls: list[tuple[object, str]] = []
        self.during = during
        self.seen: list[object] = []

    def __call__(self, args, action) -> None:
        self.calls.append((args, action.action_id))
        if self.during is not None:
            self.seen.append(self.during())


class Clock:
    """Time as SQS and the worker see it: now, plus however far the test moved it."""

    def __init__(self, sqs_clock) -> None:
        self.sqs_clock = sqs_clock

    def time(self) -> float:
        return time.time() + self.sqs_clock.offset

    def advance(self, seconds: float) -> None:
        self.sqs_clock.advance(seconds)

    def advance_to(self, when: datetime) -> None:
        """Just past ``when``."""
        self.advance(max(0.0, when.timestamp() - self.time()) + 1)


@pytest.fixture
def clock(sqs_clock, monkeypatch) -> Clock:
    from functions.actions import worker

    shifted = Clock(sqs_clock)
    monkeypatch.setattr(
        worker, "time", SimpleNamespace(time=shifted.time, monotonic=time.monotonic)
    )
    return shifted


@pytest.fixture
def hook(jobs, register) -> Recorder:
    return register(HOOK, Recorder())


@pytest.fixture
def sent(stack) -> dict[str, list[dict]]:
    """The parameters of every CreateSchedule and SendMessage request, as sent."""
    requests: dict[str, list[dict]] = {"CreateSchedule": [], "SendMessage": []}

    def capture(params, model, **_):
        requests[model.name].append(copy.deepcopy(params))

    timers._scheduler().meta.events.register(
        "provide-client-params.scheduler.CreateSchedule", capture
    )
    queues_module._sqs().meta.events.register("provide-client-params.sqs.SendMessage", capture)
    return requests


def _now() -> datetime:
    return datetime.now(UTC)


def _later(seconds: float) -> datetime:
    return _now() + timedelta(seconds=seconds)


def _events(item) -> list[str]:
    return [entry.event for entry in item.log]


def _scheduler():
    return boto3.client("scheduler")


def _schedule(jobs, name: str) -> dict | None:
    try:
        return _scheduler().get_schedule(Name=name, GroupName=jobs.resources.schedule_group)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "ResourceNotFoundException"
        return None


def _schedules(jobs) -> list[str]:
    """The API's schedules (the stack's own daily report left out)."""
    found = _scheduler().list_schedules(GroupName=jobs.resources.schedule_group)["Schedules"]
    return sorted(s["Name"] for s in found if s["Name"].startswith("action-"))


def _items(jobs) -> list[dict]:
    """Every item of the actions table, unique locks included, as plain values."""
    from functions.dynamodb import from_item

    rows = boto3.client("dynamodb").scan(TableName=jobs.resources.actions_table)["Items"]
    return [from_item(row) for row in rows]


def _actions(jobs) -> list:
    """The table's actions, as records (unique locks left out)."""
    from functions.actions.store.record import from_item, is_action

    return [from_item(item) for item in _items(jobs) if is_action(item)]


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fire(jobs, name: str, at: datetime) -> dict:
    """EventBridge Scheduler at ``at``: the schedule ``name`` fires (its input as sent).

    A scheduler clock of its own each time, so firing one occurrence twice delivers it
    twice, as EventBridge's at-least-once delivery may.
    """
    fired = SchedulerClock(ManualClock(at), log=lambda line: None).tick()
    [outcome] = [f for f in fired if f.name == name]
    assert outcome.status == "delivered", outcome
    return json.loads(outcome.body)


def _receivable(jobs, queue: str = "default") -> int:
    """How many messages could be received now (they are shown again afterwards)."""
    url = jobs.queue(queue).url
    messages = jobs.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30
    ).get("Messages", [])
    for message in messages:
        jobs.sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return len(messages)


def _assert_nothing_written(jobs) -> None:
    assert _items(jobs) == []
    assert _schedules(jobs) == []
    assert {name: jobs.depth(name) for name in jobs.resources.queues} == dict.fromkeys(
        jobs.resources.queues, 0
    )


# --- Every kind: one pending item, the id returned ----------------------------------------

KINDS = {
    "async": lambda args, **kw: enqueue_async_action(HOOK, args, **kw),
    "single-near": lambda args, **kw: schedule_single_action(_later(300), HOOK, args, **kw),
    "single-far": lambda args, **kw: schedule_single_action(_later(7200), HOOK, args, **kw),
    "rate": lambda args, **kw: schedule_recurring_action(_later(600), 3600, HOOK, args, **kw),
    "cron": lambda args, **kw: schedule_cron_action(_now(), "0 9 * * *", HOOK, args, **kw),
}
KIND_OF = {"async": "async", "single-near": "single", "single-far": "single"}
SCHEDULED = {"single-far", "rate", "cron"}


@pytest.mark.parametrize("kind", KINDS)
def test_each_schedule_function_returns_the_id_and_writes_one_pending_item(jobs, hook, kind):
    action_id = KINDS[kind]({"k": kind}, group="g1")

    [item] = _actions(jobs)
    assert item.action_id == action_id
    assert item.status == "pending"
    assert item.kind == KIND_OF.get(kind, kind)
    assert (item.hook, item.args, item.group) == (HOOK, {"k": kind}, "g1")
    assert item.attempts == 0
    assert _events(item) == ["created"]
    if kind in SCHEDULED:
        assert item.schedule_name == f"action-{action_id}"
        assert _schedules(jobs) == [f"action-{action_id}"]
        assert jobs.depth() == 0
    else:
        assert item.schedule_name is None
        assert _schedules(jobs) == []
        assert jobs.depth() == 1


def test_timestamps_are_aware_datetimes_or_epoch_seconds(jobs, hook):
    when = (_now() + timedelta(hours=3)).replace(microsecond=0)
    in_tokyo = when.astimezone(ZoneInfo("Asia/Tokyo"))

    by_epoch = schedule_single_action(int(when.timestamp()), HOOK, {"n": 1})
    by_float = schedule_single_action(when.timestamp() + 0.5, HOOK, {"n": 2})
    by_zone = schedule_single_action(in_tokyo, HOOK, {"n": 3})

    assert jobs.action(by_epoch).scheduled_for.timestamp() == when.timestamp()
    assert jobs.action(by_float).scheduled_for.timestamp() == when.timestamp() + 0.5
    assert jobs.action(by_zone).scheduled_for.timestamp() == when.timestamp()
    expression = _schedule(jobs, f"action-{by_zone}")["ScheduleExpression"]
    assert expression == f"at({when:%Y-%m-%dT%H:%M:%S})"  # in UTC, not Tokyo time


@pytest.mark.parametrize(
    "schedule",
    [
        lambda when: schedule_single_action(when, HOOK),
        lambda when: schedule_recurring_action(when, 3600, HOOK),
        lambda when: schedule_cron_action(when, "0 9 * * *", HOOK),
    ],
    ids=["single", "rate", "cron"],
)
def test_naive_datetimes_are_refused(jobs, hook, schedule):
    with pytest.raises(InvalidAction, match="naive"):
        schedule(datetime.now() + timedelta(hours=2))  # naive: no tzinfo
    _assert_nothing_written(jobs)


@pytest.mark.parametrize("as_epoch", [False, True])
def test_a_past_timestamp_runs_as_soon_as_possible_and_says_past_due(jobs, hook, as_epoch):
    when = _now() - timedelta(hours=5)
    action_id = schedule_single_action(when.timestamp() if as_epoch else when, HOOK, {"x": 1})

    item = jobs.action(action_id)
    assert item.log[0].event == "created"
    assert item.log[0].message == "past-due"
    assert _schedules(jobs) == []
    assert _receivable(jobs) == 1  # on the queue, no delay
    jobs.work()
    assert hook.calls == [({"x": 1}, action_id)]
    assert jobs.action(action_id).status == "complete"


def test_a_future_timestamp_is_not_past_due(jobs, hook):
    action_id = schedule_single_action(_later(120), HOOK)
    assert jobs.action(action_id).log[0].message != "past-due"


def _invalid_cases():
    later = lambda: _later(3600)  # noqa: E731
    return {
        "async: unknown hook": lambda: enqueue_async_action("not_registered"),
        "single: unknown hook": lambda: schedule_single_action(later(), "not_registered"),
        "rate: unknown hook": lambda: schedule_recurring_action(later(), 3600, "not_registered"),
        "cron: unknown hook": lambda: schedule_cron_action(later(), "0 9 * * *", "not_registered"),
        "single: a string time": lambda: schedule_single_action("tomorrow", HOOK),
        "single: a bool time": lambda: schedule_single_action(True, HOOK),
        "cron: four fields": lambda: schedule_cron_action(later(), "0 9 * *", HOOK),
        "cron: six fields": lambda: schedule_cron_action(later(), "0 0 9 * * *", HOOK),
        "cron: not a string": lambda: schedule_cron_action(later(), 5, HOOK),
        "cron: minute 60": lambda: schedule_cron_action(later(), "60 9 * * *", HOOK),
        "cron: hour 24": lambda: schedule_cron_action(later(), "0 24 * * *", HOOK),
        "cron: day 32": lambda: schedule_cron_action(later(), "0 9 32 * *", HOOK),
        "cron: month 13": lambda: schedule_cron_action(later(), "0 9 * 13 *", HOOK),
        "cron: weekday 8": lambda: schedule_cron_action(later(), "0 9 * * 8", HOOK),
        "cron: both day fields": lambda: schedule_cron_action(later(), "0 9 1 * 1", HOOK),
        "cron: unknown zone": lambda: schedule_cron_action(
            later(), "0 9 * * *", HOOK, timezone="Mars/Olympus_Mons"
        ),
        "cron: empty zone": lambda: schedule_cron_action(later(), "0 9 * * *", HOOK, timezone=""),
        "rate: 59 s": lambda: schedule_recurring_action(later(), 59, HOOK),
        "rate: 0 s": lambda: schedule_recurring_action(later(), 0, HOOK),
        "rate: negative": lambda: schedule_recurring_action(later(), -3600, HOOK),
        "rate: 90 s": lambda: schedule_recurring_action(later(), 90, HOOK),
        "rate: a float": lambda: schedule_recurring_action(later(), 120.0, HOOK),
        "rate: a bool": lambda: schedule_recurring_action(later(), True, HOOK),
        "async: args not JSON": lambda: enqueue_async_action(HOOK, {"f": object()}),
        "single: args not JSON": lambda: schedule_single_action(later(), HOOK, {"at": _now()}),
        "rate: args not JSON": lambda: schedule_recurring_action(later(), 3600, HOOK, {1, 2}),
        "cron: args NaN": lambda: schedule_cron_action(
            later(), "0 9 * * *", HOOK, {"x": float("nan")}
        ),
        "single: bad priority": lambda: schedule_single_action(later(), HOOK, priority="urgent"),
    }


@pytest.mark.parametrize("case", list(_invalid_cases()))
def test_invalid_input_is_refused_before_anything_is_written(jobs, hook, case):
    with pytest.raises(InvalidAction):
        _invalid_cases()[case]()

    _assert_nothing_written(jobs)


# --- Single actions --------------------------------------------------------------------


def test_a_single_action_within_15_minutes_waits_on_sqs(jobs, hook, clock, sent):
    action_id = schedule_single_action(_later(600), HOOK, {"near": True})

    [message] = sent["SendMessage"]
    assert 598 <= message["DelaySeconds"] <= 600
    assert json.loads(message["MessageBody"])["action_id"] == action_id
    assert sent["CreateSchedule"] == []
    assert _schedules(jobs) == []
    assert jobs.depth() == 1
    assert jobs.work() == []  # delayed: nothing to receive yet

    clock.advance(570)
    assert jobs.work() == []
    assert hook.calls == []
    clock.advance(40)
    jobs.work()

    assert hook.calls == [({"near": True}, action_id)]
    item = jobs.action(action_id)
    assert item.status == "complete"
    assert _events(item) == ["created", "started", "completed"]
    assert jobs.depth() == 0


def test_a_single_action_beyond_15_minutes_is_a_one_time_schedule(jobs, hook, sent):
    when = (_now() + timedelta(hours=2)).replace(microsecond=0)
    action_id = schedule_single_action(when, HOOK, {"far": 1}, group="g")

    assert jobs.depth() == 0
    assert sent["SendMessage"] == []
    schedule = _schedule(jobs, f"action-{action_id}")
    assert schedule["GroupName"] == jobs.resources.schedule_group
    assert schedule["ScheduleExpression"] == f"at({when:%Y-%m-%dT%H:%M:%S})"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = schedule["Target"]
    assert target["Arn"] == jobs.queue().arn
    assert target["RoleArn"] == jobs.resources.environment["SCHEDULER_ROLE_ARN"]
    envelope = json.loads(target["Input"])
    assert envelope["action_id"] == action_id
    assert (envelope["hook"], envelope["args"], envelope["group"]) == (HOOK, {"far": 1}, "g")
    assert datetime.fromisoformat(envelope["scheduled_for"]) == when
    # As sent (moto would fill in a default retry policy of its own).
    [request] = sent["CreateSchedule"]
    assert request["Target"]["RetryPolicy"] == timers.RETRY_POLICY
    dead_letters = jobs.resources.environment["SCHEDULER_DEAD_LETTER_ARN"]
    assert request["Target"]["DeadLetterConfig"] == {"Arn": dead_letters}
    assert target["DeadLetterConfig"] == {"Arn": dead_letters}


def test_a_fired_one_time_schedule_runs_the_action_once(jobs, hook, clock):
    when = _later(3 * 3600)
    action_id = schedule_single_action(when, HOOK, {"far": 2})

    clock.advance_to(when)
    body = _fire(jobs, f"action-{action_id}", at=when)
    jobs.work()

    assert hook.calls == [({"far": 2}, action_id)]
    assert jobs.action(action_id).status == "complete"
    # A second delivery of the same message (at-least-once) does not run it again.
    jobs.sqs.send_message(QueueUrl=jobs.queue().url, MessageBody=json.dumps(body))
    jobs.work()
    assert len(hook.calls) == 1
    assert jobs.depth() == 0


def test_an_ordered_single_action_is_scheduled_even_when_near(jobs, register, sent):
    """The FIFO queue takes no per-message delay, so even a near time is a schedule."""
    register("test_sched_ordered", Recorder(), ordered=True)
    action_id = schedule_single_action(_later(120), "test_sched_ordered", group="acct-1")

    assert jobs.depth("fifo") == 0
    target = _schedule(jobs, f"action-{action_id}")["Target"]
    assert target["Arn"] == jobs.queue("fifo").arn
    assert target["SqsParameters"] == {"MessageGroupId": "acct-1"}


# --- Recurring actions -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "expression"),
    [(60, "rate(1 minute)"), (7200, "rate(2 hours)"), (86400, "rate(1 day)")],
)
def test_a_recurring_action_is_a_rate_schedule(jobs, hook, interval, expression):
    start = (_now() + timedelta(minutes=30)).replace(microsecond=0)
    action_id = schedule_recurring_action(start, interval, HOOK, {"r": 1}, group="g")

    schedule = _schedule(jobs, f"action-{action_id}")
    assert schedule["ScheduleExpression"] == expression
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["StartDate"] == start
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule.get("ActionAfterCompletion") in (None, "NONE")
    assert schedule["Target"]["Arn"] == jobs.queue().arn
    template = json.loads(schedule["Target"]["Input"])
    assert template["action_id"] == f"{action_id}@{SCHEDULED_TIME}"
    assert template["scheduled_for"] == SCHEDULED_TIME
    assert (template["hook"], template["args"], template["group"]) == (HOOK, {"r": 1}, "g")
    item = jobs.action(action_id)
    assert item.kind == "rate"
    assert item.recurrence.to_plain() == {
        "kind": "rate",
        "interval_seconds": interval,
        "start": start.timestamp(),
    }
    assert item.scheduled_for.timestamp() == start.timestamp()
    assert next_scheduled_action(HOOK) == start
    assert jobs.depth() == 0


def _grid_after(start: datetime, interval: int, after: datetime) -> datetime:
    """The first of start + k * interval after ``after`` (computed by hand)."""
    return start + timedelta(seconds=interval * (1 + (after - start).total_seconds() // interval))


@pytest.mark.parametrize(
    ("ago", "interval"),
    [(timedelta(minutes=10), 3600), (timedelta(hours=12), 86400), (timedelta(days=3), 7200)],
    ids=["hourly-from-10-min-ago", "daily-from-12-h-ago", "2-hourly-from-3-days-ago"],
)
def test_a_rate_started_in_the_past_runs_once_at_its_start_then_on_its_grid(
    jobs, hook, sent, ago, interval
):
    """Action Scheduler's first run is at the timestamp, past or not: past-due, it runs
    at once, once (not once per missed interval), then the grid goes on."""
    start = (_now() - ago).replace(microsecond=0)
    action_id = schedule_recurring_action(start, interval, HOOK, {"r": 1})

    item = jobs.action(action_id)
    assert item.scheduled_for == start
    assert item.log[0].message == "past-due"
    assert next_scheduled_action(HOOK) == start
    assert _ids(get_scheduled_actions(status="past-due")) == [action_id]
    run_id = f"{action_id}@{_iso(start)}"
    [message] = sent["SendMessage"]
    assert json.loads(message["MessageBody"])["action_id"] == run_id
    assert message["DelaySeconds"] == 0
    following = _grid_after(start, interval, _now())
    assert _schedule(jobs, f"action-{action_id}")["StartDate"] == following

    jobs.work()

    assert hook.calls == [({"r": 1}, run_id)]
    assert jobs.action(run_id).scheduled_for == start
    assert next_scheduled_action(HOOK) == following
    assert get_scheduled_actions(status="past-due").items == []


def test_a_daily_rate_from_midnight_made_at_noon_runs_at_midnight_then_tomorrow(jobs, hook, sent):
    midnight = datetime(2027, 5, 4, tzinfo=UTC)
    with time_machine.travel(midnight + timedelta(hours=12), tick=False):
        action_id = schedule_recurring_action(midnight, 86400, HOOK)
        assert next_scheduled_action(HOOK) == midnight

    assert _schedule(jobs, f"action-{action_id}")["StartDate"] == midnight + timedelta(days=1)
    [message] = sent["SendMessage"]
    run = json.loads(message["MessageBody"])
    assert run["action_id"] == f"{action_id}@2027-05-04T00:00:00Z"
    assert datetime.fromisoformat(run["scheduled_for"]) == midnight


def test_a_cron_started_in_the_past_first_runs_at_its_first_match(jobs, hook, sent):
    """Action Scheduler's own case: "0 0 10 10 *" from 2014-01-01 first runs 2014-10-10."""
    action_id = schedule_cron_action(datetime(2014, 1, 1, tzinfo=UTC), "0 0 10 10 *", HOOK)

    first = datetime(2014, 10, 10, tzinfo=UTC)
    assert jobs.action(action_id).scheduled_for == first
    assert next_scheduled_action(HOOK) == first
    [message] = sent["SendMessage"]
    assert json.loads(message["MessageBody"])["action_id"] == f"{action_id}@2014-10-10T00:00:00Z"
    now = _now()
    following = datetime(now.year, 10, 10, tzinfo=UTC)
    following = following if following > now else following.replace(year=now.year + 1)
    assert _schedule(jobs, f"action-{action_id}")["StartDate"] == following

    jobs.work()

    assert hook.calls == [(None, f"{action_id}@2014-10-10T00:00:00Z")]
    assert next_scheduled_action(HOOK) == following


def test_a_first_run_within_a_minute_waits_on_sqs_and_the_schedule_takes_the_next(
    jobs, hook, clock, sent
):
    """EventBridge fires to the minute, from a StartDate still ahead of it: a first run
    this close is sent with its delay, never left to a StartDate it could miss."""
    start = _later(40).replace(microsecond=0)
    action_id = schedule_recurring_action(start, 3600, HOOK)

    [message] = sent["SendMessage"]
    assert 38 <= message["DelaySeconds"] <= 40
    assert _schedule(jobs, f"action-{action_id}")["StartDate"] == start + timedelta(hours=1)
    assert next_scheduled_action(HOOK) == start
    assert jobs.work() == []
    clock.advance(45)
    jobs.work()
    assert hook.calls == [(None, f"{action_id}@{_iso(start)}")]


def test_a_first_run_that_cannot_be_sent_leaves_no_schedule_and_no_action(jobs, hook):
    from tests.integration.faults import Fault, Faults

    faults = Faults().install()
    faults.by_call[("sqs", "SendMessage")] = Fault("server_error")
    with pytest.raises(ClientError):
        schedule_recurring_action(_now() - timedelta(minutes=5), 3600, HOOK)

    assert faults.injected

    assert _actions(jobs) == []
    assert _schedules(jobs) == []


@pytest.mark.parametrize("kind", ["rate", "cron"])
def test_next_scheduled_action_is_the_first_run_until_it_has_run(jobs, hook, kind):
    """#14: not the run after it, from creation until a worker starts the first run."""
    made = datetime(2027, 3, 1, 12, 2, 30, tzinfo=UTC)
    with time_machine.travel(made, tick=False):
        if kind == "rate":
            action_id = schedule_recurring_action(made, 3600, HOOK)
            first, following = made, made + timedelta(hours=1)
        else:
            action_id = schedule_cron_action(made, "*/5 * * * *", HOOK)
            first, following = made.replace(minute=5, second=0), made.replace(minute=10, second=0)
        assert next_scheduled_action(HOOK) == first
    with time_machine.travel(first + timedelta(minutes=2), tick=False):
        assert next_scheduled_action(HOOK) == first  # due, not started: past-due
    with time_machine.travel(first + timedelta(minutes=2), tick=True):
        if kind == "cron":
            assert _schedule(jobs, f"action-{action_id}")["StartDate"] == first
            _fire(jobs, f"action-{action_id}", at=first)
        jobs.work()
        assert [action for _, action in hook.calls] == [f"{action_id}@{_iso(first)}"]
        assert next_scheduled_action(HOOK) == following


def test_the_scheduler_clock_sends_no_second_first_run(jobs, hook, clock):
    """The local cloud's clock agrees: after the first run the API sent, the schedule
    fires from the next grid point on."""
    start = (_now() - timedelta(minutes=10)).replace(microsecond=0)
    action_id = schedule_recurring_action(start, 3600, HOOK)
    name = f"action-{action_id}"
    ticker = SchedulerClock(ManualClock(_now()), log=lambda line: None)

    assert [f for f in ticker.tick() if f.name == name] == []
    ticker.clock.set(start + timedelta(minutes=59, seconds=59))
    assert [f for f in ticker.tick() if f.name == name] == []
    ticker.clock.set(start + timedelta(hours=1))
    [fired] = [f for f in ticker.tick() if f.name == name]
    assert fired.scheduled_time == start + timedelta(hours=1)

    clock.advance_to(start + timedelta(hours=1))
    jobs.work()
    assert sorted(action for _, action in hook.calls) == [
        f"{action_id}@{_iso(start)}",
        f"{action_id}@{_iso(start + timedelta(hours=1))}",
    ]


def test_each_run_of_a_recurring_action_is_an_action_of_its_own(jobs, hook, clock):
    start = (_now() + timedelta(minutes=20)).replace(second=0, microsecond=0)
    action_id = schedule_recurring_action(start, 3600, HOOK, {"r": 2}, group="reports")
    name = f"action-{action_id}"

    clock.advance_to(start)
    _fire(jobs, name, at=start)
    jobs.work()

    run_id = f"{action_id}@{_iso(start)}"
    assert hook.calls == [({"r": 2}, run_id)]
    run = jobs.action(run_id)
    assert run.status == "complete"
    assert (run.hook, run.args, run.group) == (HOOK, {"r": 2}, "reports")
    assert run.scheduled_for.timestamp() == start.timestamp()
    assert _events(run) == ["started", "completed"]
    assert jobs.action(action_id).status == "pending"  # the recurrence goes on
    assert _schedule(jobs, name) is not None

    # EventBridge delivers at least once: the same run again does not run twice.
    _fire(jobs, name, at=start)
    jobs.work()
    assert len(hook.calls) == 1

    second = start + timedelta(hours=1)
    clock.advance_to(second)
    _fire(jobs, name, at=second)
    jobs.work()
    assert [action for _, action in hook.calls] == [run_id, f"{action_id}@{_iso(second)}"]
    assert jobs.depth() == 0


# --- A recurring action whose runs keep failing stops -----------------------------------
# Action Scheduler stops rescheduling a recurring action after its hook failed five times
# in a row. Here a run fails when it is dead-lettered (its retries spent).


class Flaky:
    """A hook that raises while ``failing`` is set."""

    def __init__(self) -> None:
        self.failing = True
        self.calls: list[str] = []

    def __call__(self, args, action) -> None:
        self.calls.append(action.action_id)
        if self.failing:
            raise RuntimeError("the report service is gone")


def _run_at(jobs, clock, action_id: str, at: datetime) -> None:
    """The recurring action's run at ``at`` fired (with any other schedule's due then),
    then worked."""
    clock.advance_to(at)
    _fire(jobs, f"action-{action_id}", at=at)
    jobs.work()


@pytest.fixture
def flaky(jobs, register) -> Flaky:
    return register(HOOK, Flaky(), max_attempts=2, base_delay=0, max_delay=0)


def test_a_recurring_action_stops_after_five_failed_runs_in_a_row(jobs, flaky, clock):
    action_id = schedule_recurring_action(_later(600), 3600, HOOK, group="reports")
    schedule = _schedule(jobs, f"action-{action_id}")
    start, template = schedule["StartDate"], schedule["Target"]["Input"]
    runs = [start + timedelta(hours=n) for n in range(6)]

    for at in runs[:4]:
        _run_at(jobs, clock, action_id, at)
    recurring = jobs.action(action_id)
    assert (recurring.status, recurring.failed_runs) == ("pending", 4)
    assert _schedule(jobs, f"action-{action_id}") is not None

    _run_at(jobs, clock, action_id, runs[4])

    recurring = jobs.action(action_id)
    assert recurring.status == "failed"
    assert recurring.last_error == (
        "stopped after 5 failed runs in a row; the last: RuntimeError: the report service is gone"
    )
    assert recurring.log[-1].event == "failed"
    assert 92 * 86400 < recurring.expires_at.timestamp() - clock.time() <= 93 * 86400
    assert _schedule(jobs, f"action-{action_id}") is None
    assert has_scheduled_action(HOOK) is False
    assert next_scheduled_action(HOOK) is False
    assert len(flaky.calls) == 10  # five runs, two attempts each
    assert [jobs.action(f"{action_id}@{_iso(at)}").status for at in runs[:5]] == ["failed"] * 5
    # A run already on its way when it stopped does not start.
    run = template.replace(SCHEDULED_TIME, _iso(runs[5]))
    jobs.sqs.send_message(QueueUrl=jobs.queue().url, MessageBody=run)
    clock.advance_to(runs[5])
    jobs.work()
    assert len(flaky.calls) == 10
    assert jobs.action(f"{action_id}@{_iso(runs[5])}") is None


def test_a_completed_run_starts_the_count_again(jobs, flaky, clock):
    action_id = schedule_recurring_action(_later(600), 3600, HOOK)
    start = _schedule(jobs, f"action-{action_id}")["StartDate"]
    runs = iter(start + timedelta(hours=n) for n in range(20))

    for _ in range(4):
        _run_at(jobs, clock, action_id, next(runs))
    flaky.failing = False
    _run_at(jobs, clock, action_id, next(runs))
    assert jobs.action(action_id).failed_runs is None
    flaky.failing = True
    for _ in range(4):
        _run_at(jobs, clock, action_id, next(runs))

    recurring = jobs.action(action_id)
    assert (recurring.status, recurring.failed_runs) == ("pending", 4)
    assert _schedule(jobs, f"action-{action_id}") is not None


def test_max_failed_runs_is_the_hooks_own_and_none_recurs_forever(jobs, register, clock):
    stops_at_two = register(HOOK, Flaky(), max_attempts=1, max_failed_runs=2)
    register("test_sched_forever", stops_at_two, max_attempts=1, max_failed_runs=None)
    start = _later(600).replace(microsecond=0)
    two = schedule_recurring_action(start, 3600, HOOK)
    forever = schedule_recurring_action(start, 3600, "test_sched_forever")

    for n in range(6):
        _run_at(jobs, clock, forever, start + timedelta(hours=n))  # fires both

    assert jobs.action(two).status == "failed"
    assert "stopped after 2 failed runs in a row" in jobs.action(two).last_error
    assert (jobs.action(forever).status, jobs.action(forever).failed_runs) == ("pending", None)


@pytest.mark.parametrize(
    "policy",
    [
        {"max_failed_runs": 0},
        {"max_failed_runs": -1},
        {"max_failed_runs": 2.5},
        {"max_failed_runs": True},
        {"unique_by": "hook"},
        {"unique_by": True},
    ],
    ids=str,
)
def test_the_hooks_unique_and_failure_options_are_validated(register, policy):
    with pytest.raises(ValueError, match=r"unique_by|max_failed_runs"):
        register(HOOK, Flaky(), **policy)


# --- Cron actions ----------------------------------------------------------------------


def _next_weekday_nine(zone: str) -> datetime:
    """The next 09:00 on a Monday to Friday in the zone, from now (computed by hand)."""
    tz = ZoneInfo(zone)
    now = _now()
    day = now.astimezone(tz).date()
    while True:
        candidate = datetime(day.year, day.month, day.day, 9, tzinfo=tz)
        if candidate.weekday() < 5 and candidate > now:
            return candidate.astimezone(UTC)
        day += timedelta(days=1)


def test_a_cron_action_is_a_cron_schedule_in_its_time_zone(jobs, hook):
    action_id = schedule_cron_action(
        _now(), "0 9 * * 1-5", HOOK, {"c": 1}, timezone="America/New_York"
    )

    expected = _next_weekday_nine("America/New_York")
    schedule = _schedule(jobs, f"action-{action_id}")
    assert schedule["ScheduleExpression"] == "cron(0 9 ? * 2-6 *)"
    assert schedule["ScheduleExpressionTimezone"] == "America/New_York"
    assert schedule["StartDate"] == expected
    template = json.loads(schedule["Target"]["Input"])
    assert template["action_id"] == f"{action_id}@{SCHEDULED_TIME}"
    item = jobs.action(action_id)
    assert item.kind == "cron"
    assert item.recurrence.to_plain() == {
        "kind": "cron",
        "cron": "0 9 * * 1-5",
        "timezone": "America/New_York",
    }
    assert next_scheduled_action(HOOK) == expected


def test_a_cron_start_in_the_future_is_respected(jobs, hook):
    start = datetime(2027, 3, 1, tzinfo=UTC)
    action_id = schedule_cron_action(start, "*/15 * * * *", HOOK)

    schedule = _schedule(jobs, f"action-{action_id}")
    assert schedule["ScheduleExpression"] == "cron(0/15 * * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["StartDate"] == start
    assert next_scheduled_action(HOOK) == start


def test_a_cron_start_on_a_spring_forward_day_skips_the_missing_time(jobs, hook):
    """New York skips 02:00-03:00 on 2027-03-14; EventBridge skips a 02:30 run that day."""
    start = datetime(2027, 3, 14, tzinfo=ZoneInfo("America/New_York"))
    action_id = schedule_cron_action(start, "30 2 * * *", HOOK, timezone="America/New_York")

    expected = datetime(2027, 3, 15, 6, 30, tzinfo=UTC)  # 02:30 EDT the next day
    assert _schedule(jobs, f"action-{action_id}")["StartDate"] == expected
    assert jobs.action(action_id).scheduled_for.timestamp() == expected.timestamp()
    assert next_scheduled_action(HOOK) == expected


def test_a_fired_cron_run_completes_as_its_own_action(jobs, hook, clock):
    action_id = schedule_cron_action(_now(), "0 9 * * *", HOOK, timezone="Europe/Paris")
    first = _schedule(jobs, f"action-{action_id}")["StartDate"]
    assert first.astimezone(ZoneInfo("Europe/Paris")).hour == 9

    clock.advance_to(first)
    _fire(jobs, f"action-{action_id}", at=first)
    _fire(jobs, f"action-{action_id}", at=first)  # delivered twice
    jobs.work()

    assert hook.calls == [(None, f"{action_id}@{_iso(first)}")]
    assert jobs.action(f"{action_id}@{_iso(first)}").status == "complete"


# --- unique ----------------------------------------------------------------------------
# As in Action Scheduler, a unique action "will not be scheduled if another pending or
# running action has the same hook and group", whatever its args and whether or not it
# was itself made unique. The hook opts in with unique_by (its actions are counted);
# unique_by="args" keeps the args-aware uniqueness: the same hook, args and group.


@pytest.fixture
def unique_hook(jobs, register) -> Recorder:
    return register(HOOK, Recorder(), unique_by="group")


@pytest.mark.parametrize("kind", KINDS)
def test_unique_refuses_a_second_action_of_the_hook_and_group_whatever_its_args(
    jobs, unique_hook, kind
):
    first = KINDS[kind]({"u": 1}, group="g", unique=True)

    for args in ({"u": 1}, {"u": 2}, None, []):
        with pytest.raises(DuplicateAction) as refused:
            KINDS[kind](args, group="g", unique=True)
        assert refused.value.existing_action_id == first

    assert [item.action_id for item in _actions(jobs)] == [first]
    assert _schedules(jobs) == ([f"action-{first}"] if kind in SCHEDULED else [])
    other_group = KINDS[kind]({"u": 1}, group="h", unique=True)
    no_group = KINDS[kind]({"u": 1}, unique=True)
    assert len({first, other_group, no_group}) == 3


@pytest.mark.parametrize("kind", KINDS)
def test_unique_by_args_refuses_only_the_same_args_and_group(jobs, register, kind):
    register(HOOK, Recorder(), unique_by="args")
    first = KINDS[kind]({"customer": 1}, group="g", unique=True)

    with pytest.raises(DuplicateAction) as refused:
        KINDS[kind]({"customer": 1}, group="g", unique=True)

    assert refused.value.existing_action_id == first
    other_args = KINDS[kind]({"customer": 2}, group="g", unique=True)
    other_group = KINDS[kind]({"customer": 1}, group="h", unique=True)
    assert len({first, other_args, other_group}) == 3


@pytest.mark.parametrize("kind", KINDS)
def test_a_plain_pending_action_blocks_a_unique_one(jobs, register, kind):
    """Every pending action of a counted hook counts, not only those made unique."""
    register(HOOK, Recorder(), unique_by="group")
    plain = KINDS[kind]({"p": 1}, group="g")

    with pytest.raises(DuplicateAction) as refused:
        KINDS[kind]({"p": 2}, group="g", unique=True)

    assert refused.value.existing_action_id == plain
    assert [item.action_id for item in _actions(jobs)] == [plain]
    # Plain creations are never refused, and each one counts.
    second = KINDS[kind]({"p": 3}, group="g")
    assert cancel_action(plain)
    with pytest.raises(DuplicateAction) as refused:
        KINDS[kind]({"p": 4}, group="g", unique=True)
    assert refused.value.existing_action_id == second
    assert cancel_action(second)
    assert KINDS[kind]({"p": 5}, group="g", unique=True)


def test_a_plain_running_action_blocks_a_unique_one_until_it_ends(jobs, register):
    def try_unique() -> str:
        try:
            return enqueue_async_action(HOOK, {"other": 1}, group="g", unique=True)
        except DuplicateAction as refused:
            return f"refused:{refused.existing_action_id}"

    probe = register(HOOK, Recorder(during=try_unique), unique_by="group")
    plain = enqueue_async_action(HOOK, {"p": 1}, group="g")

    jobs.work(rounds=1)

    assert probe.seen == [f"refused:{plain}"]  # refused while the plain one was running
    assert jobs.action(plain).status == "complete"
    assert enqueue_async_action(HOOK, {"p": 2}, group="g", unique=True)


def test_unique_needs_a_hook_that_counts_its_actions(jobs, hook):
    with pytest.raises(InvalidAction, match="unique_by"):
        enqueue_async_action(HOOK, {"u": 1}, unique=True)
    with pytest.raises(InvalidAction, match="True or False"):
        enqueue_async_action(HOOK, {"u": 1}, unique="yes")
    _assert_nothing_written(jobs)


def test_unique_holds_across_kinds(jobs, unique_hook):
    first = schedule_single_action(_later(7200), HOOK, {"u": 1}, unique=True)
    with pytest.raises(DuplicateAction):
        enqueue_async_action(HOOK, {"u": 2}, unique=True)
    with pytest.raises(DuplicateAction):
        schedule_cron_action(_now(), "0 9 * * *", HOOK, {"u": 1}, unique=True)
    assert [item.action_id for item in _actions(jobs)] == [first]


@pytest.fixture
def atomic_transactions(monkeypatch):
    """DynamoDB runs a transaction atomically; moto's rollback is not thread-safe, so
    concurrent transactions there can leave a cancelled one's writes behind. Serialize
    them, as the real service's isolation does, so the test checks our code."""
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    lock = threading.Lock()

    def atomic(self, transact_items):
        with lock:
            return original(self, transact_items)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", atomic)


def test_concurrent_unique_enqueues_create_exactly_one_action(
    jobs, unique_hook, atomic_transactions
):
    has_scheduled_action(HOOK)  # clients are created before the threads race
    enqueue_async_action(HOOK, {"warm": 1}, group="warm")

    def attempt(n: int) -> str:
        try:
            return enqueue_async_action(HOOK, {"race": n}, group="g", unique=True)
        except DuplicateAction as refused:
            return f"refused:{refused.existing_action_id}"

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(8)))

    created = [outcome for outcome in outcomes if not outcome.startswith("refused:")]
    assert len(created) == 1
    assert outcomes.count(f"refused:{created[0]}") == 7
    racing = [item for item in _actions(jobs) if item.group == "g"]
    assert [item.action_id for item in racing] == created
    assert jobs.depth() == 2  # the warm-up and the one created


@pytest.fixture
def interleave(jobs):
    """Run ``between`` once, when the next TransactWriteItems is about to be sent: two
    creators racing, interleaved at the transaction, deterministically."""
    from functions.actions.store import table

    client = table.dynamodb()
    pending: list = []

    def before(**_):
        if pending:
            pending.pop()()

    client.meta.events.register("before-call.dynamodb.TransactWriteItems", before)
    yield pending.append
    client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", before)


@pytest.mark.parametrize("other_unique", [True, False], ids=["unique", "plain"])
def test_a_creation_that_commits_first_refuses_a_racing_unique_one(
    jobs, unique_hook, interleave, other_unique
):
    """The unique creator has decided nothing before its transaction: whatever commits
    in between, plain or unique, is seen by the transaction's own condition."""
    made: list[str] = []
    interleave(lambda: made.append(enqueue_async_action(HOOK, {"b": 1}, "g", other_unique)))

    with pytest.raises(DuplicateAction) as refused:
        enqueue_async_action(HOOK, {"a": 1}, group="g", unique=True)

    assert refused.value.existing_action_id == made[0]
    assert [item.action_id for item in _actions(jobs)] == made


def test_a_unique_creation_that_commits_first_does_not_refuse_a_racing_plain_one(
    jobs, unique_hook, interleave
):
    made: list[str] = []
    interleave(lambda: made.append(enqueue_async_action(HOOK, {"u": 1}, "g", unique=True)))

    plain = enqueue_async_action(HOOK, {"p": 1}, group="g")

    assert sorted(item.action_id for item in _actions(jobs)) == sorted([*made, plain])
    with pytest.raises(DuplicateAction):  # both are counted
        enqueue_async_action(HOOK, {"c": 1}, group="g", unique=True)
    assert cancel_action(made[0])
    with pytest.raises(DuplicateAction) as refused:
        enqueue_async_action(HOOK, {"c": 1}, group="g", unique=True)
    assert refused.value.existing_action_id == plain


@pytest.mark.parametrize("kind", KINDS)
def test_after_cancel_a_unique_action_may_be_scheduled_again(jobs, unique_hook, kind):
    first = KINDS[kind]({"u": 1}, unique=True)
    assert cancel_action(first)

    again = KINDS[kind]({"u": 1}, unique=True)

    assert again != first
    with pytest.raises(DuplicateAction):
        KINDS[kind]({"u": 1}, unique=True)


def test_after_it_ran_a_unique_single_action_may_be_scheduled_again(jobs, unique_hook):
    first = schedule_single_action(_now() - timedelta(seconds=5), HOOK, {"u": 1}, unique=True)
    jobs.work()
    assert jobs.action(first).status == "complete"

    again = schedule_single_action(_later(7200), HOOK, {"u": 1}, unique=True)
    assert again != first


def test_a_failed_action_no_longer_counts_and_a_redriven_one_counts_again(jobs, register):
    from functions.actions import redrive

    def fail(args, action):
        raise PermanentError("no")

    register(HOOK, fail, unique_by="group")
    first = enqueue_async_action(HOOK, {"n": 1}, group="g")
    jobs.work()
    assert jobs.action(first).status == "failed"
    second = enqueue_async_action(HOOK, {"n": 2}, group="g", unique=True)
    assert cancel_action(second)

    assert redrive.redrive("default").moved == 1

    assert jobs.action(first).status == "pending"
    with pytest.raises(DuplicateAction) as refused:
        enqueue_async_action(HOOK, {"n": 3}, group="g", unique=True)
    assert refused.value.existing_action_id == first


def test_a_run_of_a_recurring_action_counts_while_it_runs(jobs, register, clock):
    """A run still running after its recurring action was canceled is a running match."""
    seen: list[str] = []

    def cancel_then_try(args, action) -> None:
        assert unschedule_action(HOOK) == recurring_id
        try:
            seen.append(enqueue_async_action(HOOK, {"other": 1}, group="g", unique=True))
        except DuplicateAction as refused:
            seen.append(f"refused:{refused.existing_action_id}")

    register(HOOK, cancel_then_try, unique_by="group")
    recurring_id = schedule_recurring_action(_later(600), 3600, HOOK, group="g")
    first = _schedule(jobs, f"action-{recurring_id}")["StartDate"]
    clock.advance_to(first)
    _fire(jobs, f"action-{recurring_id}", at=first)

    jobs.work()

    run_id = f"{recurring_id}@{_iso(first)}"
    assert seen == [f"refused:{run_id}"]
    assert jobs.action(run_id).status == "complete"
    assert enqueue_async_action(HOOK, {"other": 1}, group="g", unique=True)


# --- has_scheduled_action --------------------------------------------------------------


def test_has_scheduled_action_matches_by_hook_args_and_group(jobs, hook, register):
    register("test_sched_other", Recorder())
    schedule_single_action(_later(7200), HOOK, {"a": 1}, group="g1")

    assert has_scheduled_action(HOOK) is True
    assert has_scheduled_action(HOOK, {"a": 1}) is True
    assert has_scheduled_action(HOOK, {"a": 1}, "g1") is True
    assert has_scheduled_action(HOOK, group="g1") is True
    assert has_scheduled_action(HOOK, {"a": 2}) is False
    assert has_scheduled_action(HOOK, {"a": 1}, "g2") is False
    assert has_scheduled_action(HOOK, group="") is False
    assert has_scheduled_action("test_sched_other") is False


def test_has_scheduled_action_args_none_matches_any_but_null_args_are_args(jobs, hook):
    enqueue_async_action(HOOK, [])
    assert has_scheduled_action(HOOK) is True
    assert has_scheduled_action(HOOK, []) is True
    assert has_scheduled_action(HOOK, {}) is False


def test_has_scheduled_action_is_true_while_running_and_false_after(jobs, register):
    probe = register(HOOK, Recorder(during=lambda: has_scheduled_action(HOOK, {"a": 1})))
    action_id = enqueue_async_action(HOOK, {"a": 1})

    jobs.work()

    assert probe.seen == [True]  # in-progress
    assert jobs.action(action_id).status == "complete"
    assert has_scheduled_action(HOOK) is False


def test_has_scheduled_action_is_false_after_cancel(jobs, hook):
    action_id = schedule_recurring_action(_later(600), 3600, HOOK)
    assert has_scheduled_action(HOOK) is True
    cancel_action(action_id)
    assert has_scheduled_action(HOOK) is False


# --- next_scheduled_action -------------------------------------------------------------


def test_next_scheduled_action_is_the_soonest_pending_time(jobs, hook):
    assert next_scheduled_action(HOOK) is False
    far = (_now() + timedelta(days=2)).replace(microsecond=0)
    schedule_single_action(far, HOOK, {"n": 1})
    assert next_scheduled_action(HOOK) == far

    rate_start = (_now() + timedelta(hours=20)).replace(microsecond=0)
    schedule_recurring_action(rate_start, 3600, HOOK, {"n": 2})
    assert next_scheduled_action(HOOK) == rate_start

    schedule_cron_action(_now(), "*/5 * * * *", HOOK, {"n": 3})
    now = _now()
    soonest = next_scheduled_action(HOOK)
    assert isinstance(soonest, datetime)
    assert soonest.minute % 5 == 0
    assert soonest.second == 0
    assert now < soonest <= now + timedelta(minutes=5)

    # Filtered by args: each one's own time.
    assert next_scheduled_action(HOOK, {"n": 1}) == far
    assert next_scheduled_action(HOOK, {"n": 2}) == rate_start
    assert next_scheduled_action(HOOK, {"n": 4}) is False


def test_next_scheduled_action_is_true_for_a_pending_async_action(jobs, hook):
    schedule_single_action(_later(7200), HOOK)
    enqueue_async_action(HOOK)
    assert next_scheduled_action(HOOK) is True


def test_next_scheduled_action_is_true_while_only_a_running_one_exists(jobs, register):
    probe = register(HOOK, Recorder(during=lambda: next_scheduled_action(HOOK)))
    enqueue_async_action(HOOK)

    jobs.work()

    assert probe.seen == [True]
    assert next_scheduled_action(HOOK) is False


def test_next_scheduled_action_is_true_while_a_match_runs_even_with_one_pending(jobs, register):
    """Action Scheduler asks for a running match first."""
    probe = register(HOOK, Recorder(during=lambda: next_scheduled_action(HOOK)))
    schedule_single_action(_later(7200), HOOK, {"later": 1})
    enqueue_async_action(HOOK, {"now": 1})

    jobs.work()

    assert probe.seen == [True]


def test_next_scheduled_action_filters_by_group(jobs, hook):
    when = (_now() + timedelta(hours=5)).replace(microsecond=0)
    schedule_single_action(when, HOOK, group="a")
    assert next_scheduled_action(HOOK, group="a") == when
    assert next_scheduled_action(HOOK, group="b") is False


# --- unschedule and cancel -------------------------------------------------------------


def test_unschedule_action_cancels_only_the_soonest_match(jobs, hook):
    ids = [
        schedule_single_action(_later(hours * 3600), HOOK, {"same": True}) for hours in (3, 1, 2)
    ]
    third, first, second = ids

    assert unschedule_action(HOOK, {"same": True}) == first

    item = jobs.action(first)
    assert item.status == "canceled"
    assert item.log[-1].event == "canceled"
    assert _schedule(jobs, f"action-{first}") is None
    assert _schedules(jobs) == sorted([f"action-{second}", f"action-{third}"])
    assert [jobs.action(i).status for i in (second, third)] == ["pending", "pending"]

    assert unschedule_action(HOOK) == second
    assert unschedule_action(HOOK) == third
    assert unschedule_action(HOOK) is None
    assert _schedules(jobs) == []


def test_unschedule_action_respects_args_and_group(jobs, hook):
    a = schedule_single_action(_later(3600), HOOK, {"k": "a"}, group="g")
    b = schedule_single_action(_later(7200), HOOK, {"k": "b"}, group="g")

    assert unschedule_action(HOOK, {"k": "b"}) == b
    assert unschedule_action(HOOK, {"k": "a"}, group="other") is None
    assert unschedule_action(HOOK, group="g") == a


def test_unschedule_action_of_none_pending_is_none(jobs, hook):
    assert unschedule_action(HOOK) is None
    action_id = enqueue_async_action(HOOK)
    jobs.work()
    assert unschedule_action(HOOK) is None
    assert jobs.action(action_id).status == "complete"


def test_an_unscheduled_async_action_is_skipped_by_the_worker(jobs, hook):
    action_id = enqueue_async_action(HOOK, {"x": 1})
    assert jobs.depth() == 1  # its message is on its way

    assert unschedule_action(HOOK) == action_id
    jobs.work()

    assert hook.calls == []
    item = jobs.action(action_id)
    assert item.status == "canceled"
    assert _events(item) == ["created", "canceled"]
    assert jobs.depth() == 0


def test_unschedule_all_actions_cancels_every_pending_match(jobs, hook):
    matching = [
        enqueue_async_action(HOOK, {"m": 1}),
        schedule_single_action(_later(300), HOOK, {"m": 1}),
        schedule_single_action(_later(7200), HOOK, {"m": 1}),
        schedule_recurring_action(_later(600), 3600, HOOK, {"m": 1}),
        schedule_cron_action(_now(), "0 9 * * *", HOOK, {"m": 1}),
    ]
    other = schedule_single_action(_later(7200), HOOK, {"m": 2})

    canceled = unschedule_all_actions(HOOK, {"m": 1})

    assert sorted(canceled) == sorted(matching)
    assert all(jobs.action(i).status == "canceled" for i in matching)
    assert jobs.action(other).status == "pending"
    assert _schedules(jobs) == [f"action-{other}"]
    assert unschedule_all_actions(HOOK, {"m": 1}) == []
    assert unschedule_all_actions(HOOK) == [other]
    assert _schedules(jobs) == []


def test_unschedule_all_actions_with_an_empty_hook_cancels_the_groups_actions(jobs, hook, register):
    """Action Scheduler's as_unschedule_all_actions('', [], 'group'): every hook's."""
    register("test_sched_other", Recorder())
    in_group = [
        enqueue_async_action(HOOK, {"n": 1}, group="tenant-1"),
        schedule_single_action(_later(7200), "test_sched_other", group="tenant-1"),
        schedule_recurring_action(_later(600), 3600, HOOK, {"n": 2}, group="tenant-1"),
    ]
    other_group = schedule_single_action(_later(7200), HOOK, group="tenant-2")
    no_group = schedule_single_action(_later(7200), HOOK)

    assert sorted(unschedule_all_actions("", group="tenant-1")) == sorted(in_group)

    assert [jobs.action(i).status for i in in_group] == ["canceled"] * 3
    assert jobs.action(other_group).status == jobs.action(no_group).status == "pending"
    assert _schedules(jobs) == sorted([f"action-{other_group}", f"action-{no_group}"])
    assert has_scheduled_action("", group="tenant-2") is True
    assert unschedule_action("", group="tenant-2") == other_group


@pytest.mark.parametrize("group", [None, ""])
def test_an_empty_hook_without_a_group_is_refused(jobs, hook, group):
    schedule_single_action(_later(7200), HOOK)
    for query in (unschedule_all_actions, unschedule_action, has_scheduled_action):
        with pytest.raises(InvalidAction, match="a group"):
            query("", group=group)
    assert jobs.action(_actions(jobs)[0].action_id).status == "pending"


@pytest.mark.parametrize("kind", KINDS)
def test_cancel_each_kind(jobs, hook, clock, kind):
    action_id = KINDS[kind]({"c": kind})

    assert cancel_action(action_id) is True

    item = jobs.action(action_id)
    assert item.status == "canceled"
    assert item.log[-1].event == "canceled"
    assert 30 * 86400 < item.expires_at.timestamp() - time.time() <= 31 * 86400
    assert _schedules(jobs) == []
    assert cancel_action(action_id) is False  # only a pending action can be canceled
    assert has_scheduled_action(HOOK) is False
    assert next_scheduled_action(HOOK) is False
    # Whatever was already on its way is skipped.
    clock.advance(900)
    jobs.work()
    assert hook.calls == []
    assert jobs.depth() == 0


@pytest.mark.parametrize("kind", ["rate", "cron"])
def test_a_run_on_its_way_when_its_recurring_action_is_canceled_is_skipped(jobs, hook, clock, kind):
    action_id = KINDS[kind]({"r": 1})
    first = _schedule(jobs, f"action-{action_id}")["StartDate"]
    clock.advance_to(first)
    _fire(jobs, f"action-{action_id}", at=first)  # fired just before the cancel

    assert unschedule_action(HOOK) == action_id
    jobs.work()

    assert hook.calls == []
    assert jobs.action(f"{action_id}@{_iso(first)}") is None
    assert jobs.depth() == 0


def test_a_run_that_started_before_the_cancel_finishes_its_retries(jobs, register, clock):
    calls: list[int] = []

    def cancel_then_fail_once(args, action) -> None:
        calls.append(action.attempt)
        if action.attempt == 1:
            unschedule_action(HOOK)  # canceled while this run is in progress
            raise TransientError("once")

    register(HOOK, cancel_then_fail_once, base_delay=0, max_delay=0)
    action_id = schedule_recurring_action(_later(600), 3600, HOOK)
    first = _schedule(jobs, f"action-{action_id}")["StartDate"]
    clock.advance_to(first)
    _fire(jobs, f"action-{action_id}", at=first)

    jobs.work()

    assert calls == [1, 2]
    assert jobs.action(action_id).status == "canceled"
    assert jobs.action(f"{action_id}@{_iso(first)}").status == "complete"


def test_cancel_of_an_unknown_or_finished_action_is_false(jobs, hook):
    assert cancel_action("no-such-action") is False
    action_id = enqueue_async_action(HOOK)
    jobs.work()
    assert cancel_action(action_id) is False
    assert jobs.action(action_id).status == "complete"


# --- get_scheduled_actions -------------------------------------------------------------


def _ids(page) -> list[str]:
    return [item.action_id for item in page.items]


def test_get_scheduled_actions_filters(jobs, hook, register):
    register("test_sched_other", Recorder())
    base = (_now() + timedelta(hours=2)).replace(microsecond=0)
    a1 = schedule_single_action(base, HOOK, {"n": 1}, group="a")
    a2 = schedule_single_action(base + timedelta(hours=1), HOOK, {"n": 2}, group="a")
    b1 = schedule_single_action(base + timedelta(hours=2), HOOK, {"n": 1}, group="b")
    other = schedule_single_action(base + timedelta(hours=3), "test_sched_other", {"n": 1})
    done = enqueue_async_action(HOOK, {"n": 3})
    jobs.work()
    gone = schedule_single_action(base + timedelta(hours=4), HOOK, {"n": 4})
    cancel_action(gone)

    assert _ids(get_scheduled_actions(hook=HOOK, status="pending")) == [a1, a2, b1]
    assert _ids(get_scheduled_actions(status="pending")) == [a1, a2, b1, other]
    assert _ids(get_scheduled_actions()) == [a1, a2, b1, other]  # pending by default
    assert _ids(get_scheduled_actions(hook=HOOK, status="complete")) == [done]
    assert _ids(get_scheduled_actions(status="canceled")) == [gone]
    assert sorted(_ids(get_scheduled_actions(hook=HOOK))) == sorted([a1, a2, b1, done, gone])
    assert _ids(get_scheduled_actions(hook=HOOK, group="a", status="pending")) == [a1, a2]
    assert _ids(get_scheduled_actions(status="pending", group="b")) == [b1]
    assert _ids(get_scheduled_actions(hook=HOOK, args={"n": 1})) == [b1, a1][::-1]
    assert _ids(get_scheduled_actions(status="pending", args={"n": 1})) == [a1, b1, other]
    assert _ids(get_scheduled_actions(hook=HOOK, args={"n": 1}, group="b")) == [b1]
    # Date ranges (inclusive), as aware datetimes or epoch seconds.
    window = {"date_from": base + timedelta(minutes=30), "date_to": base + timedelta(hours=2)}
    assert _ids(get_scheduled_actions(hook=HOOK, status="pending", **window)) == [a2, b1]
    assert _ids(get_scheduled_actions(status="pending", **window)) == [a2, b1]
    assert _ids(get_scheduled_actions(hook=HOOK, **window)) == [a2, b1]
    epoch = {"date_from": base.timestamp(), "date_to": base.timestamp()}
    assert _ids(get_scheduled_actions(hook=HOOK, status="pending", **epoch)) == [a1]
    assert _ids(get_scheduled_actions(hook=HOOK, date_to=base - timedelta(seconds=1))) == [done]


@pytest.mark.parametrize("hooked", [True, False], ids=["by-hook", "by-status"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_get_scheduled_actions_takes_a_list_of_statuses(jobs, hook, hooked, order):
    """Action Scheduler's query takes a list of statuses: they come merged by time."""
    base = (_now() + timedelta(hours=1)).replace(microsecond=0)
    made = [schedule_single_action(base + timedelta(minutes=n), HOOK, {"n": n}) for n in range(9)]
    for action_id in made[1::3]:
        cancel_action(action_id)
    done = enqueue_async_action(HOOK, {"done": 1})
    jobs.work()
    wanted_sorted = sorted([*made, done], key=lambda i: jobs.action(i).scheduled_for)
    query = {"hook": HOOK} if hooked else {}

    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = get_scheduled_actions(
            **query,
            status=["pending", "canceled", "complete"],
            per_page=4,
            cursor=cursor,
            order=order,
        )
        seen.extend(_ids(page))
        cursor = page.cursor
        if cursor is None:
            break

    assert seen == (wanted_sorted if order == "asc" else wanted_sorted[::-1])
    two = get_scheduled_actions(**query, status=("pending", "canceled"), per_page=100)
    assert sorted(_ids(two)) == sorted(made)
    single = get_scheduled_actions(**query, status="pending", per_page=1).cursor
    with pytest.raises(InvalidAction, match="cursor"):
        get_scheduled_actions(**query, status=["pending", "canceled"], cursor=single)
    for bad in ([], ["pending", "past-due"], ["pending", "pending"], ["pending", "done"], {"x"}):
        with pytest.raises(InvalidAction, match="status"):
            get_scheduled_actions(**query, status=bad)


def test_canceled_actions_keep_their_scheduled_time_in_every_index(jobs, hook):
    base = (_now() + timedelta(hours=5)).replace(microsecond=0)
    ids = [schedule_single_action(base + timedelta(hours=n), HOOK, {"n": n}) for n in range(3)]
    for action_id in reversed(ids):  # canceled latest first
        cancel_action(action_id)

    window = {"date_from": base + timedelta(minutes=30), "date_to": base + timedelta(hours=3)}
    assert _ids(get_scheduled_actions(hook=HOOK, status="canceled")) == ids
    assert _ids(get_scheduled_actions(status="canceled")) == ids
    assert _ids(get_scheduled_actions(hook=HOOK, status="canceled", **window)) == ids[1:]
    assert _ids(get_scheduled_actions(status="canceled", **window)) == ids[1:]
    assert _ids(get_scheduled_actions(hook=HOOK, args={"n": 0}, group="", status="canceled")) == [
        ids[0]
    ]
    assert [jobs.action(i).scheduled_for.timestamp() for i in ids] == [
        (base + timedelta(hours=n)).timestamp() for n in range(3)
    ]


def test_get_scheduled_actions_past_due(jobs, hook):
    overdue = schedule_single_action(_now() - timedelta(hours=1), HOOK, {"late": True})
    schedule_single_action(_later(7200), HOOK)

    assert _ids(get_scheduled_actions(hook=HOOK, status="past-due")) == [overdue]
    assert _ids(get_scheduled_actions(status="past-due")) == [overdue]
    jobs.work()
    assert _ids(get_scheduled_actions(status="past-due")) == []


def test_get_scheduled_actions_orders_by_scheduled_time(jobs, hook):
    base = _now() + timedelta(hours=1)
    ids = {
        hours: schedule_single_action(base + timedelta(hours=hours), HOOK, {"h": hours})
        for hours in (5, 1, 4, 2, 3)
    }
    ascending = [ids[hours] for hours in sorted(ids)]

    assert _ids(get_scheduled_actions(hook=HOOK, status="pending")) == ascending
    assert _ids(get_scheduled_actions(hook=HOOK, status="pending", order="desc")) == ascending[::-1]
    assert _ids(get_scheduled_actions(status="pending", order="desc")) == ascending[::-1]
    times = [item.scheduled_for.timestamp() for item in get_scheduled_actions(hook=HOOK).items]
    assert times == sorted(times)


@pytest.mark.parametrize(
    "query",
    [
        {"hook": HOOK, "status": "pending"},
        {"status": "pending"},
        {"hook": HOOK},
        {"hook": HOOK, "group": "pages"},  # a filter: pages are gathered, not just read
        {"status": "pending", "group": "pages"},
    ],
    ids=["hook+status", "status", "hook", "hook+group", "status+group"],
)
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_pages_visit_every_action_exactly_once(jobs, hook, query, order):
    base = _now() + timedelta(hours=1)
    created = [
        schedule_single_action(base + timedelta(minutes=n), HOOK, {"n": n}, group="pages")
        for n in range(23)
    ]
    for n in range(7):  # others, in between, that the group filter leaves out
        schedule_single_action(base + timedelta(minutes=n, seconds=30), HOOK, {"o": n})
    if "group" not in query:
        created = [item.action_id for item in _actions(jobs)]

    seen: list[str] = []
    sizes: list[int] = []
    cursor = None
    for _ in range(20):
        page = get_scheduled_actions(**query, per_page=5, cursor=cursor, order=order)
        seen.extend(_ids(page))
        sizes.append(len(page.items))
        cursor = page.cursor
        if cursor is None:
            break

    assert sorted(seen) == sorted(created)
    assert len(seen) == len(set(seen))
    assert all(size == 5 for size in sizes[:-1])
    times = [jobs.action(action_id).scheduled_for.timestamp() for action_id in seen]
    assert times == sorted(times, reverse=order == "desc")


def _cursor(document) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()


@pytest.mark.parametrize(
    "arguments",
    [
        {"cursor": "not a cursor!"},
        {"cursor": "abc"},
        {"cursor": _cursor([])},
        {"cursor": _cursor("x")},
        {"cursor": _cursor({"action_id": 1})},
        {"cursor": _cursor({"x": {"S": "y"}})},
        {"order": "sideways"},
        {"order": "ASC"},
        {"status": "done"},
        {"status": "PENDING"},
        {"per_page": 0},
        {"per_page": 1001},
        {"date_from": datetime(2026, 1, 1)},  # naive: no tzinfo
    ],
    ids=lambda arguments: (
        next(iter(arguments.items()))[0] + "=" + repr(next(iter(arguments.values())))[:30]
    ),
)
def test_get_scheduled_actions_refuses_bad_arguments(jobs, hook, arguments):
    schedule_single_action(_later(7200), HOOK)
    schedule_single_action(_later(7300), HOOK)
    with pytest.raises(InvalidAction):
        get_scheduled_actions(hook=HOOK, **arguments)


def test_a_cursor_is_for_the_query_that_made_it(jobs, hook, register):
    register("test_sched_other", Recorder())
    for hours in (2, 3, 4):
        schedule_single_action(_later(hours * 3600), HOOK, {"same": 1}, group="g")
        schedule_single_action(_later(hours * 3600), "test_sched_other", {"same": 1}, group="g")
    match = {"hook": HOOK, "args": {"same": 1}, "group": "g"}
    by_hook = get_scheduled_actions(hook=HOOK, per_page=1).cursor
    by_match = get_scheduled_actions(**match, per_page=1).cursor
    by_status = get_scheduled_actions(status="pending", per_page=1).cursor
    assert by_hook and by_match and by_status
    assert len(_ids(get_scheduled_actions(hook=HOOK, per_page=5, cursor=by_hook))) == 2
    assert len(_ids(get_scheduled_actions(**match, per_page=5, cursor=by_match))) == 2
    assert len(_ids(get_scheduled_actions(status="pending", per_page=9, cursor=by_status))) == 5

    refused = [
        {"status": "pending", "cursor": by_hook},
        {"hook": HOOK, "cursor": by_status},
        {"hook": HOOK, "cursor": by_match},
        {**match, "cursor": by_hook},
        {"hook": "test_sched_other", "cursor": by_hook},
        {"status": "canceled", "cursor": by_status},
        {**match, "group": "h", "cursor": by_match},
    ]
    for query in refused:
        with pytest.raises(InvalidAction, match="cursor"):
            get_scheduled_actions(**query, per_page=1)


# --- run_action_now --------------------------------------------------------------------


def test_run_action_now_sends_a_scheduled_action_at_once(jobs, hook):
    action_id = schedule_single_action(_later(5 * 3600), HOOK, {"now": True})

    assert run_action_now(action_id) is True

    assert _schedule(jobs, f"action-{action_id}") is None
    assert _receivable(jobs) == 1
    jobs.work()
    assert hook.calls == [({"now": True}, action_id)]
    assert jobs.action(action_id).status == "complete"
    assert run_action_now(action_id) is False  # no longer pending


def test_run_action_now_refuses_what_it_cannot_run(jobs, hook):
    recurring = schedule_recurring_action(_later(600), 3600, HOOK)
    canceled = schedule_single_action(_later(7200), HOOK, {"c": 1})
    cancel_action(canceled)

    assert run_action_now("no-such-action") is False
    assert run_action_now(recurring) is False
    assert run_action_now(canceled) is False
    assert _schedule(jobs, f"action-{recurring}") is not None
    assert jobs.depth() == 0


def test_a_started_run_moves_its_recurring_action_to_the_next_run(stack, jobs, register):
    """Not past-due forever: the recurring action's time follows its runs."""
    from functions.actions import get_scheduled_actions, schedule_recurring_action
    from functions.actions.store import ActionStatus
    from functions.actions.store.record import status_scheduled

    register("test_hourly", lambda args, action: None)
    start = datetime.now(UTC) - timedelta(minutes=90)
    recurring_id = schedule_recurring_action(start, 3600, "test_hourly")
    boto3.client("dynamodb").update_item(  # as if it were created 90 minutes ago
        TableName=stack.resources.actions_table,
        Key={"action_id": {"S": recurring_id}},
        UpdateExpression="SET scheduled_for = :t, status_scheduled = :ss",
        ExpressionAttributeValues={
            ":t": {"N": str(start.timestamp())},
            ":ss": {"S": status_scheduled(ActionStatus.PENDING, start)},
        },
    )
    assert [a.action_id for a in get_scheduled_actions(status="past-due").items] == [recurring_id]
    run_time = (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    schedule = boto3.client("scheduler").get_schedule(
        Name=f"action-{recurring_id}", GroupName=stack.resources.schedule_group
    )
    body = schedule["Target"]["Input"].replace("<aws.scheduler.scheduled-time>", run_time)
    jobs.sqs.send_message(QueueUrl=jobs.queue().url, MessageBody=body)

    jobs.work()

    assert jobs.action(f"{recurring_id}@{run_time}").status == "complete"
    recurring = jobs.action(recurring_id)
    assert recurring.status == "pending"
    assert recurring.scheduled_for == start + timedelta(hours=2)
    assert get_scheduled_actions(status="past-due").items == []


def test_an_action_that_moved_after_the_index_was_read_is_left_out(jobs, hook):
    """The index is read first, the items after: a recurring action that moved on to its
    next run in between no longer answers "past-due" and is not returned as such."""
    from dataclasses import replace

    from functions.actions.store import ActionStatus, reads

    action_id = schedule_single_action(_later(3600), HOOK)
    item = jobs.action(action_id)
    entry = reads.IndexEntry(action_id, item.scheduled_for, ActionStatus.PENDING)
    moved = replace(entry, scheduled_for=item.scheduled_for - timedelta(hours=2))  # read before

    finished = replace(entry, status=ActionStatus.COMPLETE)  # read before it went back

    assert [a.action_id for a in reads._whole([entry])] == [action_id]
    assert reads._whole([moved]) == []
    assert reads._whole([finished]) == []
