"""The local scheduler: moto stores the schedules, SchedulerClock fires them on a manual clock."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import boto3
import pytest
from botocore.exceptions import ClientError

from infra.local.scheduler_clock import ManualClock, SchedulerClock, SystemClock

ROLE = "arn:aws:iam::123456789012:role/scheduler"
ACCOUNT_ARN = "arn:aws:sqs:us-east-1:123456789012"
GROUP = "jobs"
NEW_YORK = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


class World:
    """A schedule group, a standard, a FIFO and a dead-letter queue, and a clock."""

    def __init__(self, start: datetime) -> None:
        self.scheduler = boto3.client("scheduler")
        self.sqs = boto3.client("sqs")
        self.scheduler.create_schedule_group(Name=GROUP)
        self.urls = {
            name: self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            for name, attributes in {
                "jobs": {},
                "jobs-dlq": {},
                "jobs.fifo": {"FifoQueue": "true"},
            }.items()
        }
        self.clock = ManualClock(start)
        self.lines: list[str] = []
        self.ticker = SchedulerClock(
            self.clock, sqs=self.sqs, scheduler=self.scheduler, log=self.lines.append
        )

    def schedule(self, name: str, expression: str, *, queue: str = "jobs", **extra) -> str:
        target = {"Arn": f"{ACCOUNT_ARN}:{queue}", "RoleArn": ROLE, "Input": name}
        target.update(extra.pop("target", {}))
        extra.setdefault("FlexibleTimeWindow", {"Mode": "OFF"})
        extra.setdefault("GroupName", GROUP)
        return self.scheduler.create_schedule(
            Name=name, ScheduleExpression=expression, Target=target, **extra
        )["ScheduleArn"]

    def drain(self, queue: str = "jobs") -> list[dict]:
        messages = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=self.urls[queue],
                MaxNumberOfMessages=10,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                return messages
            messages += batch

    def run(self, until: datetime, step: timedelta) -> list:
        """Tick every ``step`` up to and including ``until``; every Fired, in order."""
        fired = list(self.ticker.tick())
        while self.clock.now() + step <= until:
            self.clock.advance(step.total_seconds())
            fired += self.ticker.tick()
        return fired

    def exists(self, name: str) -> bool:
        try:
            self.scheduler.get_schedule(Name=name, GroupName=GROUP)
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "ResourceNotFoundException"
            return False
        return True


@pytest.fixture
def world(aws):
    return World(utc(2026, 1, 1))


def local_times(fired, zone: ZoneInfo) -> list[str]:
    return [f.scheduled_time.astimezone(zone).strftime("%m-%d %H:%M%z") for f in fired]


# -- clocks --------------------------------------------------------------------------


def test_manual_clock_moves_only_when_told():
    clock = ManualClock(datetime(2026, 6, 1, 12, tzinfo=PARIS))
    assert clock.now() == utc(2026, 6, 1, 10)
    assert clock.now().tzinfo is UTC
    assert clock.advance(90) == utc(2026, 6, 1, 10, 1, 30)
    assert clock.now() == utc(2026, 6, 1, 10, 1, 30)
    assert clock.set(utc(2030, 1, 1)) == utc(2030, 1, 1)
    with pytest.raises(ValueError, match="aware"):
        clock.set(datetime(2030, 1, 1))  # naive on purpose
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


def test_system_clock_is_aware_utc_now():
    before = datetime.now(UTC)
    now = SystemClock().now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert before <= now <= datetime.now(UTC)


# -- at() ----------------------------------------------------------------------------


def test_at_fires_once_at_its_time_not_before_and_deletes_itself(world):
    arn = world.schedule("once", "at(2026-12-01T09:00:00)", ActionAfterCompletion="DELETE")
    world.clock.set(utc(2026, 12, 1, 8, 59, 59))
    assert world.ticker.tick() == []
    assert world.drain() == []
    assert world.exists("once")

    world.clock.advance(1)
    (fired,) = world.ticker.tick()
    assert (fired.schedule_arn, fired.status, fired.attempt) == (arn, "delivered", 1)
    assert fired.scheduled_time == utc(2026, 12, 1, 9)
    assert [m["Body"] for m in world.drain()] == ["once"]
    assert fired.message_id and fired.queue_url == world.urls["jobs"]
    assert not world.exists("once")
    assert world.lines == ["schedule jobs/once fired at 2026-12-01T09:00:00Z -> jobs"]

    world.clock.advance(3600)
    assert world.ticker.tick() == []
    assert world.drain() == []


def test_at_without_delete_stays_and_does_not_fire_again(world):
    world.schedule("kept", "at(2026-03-01T00:00:00)")
    world.clock.set(utc(2026, 3, 1))
    assert len(world.ticker.tick()) == 1
    world.clock.advance(86400)
    assert world.ticker.tick() == []
    assert world.exists("kept")
    assert len(world.drain()) == 1


def test_at_is_read_in_the_schedule_time_zone(world):
    world.schedule("paris", "at(2026-07-01T09:00:00)", ScheduleExpressionTimezone="Europe/Paris")
    world.clock.set(utc(2026, 7, 1, 6, 59, 59))
    assert world.ticker.tick() == []
    world.clock.advance(1)
    (fired,) = world.ticker.tick()
    assert fired.scheduled_time == utc(2026, 7, 1, 7)  # 09:00 CEST


def test_ticking_twice_at_the_same_time_fires_once(world):
    world.schedule("every", "rate(1 minute)", StartDate=utc(2026, 1, 1))
    world.schedule("at", "at(2026-01-01T00:00:00)")
    first = world.ticker.tick()
    assert sorted(f.name for f in first) == ["at", "every"]
    assert world.ticker.tick() == []
    assert world.ticker.tick() == []
    assert len(world.drain()) == 2


# -- context attributes --------------------------------------------------------------


def test_context_attributes_are_replaced_in_the_input(world):
    template = json.dumps(
        {
            "arn": "<aws.scheduler.schedule-arn>",
            "at": "<aws.scheduler.scheduled-time>",
            "execution": "<aws.scheduler.execution-id>",
            "attempt": "<aws.scheduler.attempt-number>",
            "id": "job@<aws.scheduler.scheduled-time>",
        }
    )
    arn = world.schedule(
        "ctx", "rate(1 hour)", StartDate=utc(2026, 1, 1), target={"Input": template}
    )
    world.ticker.tick()
    world.clock.advance(3600)
    world.ticker.tick()
    bodies = [json.loads(m["Body"]) for m in world.drain()]
    assert [b["at"] for b in bodies] == ["2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"]
    assert bodies[1]["id"] == "job@2026-01-01T01:00:00Z"
    assert {b["arn"] for b in bodies} == {arn}
    assert {b["attempt"] for b in bodies} == {"1"}
    executions = [str(uuid.UUID(b["execution"])) for b in bodies]
    assert executions[0] != executions[1]
    assert "<aws.scheduler" not in json.dumps(bodies)


def test_a_target_without_input_sends_an_empty_object(world):
    world.scheduler.create_schedule(
        Name="bare",
        GroupName=GROUP,
        ScheduleExpression="at(2026-01-01T00:00:00)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": f"{ACCOUNT_ARN}:jobs", "RoleArn": ROLE},
    )
    world.ticker.tick()
    assert [m["Body"] for m in world.drain()] == ["{}"]


# -- rate() --------------------------------------------------------------------------


def test_rate_fires_at_start_then_every_interval_without_drift_on_late_ticks(world):
    world.schedule("rate", "rate(5 minutes)", StartDate=utc(2026, 1, 1, 0, 0))
    world.clock.set(utc(2025, 12, 31, 23, 59))
    assert world.ticker.tick() == []  # before StartDate
    seen = []
    for minute, second in [(0, 0), (2, 0), (7, 13), (11, 59), (12, 0), (15, 1), (31, 0)]:
        world.clock.set(utc(2026, 1, 1, 0, minute, second))
        seen += [f.scheduled_time for f in world.ticker.tick()]
    # 00:05 fired late at 00:07:13, 00:10 at 00:11:59; the grid stays on 5-minute marks.
    # The tick at 00:31 fires 00:30 only: missed 00:20 and 00:25 are not backfilled.
    assert seen == [utc(2026, 1, 1, 0, m) for m in (0, 5, 10, 15, 30)]
    assert [m["Body"] for m in world.drain()] == ["rate"] * 5


def test_rate_without_start_date_runs_from_its_first_sighting(world):
    world.schedule("nostart", "rate(2 hours)")
    world.clock.set(utc(2026, 5, 5, 10, 17))
    (first,) = world.ticker.tick()
    assert first.scheduled_time == utc(2026, 5, 5, 10, 17)
    world.clock.set(utc(2026, 5, 5, 12, 16, 59))
    assert world.ticker.tick() == []
    world.clock.set(utc(2026, 5, 5, 12, 40))
    assert [f.scheduled_time for f in world.ticker.tick()] == [utc(2026, 5, 5, 12, 17)]


def test_rate_units_days(world):
    world.schedule("daily", "rate(1 day)", StartDate=utc(2026, 1, 1, 6))
    fired = world.run(utc(2026, 1, 4, 5), timedelta(hours=1))
    assert [f.scheduled_time for f in fired] == [utc(2026, 1, d, 6) for d in (1, 2, 3)]


def test_end_date_stops_a_schedule(world):
    world.schedule("ending", "rate(1 hour)", StartDate=utc(2026, 1, 1), EndDate=utc(2026, 1, 1, 3))
    fired = world.run(utc(2026, 1, 1, 8), timedelta(minutes=20))
    # EndDate is the moment *before which* runs happen: 03:00 does not run.
    assert [f.scheduled_time for f in fired] == [utc(2026, 1, 1, h) for h in (0, 1, 2)]


def test_disabled_schedules_never_fire_and_resume_without_backlog(world):
    world.schedule("off", "rate(1 minute)", StartDate=utc(2026, 1, 1), State="DISABLED")
    world.schedule("off-once", "at(2026-01-01T00:05:00)", State="DISABLED")
    assert world.run(utc(2026, 1, 1, 1), timedelta(minutes=1)) == []
    assert world.drain() == []

    world.scheduler.update_schedule(
        Name="off",
        GroupName=GROUP,
        ScheduleExpression="rate(1 minute)",
        StartDate=utc(2026, 1, 1),
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": f"{ACCOUNT_ARN}:jobs", "RoleArn": ROLE, "Input": "off"},
        State="ENABLED",
    )
    world.clock.advance(30)
    assert world.ticker.tick() == []  # the hour it spent disabled is not replayed
    world.clock.advance(30)
    assert [f.scheduled_time for f in world.ticker.tick()] == [utc(2026, 1, 1, 1, 1)]


def test_flexible_window_fires_at_the_start_of_the_window(world):
    world.schedule(
        "flex",
        "at(2026-02-01T12:00:00)",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
    )
    world.clock.set(utc(2026, 2, 1, 11, 59, 59))
    assert world.ticker.tick() == []
    world.clock.advance(1)
    assert [f.scheduled_time for f in world.ticker.tick()] == [utc(2026, 2, 1, 12)]


# -- cron() across daylight-saving changes --------------------------------------------


def new_york_schedules(world: World) -> None:
    tz = {"ScheduleExpressionTimezone": "America/New_York"}
    world.schedule("hourly", "cron(30 * * * ? *)", **tz)
    world.schedule("daily", "cron(30 2 * * ? *)", **tz)
    world.schedule("one-thirty", "cron(30 1 ? * * *)", **tz)


def test_cron_new_york_spring_forward_skips_the_missing_local_time(world):
    new_york_schedules(world)
    world.clock.set(datetime(2026, 3, 7, 23, 0, tzinfo=NEW_YORK))
    fired = world.run(datetime(2026, 3, 9, 3, 0, tzinfo=NEW_YORK), timedelta(minutes=15))
    names = ("hourly", "daily", "one-thirty")
    by_name = {n: local_times([f for f in fired if f.name == n], NEW_YORK) for n in names}
    assert by_name["daily"] == ["03-09 02:30-0400"]  # 03-08 02:30 does not exist
    assert by_name["one-thirty"] == ["03-08 01:30-0500", "03-09 01:30-0400"]
    march_8 = [t for t in by_name["hourly"] if t.startswith("03-08")]
    assert march_8[:3] == ["03-08 00:30-0500", "03-08 01:30-0500", "03-08 03:30-0400"]
    assert len(march_8) == 23
    assert all(f.status == "delivered" for f in fired)


def test_cron_new_york_fall_back_runs_the_repeated_time_once(world):
    new_york_schedules(world)
    world.clock.set(datetime(2026, 10, 31, 23, 0, tzinfo=NEW_YORK))
    fired = world.run(datetime(2026, 11, 2, 3, 0, tzinfo=NEW_YORK), timedelta(minutes=15))
    one_thirty = [f for f in fired if f.name == "one-thirty"]
    assert local_times(one_thirty, NEW_YORK) == ["11-01 01:30-0400", "11-02 01:30-0500"]
    daily = [f for f in fired if f.name == "daily"]
    assert local_times(daily, NEW_YORK) == ["11-01 02:30-0500", "11-02 02:30-0500"]
    nov_1 = local_times([f for f in fired if f.name == "hourly"], NEW_YORK)
    nov_1 = [t for t in nov_1 if t.startswith("11-01")]
    assert nov_1[:3] == ["11-01 00:30-0400", "11-01 01:30-0400", "11-01 02:30-0500"]
    assert len(nov_1) == 24  # a 25-hour day, 01:30 once


def test_cron_europe_paris_weekdays_across_the_march_change(world):
    world.schedule("weekday-nine", "cron(0 9 ? * 2-6 *)", ScheduleExpressionTimezone="Europe/Paris")
    world.clock.set(utc(2026, 3, 26, 12))
    fired = world.run(utc(2026, 3, 31, 12), timedelta(minutes=30))
    # Thu 26, Fri 27 at 08:00Z (CET); Sat 28 and Sun 29 skipped; Mon 30, Tue 31 at 07:00Z.
    assert [f.scheduled_time for f in fired] == [
        utc(2026, 3, 27, 8),
        utc(2026, 3, 30, 7),
        utc(2026, 3, 31, 7),
    ]
    assert local_times(fired, PARIS) == ["03-27 09:00+0100", "03-30 09:00+0200", "03-31 09:00+0200"]


def test_cron_last_friday_of_the_month_end_to_end(world):
    world.schedule("last-friday", "cron(0 12 ? * 6L *)")
    world.schedule("second-tuesday", "cron(0 12 ? * 3#2 *)")
    world.clock.set(utc(2026, 1, 1))
    fired = world.run(utc(2026, 2, 28, 23), timedelta(hours=6))
    assert [(f.name, f.scheduled_time) for f in fired] == [
        ("second-tuesday", utc(2026, 1, 13, 12)),
        ("last-friday", utc(2026, 1, 30, 12)),
        ("second-tuesday", utc(2026, 2, 10, 12)),
        ("last-friday", utc(2026, 2, 27, 12)),
    ]


def test_cron_late_tick_fires_only_the_most_recent_occurrence(world):
    world.schedule("quarter", "cron(0/15 * * * ? *)")
    world.clock.set(utc(2026, 1, 1))
    assert [f.scheduled_time for f in world.ticker.tick()] == [utc(2026, 1, 1)]
    world.clock.set(utc(2026, 1, 1, 5, 7))
    assert [f.scheduled_time for f in world.ticker.tick()] == [utc(2026, 1, 1, 5)]
    world.clock.set(utc(2026, 1, 1, 5, 14, 59))
    assert world.ticker.tick() == []


# -- SQS targets -----------------------------------------------------------------------


def test_fifo_target_gets_the_message_group_and_a_deduplication_id(world):
    arn = world.schedule(
        "fifo",
        "at(2026-01-01T00:00:00)",
        queue="jobs.fifo",
        target={"SqsParameters": {"MessageGroupId": "tenant-7"}},
    )
    (fired,) = world.ticker.tick()
    assert fired.status == "delivered" and fired.queue == "jobs.fifo"
    (message,) = world.drain("jobs.fifo")
    assert message["Attributes"]["MessageGroupId"] == "tenant-7"
    expected = hashlib.sha256(f"{arn}@2026-01-01T00:00:00Z".encode()).hexdigest()
    assert message["Attributes"]["MessageDeduplicationId"] == expected


def test_failed_send_is_retried_on_later_ticks_then_dead_lettered(world):
    world.sqs.delete_queue(QueueUrl=world.urls["jobs"])
    arn = world.schedule(
        "doomed",
        "at(2026-01-01T00:00:00)",
        ActionAfterCompletion="DELETE",
        target={
            "Input": "try <aws.scheduler.attempt-number> of <aws.scheduler.execution-id>",
            "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
            "DeadLetterConfig": {"Arn": f"{ACCOUNT_ARN}:jobs-dlq"},
        },
    )
    outcomes = []
    for _ in range(3):
        outcomes += world.ticker.tick()
        if outcomes[-1].status == "retrying":
            assert world.exists("doomed")  # not deleted while retries remain
        world.clock.advance(60)
    assert [(f.status, f.attempt) for f in outcomes] == [
        ("retrying", 1),
        ("retrying", 2),
        ("dead-lettered", 3),
    ]
    assert len({f.execution_id for f in outcomes}) == 1
    assert {f.scheduled_time for f in outcomes} == {utc(2026, 1, 1)}
    (dead,) = world.drain("jobs-dlq")
    assert dead["Body"] == f"try 3 of {outcomes[0].execution_id}"
    attributes = {k: v["StringValue"] for k, v in dead["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert attributes["RETRY_ATTEMPTS"] == "2"
    assert attributes["SCHEDULE_ARN"] == arn
    assert attributes["TARGET_ARN"] == f"{ACCOUNT_ARN}:jobs"
    assert attributes["ERROR_MESSAGE"]
    assert not world.exists("doomed")
    assert world.ticker.tick() == []  # nothing left to retry
    assert world.lines[-1].startswith(
        "schedule jobs/doomed fired at 2026-01-01T00:00:00Z -> jobs-dlq dead-lettered"
    )


def test_event_older_than_its_maximum_age_is_dead_lettered_without_more_retries(world):
    world.schedule(
        "stale",
        "at(2026-01-01T00:00:00)",
        queue="missing",
        target={
            "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 60},
            "DeadLetterConfig": {"Arn": f"{ACCOUNT_ARN}:jobs-dlq"},
        },
    )
    assert [f.status for f in world.ticker.tick()] == ["retrying"]
    world.clock.advance(61)
    (fired,) = world.ticker.tick()
    assert (fired.status, fired.attempt) == ("dead-lettered", 1)
    (dead,) = world.drain("jobs-dlq")
    condition = dead["MessageAttributes"]["EXHAUSTED_RETRY_CONDITION"]["StringValue"]
    assert condition == "MaximumEventAgeInSeconds"


def test_zero_retries_dead_letters_at_once_and_a_recovered_queue_is_retried(world):
    world.schedule(
        "no-retry",
        "at(2026-01-01T00:00:00)",
        queue="later",
        target={
            "RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60},
            "DeadLetterConfig": {"Arn": f"{ACCOUNT_ARN}:jobs-dlq"},
        },
    )
    world.schedule(
        "retried",
        "at(2026-01-01T00:00:00)",
        queue="later",
        target={"Input": "attempt <aws.scheduler.attempt-number>"},
    )
    first = {f.name: f.status for f in world.ticker.tick()}
    assert first == {"no-retry": "dead-lettered", "retried": "retrying"}
    url = world.sqs.create_queue(QueueName="later")["QueueUrl"]
    world.clock.advance(30)
    (fired,) = world.ticker.tick()
    assert (fired.name, fired.status, fired.attempt) == ("retried", "delivered", 2)
    bodies = [m["Body"] for m in world.sqs.receive_message(QueueUrl=url).get("Messages", [])]
    assert bodies == ["attempt 2"]


def test_failure_without_a_dead_letter_queue_is_dropped_and_logged(world):
    world.schedule(
        "lost",
        "at(2026-01-01T00:00:00)",
        queue="nowhere",
        ActionAfterCompletion="DELETE",
        target={"RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}},
    )
    (fired,) = world.ticker.tick()
    assert fired.status == "dropped" and "NonExistentQueue" in fired.error
    assert not world.exists("lost")
    assert "dropped" in world.lines[-1] and "jobs/lost" in world.lines[-1]


# -- listing and bookkeeping -----------------------------------------------------------


def test_schedules_in_every_group_fire(world):
    world.schedule("in-default", "at(2026-01-01T00:00:00)", GroupName="default")
    world.schedule("in-jobs", "at(2026-01-01T00:00:00)")
    assert sorted((f.group, f.name) for f in world.ticker.tick()) == [
        ("default", "in-default"),
        ("jobs", "in-jobs"),
    ]


def test_a_bad_expression_is_logged_once_and_does_not_stop_the_others(world):
    world.schedule("bad", "rate(5 fortnights)")
    world.schedule("good", "at(2026-01-01T00:00:00)")
    assert [f.name for f in world.ticker.tick()] == ["good"]
    world.clock.advance(60)
    world.ticker.tick()
    assert [line for line in world.lines if "jobs/bad" in line] == [
        "schedule jobs/bad skipped: unsupported schedule expression 'rate(5 fortnights)'"
    ]


def test_a_recreated_schedule_is_a_new_schedule(world):
    world.schedule("again", "at(2026-01-01T00:00:00)", ActionAfterCompletion="DELETE")
    assert len(world.ticker.tick()) == 1
    world.schedule("again", "at(2026-01-01T00:00:00)", ActionAfterCompletion="DELETE")
    assert len(world.ticker.tick()) == 1
    assert len(world.drain()) == 2


def test_run_ticks_until_stopped(world):
    stop = threading.Event()
    lines: list[str] = []

    def log(line: str) -> None:
        lines.append(line)
        stop.set()

    world.schedule("loop", "at(2026-01-01T00:00:00)")
    SchedulerClock(world.clock, sqs=world.sqs, scheduler=world.scheduler, log=log).run(0, stop)
    assert lines == ["schedule jobs/loop fired at 2026-01-01T00:00:00Z -> jobs"]


def test_default_clients_come_from_boto3(world):
    world.schedule("defaults", "at(2026-01-01T00:00:00)")
    lines: list[str] = []
    assert [f.name for f in SchedulerClock(world.clock, log=lines.append).tick()] == ["defaults"]
    assert lines
