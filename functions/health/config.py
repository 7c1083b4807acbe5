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
import os
from dataclasses import asdict, dataclass
from typing import Any

# Fixed, not configurable: they bound what one check reads, so its cost is constant.
COUNT_LIMIT = 50  # actions counted per question; more reads as "50+"
SAMPLE_SIZE = 5  # action ids the CLI shows per question (the public endpoint shows none)
CIRCUIT_LIMIT = 100  # circuit items one check reads


@dataclass(frozen=True)
class Thresholds:
    max_queue_depth: int = 1000
    # One number for every job queue, or per queue (a queue not named gets DEFAULT_AGE).
    max_queue_age_seconds: int | dict[str, int] = 600
    max_dead_letters: int = 0
    stuck_seconds: int = 300
    past_due_seconds: int = 600

    @classmethod
    def from_env(cls) -> Thresholds:
        env = os.environ
        defaults = cls()
        age = json.loads(env.get("HEALTH_MAX_QUEUE_AGE_SECONDS", "") or "null")
        return cls(
            max_queue_depth=_int("HEALTH_MAX_QUEUE_DEPTH", defaults.max_queue_depth),
            max_queue_age_seconds=(
                {str(name): int(value) for name, value in age.items()}
                if isinstance(age, dict)
                else int(age if age is not None else DEFAULT_AGE)
            ),
            max_dead_letters=_int("HEALTH_MAX_DEAD_LETTERS", defaults.max_dead_letters),
            stuck_seconds=_int("HEALTH_STUCK_SECONDS", defaults.stuck_seconds),
            past_due_seconds=_int("HEALTH_PAST_DUE_SECONDS", defaults.past_due_seconds),
        )

    def queue_age_limit(self, queue: str) -> int:
        """The age in seconds past which ``queue``'s oldest message is a reason."""
        if isinstance(self.max_queue_age_seconds, dict):
            return self.max_queue_age_seconds.get(queue, DEFAULT_AGE)
        return self.max_queue_age_seconds

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_AGE = 600


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, "") or default)


def cache_seconds() -> float:
    return float(os.environ.get("HEALTH_CACHE_SECONDS", "") or 15)


def dead_letter_queues() -> dict[str, str]:
    """Dead-letter queues to count besides the job queues' own: name -> URL."""
    raw = json.loads(os.environ.get("HEALTH_DEAD_LETTER_QUEUES", "") or "{}")
    return {str(name): str(url) for name, url in raw.items() if url}
