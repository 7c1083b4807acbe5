"""Retry timing: exponential backoff with full jitter, capped.

Full jitter (a uniform draw between 0 and the exponential bound) spreads the
retries of many actions that failed together, so a dependency that comes back is
not hit by all of them at once (AWS Architecture Blog, "Exponential Backoff And
Jitter").
"""

from __future__ import annotations

import random


def backoff_bound(attempt: int, base: float, cap: float) -> float:
    """The upper bound of the delay after failed attempt number ``attempt`` (1-based)."""
    if attempt < 1:
        raise ValueError("attempts are numbered from 1")
    # 2**60 already exceeds any cap: stop the exponent from growing without need.
    return float(min(cap, base * 2 ** min(attempt - 1, 60)))


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before the next attempt: uniform in [0, backoff_bound]."""
    bound = backoff_bound(attempt, base, cap)
    return (rng or random).uniform(0, bound)
