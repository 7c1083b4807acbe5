"""Where actions go: the queue of each priority, from the environment the stack sets.

``JOB_QUEUE_URL`` is the default-priority queue; ``JOB_QUEUE_URL_HIGH`` and
``JOB_QUEUE_URL_LOW`` are the others, when the stack provisions them.
"""

from __future__ import annotations

import os

from functions.actions.envelope import Priority
from functions.actions.exceptions import InvalidAction

_QUEUE_ENV: dict[str, str] = {
    "default": "JOB_QUEUE_URL",
    "high": "JOB_QUEUE_URL_HIGH",
    "low": "JOB_QUEUE_URL_LOW",
}


def queue_url(priority: Priority) -> str:
    name = _QUEUE_ENV.get(priority)
    url = os.environ.get(name, "") if name else ""
    if not url:
        raise InvalidAction(f"no job queue is configured for priority {priority!r} ({name})")
    return url
