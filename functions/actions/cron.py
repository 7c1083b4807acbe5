"""Cron and rate expressions: validated here, run by EventBridge Scheduler.

Users write standard five-field cron (``minute hour day-of-month month day-of-week``),
as in Action Scheduler and crontab. EventBridge Scheduler wants its own six-field
form, in which exactly one of the two day fields is ``?`` and days of the week count
from 1 (Sunday) rather than 0. ``to_aws_cron`` translates; next run times come from
cronsim, corrected to EventBridge Scheduler's handling of daylight-saving changes.
``aws_cron_to_crontab`` and ``latest_cron_run`` go the other way, for the local cloud's
scheduler clock.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from functions.actions.exceptions import InvalidAction

_CRON = re.compile(r"cron\(\s*(.+?)\s*\)")
_DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_MIN_YEAR, _MAX_YEAR = 1970, 2199
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
        if start == 7:  # "7-7": Sunday alone
            return "1"
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


# -- AWS cron, read back ---------------------------------------------------------------
# The other direction, for the local cloud's scheduler clock (infra/local/scheduler_clock.py),
# which fires schedules as EventBridge Scheduler would: here, so that the two translations
# live side by side and a property test holds them to each other.


@dataclass(frozen=True)
class CronSpec:
    """An AWS cron expression as cronsim can run it, plus what cronsim cannot express."""

    crontab: str  # five fields: minute hour day-of-month month day-of-week
    years: frozenset[int] | None = None  # None: every year
    nearest_weekday: int | None = None  # "15W": the weekday nearest the 15th

    def matches_date(self, day: date) -> bool:
        if self.years is not None and day.year not in self.years:
            return False
        if self.nearest_weekday is not None:
            return day.day == _nearest_weekday(day.year, day.month, self.nearest_weekday)
        return True


def _nearest_weekday(year: int, month: int, target: int) -> int | None:
    """The day of the month of the weekday nearest ``target``, within the month (``W``)."""
    last = calendar.monthrange(year, month)[1]
    if target > last:
        return None
    weekday = calendar.weekday(year, month, target)  # Monday 0 .. Sunday 6
    if weekday == 5:  # Saturday: the Friday before, or the Monday after on the 1st
        return target - 1 if target > 1 else target + 2
    if weekday == 6:  # Sunday: the Monday after, or the Friday before on the last day
        return target + 1 if target < last else target - 2
    return target


def aws_cron_to_crontab(expression: str) -> CronSpec:
    """Convert ``cron(min hour dom month dow year)`` (or its six fields) for cronsim.

    ``?`` becomes ``*``; days of the week go from AWS's 1-7 (1 is Sunday) to crontab's
    0-6, in single values, ranges, lists, steps, ``nL`` (last such day of the month),
    ``n#k`` (k-th such day) and a lone ``L`` (Saturday, the last day of the week).
    Names (``MON-FRI``, ``JAN``) pass through. ``L`` and ``LW`` in the day of the month
    pass through; ``nW`` becomes ``*`` plus a date filter, as do years, which cronsim
    has no field for. Raises ValueError on what AWS would reject or cronsim cannot run.
    """
    text = expression.strip()
    matched = _CRON.fullmatch(text)
    if matched:
        text = matched.group(1)
    fields = text.split()
    if len(fields) != 6:
        raise ValueError(f"an AWS cron expression has six fields: {expression!r}")
    minute, hour, dom, month, dow, year = (part.upper() for part in fields)
    dom_free, dow_free = dom in {"?", "*"}, dow in {"?", "*"}
    if not dom_free and not dow_free:
        raise ValueError(f"one of day-of-month and day-of-week must be '?': {expression!r}")
    if "?" in (minute, hour, month, year):
        raise ValueError(f"'?' is only allowed in the day fields: {expression!r}")

    nearest = None
    weekday_match = re.fullmatch(r"(\d{1,2})W", dom)
    if weekday_match:
        nearest = int(weekday_match.group(1))
        if not 1 <= nearest <= 31:
            raise ValueError(f"bad day of month in {expression!r}")
        dom = "*"
    elif dom == "?":
        dom = "*"
    dow = "*" if dow_free else ",".join(_crontab_dow(part) for part in dow.split(","))
    spec = CronSpec(" ".join([minute, hour, dom, month, dow]), _years(year), nearest)
    try:
        CronSim(spec.crontab, datetime(2026, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        raise ValueError(f"bad cron expression {expression!r}: {exc}") from None
    return spec


def _dow_value(token: str) -> str:
    if token in _DAY_NAMES:
        return token
    if token.isdigit() and 1 <= int(token) <= 7:
        return str(int(token) - 1)
    raise ValueError(f"bad day of week {token!r} (AWS counts 1-7 from Sunday)")


def _crontab_dow(part: str) -> str:
    if part == "L":
        return "6"
    if part.endswith("L"):
        return _dow_value(part[:-1]) + "L"
    if "#" in part:
        day, nth = part.split("#", 1)
        return f"{_dow_value(day)}#{nth}"
    step = ""
    if "/" in part:
        part, step = part.split("/", 1)
        step = "/" + step
        if part == "*":
            return "0-6" + step
        if "-" not in part:  # "a/b" runs to Saturday; crontab's a/b would reach 7
            return f"{_dow_value(part)}-6{step}"
    if "-" in part:
        first, last = part.split("-", 1)
        return f"{_dow_value(first)}-{_dow_value(last)}{step}"
    return _dow_value(part) + step


def _years(field_text: str) -> frozenset[int] | None:
    if field_text == "*":
        return None
    years: set[int] = set()
    for part in field_text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            first, last = _MIN_YEAR, _MAX_YEAR
        elif "-" in base:
            first_text, last_text = base.split("-", 1)
            first, last = int(first_text), int(last_text)
        else:
            first = int(base)
            last = _MAX_YEAR if step_text else first
        if not _MIN_YEAR <= first <= last <= _MAX_YEAR or step < 1:
            raise ValueError(f"bad year field {field_text!r}")
        years.update(range(first, last + 1, step))
    return frozenset(years)


def _repeated(local: datetime) -> bool:
    """True for the second occurrence of a wall time repeated by a fall-back change."""
    return bool(local.fold) and local.replace(fold=0).utcoffset() != local.utcoffset()


def latest_cron_run(
    spec: CronSpec, timezone: ZoneInfo, upto: datetime, floor: datetime
) -> datetime | None:
    """The latest run in ``[floor, upto]``, in UTC, or None.

    cronsim gets the crontab with a seconds field in front: in that form it steps
    through real (UTC) time, so a skipped local time never comes up, and a repeated
    one comes up twice, of which the second (``fold=1``) is dropped here.
    """
    expression = "0 " + spec.crontab
    start = upto.astimezone(timezone).replace(microsecond=0) + timedelta(seconds=1)
    while True:
        restart = None
        for run in CronSim(expression, start, reverse=True):
            if run.astimezone(UTC) < floor:
                return None
            if spec.years is not None and run.year not in spec.years:
                earlier = [year for year in spec.years if year < run.year]
                if not earlier:
                    return None
                restart = datetime(max(earlier) + 1, 1, 1, tzinfo=timezone)
                break
            if _repeated(run) or not spec.matches_date(run.date()):
                continue
            return run.astimezone(UTC)
        if restart is None:  # cronsim found nothing in 50 years
            return None
        start = restart
