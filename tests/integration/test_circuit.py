"""Circuit breakers on moto: the state machine itself, and the worker deferring work for it."""

from __future__ import annotations

import json
import time

import boto3
import pytest
import time_machine

from functions.actions import circuit, enqueue_async_action
from functions.actions.circuit import CLOSED, HALF_OPEN, OPEN, Decision
from functions.actions.config import CircuitSettings
from functions.actions.exceptions import TransientError
from functions.settings import reset as reset_settings

DEP = "test_dep"
THRESHOLD = 2
COOLDOWN = 600  # below SQS's 15-minute delay ceiling, so a deferral waits exactly this long


class Recorder:
    """A hook that records its calls, and the circuit's state while it ran, and fails as told."""

    def __init__(self, *plan: BaseException | None) -> None:
        self.plan = list(plan)
        self.calls: list[tuple[object, int]] = []
        self.states: list[str] = []

    def __call__(self, args, action) -> None:
        self.calls.append((args, action.attempt))
        self.states.append(str(circuit.state(DEP).get("state", CLOSED)))
        outcome = self.plan.pop(0) if self.plan else None
        if outcome is not None:
            raise outcome


@pytest.fixture
def breaker(monkeypatch):
    """Circuit settings for these tests: open after two failures a minute, rest ten minutes."""
    monkeypatch.setenv("CIRCUIT_FAILURE_THRESHOLD", str(THRESHOLD))
    monkeypatch.setenv("CIRCUIT_WINDOW_SECONDS", "60")
    monkeypatch.setenv("CIRCUIT_COOLDOWN_SECONDS", str(COOLDOWN))
    monkeypatch.setenv("CIRCUIT_TRIAL_SECONDS", "60")
    reset_settings()


def _events(item: dict) -> list[str]:
    return [entry.event for entry in item.log]


def _counts(jobs, queue: str = "default") -> dict[str, int]:
    attributes = jobs.sqs.get_queue_attributes(
        QueueUrl=jobs.queue(queue).url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return {
        "visible": int(attributes["ApproximateNumberOfMessages"]),
        "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        "delayed": int(attributes["ApproximateNumberOfMessagesDelayed"]),
    }


def _set_circuit(jobs_or_stack, **attributes: float | str) -> None:
    """Rewrite attributes of the circuit's item, as the passing of time would leave them."""
    names = {f"#a{i}": key for i, key in enumerate(attributes)}
    values = {
        f":v{i}": ({"N": repr(float(v))} if isinstance(v, int | float) else {"S": v})
        for i, v in enumerate(attributes.values())
    }
    boto3.client("dynamodb").update_item(
        TableName=jobs_or_stack.resources.circuits_table,
        Key={"name": {"S": DEP}},
        UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(attributes))),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def _open_through_the_worker(jobs, register) -> float:
    """Fail a guarded hook THRESHOLD times through the worker; return when the circuit opened."""
    breaker_hook = register(
        "test_cb_breaker",
        Recorder(*[TransientError("dependency down")] * THRESHOLD),
        circuit=DEP,
        max_attempts=THRESHOLD,
        base_delay=0,
        max_delay=0,
    )
    enqueue_async_action("test_cb_breaker")
    jobs.work()
    assert len(breaker_hook.calls) == THRESHOLD
    current = circuit.state(DEP)
    assert current["state"] == OPEN
    jobs.dead_letters()  # the breaking action gave up; clear it out of the way
    return float(current["opened_at"])


# --- Through the worker --------------------------------------------------------------------


def test_failures_open_the_circuit_at_the_threshold(jobs, register, breaker):
    hook = register(
        "test_cb_flaky",
        Recorder(TransientError("503"), TransientError("503")),
        circuit=DEP,
        base_delay=0,
        max_delay=0,
    )
    action_id = enqueue_async_action("test_cb_flaky", {"n": 1})

    jobs.work(rounds=1)
    assert hook.calls == [({"n": 1}, 1)]
    below = circuit.state(DEP)
    assert below["state"] == CLOSED
    assert below["failures"] == 1

    before = time.time()
    jobs.work()

    # The second failure opened the circuit; the third attempt was deferred, not run.
    assert hook.calls == [({"n": 1}, 1), ({"n": 1}, 2)]
    opened = circuit.state(DEP)
    assert opened["state"] == OPEN
    assert opened["failures"] == THRESHOLD
    assert before - 1 <= opened["opened_at"] <= time.time()
    item = jobs.action(action_id)
    assert item.status == "pending"
    assert item.attempts == 2
    assert _events(item) == ["created", "started", "retry", "started", "retry"]
    assert _counts(jobs) == {"visible": 0, "in_flight": 0, "delayed": 1}


