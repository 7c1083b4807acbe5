"""Cron and rate expressions: validated here, run by EventBridge Scheduler.

Users write standard five-field cron (``minute hour day-of-month month day-of-week``),
as in Action Scheduler and crontab. EventBridge Scheduler wants its own six-field
form, in which exactly one of the two day fields is ``?`` and days of the week count
from 1 (Sunday) rather than 0. ``to_aws_cron`` translates; next run times come from
cronsim, corrected to EventBridge Scheduler's handling of daylight-saving changes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from functions.actions.exceptions import InvalidAction

MIN_INTERVAL_SECONDS = 60  # EventBridge Scheduler's finest rate: one minute
# Day-of-week numbers, not the n of "#n" nor a step after "/".
_DOW_NUMBER = re.compile(r"(?<![#/\d])\d+")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidAction(f"unknown time zone {name!r} (use an IANA name)") from None


def validate_cron(expression: str, timezone: str = "UTC") -> str:
    """The expression, normalized, if it is five valid fields AWS can run; else InvalidAction."""
    fields = expression.split()
    if len(fields) != 5:
        raise InvalidAction(
            f"cron needs five fields (minute hour day month weekday): {expression!r}"
        )
    normalized = " ".join(fields)
    try:
        CronSim(normalized, datetime.now(zone(timezone)))
    except CronSimError as exc:
        raise InvalidAction(f"bad cron expression {expression!r}: {exc}") from None
    to_aws_cron(normalized)
    return normalized


def to_aws_cron(expression: str) -> str:
    """``cron(...)`` for EventBridge Scheduler from a five-field cron expression."""
    minute, hour, day, month, weekday = expression.split()
    if day not in {"*", "?"} and weekday not in {"*", "?"}:
        raise InvalidAction(
            "a cron expression may restrict the day of the month or the day of the week, "
            "not both (EventBridge Scheduler cannot express crontab's either-or)"
        )
    if weekday in {"*", "?"}:
        weekday = "?"
        day = "*" if day == "?" else day
    else:
        day = "?"
        weekday = ",".join(_aws_weekday(part) for part in weekday.split(","))
    fields = [_aws_step(minute, "0"), _aws_step(hour, "0"), _aws_step(day, "1")]
    fields += [_aws_step(month, "1"), _aws_step(weekday, "1"), "*"]
    return f"cron({' '.join(fields)})"


def _aws_weekday(part: str) -> str:
    """One comma part of a day-of-week field, renumbered from crontab's 0-7 to AWS's 1-7.

    Crontab counts Sunday as 0 or 7, AWS as 1 (and Saturday as 7), so a range that
    ends on Sunday 7 wraps: ``5-7`` (Friday to Sunday) becomes ``6-7,1``.
    """
    ranged = re.fullmatch(r"(\d)-7(/\d+)?", part)
    if ranged:
        start, step = int(ranged.group(1)), ranged.group(2)
        if start == 0:
            return "1-7" + (step or "")
        if step:
            raise InvalidAction(f"write {part!r} without the step, or with Sunday as 0")
        return f"{start + 1}-7,1"
    return _DOW_NUMBER.sub(lambda m: str(int(m.group()) % 7 + 1), part)


def _aws_step(field: str, first: str) -> str:
    """EventBridge writes ``*/n`` as ``first/n``."""
    return re.sub(r"^\*/", f"{first}/", field)


def rate_expression(interval_seconds: int) -> str:
    if interval_seconds < MIN_INTERVAL_SECONDS:
        raise InvalidAction(f"the interval must be at least {MIN_INTERVAL_SECONDS} seconds")
    if interval_seconds % 60:
        raise InvalidAction("the interval must be whole minutes (EventBridge Scheduler's unit)")
    minutes = interval_seconds // 60
    if minutes % 1440 == 0:
        days = minutes // 1440
        return f"rate({days} day{'s' if days > 1 else ''})"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"rate({hours} hour{'s' if hours > 1 else ''})"
    return f"rate({minutes} minute{'s' if minutes > 1 else ''})"


def next_cron_run(expression: str, timezone: str, after: datetime) -> datetime | None:
    """The first run strictly after ``after``, in UTC; None if there is none in 50 years.

    As EventBridge Scheduler runs them: a local time that a spring-forward change skips
    is skipped (cronsim, like Debian cron, would move it to the next valid minute), and
    one that a fall-back change repeats runs once, the first time.
    """
    for run in CronSim(expression, after.astimezone(zone(timezone))):
        wall = run.replace(tzinfo=None)
        # A run moved off a skipped local time no longer matches the expression.
        matches = next(CronSim(expression, wall - timedelta(minutes=1)), None) == wall
        if matches and run > after:
            return run.astimezone(UTC)
    return None


def next_rate_run(start: datetime, interval_seconds: int, after: datetime) -> datetime:
    """Runs fall on ``start + k * interval``: no drift, whatever ran late."""
    if after < start:
        return start
    elapsed = (after - start).total_seconds()
    k = int(elapsed // interval_seconds) + 1
    return start + timedelta(seconds=k * interval_seconds)
