"""The hook registry: what it accepts, what it refuses, and which queue a hook uses."""

from __future__ import annotations

import math

import pytest

from functions.actions import budget, hooks
from functions.actions.exceptions import InvalidAction
from functions.actions.hooks import MAX_ATTEMPTS, HookSpec


@pytest.fixture
def register():
    """Register hooks through the decorator; every name tried is unregistered afterwards."""
    names: list[str] = []

    def _register(name: str, function=None, **policy):
        names.append(name)
        function = function or (lambda args, action: None)
        return hooks.hook(name, **policy)(function)

    yield _register
    for name in names:
        hooks.unregister(name)


def test_a_registered_hook_is_found_with_its_policy(register):
    def send(args, action):
        return args

    returned = register(
        "test_reg_send",
        send,
        max_attempts=7,
        base_delay=2,
        max_delay=120,
        priority="high",
        circuit="smtp",
    )

    assert returned is send  # the decorator gives the function back unchanged
    spec = hooks.get("test_reg_send")
    assert spec == HookSpec(
        name="test_reg_send",
        function=send,
        max_attempts=7,
        base_delay=2,
        max_delay=120,
        priority="high",
        circuit="smtp",
        ordered=False,
    )
    assert hooks.registered()["test_reg_send"] is spec


def test_the_defaults(register):
    register("test_reg_defaults")

    spec = hooks.get("test_reg_defaults")
    assert (spec.max_attempts, spec.base_delay, spec.max_delay) == (5, 5.0, 900.0)
    assert (spec.priority, spec.circuit, spec.ordered) == ("default", None, False)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "1starts_with_a_digit",
        "-dash_first",
        ".dot_first",
        "has space",
        "slash/inside",
        "tab\tinside",
        "trailing_newline\n",
        "non_ascii_é",
        "a" * 129,
    ],
)
def test_bad_names_are_refused(register, name):
    with pytest.raises(ValueError, match="hook names match"):
        register(name)
    assert name not in hooks.registered()


@pytest.mark.parametrize("name", ["a", "_private", "orders.send_receipt", "ns:task-2", "a" * 128])
def test_good_names_are_accepted(register, name):
    register(name)
    assert hooks.get(name).name == name


def test_registering_a_different_function_under_a_taken_name_is_refused(register):
    def first(args, action):
        return "first"

    def second(args, action):
        return "second"

    register("test_reg_twice", first)
    with pytest.raises(ValueError, match="registered twice"):
        register("test_reg_twice", second)

    assert hooks.get("test_reg_twice").function is first


def test_registering_the_same_function_again_is_harmless(register):
    def task(args, action):
        return None

    register("test_reg_again", task, max_attempts=3)
    register("test_reg_again", task, max_attempts=4)  # a module imported twice

    assert hooks.get("test_reg_again").function is task
    assert hooks.get("test_reg_again").max_attempts == 4


@pytest.mark.parametrize("max_attempts", [0, -1])
def test_max_attempts_below_one_is_refused(register, max_attempts):
    with pytest.raises(ValueError, match="max_attempts"):
        register("test_reg_attempts", max_attempts=max_attempts)
    with pytest.raises(InvalidAction):
        hooks.get("test_reg_attempts")


def test_one_attempt_is_enough(register):
    register("test_reg_once", max_attempts=1)
    assert hooks.get("test_reg_once").max_attempts == 1


@pytest.mark.parametrize("ordered", [False, True])
def test_every_hook_is_limited_to_max_attempts(register, ordered):
    """The job queues allow more receives than this (tests/infra/test_stack.py), so the
    worker's own count of attempts decides when an action is dead, never SQS's."""
    register("test_reg_max", max_attempts=MAX_ATTEMPTS, ordered=ordered)
    assert hooks.get("test_reg_max").max_attempts == MAX_ATTEMPTS

    with pytest.raises(ValueError, match=f"1..{MAX_ATTEMPTS}"):
        register("test_reg_over", max_attempts=MAX_ATTEMPTS + 1, ordered=ordered)
    with pytest.raises(ValueError, match="max_attempts"):
        register("test_reg_zero", max_attempts=0, ordered=ordered)
    assert "test_reg_over" not in hooks.registered()
    assert "test_reg_zero" not in hooks.registered()


def test_a_hook_without_a_timeout_has_the_default_budget(register):
    register("test_reg_budget")
    assert hooks.get("test_reg_budget").timeout == budget.DEFAULT_HOOK_TIMEOUT


