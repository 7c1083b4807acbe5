"""``daily_report``: the stack's own recurring action, a daily count of what needs a look."""

from __future__ import annotations

from typing import Any

from functions.actions.hooks import ActionContext, hook
from functions.actions.queries import count_scheduled_actions
from functions.observability import logger

# A report, not an audit: stop counting past this many per status.
COUNT_LIMIT = 10_000


@hook("daily_report", max_attempts=3, base_delay=60, priority="low")
def daily_report(args: Any, action: ActionContext) -> None:
    # COUNT queries of the status index: no item is read from the table to be counted.
    counts = {
        status: min(count_scheduled_actions(status, limit=COUNT_LIMIT), COUNT_LIMIT)
        for status in ("past-due", "in-progress", "failed")
    }
    logger.info("daily report", extra={"counts": counts, "limit": COUNT_LIMIT})
