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
from typing import Any

from pydantic import Field, field_validator

from functions.settings import EnvSettings, cached

# Fixed, not configurable: they bound what one check reads, so its cost is constant.
COUNT_LIMIT = 50  # actions counted per question; more reads as "50+"
SAMPLE_SIZE = 5  # action ids the CLI shows per question (the public endpoint shows none)
CIRCUIT_LIMIT = 100  # circuit items one check reads

DEFAULT_AGE = 600


class Thresholds(EnvSettings):
    max_queue_depth: int = Field(default=1000, alias="HEALTH_MAX_QUEUE_DEPTH")
    # One number for every job queue, or per queue (a queue not named gets DEFAULT_AGE).
    max_queue_age_seconds: int | dict[str, int] = Field(
        default=DEFAULT_AGE, alias="HEALTH_MAX_QUEUE_AGE_SECONDS"
    )
    max_dead_letters: int = Field(default=0, alias="HEALTH_MAX_DEAD_LETTERS")
    stuck_seconds: int = Field(default=300, alias="HEALTH_STUCK_SECONDS")
    past_due_seconds: int = Field(default=600, alias="HEALTH_PAST_DUE_SECONDS")

    @field_validator("max_queue_age_seconds", mode="before")
    @classmethod
    def _number_or_object(cls, raw: Any) -> Any:
        return json.loads(raw) if isinstance(raw, str) else raw

    def queue_age_limit(self, queue: str) -> int:
        """The age in seconds past which ``queue``'s oldest message is a reason."""
        if isinstance(self.max_queue_age_seconds, dict):
            return self.max_queue_age_seconds.get(queue, DEFAULT_AGE)
        return self.max_queue_age_seconds

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()


class HealthSettings(EnvSettings):
    thresholds: Thresholds = Field(default_factory=Thresholds)
    cache_seconds: float = Field(default=15, ge=0, alias="HEALTH_CACHE_SECONDS")
    # Dead-letter queues to count besides the job queues' own: name -> URL.
    dead_letter_queues: dict[str, str] = Field(
        default_factory=dict, alias="HEALTH_DEAD_LETTER_QUEUES"
    )

    @field_validator("dead_letter_queues", mode="before")
    @classmethod
    def _with_url(cls, raw: Any) -> Any:
        """A JSON object; a queue without a URL (none deployed) is left out."""
        raw = json.loads(raw) if isinstance(raw, str) else raw
        return {name: url for name, url in raw.items() if url} if isinstance(raw, dict) else raw


settings = cached(HealthSettings)


def cache_seconds() -> float:
    return settings().cache_seconds


def dead_letter_queues() -> dict[str, str]:
    """Dead-letter queues to count besides the job queues' own: name -> URL."""
    return settings().dead_letter_queues
