"""The tab counts: the kept status tally, counted again once it is older than its age.

Why: docs/decisions/0058-the-status-tally-is-counted-on-view-and-kept.md
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from functions.actions.store import status_tally
from functions.api.console.config import settings

CAP = 10_000  # counted per status at most; more reads "10,000+"
REFRESH_FLOOR_SECONDS = 5  # ?refresh=1 counts again only if the tally is older


def counts(*, refresh: bool = False, clock: Callable[[], float] | None = None) -> dict[str, Any]:
    """The tally as the page shows it, counted now if it is too old (or asked, and over
    ``REFRESH_FLOOR_SECONDS``): one GetItem per view otherwise."""
    now = (clock or time.time)()
    max_age = settings().tally_seconds
    kept = status_tally.read()
    age = None if kept is None else now - kept.counted_at
    stale = age is None or age >= max_age or age < 0
    if stale or (refresh and age is not None and age >= REFRESH_FLOOR_SECONDS):
        fresh = status_tally.count_now(now, CAP)
        status_tally.keep(fresh, kept.counted_at if kept else None)
        kept, age = fresh, 0.0
    assert kept is not None  # noqa: S101 - counted above when none was kept
    return {
        "counts": {name: {"count": n, "more": more} for name, (n, more) in kept.counts.items()},
        "counted_at": datetime.fromtimestamp(kept.counted_at, UTC).isoformat(),
        "age_seconds": round(max(age or 0.0, 0.0), 1),
        "max_age_seconds": max_age,
        "cap": kept.cap,
    }
