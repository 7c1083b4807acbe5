"""The worker's time budget: which records an invocation still starts."""

from __future__ import annotations

from functions.actions import budget


class Context:
    """What Lambda's context says of the time left."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


def test_a_record_starts_while_more_than_its_budget_and_the_margin_is_left():
    context = Context(60)
    invocation = budget.Invocation(context)
    assert invocation.start(10)  # the first
    context.seconds = 15.5
    assert invocation.start(10)  # 15.5 > 10 + 5
    context.seconds = 15
    assert not invocation.start(10)
    assert invocation.start(9.5)  # a shorter budget still fits
    assert invocation.left() == 15


def test_the_first_record_of_an_invocation_always_starts():
    """No later invocation has more time for it: a function whose timeout is shorter than
    a hook's budget (the local soak's 10 s) still makes progress, one record at a time."""
    invocation = budget.Invocation(Context(9.9))
    assert invocation.start(budget.DEFAULT_HOOK_TIMEOUT)
    assert not invocation.start(budget.DEFAULT_HOOK_TIMEOUT)


def test_without_a_context_every_record_starts():
    invocation = budget.Invocation(None)
    assert invocation.left() is None
    assert all(invocation.start(budget.MAX_HOOK_TIMEOUT) for _ in range(3))