def test_while_open_new_work_is_deferred_without_using_an_attempt(
    jobs, register, breaker, sqs_clock
):
    _open_through_the_worker(jobs, register)
    hook = register("test_cb_guarded", Recorder(), circuit=DEP, base_delay=0, max_delay=0)
    action_id = enqueue_async_action("test_cb_guarded", {"k": "v"})

    [result] = jobs.work()

    assert result.received == 1
    assert result.failed == []  # handled: sent on with a delay, the original deleted
    assert hook.calls == []
    item = jobs.action(action_id)
    assert item.status == "pending"
    assert item.attempts == 0
    assert _events(item) == ["created"]
    assert circuit.state(DEP)["state"] == OPEN
    assert _counts(jobs) == {"visible": 0, "in_flight": 0, "delayed": 1}

    # It is delayed for the rest of the cool-down: not visible before, visible after.
    sqs_clock.advance(COOLDOWN - 15)
    assert _counts(jobs)["delayed"] == 1
    sqs_clock.advance(30)
    [message] = jobs.sqs.receive_message(QueueUrl=jobs.queue().url, VisibilityTimeout=0)["Messages"]
    envelope = json.loads(message["Body"])
    assert (envelope["action_id"], envelope["attempt"]) == (action_id, 1)


def test_after_the_cool_down_one_trial_runs_and_its_success_closes_the_circuit(
    jobs, register, breaker, sqs_clock, monkeypatch
):
    _open_through_the_worker(jobs, register)
    hook = register("test_cb_guarded", Recorder(), circuit=DEP, base_delay=0, max_delay=0)
    deferred = [enqueue_async_action("test_cb_guarded", {"n": n}) for n in (1, 2, 3)]
    jobs.work()
    assert hook.calls == []
    assert _counts(jobs)["delayed"] == 3

    monkeypatch.setenv("CIRCUIT_COOLDOWN_SECONDS", "0")
    reset_settings()
    sqs_clock.advance(COOLDOWN + 1)
    jobs.work()

    # One trial ran while half-open; the others ran only once it had closed the circuit.
    assert hook.states == [HALF_OPEN, CLOSED, CLOSED]
    assert sorted(args["n"] for args, _ in hook.calls) == [1, 2, 3]
    closed = circuit.state(DEP)
    assert closed["state"] == CLOSED
    assert closed["failures"] == 0
    assert "opened_at" not in closed
    assert "trial_expires_at" not in closed
    for action_id in deferred:
        item = jobs.action(action_id)
        assert item.status == "complete"
        assert item.attempts == 1
        assert _events(item) == ["created", "started", "completed"]
    assert jobs.depth() == 0


def test_a_failing_trial_opens_the_circuit_again(jobs, register, breaker, sqs_clock):
    first_opened = _open_through_the_worker(jobs, register)
    hook = register(
        "test_cb_guarded",
        Recorder(TransientError("still down")),
        circuit=DEP,
        base_delay=0,
        max_delay=0,
    )
    action_id = enqueue_async_action("test_cb_guarded")
    jobs.work()
    assert hook.calls == []

    # The cool-down passes (the circuit opened long ago, and the deferral's delay is over).
    _set_circuit(jobs, opened_at=first_opened - COOLDOWN - 1)
    sqs_clock.advance(COOLDOWN + 1)
    before = time.time()
    jobs.work()

    # The trial ran and failed; the circuit is open for a fresh cool-down, so the retry
    # (due at once, base_delay 0) was deferred rather than run as a second trial.
    assert hook.calls == [(None, 1)]
    assert hook.states == [HALF_OPEN]
    reopened = circuit.state(DEP)
    assert reopened["state"] == OPEN
    assert before - 1 <= reopened["opened_at"] <= time.time()
    assert "trial_expires_at" not in reopened
    item = jobs.action(action_id)
    assert item.status == "pending"
    assert item.attempts == 1
    assert _events(item) == ["created", "started", "retry"]
    assert _counts(jobs) == {"visible": 0, "in_flight": 0, "delayed": 1}


