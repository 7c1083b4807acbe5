"""Backoff: the exponential bound, capped, and a full-jitter draw beneath it."""

from __future__ import annotations

import random
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.actions.retry import backoff_bound, backoff_delay

# Delays in seconds as hooks configure them: no delay at all, or from a microsecond up
# to a day. (``backoff_bound`` stops doubling after 2**60, which is exact as long as
# base * 2**60 reaches the cap; that holds for every base of a microsecond or more.)
bases = st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=86_400.0))
caps = st.floats(min_value=0.0, max_value=1e6)
attempts = st.integers(min_value=1, max_value=200)


def _rng(seed: int) -> random.Random:
    """A seeded generator, as the worker's jitter uses (timing, not secrets)."""
    return random.Random(seed)  # noqa: S311


@given(attempt=attempts, base=bases, cap=caps)
def test_the_bound_is_the_capped_exponential(attempt, base, cap):
    assert backoff_bound(attempt, base, cap) == min(cap, base * 2 ** (attempt - 1))


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [(1, 5.0), (2, 10.0), (3, 20.0), (4, 40.0), (7, 300.0), (8, 300.0), (50, 300.0)],
)
def test_the_bound_doubles_per_attempt_up_to_the_cap(attempt, expected):
    assert backoff_bound(attempt, 5.0, 300.0) == expected


@given(attempt=attempts, base=bases, cap=caps, seed=st.integers(0, 2**32 - 1))
def test_the_delay_is_always_between_zero_and_the_bound(attempt, base, cap, seed):
    delay = backoff_delay(attempt, base, cap, _rng(seed))
    assert 0.0 <= delay <= backoff_bound(attempt, base, cap)


@given(attempt=attempts, base=bases, cap=caps)
def test_the_delay_without_an_rng_is_in_range_too(attempt, base, cap):
    assert 0.0 <= backoff_delay(attempt, base, cap) <= backoff_bound(attempt, base, cap)


@given(attempt=attempts, base=bases, cap=caps)
def test_the_bound_never_decreases_with_the_attempt(attempt, base, cap):
    assert backoff_bound(attempt, base, cap) <= backoff_bound(attempt + 1, base, cap)


@given(attempt=attempts, base=bases, cap=caps)
def test_the_bound_never_exceeds_the_cap(attempt, base, cap):
    assert backoff_bound(attempt, base, cap) <= cap


@given(base=st.floats(min_value=1e-6, max_value=86_400.0), cap=caps)
def test_enough_attempts_reach_the_cap(base, cap):
    assert backoff_bound(80, base, cap) == cap


@settings(max_examples=50)
@given(
    attempt=st.integers(min_value=1, max_value=12),
    base=st.floats(min_value=0.5, max_value=60.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_jitter_spreads_the_delays_over_the_whole_range(attempt, base, seed):
    rng = _rng(seed)
    bound = backoff_bound(attempt, base, 900.0)
    draws = [backoff_delay(attempt, base, 900.0, rng) for _ in range(500)]

    assert len(set(draws)) > 450  # not one fixed delay, nor a handful of them
    assert min(draws) < 0.05 * bound
    assert max(draws) > 0.95 * bound
    # Full jitter is uniform: its mean is half the bound (a constant bound/2 has no spread).
    assert 0.4 * bound < statistics.fmean(draws) < 0.6 * bound
    assert statistics.pstdev(draws) > 0.2 * bound


def test_the_same_seed_gives_the_same_delays():
    first = [backoff_delay(3, 2.0, 60.0, _rng(7)) for _ in range(3)]
    again = [backoff_delay(3, 2.0, 60.0, _rng(7)) for _ in range(3)]
    assert first == again
    other = _rng(8)
    assert backoff_delay(3, 2.0, 60.0, other) != first[0]


def test_a_zero_base_or_cap_means_no_wait():
    assert backoff_bound(5, 0.0, 100.0) == 0.0
    assert backoff_bound(5, 10.0, 0.0) == 0.0
    assert backoff_delay(5, 0.0, 100.0, _rng(1)) == 0.0


@given(attempt=st.integers(max_value=0))
def test_attempts_below_one_are_refused(attempt):
    with pytest.raises(ValueError, match="from 1"):
        backoff_bound(attempt, 1.0, 10.0)
    with pytest.raises(ValueError, match="from 1"):
        backoff_delay(attempt, 1.0, 10.0, _rng(0))


@given(
    attempt=st.integers(min_value=1_000, max_value=10**18),
    base=st.floats(min_value=1e-6, max_value=1e6),
    cap=st.floats(min_value=0.0, max_value=1e9),
    seed=st.integers(0, 2**32 - 1),
)
def test_huge_attempts_do_not_overflow(attempt, base, cap, seed):
    assert backoff_bound(attempt, base, cap) == cap
    assert 0.0 <= backoff_delay(attempt, base, cap, _rng(seed)) <= cap


def test_a_huge_base_is_still_capped():
    assert backoff_bound(10**6, 1e300, 900.0) == 900.0
    assert backoff_bound(10**6, 0.0, 900.0) == 0.0
