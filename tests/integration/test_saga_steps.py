"""Each order-saga step and compensation alone: its effect happens once, however often it runs."""

from __future__ import annotations

import boto3
import pytest

from functions.actions.exceptions import InvalidAction, PermanentError, TransientError
from functions.sagas import order, order_state, tasks
from functions.settings import reset as reset_settings

TABLE = "saga-state-steps"
ORDER_ID = "o-1"
# step -> (its effect, its compensation, the compensation's effect)
STEPS = {
    "reserve_inventory": ("reservation", "release_inventory", "released"),
    "charge_payment": ("charge", "refund_payment", "refund"),
    "create_shipment": ("shipment", "cancel_shipment", "shipment_canceled"),
}
VALUES = {
    "reservation": f"res-{ORDER_ID}",
    "charge": f"ch-{ORDER_ID}",
    "shipment": f"sh-{ORDER_ID}",
}


@pytest.fixture
def table(aws, monkeypatch) -> str:
    boto3.client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("SAGA_TABLE_NAME", TABLE)
    reset_settings()
    return TABLE


def _run(name: str, fail: dict | None = None, **event) -> dict:
    return tasks.run({"task": name, "input": {"order_id": ORDER_ID, "fail": fail or {}}, **event})


def _state() -> dict:
    return order_state.get(ORDER_ID)


def test_the_order_saga_registers_every_step_and_compensation():
    assert tuple(STEPS) == order.STEPS
    assert {step: comp for step, (_, comp, _) in STEPS.items()} == order.COMPENSATIONS


@pytest.mark.parametrize("step", STEPS)
def test_a_step_run_twice_records_its_effect_once(table, step):
    effect = STEPS[step][0]
    first = _run(step)
    second = _run(step)

    assert first == second == {effect: VALUES[effect]}
    state = _state()
    assert state[effect] == VALUES[effect]
    assert state[f"times_{effect}"] == 1


@pytest.mark.parametrize("step", STEPS)
def test_a_compensation_run_twice_undoes_once(table, step):
    effect, compensation, undo = STEPS[step]
    _run(step)

    first = _run(compensation, compensation=True, compensated=["earlier"])
    assert first == {"compensated": ["earlier", compensation]}
    assert _state()[f"times_{undo}"] == 1

    second = _run(compensation, compensation=True, compensated=[])
    assert second == {"compensated": [compensation]}
    state = _state()
    assert state[undo] == "yes"
    assert state[f"times_{undo}"] == 1
    assert state[f"times_{effect}"] == 1


@pytest.mark.parametrize("step", STEPS)
def test_a_compensation_without_its_effect_does_nothing(table, step):
    _, compensation, undo = STEPS[step]
    assert _run(compensation, compensation=True) == {"compensated": [compensation]}
    assert _run(compensation, compensation=True) == {"compensated": [compensation]}
    state = _state()
    assert undo not in state
    assert f"times_{undo}" not in state


def test_a_refund_without_a_charge_does_nothing_even_after_other_steps(table):
    _run("reserve_inventory")
    _run("refund_payment", compensation=True)
    state = _state()
    assert "refund" not in state and "times_refund" not in state
    assert state["times_reservation"] == 1


def test_a_step_after_its_compensation_does_not_redo_the_effect(table):
    """A late retry of a charge after the refund must not charge again."""
    _run("charge_payment")
    _run("refund_payment", compensation=True)
    assert _run("charge_payment") == {"charge": VALUES["charge"]}
    state = _state()
    assert state["times_charge"] == 1
    assert state["times_refund"] == 1


def test_apply_once_returns_the_existing_value(table):
    assert order_state.apply_once(ORDER_ID, "charge", "first") == "first"
    assert order_state.apply_once(ORDER_ID, "charge", "second") == "first"
    assert order_state.apply_once(ORDER_ID, "refund", "yes", requires="nothing") == ""
    assert _state()["times_charge"] == 1


def test_a_permanent_failure_raises_on_every_call(table):
    for _ in range(2):
        with pytest.raises(PermanentError, match="charge_payment"):
            _run("charge_payment", {"charge_payment": "permanent"})
    state = _state()
    assert "charge" not in state
    assert state["calls_charge_payment"] == 2


def test_a_transient_failure_clears_after_the_asked_calls(table):
    fail = {"charge_payment": "transient:2"}
    for _ in range(2):
        with pytest.raises(TransientError):
            _run("charge_payment", fail)
        assert "charge" not in _state()
    assert _run("charge_payment", fail) == {"charge": VALUES["charge"]}
    assert _run("charge_payment", fail) == {"charge": VALUES["charge"]}
    state = _state()
    assert state["times_charge"] == 1
    assert state["calls_charge_payment"] == 4


def test_failures_are_counted_per_task(table):
    fail = {"charge_payment": "transient:1", "refund_payment": "transient:1"}
    with pytest.raises(TransientError):
        _run("charge_payment", fail)
    with pytest.raises(TransientError):
        _run("refund_payment", fail, compensation=True)
    assert _run("charge_payment", fail) == {"charge": VALUES["charge"]}
    _run("refund_payment", fail, compensation=True)
    state = _state()
    assert state["times_charge"] == state["times_refund"] == 1


def test_an_order_without_an_id_is_a_permanent_failure(table):
    with pytest.raises(PermanentError):
        tasks.run({"task": "reserve_inventory", "input": {"amount": 1}})
    with pytest.raises(PermanentError):
        tasks.run({"task": "reserve_inventory"})


def test_an_unknown_task_is_refused():
    with pytest.raises(InvalidAction):
        tasks.run({"task": "launch_rocket", "input": {"order_id": ORDER_ID}})


def test_each_compensation_that_runs_logs_a_line(table, log_lines):
    _run("charge_payment")
    log_lines()
    _run("refund_payment", compensation=True)
    with pytest.raises(TransientError):
        _run("release_inventory", {"release_inventory": "transient:1"}, compensation=True)

    lines = log_lines()
    ran = [line for line in lines if line["message"] == "compensation ran"]
    raised = [line for line in lines if line["message"] == "compensation raised"]
    assert [line["compensation"] for line in ran] == ["refund_payment"]
    assert [line["compensation"] for line in raised] == ["release_inventory"]
    assert raised[0]["level"] == "WARNING"
    assert "TransientError" in raised[0]["error"]
    assert "Traceback" not in str(raised[0])  # the state machine has the error; one line


def test_a_step_logs_no_compensation_line(table, log_lines):
    _run("charge_payment")
    assert not [line for line in log_lines() if "compensation" in line["message"]]