def test_while_a_trial_runs_elsewhere_other_work_waits_for_it(jobs, register, breaker):
    first_opened = _open_through_the_worker(jobs, register)
    _set_circuit(jobs, opened_at=first_opened - COOLDOWN - 1)
    assert circuit.allow(DEP).trial  # another worker holds the trial
    hook = register("test_cb_guarded", Recorder(), circuit=DEP, base_delay=0, max_delay=0)
    action_id = enqueue_async_action("test_cb_guarded")

    jobs.work()

    assert hook.calls == []
    assert jobs.action(action_id).attempts == 0
    assert circuit.state(DEP)["state"] == HALF_OPEN
    assert _counts(jobs)["delayed"] == 1


def test_hooks_without_the_circuit_are_not_held_back(jobs, register, breaker):
    _open_through_the_worker(jobs, register)
    hook = register("test_cb_free", Recorder(), base_delay=0, max_delay=0)
    other = register("test_cb_other_dep", Recorder(), circuit="other_dep", base_delay=0)

    free_id = enqueue_async_action("test_cb_free")
    other_id = enqueue_async_action("test_cb_other_dep")
    jobs.work()

    assert len(hook.calls) == 1
    assert len(other.calls) == 1
    assert jobs.action(free_id).status == "complete"
    assert jobs.action(other_id).status == "complete"


def test_an_ordered_hook_behind_an_open_circuit_waits_in_place(jobs, register, breaker, sqs_clock):
    _open_through_the_worker(jobs, register)
    hook = register(
        "test_cb_ordered", Recorder(), circuit=DEP, ordered=True, base_delay=0, max_delay=0
    )
    action_id = enqueue_async_action("test_cb_ordered", group="g")

    [result] = jobs.work("fifo")

    assert hook.calls == []
    assert len(result.failed) == 1  # reported failed and hidden: it keeps its place in the group
    item = jobs.action(action_id)
    assert (item.status, item.attempts) == ("pending", 0)
    assert _counts(jobs, "fifo") == {"visible": 0, "in_flight": 1, "delayed": 0}
    sqs_clock.advance(COOLDOWN - 15)
    assert jobs.work("fifo") == []  # hidden for the rest of the cool-down
    sqs_clock.advance(30)
    assert _counts(jobs, "fifo")["visible"] == 1


