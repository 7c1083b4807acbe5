"""Where actions live and go, from the environment the stack sets.

``JOB_QUEUES`` is a JSON object from queue name (``high``, ``default``, ``low``,
``fifo``) to ``{"url", "arn", "dead_letter_url", "dead_letter_arn"}``. The worker
finds the queue a record came from by its ARN, and each queue's dead-letter queue
from the same entry. ``ACTIONS_TABLE_NAME`` names the actions table and
``CIRCUITS_TABLE_NAME`` the circuit breakers' table.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass

from functions.actions.exceptions import InvalidAction

QUEUE_NAMES = ("high", "default", "low", "fifo")


@dataclass(frozen=True)
class QueueConfig:
    name: str
    url: str
    arn: str
    dead_letter_url: str
    dead_letter_arn: str

    @property
    def fifo(self) -> bool:
        return self.url.endswith(".fifo")


@functools.cache
def queues() -> dict[str, QueueConfig]:
    raw = json.loads(os.environ.get("JOB_QUEUES", "{}") or "{}")
    return {name: QueueConfig(name=name, **spec) for name, spec in raw.items()}


def queue_named(name: str) -> QueueConfig:
    queue = queues().get(name)
    if queue is None:
        raise InvalidAction(f"no job queue named {name!r} is configured (JOB_QUEUES)")
    return queue


def queue_by_arn(arn: str) -> QueueConfig | None:
    return next((queue for queue in queues().values() if arn in (queue.arn,)), None)


def actions_table() -> str:
    return os.environ.get("ACTIONS_TABLE_NAME", "")


def circuits_table() -> str:
    return os.environ.get("CIRCUITS_TABLE_NAME", "")


def worker_timeout_seconds() -> int:
    """How long one run may take; claims expire after it so a crashed run is retried."""
    return int(os.environ.get("WORKER_TIMEOUT_SECONDS", "60"))


def claim_seconds() -> float:
    """How long a run's claim holds: the function's timeout plus a margin.

    Only a run that died (timed out, crashed) lets its claim expire, and then a
    redelivered message may start the action again.
    """
    return worker_timeout_seconds() + float(os.environ.get("CLAIM_MARGIN_SECONDS", "30"))


def schedule_group() -> str:
    """The EventBridge Scheduler group holding the stack's schedules."""
    return os.environ.get("SCHEDULE_GROUP", "default")


def scheduler_role_arn() -> str:
    """The role EventBridge Scheduler assumes to send to the job queues."""
    return os.environ.get("SCHEDULER_ROLE_ARN", "")


def scheduler_dead_letter_arn() -> str:
    """Where EventBridge Scheduler puts what it could not deliver."""
    return os.environ.get("SCHEDULER_DEAD_LETTER_ARN", "")
