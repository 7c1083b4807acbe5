"""Cron and rate expressions: crontab in, EventBridge forms out, next runs as AWS makes them,
and AWS cron read back as the local scheduler clock runs it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from functions.actions import cron
from functions.actions.cron import (
    CronSpec,
    aws_cron_to_crontab,
    latest_cron_run,
    next_cron_run,
    to_aws_cron,
    validate_cron,
)
from functions.actions.exceptions import InvalidAction


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- rate() ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expression"),
    [
        (60, "rate(1 minute)"),
        (120, "rate(2 minutes)"),
        (90 * 60, "rate(90 minutes)"),
        (3600, "rate(1 hour)"),
        (7200, "rate(2 hours)"),
        (25 * 3600, "rate(25 hours)"),
        (86400, "rate(1 day)"),
        (7 * 86400, "rate(7 days)"),
        (86400 + 60, "rate(1441 minutes)"),
    ],
)
def test_rate_expression_uses_the_largest_whole_unit(seconds, expression):
    assert cron.rate_expression(seconds) == expression


@pytest.mark.parametrize("seconds", [-60, 0, 1, 59])
def test_rate_expression_refuses_less_than_a_minute(seconds):
    with pytest.raises(InvalidAction, match="at least 60 seconds"):
        cron.rate_expression(seconds)


@pytest.mark.parametrize("seconds", [61, 90, 3599, 86401])
def test_rate_expression_refuses_part_minutes(seconds):
    with pytest.raises(InvalidAction, match="whole minutes"):
        cron.rate_expression(seconds)


# --- to_aws_cron -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("crontab", "aws"),
    [
        ("0 9 * * 1-5", "cron(0 9 ? * 2-6 *)"),
        ("*/15 * * * *", "cron(0/15 * * * ? *)"),
        ("0 * * * *", "cron(0 * * * ? *)"),
        ("30 2 * * *", "cron(30 2 * * ? *)"),
        # Sunday is 0 or 7 in crontab, 1 in AWS; the other days move up by one.
        ("0 0 * * 0", "cron(0 0 ? * 1 *)"),
        ("0 0 * * 7", "cron(0 0 ? * 1 *)"),
        ("0 0 * * 6", "cron(0 0 ? * 7 *)"),
        ("0 0 * * 0,3,6", "cron(0 0 ? * 1,4,7 *)"),
        ("0 0 * * 0-6", "cron(0 0 ? * 1-7 *)"),
        # Steps: the step itself is not a day number.
        ("0 0 * * 1-5/2", "cron(0 0 ? * 2-6/2 *)"),
        ("0 0 * * */2", "cron(0 0 ? * 1/2 *)"),
        # "#": the day moves, the n-th does not.
        ("0 0 * * 5#3", "cron(0 0 ? * 6#3 *)"),
        ("0 0 * * 1#1,5#3", "cron(0 0 ? * 2#1,6#3 *)"),
        ("0 0 * * 0#2", "cron(0 0 ? * 1#2 *)"),
        # "L": the last such day of the month.
        ("0 0 * * 5L", "cron(0 0 ? * 6L *)"),
        ("0 0 * * 0L", "cron(0 0 ? * 1L *)"),
        # Names mean the same in both.
        ("0 9 * * MON-FRI", "cron(0 9 ? * MON-FRI *)"),
        ("0 9 * * SUN", "cron(0 9 ? * SUN *)"),
        # Day of the month: the weekday becomes "?".
        ("0 0 1,15 * *", "cron(0 0 1,15 * ? *)"),
        ("0 0 L * *", "cron(0 0 L * ? *)"),
        ("0 12 */2 * *", "cron(0 12 1/2 * ? *)"),
        ("*/5 */2 */3 */4 *", "cron(0/5 0/2 1/3 1/4 ? *)"),
        ("0 0 1 JAN,JUL *", "cron(0 0 1 JAN,JUL ? *)"),
        ("10-20/5 8-18 * 2-11 *", "cron(10-20/5 8-18 * 2-11 ? *)"),
    ],
)
def test_to_aws_cron(crontab, aws):
    assert cron.to_aws_cron(crontab) == aws


@pytest.mark.parametrize("crontab", ["0 0 1 * 1", "0 0 1-7 * MON", "0 0 */2 * 1", "0 0 L * 5"])
def test_to_aws_cron_refuses_both_day_fields(crontab):
    with pytest.raises(InvalidAction, match="not both"):
        cron.to_aws_cron(crontab)


# --- validate_cron -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("crontab", "message"),
    [
        ("* * * *", "five fields"),
        ("0 * * * * *", "five fields"),
        ("", "five fields"),
        ("60 * * * *", "bad cron"),
        ("0 24 * * *", "bad cron"),
        ("0 0 0 * *", "bad cron"),
        ("0 0 32 * *", "bad cron"),
        ("0 0 * 13 *", "bad cron"),
        ("0 0 * * 8", "bad cron"),
        ("0 0 31 2 *", "bad cron"),
        ("a b c d e", "bad cron"),
        ("0 0 1 * 1", "not both"),
    ],
)
def test_validate_cron_refuses(crontab, message):
    with pytest.raises(InvalidAction, match=message):
        cron.validate_cron(crontab)


def test_validate_cron_refuses_an_unknown_time_zone():
    with pytest.raises(InvalidAction, match="time zone"):
        cron.validate_cron("0 9 * * *", "Mars/Olympus_Mons")


def test_validate_cron_normalizes_whitespace():
    assert cron.validate_cron("  0   9 * *\t1-5 ", "Europe/Paris") == "0 9 * * 1-5"


# --- next_cron_run -----------------------------------------------------------------------


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("crontab", "zone", "after", "expected"),
    [
        # Plain UTC.
        ("0 9 * * *", "UTC", _utc(2026, 6, 1, 8, 59), _utc(2026, 6, 1, 9, 0)),
        ("0 9 * * *", "UTC", _utc(2026, 6, 1, 9, 0), _utc(2026, 6, 2, 9, 0)),  # strictly after
        ("*/15 * * * *", "UTC", _utc(2026, 6, 1, 9, 0, 1), _utc(2026, 6, 1, 9, 15)),
        # New York, spring forward (2026-03-08, 02:00 EST -> 03:00 EDT): 02:30 does not
        # exist that day and EventBridge Scheduler skips the run; the next is a day later.
        ("30 2 * * *", "America/New_York", _utc(2026, 3, 6, 12), _utc(2026, 3, 7, 7, 30)),
        ("30 2 * * *", "America/New_York", _utc(2026, 3, 7, 12), _utc(2026, 3, 9, 6, 30)),
        # Runs at a time that exists keep their local time across the change.
        ("0 9 * * 1-5", "America/New_York", _utc(2026, 3, 6, 15), _utc(2026, 3, 9, 13)),
        ("0 3 * * *", "America/New_York", _utc(2026, 3, 8, 6), _utc(2026, 3, 8, 7)),
        # Every 30 minutes goes from 01:30 EST straight to 03:00 EDT.
        ("*/30 * * * *", "America/New_York", _utc(2026, 3, 8, 6, 45), _utc(2026, 3, 8, 7)),
        # New York, fall back (2026-11-01, 02:00 EDT -> 01:00 EST): 01:00 happens twice and
        # the run happens once, the first time.
        ("0 1 * * *", "America/New_York", _utc(2026, 10, 31, 12), _utc(2026, 11, 1, 5)),
        ("0 1 * * *", "America/New_York", _utc(2026, 11, 1, 5), _utc(2026, 11, 2, 6)),
        ("30 1 * * *", "America/New_York", _utc(2026, 11, 1, 5, 31), _utc(2026, 11, 2, 6, 30)),
        # ... also when asked from inside the repeated hour (01:10 EST).
        ("30 1 * * *", "America/New_York", _utc(2026, 11, 1, 6, 10), _utc(2026, 11, 2, 6, 30)),
        ("0 9 * * *", "America/New_York", _utc(2026, 11, 1, 12), _utc(2026, 11, 1, 14)),
        # Paris, spring forward (2026-03-29, 02:00 CET -> 03:00 CEST).
        ("30 2 * * *", "Europe/Paris", _utc(2026, 3, 28, 12), _utc(2026, 3, 30, 0, 30)),
        ("0 9 * * *", "Europe/Paris", _utc(2026, 3, 28, 12), _utc(2026, 3, 29, 7)),
        ("0 9 * * *", "Europe/Paris", _utc(2026, 3, 27, 12), _utc(2026, 3, 28, 8)),
        # Paris, fall back (2026-10-25, 03:00 CEST -> 02:00 CET).
        ("30 2 * * *", "Europe/Paris", _utc(2026, 10, 24, 12), _utc(2026, 10, 25, 0, 30)),
        ("30 2 * * *", "Europe/Paris", _utc(2026, 10, 25, 0, 30), _utc(2026, 10, 26, 1, 30)),
        # "L", "#", names, in a zone.
        ("0 0 L * *", "Europe/Paris", _utc(2026, 2, 1), _utc(2026, 2, 27, 23)),
        ("0 10 * * 5#3", "America/New_York", _utc(2026, 3, 1), _utc(2026, 3, 20, 14)),
        ("0 10 * * 5L", "UTC", _utc(2026, 3, 1), _utc(2026, 3, 27, 10)),
        ("0 9 * * MON-FRI", "UTC", _utc(2026, 3, 7), _utc(2026, 3, 9, 9)),
    ],
)
def test_next_cron_run(crontab, zone, after, expected):
    assert cron.next_cron_run(crontab, zone, after) == expected


def test_next_cron_run_returns_utc():
    run = cron.next_cron_run("0 9 * * *", "Asia/Tokyo", _utc(2026, 5, 31, 12))
    assert run is not None
    assert run.utcoffset() == timedelta(0)
    assert run == _utc(2026, 6, 1, 0)


# --- next_rate_run -----------------------------------------------------------------------


def test_next_rate_run_before_the_start_is_the_start():
    start = _utc(2026, 6, 1, 12)
    assert cron.next_rate_run(start, 3600, _utc(2026, 5, 1)) == start


def test_next_rate_run_stays_on_the_start_grid():
    start = _utc(2026, 6, 1, 12, 0, 7)
    assert cron.next_rate_run(start, 3600, start) == _utc(2026, 6, 1, 13, 0, 7)
    assert cron.next_rate_run(start, 3600, _utc(2026, 6, 2, 9, 59)) == _utc(2026, 6, 2, 10, 0, 7)
    assert cron.next_rate_run(start, 3600, _utc(2026, 6, 2, 10, 0, 7)) == _utc(2026, 6, 2, 11, 0, 7)


moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
intervals = st.integers(min_value=1, max_value=60 * 24 * 400).map(lambda minutes: minutes * 60)


@given(start=moments, interval=intervals, after=moments)
def test_next_rate_run_is_the_first_grid_point_after(start, interval, after):
    run = cron.next_rate_run(start, interval, after)

    if after < start:
        assert run == start
        return
    assert run > after
    assert run - after <= timedelta(seconds=interval)
    offset = run - start
    assert offset.microseconds == 0
    assert (offset.days * 86400 + offset.seconds) % interval == 0


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("0 0 * * 5-7", "cron(0 0 ? * 6-7,1 *)"),  # Friday to Sunday wraps in AWS numbering
        ("0 0 * * 1-7", "cron(0 0 ? * 2-7,1 *)"),
        ("0 0 * * 0-7", "cron(0 0 ? * 1-7 *)"),
        ("0 0 * * 7-7", "cron(0 0 ? * 1 *)"),  # found by the property test below
        ("0 0 * * 1-5,7", "cron(0 0 ? * 2-6,1 *)"),
    ],
)
def test_weekday_ranges_ending_on_sunday_seven_wrap(expression, expected):
    assert cron.to_aws_cron(expression) == expected


def test_a_stepped_range_ending_on_sunday_seven_is_refused():
    with pytest.raises(InvalidAction, match="Sunday as 0"):
        cron.to_aws_cron("0 0 * * 1-7/2")


# --- AWS cron read back (the local scheduler clock) --------------------------------------


@pytest.mark.parametrize(
    ("aws", "crontab"),
    [
        ("cron(0 10 * * ? *)", "0 10 * * *"),
        ("cron(15 10 ? * * *)", "15 10 * * *"),
        ("cron(0 8 ? * 2-6 *)", "0 8 * * 1-5"),
        ("cron(0 8 ? * MON-FRI *)", "0 8 * * MON-FRI"),
        ("cron(0 8 ? * 1,7 *)", "0 8 * * 0,6"),
        ("cron(0 10 ? * 6L *)", "0 10 * * 5L"),
        ("cron(0 10 ? * L *)", "0 10 * * 6"),
        ("cron(0 10 ? * 3#2 *)", "0 10 * * 2#2"),
        ("cron(0 10 ? * 2/2 *)", "0 10 * * 1-6/2"),
        ("cron(0 10 ? * */3 *)", "0 10 * * 0-6/3"),
        ("cron(0 10 ? * 2-6/2 *)", "0 10 * * 1-5/2"),
        ("cron(0 18 L * ? *)", "0 18 L * *"),
        ("cron(0 18 LW * ? *)", "0 18 LW * *"),
        ("cron(0/5 8-17 ? JAN,FEB * *)", "0/5 8-17 * JAN,FEB *"),
        ("0 12 1 * ? *", "0 12 1 * *"),
    ],
)
def test_aws_cron_to_crontab(aws, crontab):
    spec = aws_cron_to_crontab(aws)
    assert spec.crontab == crontab
    assert spec.years is None and spec.nearest_weekday is None


def test_aws_cron_years_and_nearest_weekday():
    spec = aws_cron_to_crontab("cron(0 9 15W * ? 2026-2028,2030)")
    assert spec == CronSpec("0 9 * * *", frozenset({2026, 2027, 2028, 2030}), 15)
    assert aws_cron_to_crontab("cron(0 9 1 1 ? 2026/2)").years == frozenset(range(2026, 2200, 2))


@pytest.mark.parametrize(
    "bad",
    [
        "cron(0 10 1 * 2 *)",  # both day fields
        "cron(0 10 * * *)",  # five fields
        "cron(0 10 ? * 0 *)",  # AWS weekdays are 1-7
        "cron(0 10 ? * 8 *)",
        "cron(61 10 * * ? *)",
        "cron(0 10 * * ? 1900)",
        "cron(0 ? * * ? *)",
    ],
)
def test_aws_cron_rejects_what_aws_rejects(bad):
    with pytest.raises(ValueError):
        aws_cron_to_crontab(bad)


def latest(expression: str, upto: datetime, floor: datetime, zone=UTC) -> datetime | None:
    return latest_cron_run(aws_cron_to_crontab(expression), zone, upto, floor)


def test_latest_cron_run_l_hash_w_and_years():
    floor = utc(2025, 1, 1)
    assert latest("cron(0 10 ? * 6L *)", utc(2026, 2, 15), floor) == utc(2026, 1, 30, 10)
    assert latest("cron(0 10 ? * 3#2 *)", utc(2026, 2, 28), floor) == utc(2026, 2, 10, 10)
    assert latest("cron(0 10 L * ? *)", utc(2026, 3, 15), floor) == utc(2026, 2, 28, 10)
    # 2026-08-15 is a Saturday: 15W runs on Friday the 14th; 2026-08-01 (Saturday): 1W on Monday 3rd
    assert latest("cron(0 10 15W * ? *)", utc(2026, 8, 31), floor) == utc(2026, 8, 14, 10)
    assert latest("cron(0 10 1W * ? *)", utc(2026, 8, 31), floor) == utc(2026, 8, 3, 10)
    # 2026-05-31 is a Sunday: 31W is Friday the 29th, not June 1st
    assert latest("cron(0 10 31W * ? *)", utc(2026, 6, 20), floor) == utc(2026, 5, 29, 10)
    years = "cron(0 0 1 1 ? 2024,2026)"
    assert latest(years, utc(2027, 6, 1), utc(2020, 1, 1)) == utc(2026, 1, 1)
    assert latest(years, utc(2025, 12, 31), utc(2020, 1, 1)) == utc(2024, 1, 1)
    assert latest(years, utc(2023, 12, 31), utc(2020, 1, 1)) is None
    # the floor is inclusive, and nothing earlier comes back
    assert latest("cron(0 10 * * ? *)", utc(2026, 1, 1, 10), utc(2026, 1, 1, 10)) == utc(
        2026, 1, 1, 10
    )
    assert latest("cron(0 10 * * ? *)", utc(2026, 1, 2, 9), utc(2026, 1, 1, 10, 0, 1)) is None


# --- the API's cron expressions, read back as the local scheduler clock runs them ------------


def _cron_field(low: int, high: int, *extra: str) -> st.SearchStrategy[str]:
    """One crontab field: ``*``, or a list of values, ranges and steps within low..high."""
    pair = st.tuples(st.integers(low, high), st.integers(low, high)).map(sorted)
    ranged = pair.map(lambda p: f"{p[0]}-{p[1]}")
    stepped = st.tuples(st.sampled_from(["*", f"{low}"]) | ranged, st.integers(1, high)).map(
        lambda p: f"{p[0]}/{p[1]}"
    )
    part = st.integers(low, high).map(str) | ranged | stepped | st.sampled_from(extra or ["*"])
    return st.just("*") | st.lists(part, min_size=1, max_size=3).map(",".join)


_API_CRONTABS = st.tuples(
    _cron_field(0, 59),
    _cron_field(0, 23),
    st.booleans(),
    _cron_field(1, 31, "L", "15"),
    _cron_field(1, 12, "JAN", "DEC"),
    _cron_field(0, 7, "MON-FRI", "5L", "1#2", "SUN"),
).map(lambda f: " ".join([f[0], f[1], f[3] if f[2] else "*", f[4], "*" if f[2] else f[5]]))


@settings(max_examples=300, deadline=None)
@given(
    expression=_API_CRONTABS,
    zone=st.sampled_from(["UTC", "Europe/Paris", "America/New_York"]),
    after=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2060, 1, 1), timezones=st.just(UTC)
    ),
)
def test_the_scheduler_clock_runs_the_api_s_cron_expressions_when_the_api_expects(
    expression, zone, after
):
    """functions.actions.cron translates crontab to AWS cron and predicts the next run; the
    scheduler clock translates AWS cron back and fires it. The first run after any moment
    is the same for both, daylight-saving changes included."""
    try:
        expression = validate_cron(expression, zone)
    except InvalidAction:
        assume(False)
    expected = next_cron_run(expression, zone, after)
    assume(expected is not None)
    spec = aws_cron_to_crontab(to_aws_cron(expression))
    tz, floor = ZoneInfo(zone), after + timedelta(microseconds=1)

    assert latest_cron_run(spec, tz, expected, floor) == expected
    assert latest_cron_run(spec, tz, expected - timedelta(microseconds=1), floor) is None