def test_an_ordered_action_deferred_for_hours_is_not_dead_lettered_by_its_receives(
    jobs, register, breaker, sqs_clock, monkeypatch
):
    """The circuit stays open for six hours and asks for 30 s every time. Each wait in
    place is a receive, which SQS's redrive counts; the waits grow with the message's
    receives (2**n s, up to 15 minutes), so six hours cost a few dozen receives, not
    the 700 of 30-second waits, and the action stays pending with its attempts."""
    monkeypatch.setenv("CIRCUIT_COOLDOWN_SECONDS", "30")
    reset_settings()
    # The circuit's clock stands still, so it is always 30 s from its trial.
    with time_machine.travel(time.time(), tick=False):
        _open_through_the_worker(jobs, register)
        hook = register("test_cb_ordered_long", Recorder(), circuit=DEP, ordered=True)
        action_id = enqueue_async_action("test_cb_ordered_long", group="g")

        receives = 0
        for _ in range(6 * 3600 // 31):
            receives += len(jobs.work("fifo", rounds=1))
            sqs_clock.advance(31)

        assert hook.calls == []
        assert jobs.dead_letters("fifo") == []
        item = jobs.action(action_id)
        assert (item.status, item.attempts) == ("pending", 0)
        assert receives <= 40


# --- The state machine, called directly ---------------------------------------------------


def _settings(**overrides: float) -> CircuitSettings:
    values = {"threshold": 2, "window": 60.0, "cooldown": 30.0, "trial": 60.0, **overrides}
    return CircuitSettings(**values)


def _open(stack, *, ago: float) -> float:
    """Open the circuit with two failures, as if ``ago`` seconds back; return opened_at."""
    settings = _settings()
    for _ in range(2):
        circuit.record_failure(DEP, Decision(True, CLOSED), settings)
    opened_at = time.time() - ago
    _set_circuit(stack, opened_at=opened_at)
    assert circuit.state(DEP)["state"] == OPEN
    return opened_at


def test_an_unknown_circuit_is_closed_and_nothing_is_written(stack):
    decision = circuit.allow(DEP, _settings())

    assert decision == Decision(True, CLOSED)
    assert circuit.state(DEP) == {}


def test_the_threshold_opens_the_circuit(stack):
    settings = _settings(threshold=3)
    for expected in (1, 2):
        circuit.record_failure(DEP, Decision(True, CLOSED), settings)
        assert circuit.state(DEP)["state"] == CLOSED
        assert circuit.state(DEP)["failures"] == expected

    circuit.record_failure(DEP, Decision(True, CLOSED), settings)

    assert circuit.state(DEP)["state"] == OPEN
    decision = circuit.allow(DEP, settings)
    assert not decision.allowed
    assert decision.state == OPEN
    assert 29 < decision.delay <= 30


def test_failures_outside_the_window_do_not_accumulate(stack):
    settings = _settings(window=10.0)
    circuit.record_failure(DEP, Decision(True, CLOSED), settings)
    _set_circuit(stack, window_start=time.time() - 11)  # the window has passed

    circuit.record_failure(DEP, Decision(True, CLOSED), settings)

    fresh = circuit.state(DEP)
    assert fresh["state"] == CLOSED
    assert fresh["failures"] == 1
    assert fresh["window_start"] > time.time() - 5  # a new window, starting now
    # A second failure within the new window does count.
    circuit.record_failure(DEP, Decision(True, CLOSED), settings)
    assert circuit.state(DEP)["state"] == OPEN


def test_failures_inside_the_window_accumulate(stack):
    settings = _settings(window=10.0)
    circuit.record_failure(DEP, Decision(True, CLOSED), settings)
    _set_circuit(stack, window_start=time.time() - 9)  # still inside the window

    circuit.record_failure(DEP, Decision(True, CLOSED), settings)

    assert circuit.state(DEP)["state"] == OPEN


def test_an_open_circuit_refuses_until_the_cool_down_ends(stack):
    opened_at = _open(stack, ago=20)

    decision = circuit.allow(DEP, _settings())

    assert (decision.allowed, decision.state, decision.trial) == (False, OPEN, False)
    assert 9 < decision.delay <= opened_at + 30 - time.time() + 0.5
    assert circuit.state(DEP)["state"] == OPEN


def test_the_end_of_the_cool_down_gives_one_trial(stack):
    _open(stack, ago=31)

    trial = circuit.allow(DEP, _settings())
    second = circuit.allow(DEP, _settings())

    assert trial == Decision(True, HALF_OPEN, trial=True)
    assert (second.allowed, second.state, second.trial) == (False, HALF_OPEN, False)
    assert second.delay >= 1
    current = circuit.state(DEP)
    assert current["state"] == HALF_OPEN
    assert time.time() + 55 < current["trial_expires_at"] <= time.time() + 60


def test_only_one_of_two_concurrent_allows_takes_the_trial(stack, monkeypatch):
    """Both workers read "open, cool-down over" before either writes; one write must lose."""
    _open(stack, ago=31)
    real_state = circuit.state
    decisions: dict[str, Decision] = {}

    def read_then_let_the_other_worker_in(name: str):
        snapshot = real_state(name)
        monkeypatch.setattr(circuit, "state", real_state)
        decisions["second"] = circuit.allow(name, _settings())  # reads the same open state
        return snapshot

    monkeypatch.setattr(circuit, "state", read_then_let_the_other_worker_in)
    decisions["first"] = circuit.allow(DEP, _settings())

    assert [d.trial for d in decisions.values()].count(True) == 1
    assert [d.allowed for d in decisions.values()].count(True) == 1
    assert decisions["second"] == Decision(True, HALF_OPEN, trial=True)
    assert not decisions["first"].allowed
    assert decisions["first"].delay >= 1
    assert circuit.state(DEP)["state"] == HALF_OPEN


def test_only_one_of_two_concurrent_allows_takes_over_an_abandoned_trial(stack, monkeypatch):
    _open(stack, ago=31)
    assert circuit.allow(DEP, _settings()).trial
    _set_circuit(stack, trial_expires_at=time.time() - 1)  # its worker died
    real_state = circuit.state
    decisions: dict[str, Decision] = {}

    def read_then_let_the_other_worker_in(name: str):
        snapshot = real_state(name)
        monkeypatch.setattr(circuit, "state", real_state)
        decisions["second"] = circuit.allow(name, _settings())
        return snapshot

    monkeypatch.setattr(circuit, "state", read_then_let_the_other_worker_in)
    decisions["first"] = circuit.allow(DEP, _settings())

    assert decisions["second"] == Decision(True, HALF_OPEN, trial=True)
    assert not decisions["first"].allowed
    assert not decisions["first"].trial


def test_an_abandoned_trial_expires_and_another_worker_may_try(stack):
    _open(stack, ago=31)
    assert circuit.allow(DEP, _settings()).trial
    assert not circuit.allow(DEP, _settings()).allowed

    _set_circuit(stack, trial_expires_at=time.time() - 1)

    assert circuit.allow(DEP, _settings()) == Decision(True, HALF_OPEN, trial=True)
    assert circuit.state(DEP)["trial_expires_at"] > time.time() + 55


def test_a_successful_trial_closes_and_resets_the_circuit(stack):
    _open(stack, ago=31)
    trial = circuit.allow(DEP, _settings())

    circuit.record_success(DEP, trial)

    closed = circuit.state(DEP)
    assert closed["state"] == CLOSED
    assert closed["failures"] == 0
    assert closed["window_start"] > time.time() - 5
    assert "opened_at" not in closed
    assert "trial_expires_at" not in closed
    assert circuit.allow(DEP, _settings()) == Decision(True, CLOSED)
    # The count starts over: one failure is not enough to open it again.
    circuit.record_failure(DEP, Decision(True, CLOSED), _settings())
    assert circuit.state(DEP)["state"] == CLOSED


def test_a_failed_trial_opens_the_circuit_for_a_fresh_cool_down(stack):
    old = _open(stack, ago=31)
    trial = circuit.allow(DEP, _settings())

    circuit.record_failure(DEP, trial, _settings())

    reopened = circuit.state(DEP)
    assert reopened["state"] == OPEN
    assert reopened["opened_at"] > old + 30
    assert "trial_expires_at" not in reopened
    refused = circuit.allow(DEP, _settings())
    assert not refused.allowed
    assert refused.delay > 29


def test_a_success_while_closed_changes_nothing(stack):
    circuit.record_failure(DEP, Decision(True, CLOSED), _settings())
    before = circuit.state(DEP)

    circuit.record_success(DEP, Decision(True, CLOSED))

    assert circuit.state(DEP) == before


def test_a_late_success_does_not_close_a_circuit_that_opened_again(stack):
    _open(stack, ago=31)
    stale_trial = circuit.allow(DEP, _settings())
    _set_circuit(stack, trial_expires_at=time.time() - 1)
    newer_trial = circuit.allow(DEP, _settings())
    circuit.record_failure(DEP, newer_trial, _settings())  # the newer trial failed
    reopened = circuit.state(DEP)

    circuit.record_success(DEP, stale_trial)  # the abandoned one reports in late

    assert circuit.state(DEP) == reopened
    assert reopened["state"] == OPEN


def test_a_failure_of_a_run_started_before_the_circuit_opened_does_not_extend_it(stack):
    opened_at = _open(stack, ago=10)
    before = circuit.state(DEP)

    circuit.record_failure(DEP, Decision(True, CLOSED), _settings())

    after = circuit.state(DEP)
    assert after == before
    assert after["opened_at"] == pytest.approx(opened_at)
