"""Handlers for the process runtime's tests: each runs in a child process."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

IMPORTED_AT = time.time()


def describe(event, context):
    return {
        "pid": os.getpid(),
        "colour": os.environ.get("COLOUR"),
        "function": context.function_name,
        "now": time.time(),
        "imported_at": IMPORTED_AT,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }


def meet(event, context):
    """Waits until ``event["expect"]`` invocations are inside at once, or 10 s."""
    folder = Path(event["folder"])
    (folder / str(os.getpid())).touch()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if len(list(folder.iterdir())) >= event["expect"]:
            return len(list(folder.iterdir()))
        time.sleep(0.05)
    return len(list(folder.iterdir()))


def crash(event, context):
    sys.exit(3)


def sleep(event, context):
    """A function that outlasts its caller's patience; says so in ``mark`` when it starts."""
    if event.get("mark"):
        Path(event["mark"]).touch()
    time.sleep(event["seconds"])
    return "woke"


def fail(event, context):
    raise ValueError("as asked")


def unserializable(event, context):
    return {1, 2}


def service(event, context):
    """What an import-time read of the environment saw (as Powertools' singletons do)."""
    from functions.observability import SERVICE

    return SERVICE
