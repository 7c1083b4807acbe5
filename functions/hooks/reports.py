"""``daily_report``: the stack's own recurring action, a daily count of what needs a look."""

from __future__ import annotations

from typing import Any

from functions.actions.hooks import ActionContext, hook
from functions.actions.queries import get_scheduled_actions
from functions.observability import logger

# A report, not an audit: stop counting past this many per status.
COUNT_LIMIT = 10_000


def _count(status: str) -> int:
    total, cursor = 0, None
    while total < COUNT_LIMIT:
        page = get_scheduled_actions(status=status, per_page=1000, cursor=cursor)
        total += len(page.items)
        if not page.cursor:
            break
        cursor = page.cursor
    return total


@hook("daily_report", max_attempts=3, base_delay=60, priority="low")
def daily_report(args: Any, action: ActionContext) -> None:
    counts = {status: _count(status) for status in ("past-due", "in-progress", "failed")}
    logger.info("daily report", extra={"counts": counts, "limit": COUNT_LIMIT})