@pytest.mark.parametrize("timeout", [0.5, 30, budget.MAX_HOOK_TIMEOUT])
def test_a_declared_timeout_is_kept(register, timeout):
    register("test_reg_timeout", timeout=timeout)
    assert hooks.get("test_reg_timeout").timeout == timeout


@pytest.mark.parametrize(
    "timeout", [0, -1, budget.MAX_HOOK_TIMEOUT + 0.1, budget.WORKER_TIMEOUT_SECONDS, math.nan]
)
def test_a_timeout_the_worker_could_never_start_is_refused(register, timeout):
    """A budget at or above the worker's timeout, less its margins, would never fit an
    invocation: the action would be handed back for ever."""
    with pytest.raises(ValueError, match="timeout must be more than 0"):
        register("test_reg_bad_timeout", timeout=timeout)
    assert "test_reg_bad_timeout" not in hooks.registered()


def test_the_largest_budget_fits_a_fresh_invocation():
    assert budget.may_start(budget.WORKER_TIMEOUT_SECONDS - 1, budget.MAX_HOOK_TIMEOUT)


@pytest.mark.parametrize(
    ("base_delay", "max_delay"),
    [
        (-1, 10),  # a negative delay
        (-0.5, 0),
        (10, 5),  # a cap below the base
        (1, 0),
        (math.nan, 10),  # NaN compares false to everything: must not slip through
        (1, math.nan),
        (math.nan, math.nan),
        (1, math.inf),  # no cap: the backoff would outgrow any delay SQS or datetime takes
        (math.inf, math.inf),
    ],
)
def test_bad_delays_are_refused(register, base_delay, max_delay):
    with pytest.raises(ValueError, match="base_delay"):
        register("test_reg_delays", base_delay=base_delay, max_delay=max_delay)
    assert "test_reg_delays" not in hooks.registered()


@pytest.mark.parametrize(("base_delay", "max_delay"), [(0, 0), (0, 60), (5, 5), (0.5, 900.0)])
def test_good_delays_are_accepted(register, base_delay, max_delay):
    register("test_reg_ok_delays", base_delay=base_delay, max_delay=max_delay)
    spec = hooks.get("test_reg_ok_delays")
    assert (spec.base_delay, spec.max_delay) == (base_delay, max_delay)


def test_get_of_an_unknown_hook_raises_invalid_action():
    with pytest.raises(InvalidAction, match="no hook is registered as 'test_reg_nobody'"):
        hooks.get("test_reg_nobody")


def test_an_invalid_action_is_also_a_value_error():
    with pytest.raises(ValueError):
        hooks.get("test_reg_nobody")


def test_unregister_removes_the_hook_and_forgets_unknown_names(register):
    register("test_reg_gone")
    hooks.unregister("test_reg_gone")
    hooks.unregister("test_reg_never_there")  # no error

    with pytest.raises(InvalidAction):
        hooks.get("test_reg_gone")
    # The name is free again, for another function.
    register("test_reg_gone", lambda args, action: "new")
    assert hooks.get("test_reg_gone").function(None, None) == "new"


@pytest.mark.parametrize("priority", ["high", "default", "low"])
def test_a_hook_uses_its_priority_queue(register, priority):
    register("test_reg_priority", priority=priority)
    assert hooks.get("test_reg_priority").queue == priority


@pytest.mark.parametrize("priority", ["high", "default", "low"])
def test_an_ordered_hook_uses_the_fifo_queue_whatever_its_priority(register, priority):
    register("test_reg_fifo", ordered=True, priority=priority)
    spec = hooks.get("test_reg_fifo")
    assert spec.ordered is True
    assert spec.queue == "fifo"


def test_registered_is_a_copy(register):
    register("test_reg_copy")
    snapshot = hooks.registered()
    snapshot.pop("test_reg_copy")
    assert "test_reg_copy" in hooks.registered()


def test_a_module_that_fails_to_import_is_remembered_with_its_error_cut(tmp_path, monkeypatch):
    from functions.actions import hooks

    (tmp_path / "huge_failure.py").write_text("raise ValueError('x' * 100_000)\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    failed = hooks.import_modules(["huge_failure"])

    error = failed["huge_failure"]
    assert error.startswith("ValueError: xxx")
    assert len(error) == hooks.MAX_IMPORT_ERROR_CHARS
    assert hooks.failed_modules()["huge_failure"] == error
    hooks.forget_loading()
