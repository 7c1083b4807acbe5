"""The health check's thresholds and extra queues, from the environment the stack sets.

``HEALTH_MAX_QUEUE_DEPTH`` (1000 messages waiting on one job queue),
``HEALTH_MAX_QUEUE_AGE_SECONDS`` (600: the oldest message of a job queue; a number, or
a JSON object by queue name, as the stack passes the alarms' per-queue thresholds),
``HEALTH_MAX_DEAD_LETTERS`` (0: any dead letter is a reason),
``HEALTH_STUCK_SECONDS`` (300: an action in progress for longer was claimed by a run that
died, since a run cannot outlive the worker's timeout), ``HEALTH_PAST_DUE_SECONDS``
(600: a pending action this far past its time is not being picked up),
``HEALTH_CACHE_SECONDS`` (15: how long a warm function reuses its last report) and
``HEALTH_DEAD_LETTER_QUEUES`` (a JSON object of dead-letter queues to count besides each
job queue's own, name -> URL: the stack passes EventBridge Scheduler's as ``scheduler``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from functions.settings import EnvSettings, cached, setting

# Fixed, not configurable: they bound what one check reads, so its cost is constant.
COUNT_LIMIT = 50  # actions counted per question; more reads as "50+"
SAMPLE_SIZE = 5  # action ids the CLI shows per question (the public endpoint shows none)
CIRCUIT_LIMIT = 100  # circuit items one check reads

DEFAULT_AGE = 600


def _age_limits(text: str) -> int | dict[str, int]:
    """A number of seconds, or a JSON object of them by queue name."""
    raw = json.loads(text)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, dict) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in raw.values()
    ):
        return {str(name): value for name, value in raw.items()}
    raise ValueError("a number of seconds, or a JSON object of them by queue name")


def _queue_urls(text: str) -> dict[str, str]:
    """A JSON object, name -> URL; a queue without a URL (none deployed) is left out."""
    raw = json.loads(text)
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ValueError("a JSON object of queue URLs by name")
    return {str(name): url for name, url in raw.items() if url}


@dataclass(frozen=True, kw_only=True)
class Thresholds(EnvSettings):
    max_queue_depth: int = setting("HEALTH_MAX_QUEUE_DEPTH", 1000)
    # One number for every job queue, or per queue (a queue not named gets DEFAULT_AGE).
    max_queue_age_seconds: int | dict[str, int] = setting(
        "HEALTH_MAX_QUEUE_AGE_SECONDS", DEFAULT_AGE, parse=_age_limits
    )
    max_dead_letters: int = setting("HEALTH_MAX_DEAD_LETTERS", 0)
    stuck_seconds: int = setting("HEALTH_STUCK_SECONDS", 300)
    past_due_seconds: int = setting("HEALTH_PAST_DUE_SECONDS", 600)

    def queue_age_limit(self, queue: str) -> int:
        """The age in seconds past which ``queue``'s oldest message is a reason."""
        if isinstance(self.max_queue_age_seconds, dict):
            return self.max_queue_age_seconds.get(queue, DEFAULT_AGE)
        return self.max_queue_age_seconds

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, kw_only=True)
class HealthSettings(EnvSettings):
    thresholds: Thresholds = field(default_factory=Thresholds)
    cache_seconds: float = setting("HEALTH_CACHE_SECONDS", 15, ge=0)
    # Dead-letter queues to count besides the job queues' own: name -> URL.
    dead_letter_queues: dict[str, str] = setting(
        "HEALTH_DEAD_LETTER_QUEUES", default_factory=dict, parse=_queue_urls
    )


settings = cached(HealthSettings)


def cache_seconds() -> float:
    return settings().cache_seconds


def dead_letter_queues() -> dict[str, str]:
    """Dead-letter queues to count besides the job queues' own: name -> URL."""
    return settings().dead_letter_queues
