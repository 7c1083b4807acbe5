"""The worker's time budget: whether a record may still start in this invocation.

A batch of records runs one record after another inside one Lambda invocation. A hook
declares how long it may take (``@hook(..., timeout=...)``, else ``DEFAULT_HOOK_TIMEOUT``);
the worker starts a record only while the time left exceeds that budget plus
``SAFETY_MARGIN_SECONDS`` (the writes and sends that record the run's outcome), except
the first record an invocation starts, which always starts: no later invocation would
have more time for it. The records it does not start go back to SQS at once, with no
attempt used (functions/actions/worker.py). A hook that outlasts its own budget can
still time the invocation out: its run then counts as a failed attempt when its message
comes back.

Why: docs/decisions/0042-start-a-record-only-while-time-remains.md
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# The worker function's timeout; infra/stack.py gives the function this.
WORKER_TIMEOUT_SECONDS = 60
# What recording a run's outcome may take after the hook returns: a claim's write, the
# next attempt's send or a dead letter, the status write, the circuit's bookkeeping.
SAFETY_MARGIN_SECONDS = 5.0
# The budget of a hook that declares none.
DEFAULT_HOOK_TIMEOUT = 10.0
# The largest budget a hook may declare: one record must always fit a fresh invocation,
# with a margin before the run (parse, circuit, claim, args) and one after it.
MAX_HOOK_TIMEOUT = WORKER_TIMEOUT_SECONDS - 2 * SAFETY_MARGIN_SECONDS


def check_timeout(timeout: float) -> float:
    """A hook's declared budget, or ValueError: more than 0, at most ``MAX_HOOK_TIMEOUT``."""
    # Written so that NaN fails too.
    if not (isinstance(timeout, int | float) and 0 < timeout <= MAX_HOOK_TIMEOUT):
        raise ValueError(
            f"timeout must be more than 0 and at most {MAX_HOOK_TIMEOUT:g} seconds "
            f"(the worker's {WORKER_TIMEOUT_SECONDS} s, less a margin before and after the run)"
        )
    return float(timeout)


def may_start(left: float | None, hook_timeout: float) -> bool:
    """Whether a run with ``hook_timeout`` seconds of budget fits the ``left`` seconds."""
    return left is None or left > hook_timeout + SAFETY_MARGIN_SECONDS


class Invocation:
    """One invocation's time: what is left of it, and whether a record has started yet."""

    def __init__(self, context: Any = None) -> None:
        read = getattr(context, "get_remaining_time_in_millis", None)
        self._read: Callable[[], float | None] = (
            (lambda: read() / 1000) if callable(read) else (lambda: None)
        )
        self._started = False

    def left(self) -> float | None:
        """Seconds left, or None when unknown (no Lambda context)."""
        return self._read()

    def start(self, hook_timeout: float) -> bool:
        """Whether a run with ``hook_timeout`` seconds of budget may start now; if so, it
        counts as started. The first always may."""
        if self._started and not may_start(self.left(), hook_timeout):
            return False
        self._started = True
        return True
