"""No garbage collection while a Lambda function starts: until its first request is served.

A cold start builds objects that live as long as the process: modules, classes, the
botocore clients' service models. The collector's full passes over them while they are
being built free nothing and cost a cold start 25-50 ms on a 2-core machine. So on Lambda
(``AWS_LAMBDA_FUNCTION_NAME`` set, as Lambda and the local cloud set it) importing any
handler pauses the collector (``functions/handlers/__init__.py``), and the end of the
first request freezes what was built (``gc.freeze``: later passes skip it, which also
makes a warm request's collections cheaper) and resumes it. Anywhere else, tests and
scripts included, nothing changes.
Why: docs/decisions/0073-the-functions-hot-path-is-pydantic-free.md
"""

from __future__ import annotations

import gc
import os

_paused = False


def pause_collection() -> None:
    """On Lambda, turn the collector off until ``resume_collection``."""
    global _paused  # noqa: PLW0603 - once per process, before any other import
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and gc.isenabled():
        gc.disable()
        _paused = True


def resume_collection() -> None:
    """After the first request: freeze what the cold start built and collect again.
    Cheap to call on every request (a flag test)."""
    global _paused  # noqa: PLW0603 - the flag pause_collection set
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
