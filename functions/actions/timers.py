"""EventBridge Scheduler: the schedules behind later and recurring actions. Owns the client.

Every schedule targets a job queue directly (no Lambda in between) with the
action's envelope as input, carries a retry policy and the scheduler's own
dead-letter queue, and lives in the stack's schedule group. One-time schedules
delete themselves after they fire (``ActionAfterCompletion=DELETE``).

A recurring schedule's input is an envelope template: EventBridge fills in
``<aws.scheduler.scheduled-time>`` per run, so each run arrives as its own action,
``<recurring action id>@<scheduled time>``, with its own record and log, and a
repeated delivery of one run is still one action.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_scheduler.type_defs import RetryPolicyTypeDef, TargetTypeDef

from botocore.exceptions import ClientError

from functions.actions.config import (
    QueueConfig,
    schedule_group,
    scheduler_dead_letter_arn,
    scheduler_role_arn,
)
from functions.actions.envelope import Envelope
from functions.clients import lazy_client

_scheduler = lazy_client("scheduler")
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
# Scheduler retries a failed delivery for up to a day, then dead-letters it.
RETRY_POLICY: RetryPolicyTypeDef = {"MaximumEventAgeInSeconds": 86_400, "MaximumRetryAttempts": 185}


def schedule_name(action_id: str) -> str:
    return f"action-{action_id}"[:64]


def _target(queue: QueueConfig, input_text: str, group: str) -> TargetTypeDef:
    target: TargetTypeDef = {
        "Arn": queue.arn,
        "RoleArn": scheduler_role_arn(),
        "Input": input_text,
        "RetryPolicy": RETRY_POLICY,
    }
    if scheduler_dead_letter_arn():
        target["DeadLetterConfig"] = {"Arn": scheduler_dead_letter_arn()}
    if queue.fifo:
        target["SqsParameters"] = {"MessageGroupId": group}
    return target


def create_at(envelope: Envelope, queue: QueueConfig) -> str:
    """A one-time schedule that sends the envelope at its ``scheduled_for``."""
    name = schedule_name(envelope.action_id)
    when = envelope.scheduled_for.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    _scheduler().create_schedule(
        Name=name,
        GroupName=schedule_group(),
        ScheduleExpression=f"at({when})",
        ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target=_target(queue, envelope.to_message(), envelope.group or envelope.hook),
        Description=f"{envelope.hook} once",
    )
    return name


def create_recurring(
    template: Envelope,
    queue: QueueConfig,
    *,
    expression: str,
    timezone: str,
    start: datetime,
) -> str:
    """A ``rate()`` or ``cron()`` schedule whose every run is an action of its own."""
    name = schedule_name(template.action_id)
    document = json.loads(template.to_message())
    document["action_id"] = f"{template.action_id}@{SCHEDULED_TIME}"
    document["scheduled_for"] = SCHEDULED_TIME
    _scheduler().create_schedule(
        Name=name,
        GroupName=schedule_group(),
        ScheduleExpression=expression,
        ScheduleExpressionTimezone=timezone,
        StartDate=start,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=_target(queue, json.dumps(document), template.group or template.hook),
        Description=f"{template.hook} {expression}",
    )
    return name


def run_of(template: Envelope, scheduled_time: datetime) -> Envelope:
    """The envelope of one run at ``scheduled_time``, as the recurring schedule's input
    would be filled in for it (to the second): how the API sends a first run itself."""
    text = scheduled_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return replace(
        template,
        action_id=f"{template.action_id}@{text}",
        scheduled_for=datetime.fromisoformat(text),
    )


def delete(name: str) -> bool:
    """Delete a schedule; False if it was already gone (fired, or deleted before)."""
    try:
        _scheduler().delete_schedule(Name=name, GroupName=schedule_group())
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return False
        raise
    return True


def get(name: str) -> dict[str, Any] | None:
    try:
        return dict(_scheduler().get_schedule(Name=name, GroupName=schedule_group()))
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise
