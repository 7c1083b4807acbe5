"""The console's status tally: how many actions each status holds, counted now and then.

Counted with COUNT queries of ``by_status`` (nothing read from the table, nothing leaves
DynamoDB but numbers), capped per status, and kept in ONE item of the actions table
(``console#tally``) so every view within its age reads one item instead of counting.
No write per action: the tally costs one PutItem per refresh, and a refresh happens at
most once per ``max_age`` and only while someone looks.
Why: docs/decisions/0058-the-status-tally-is-counted-on-view-and-kept.md
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from functions.actions.store import table
from functions.actions.store.reads import count
from functions.actions.store.record import ActionStatus
from functions.dynamodb import condition_failed, from_item, to_item, to_values

KEY = "console#tally"
PAST_DUE = "past-due"


@dataclass(frozen=True)
class StatusTally:
    """Counts by status (``past-due`` too), each ``(count, more)``; when they were counted."""

    counts: dict[str, tuple[int, bool]]
    counted_at: float
    cap: int

    def to_plain(self) -> dict[str, Any]:
        return {
            "counts": {name: [n, more] for name, (n, more) in self.counts.items()},
            "counted_at": self.counted_at,
            "cap": self.cap,
        }


def read() -> StatusTally | None:
    """The kept tally (one eventually consistent GetItem), or None if none was kept."""
    response = table.dynamodb().get_item(TableName=table.name(), Key=table.key(KEY))
    item = response.get("Item")
    if not item:
        return None
    plain = from_item(item)
    try:
        counts = {
            str(name): (int(value[0]), bool(value[1]))
            for name, value in dict(plain["counts"]).items()
        }
        return StatusTally(counts, float(plain["counted_at"]), int(plain["cap"]))
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def count_now(now: float, cap: int) -> StatusTally:
    """Count each status with COUNT queries, up to ``cap`` each (then ``more``)."""
    counts: dict[str, tuple[int, bool]] = {}
    for status in ActionStatus:
        found = count(status=status, limit=cap)
        counts[str(status)] = (min(found, cap), found >= cap)
    due = count(status=ActionStatus.PENDING, scheduled_before=now, limit=cap)
    counts[PAST_DUE] = (min(due, cap), due >= cap)
    return StatusTally(counts, now, cap)


def keep(tally: StatusTally, previous: float | None) -> bool:
    """Write the tally, on condition that the kept one is still ``previous`` (when it was
    counted): of two views refreshing at once, one write wins and both answer. False if
    another refresh won."""
    values = {"counted_at": previous if previous is not None else -1.0}
    try:
        table.dynamodb().put_item(
            TableName=table.name(),
            Item=to_item({"action_id": KEY, **tally.to_plain()}),
            ConditionExpression="attribute_not_exists(action_id) OR counted_at = :counted_at",
            ExpressionAttributeValues=to_values(values),
        )
    except ClientError as exc:
        if condition_failed(exc):
            return False
        raise
    return True
