"""Where actions live and go, from the environment the stack sets
(docs/reference/configuration.md lists it).

``JOB_QUEUES`` is a JSON object from queue name (``high``, ``default``, ``low``,
``fifo``) to ``{"url", "arn", "dead_letter_url", "dead_letter_arn"}``. The worker
finds the queue a record came from by its ARN, and each queue's dead-letter queue
from the same entry. The stack gives functions a compact form (``{"url": URL prefix,
"arn": ARN prefix, "queues": {name: [queue name, dead-letter queue name]}}``) from which
each URL and ARN is derived: four queues' URLs and ARNs in full would take almost half of
Lambda's 4 KB environment. ``ACTIONS_TABLE_NAME`` names the actions table and
``CIRCUITS_TABLE_NAME`` the circuit breakers' table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from functions.actions.budget import WORKER_TIMEOUT_SECONDS
from functions.actions.exceptions import InvalidAction
from functions.settings import EnvSettings, cached, setting

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


@dataclass(frozen=True, kw_only=True)
class CircuitSettings(EnvSettings):
    """The circuit breakers' settings (functions/actions/circuit.py)."""

    threshold: int = setting("CIRCUIT_FAILURE_THRESHOLD", 5, ge=1)
    window: float = setting("CIRCUIT_WINDOW_SECONDS", 60, ge=0)
    cooldown: float = setting("CIRCUIT_COOLDOWN_SECONDS", 30, ge=0)
    # How long a trial may hold the half-open state before another worker may try.
    trial: float = setting("CIRCUIT_TRIAL_SECONDS", 60, ge=0)


def parse_queues(text: str) -> dict[str, QueueConfig]:
    """``JOB_QUEUES``: each queue named by its key, its entry holding the rest; the
    stack's compact form is expanded first."""
    raw = json.loads(text)
    if not isinstance(raw, dict):
        raise ValueError("JOB_QUEUES is a JSON object")
    if isinstance(raw.get("queues"), dict):
        raw = expand_compact(raw)
    queues = {}
    for name, spec in raw.items():
        missing = [key for key in _QUEUE_KEYS if not isinstance(spec, dict) or key not in spec]
        if missing:
            raise ValueError(f"the queue {name!r} has no {', '.join(missing)}")
        extra = set(spec) - set(_QUEUE_KEYS)
        if extra:
            raise ValueError(f"the queue {name!r} has unknown keys {sorted(extra)}")
        queues[name] = QueueConfig(name=name, **{key: str(spec[key]) for key in _QUEUE_KEYS})
    return queues


_QUEUE_KEYS = ("url", "arn", "dead_letter_url", "dead_letter_arn")


@dataclass(frozen=True, kw_only=True)
class ActionSettings(EnvSettings):
    queues: dict[str, QueueConfig] = setting("JOB_QUEUES", default_factory=dict, parse=parse_queues)
    actions_table: str = setting("ACTIONS_TABLE_NAME", "")
    circuits_table: str = setting("CIRCUITS_TABLE_NAME", "")
    # How long one run may take; claims expire after it so a crashed run is retried.
    worker_timeout_seconds: int = setting("WORKER_TIMEOUT_SECONDS", WORKER_TIMEOUT_SECONDS, ge=0)
    claim_margin_seconds: float = setting("CLAIM_MARGIN_SECONDS", 30, ge=0)
    # The EventBridge Scheduler group holding the stack's schedules, the role its
    # schedules send with, and where it puts what it could not deliver.
    schedule_group: str = setting("SCHEDULE_GROUP", "default")
    scheduler_role_arn: str = setting("SCHEDULER_ROLE_ARN", "")
    scheduler_dead_letter_arn: str = setting("SCHEDULER_DEAD_LETTER_ARN", "")
    circuit: CircuitSettings = field(default_factory=CircuitSettings)


def expand_compact(document: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The full ``JOB_QUEUES`` entries of the compact form: URL and ARN = prefix + name."""
    url, arn = str(document["url"]), str(document["arn"])
    expanded = {}
    for name, names in document["queues"].items():
        queue, dead_letters = names
        expanded[name] = {
            "url": url + queue,
            "arn": arn + queue,
            "dead_letter_url": url + dead_letters,
            "dead_letter_arn": arn + dead_letters,
        }
    return expanded


settings = cached(ActionSettings)


def queues() -> dict[str, QueueConfig]:
    return settings().queues


def queue_named(name: str) -> QueueConfig:
    queue = queues().get(name)
    if queue is None:
        raise InvalidAction(f"no job queue named {name!r} is configured (JOB_QUEUES)")
    return queue


def queue_by_arn(arn: str) -> QueueConfig | None:
    return next((queue for queue in queues().values() if arn in (queue.arn,)), None)


def actions_table() -> str:
    return settings().actions_table


def circuits_table() -> str:
    return settings().circuits_table


def claim_seconds() -> float:
    """How long a run's claim holds: the function's timeout plus a margin.

    Only a run that died (timed out, crashed) lets its claim expire, and then a
    redelivered message may start the action again.
    """
    config = settings()
    return config.worker_timeout_seconds + config.claim_margin_seconds


def schedule_group() -> str:
    return settings().schedule_group


def scheduler_role_arn() -> str:
    return settings().scheduler_role_arn


def scheduler_dead_letter_arn() -> str:
    return settings().scheduler_dead_letter_arn
