"""The order saga end to end: the synthesized state machine, run by moto's interpreter.

The state machine and its state table come from the real stack, deployed as the local
cloud deploys it (``infra.local.deploy``); its Lambda tasks run the real saga handler in
this process (``infra.local.stepfunctions``), and the steps' effects land in moto.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import boto3
import pytest
from moto.stepfunctions.parser.utils import TMP_THREADS

from functions.actions import store
from functions.actions.hooks import AwaitSaga
from functions.actions.store import ActionStatus, LogEvent, SagaOutcome
from functions.sagas.order import COMPENSATIONS, STEPS, WAIT_SECONDS
from functions.settings import reset as reset_settings
from infra.local.deploy import deploy
from infra.local.stepfunctions import inprocess_lambdas
from tests.conftest import reset_process_state

SAGA_HANDLER = "functions.handlers.saga.lambda_handler"
WORKER_HANDLER = "functions.handlers.worker.lambda_handler"
OUTCOME_HANDLER = "functions.handlers.saga_outcome.lambda_handler"
COMPENSATION_FAILED = "Saga.CompensationFailed"
# The effect each step records, and the one its compensation records.
EFFECTS = {
    "reserve_inventory": ("reservation", "released"),
    "charge_payment": ("charge", "refund"),
    "create_shipment": ("shipment", "shipment_canceled"),
}


# --- the synthesized stack ---------------------------------------------------------------


@pytest.fixture(scope="module")
def template(synthesized) -> dict:
    """The real stack's template (the session's one synthesis)."""
    return synthesized[0]


def _only(template: dict, predicate) -> str:
    found = [key for key, value in template["Resources"].items() if predicate(value)]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def state_machine_id(template) -> str:
    return _only(template, lambda r: r["Type"] == "AWS::StepFunctions::StateMachine")


@pytest.fixture
def function_id(saga) -> str:
    """The saga function's name, as deployed."""
    return saga.function


@pytest.fixture
def definition(saga) -> str:
    return saga.sfn.describe_state_machine(stateMachineArn=saga.arn)["definition"]


def test_the_definition_calls_only_the_saga_function(definition, function_id):
    states = json.loads(definition)["States"]
    resources = {state["Resource"] for state in states.values() if state["Type"] == "Task"}
    assert {resource.rpartition(":function:")[2] for resource in resources} == {function_id}
    tasks = {state["Parameters"]["task"] for state in states.values() if state["Type"] == "Task"}
    assert tasks == set(STEPS) | set(COMPENSATIONS.values())


def test_the_state_machine_logs_every_event_without_its_data_and_is_traced(
    template, state_machine_id
):
    properties = template["Resources"][state_machine_id]["Properties"]
    assert properties["LoggingConfiguration"]["Level"] == "ALL"
    # Orders and payments stay out of the log unless sagaLogExecutionData asks.
    assert properties["LoggingConfiguration"]["IncludeExecutionData"] is False
    assert properties["LoggingConfiguration"]["Destinations"]
    assert properties["TracingConfiguration"]["Enabled"] is True
    assert properties.get("StateMachineType", "STANDARD") == "STANDARD"


# --- the saga on moto --------------------------------------------------------------------


class Saga:
    """The order saga's state machine on moto, with its state table, and the worker and
    the outcomes function of the same stack, run in this process."""

    def __init__(
        self, arn: str, table: str, slept: list[float], calls: list[dict], deployment
    ) -> None:
        self.arn = arn
        self.table = table
        self.function = _function(deployment, SAGA_HANDLER).name
        self.slept = slept
        self.calls = calls
        self.deployment = deployment
        self.sfn = boto3.client("stepfunctions")
        self.dynamodb = boto3.client("dynamodb")
        self._threads_before = len(TMP_THREADS)  # moto never empties the list

    def enqueue(self, order: dict[str, Any]) -> str:
        """An action of ``start_order_saga`` for the order, on its queue; its id."""
        from functions.actions import enqueue_async_action

        return enqueue_async_action("start_order_saga", order)

    def work(self) -> None:
        """Run the worker on the default job queue until it is empty."""
        from functions.actions.config import queue_named
        from functions.handlers.worker import lambda_handler

        self._drain(queue_named("default").arn, lambda_handler)

    def deliver_outcomes(self) -> int:
        """Run the outcomes function on what the rule put on its queue; how many it got."""
        from functions.handlers.saga_outcome import lambda_handler

        [source] = [
            s
            for s in self.deployment.event_sources
            if s.function == _function(self.deployment, OUTCOME_HANDLER).name
        ]
        return self._drain(source.queue_arn, lambda_handler)

    def _drain(self, queue_arn: str, handler) -> int:
        from infra.local.lambda_runtime import LocalContext
        from infra.local.pollers import Mapping, poll_once

        url = self.deployment.queue_urls[queue_arn]
        mapping = Mapping("f", url, queue_arn, batch_size=10, report_batch_item_failures=True)
        received = 0
        for _ in range(20):
            result = poll_once(mapping, lambda name, event: handler(event, LocalContext(name)))
            if not result.received:
                break
            received += result.received
        return received

    def _environment(self, handler: str) -> dict[str, str]:
        return _function(self.deployment, handler).environment

    def start(self, order: dict[str, Any], name: str | None = None) -> str:
        return self.sfn.start_execution(
            stateMachineArn=self.arn,
            name=name or f"test-{uuid.uuid4().hex[:12]}",
            input=json.dumps({"input": order}),
        )["executionArn"]

    def wait(self, execution_arn: str, timeout: float = 20.0) -> dict:
        """The execution once it has ended: joins the interpreter's threads, no polling.

        moto runs each execution (and each program inside it) on a thread it appends to
        ``TMP_THREADS``; a thread may start another, so join this test's threads until
        none is alive.
        """
        while running := [t for t in TMP_THREADS[self._threads_before :] if t.is_alive()]:
            for thread in running:
                thread.join(timeout)
                if thread.is_alive():
                    raise AssertionError(f"{execution_arn} still RUNNING after {timeout}s")
        described = self.sfn.describe_execution(executionArn=execution_arn)
        assert described["status"] != "RUNNING", described
        return described

    def run(self, order: dict[str, Any]) -> dict:
        return self.wait(self.start(order))

    def history(self, execution_arn: str) -> list[dict]:
        return self.sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]

    def state(self, order_id: str) -> dict[str, Any]:
        item = self.dynamodb.get_item(
            TableName=self.table, Key={"order_id": {"S": order_id}}, ConsistentRead=True
        ).get("Item", {})
        return {key: value.get("S", value.get("N")) for key, value in item.items()}

    def tasks_called(self) -> list[str]:
        return [call["task"] for call in self.calls]


def _function(deployment, handler: str):
    return next(f for f in deployment.functions.values() if f.handler == handler)


@pytest.fixture
def saga(template, monkeypatch):
    from moto import mock_aws

    from functions.handlers.saga import lambda_handler

    calls: list[dict] = []

    def handler(event, context):
        calls.append(event)
        return lambda_handler(event, context)

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        reset_process_state()
        deployment = deploy(template, stack_name="ActionScheduler")
        # One process runs the saga's tasks, the worker and the outcomes function: the
        # environment of all three (they agree where they overlap).
        for each in (SAGA_HANDLER, WORKER_HANDLER, OUTCOME_HANDLER):
            for name, value in _function(deployment, each).environment.items():
                if not name.startswith("POWERTOOLS_"):
                    monkeypatch.setenv(name, value)
        reset_settings()
        table = _function(deployment, SAGA_HANDLER).environment["SAGA_TABLE_NAME"]
        [arn] = [arn for arn in deployment.physical.values() if ":stateMachine:" in arn]
        name = _function(deployment, SAGA_HANDLER).name
        with inprocess_lambdas({name: handler}) as slept:
            yield Saga(arn, table, slept, calls, deployment)
    reset_process_state()


def _order(fail: dict[str, str] | None = None) -> dict[str, Any]:
    return {"order_id": f"o-{uuid.uuid4().hex[:8]}", "amount": 42, "fail": fail or {}}


def _times(state: dict, effect: str) -> int:
    return int(float(state.get(f"times_{effect}", 0)))


def test_an_order_without_failures_runs_every_step_once(saga):
    order = _order()
    result = saga.run(order)

    assert result["status"] == "SUCCEEDED"
    state = saga.state(order["order_id"])
    for effect, undo in EFFECTS.values():
        assert _times(state, effect) == 1
        assert undo not in state
    assert state["reservation"] == f"res-{order['order_id']}"
    assert state["charge"] == f"ch-{order['order_id']}"
    assert state["shipment"] == f"sh-{order['order_id']}"
    assert saga.tasks_called() == list(STEPS)
    assert saga.slept == []
    output = json.loads(result["output"])
    assert output["comp"] == {"compensated": []}
    assert set(output["results"]) == set(STEPS)


@pytest.mark.parametrize("failing", STEPS)
def test_a_permanent_failure_undoes_that_step_and_every_one_before(saga, failing):
    order = _order({failing: "permanent"})
    result = saga.run(order)

    assert result["status"] == "FAILED"
    assert result["error"] == "PermanentError"
    ran = list(STEPS[: STEPS.index(failing) + 1])
    expected = [COMPENSATIONS[step] for step in reversed(ran)]
    cause = json.loads(result["cause"])
    assert cause["compensated"] == expected
    assert cause["error"] == "PermanentError"
    assert f"{failing} failed" in cause["cause"]

    # No retries for a permanent failure: each task ran once.
    assert saga.tasks_called() == ran + expected
    assert saga.slept == []

    state = saga.state(order["order_id"])
    for step, (effect, undo) in EFFECTS.items():
        happened = step in ran and step != failing
        assert _times(state, effect) == (1 if happened else 0), (step, state)
        # A compensation records its undo only where there was something to undo.
        assert _times(state, undo) == (1 if happened else 0), (step, state)


def test_a_transient_failure_that_clears_is_retried_with_backoff(saga):
    order = _order({"charge_payment": "transient:2"})
    result = saga.run(order)

    assert result["status"] == "SUCCEEDED"
    assert saga.slept == [2, 4]
    assert saga.tasks_called() == [
        "reserve_inventory",
        "charge_payment",
        "charge_payment",
        "charge_payment",
        "create_shipment",
    ]
    state = saga.state(order["order_id"])
    assert _times(state, "charge") == 1
    assert int(state["calls_charge_payment"]) == 3
    for _, undo in EFFECTS.values():
        assert undo not in state
    assert json.loads(result["output"])["comp"] == {"compensated": []}


def test_a_transient_failure_beyond_the_retries_compensates(saga):
    order = _order({"charge_payment": "transient:10"})
    result = saga.run(order)

    assert result["status"] == "FAILED"
    assert result["error"] == "TransientError"
    assert json.loads(result["cause"])["compensated"] == ["refund_payment", "release_inventory"]
    # MaxAttempts 3 retries after the first call, doubling from 2 seconds.
    assert saga.slept == [2, 4, 8]
    state = saga.state(order["order_id"])
    assert int(state["calls_charge_payment"]) == 4
    assert "charge" not in state and "refund" not in state
    assert _times(state, "reservation") == 1
    assert _times(state, "released") == 1
    assert "shipment" not in state


def test_a_failing_compensation_ends_in_compensation_failed(saga):
    order = _order({"create_shipment": "permanent", "refund_payment": "permanent"})
    execution = saga.start(order)
    result = saga.wait(execution)

    assert result["status"] == "FAILED"
    assert result["error"] == COMPENSATION_FAILED
    assert "refund_payment failed" in result["cause"]
    # The compensation is retried (1 + 4 attempts), then the saga stops: the inventory
    # stays reserved and the charge stays unrefunded for an operator to settle.
    assert (
        saga.tasks_called()
        == ["reserve_inventory", "charge_payment", "create_shipment"]
        + ["cancel_shipment"]
        + ["refund_payment"] * 5
    )
    assert saga.slept == [2, 4, 8, 16]
    state = saga.state(order["order_id"])
    assert _times(state, "charge") == 1
    assert "refund" not in state
    assert "released" not in state
    assert "shipment_canceled" not in state  # there was no shipment to cancel
    failed = [e for e in saga.history(execution) if e["type"] == "ExecutionFailed"]
    assert failed and failed[0]["executionFailedEventDetails"]["error"] == COMPENSATION_FAILED


def test_the_execution_history_shows_the_compensations_in_reverse(saga):
    order = _order({"create_shipment": "permanent"})
    execution = saga.start(order)
    assert saga.wait(execution)["status"] == "FAILED"
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in saga.history(execution)
        if e["type"].endswith("StateEntered")
    ]
    assert entered == [
        "Start",
        "reserve_inventory",
        "charge_payment",
        "create_shipment",
        "Undo create_shipment",
        "Undo charge_payment",
        "Undo reserve_inventory",
        "Summarize",
        "SummaryAsText",
        "SagaFailed",
    ]


# --- the hook that starts the saga ---------------------------------------------------------


def _action(order_id: str):
    from functions.actions.hooks import ActionContext

    return ActionContext(
        action_id=f"a-{order_id}",
        hook="start_order_saga",
        group="",
        attempt=1,
        max_attempts=5,
        correlation_id=f"c-{order_id}",
    )


def test_the_hook_starts_one_execution_per_order(saga, monkeypatch):
    from functions.hooks.orders import start_order_saga

    monkeypatch.setenv("ORDER_SAGA_ARN", saga.arn)
    reset_settings()
    order = _order()

    first = start_order_saga(order, _action(order["order_id"]))
    # The starter waits for the saga; a repeat finds it started and does not.
    assert isinstance(first, AwaitSaga)
    execution = first.execution_arn
    assert str(first) == f"saga started: {execution}"
    assert first.wait_seconds == WAIT_SECONDS
    assert execution.endswith(f":order-{order['order_id']}")
    assert saga.wait(execution)["status"] == "SUCCEEDED"

    second = start_order_saga(order, _action(order["order_id"]))
    assert second == f"saga already started: {execution}"

    executions = saga.sfn.list_executions(stateMachineArn=saga.arn)["executions"]
    assert [e["name"] for e in executions] == [f"order-{order['order_id']}"]
    assert _times(saga.state(order["order_id"]), "charge") == 1


def test_the_hook_started_again_while_the_saga_runs_starts_nothing_new(
    saga, definition, function_id, monkeypatch
):
    """A repeat while the first execution still runs: Step Functions answers the same ARN."""
    from functions.hooks.orders import start_order_saga

    monkeypatch.setenv("ORDER_SAGA_ARN", saga.arn)
    reset_settings()
    order = _order()
    release = threading.Event()
    entered = threading.Event()
    from functions.handlers.saga import lambda_handler

    def blocking(event, context):
        entered.set()
        release.wait(10)
        return lambda_handler(event, context)

    with inprocess_lambdas({function_id: blocking}):
        first = start_order_saga(order, _action(order["order_id"]))
        assert entered.wait(10)
        try:
            second = start_order_saga(order, _action(order["order_id"]))
        finally:
            release.set()
        execution = first.execution_arn
        assert saga.wait(execution)["status"] == "SUCCEEDED"

    assert str(first) == f"saga started: {execution}"
    assert second == f"saga already started: {execution}"
    executions = saga.sfn.list_executions(stateMachineArn=saga.arn)["executions"]
    assert len(executions) == 1


def test_the_hook_refuses_an_order_without_an_id(saga, monkeypatch):
    from functions.actions.exceptions import PermanentError
    from functions.hooks.orders import start_order_saga

    monkeypatch.setenv("ORDER_SAGA_ARN", saga.arn)
    reset_settings()
    with pytest.raises(PermanentError):
        start_order_saga({"amount": 1}, _action("none"))
    assert saga.sfn.list_executions(stateMachineArn=saga.arn)["executions"] == []


# --- the action that started the saga: its outcome --------------------------------------------


def _events(action) -> list[LogEvent]:
    return [entry.event for entry in action.log]


def _waiting(saga, order: dict[str, Any]) -> tuple[str, str]:
    """An action of start_order_saga, run by the worker: its id and the execution it waits for."""
    action_id = saga.enqueue(order)
    saga.work()
    action = store.get(action_id)
    assert action.status is ActionStatus.IN_PROGRESS
    assert _events(action)[-1] is LogEvent.WAITING
    assert action.waiting_for is not None
    return action_id, action.waiting_for


def test_the_action_waits_for_its_saga_then_completes_with_it(saga, log_lines):
    action_id, execution = _waiting(saga, _order())
    waiting = store.get(action_id)
    assert waiting.claim_expires_at.timestamp() == pytest.approx(
        waiting.updated_at.timestamp() + WAIT_SECONDS
    )
    assert saga.wait(execution)["status"] == "SUCCEEDED"
    assert store.get(action_id).status is ActionStatus.IN_PROGRESS  # until the outcome

    assert saga.deliver_outcomes() == 1

    action = store.get(action_id)
    assert action.status is ActionStatus.COMPLETE
    assert _events(action)[-3:] == [LogEvent.WAITING, LogEvent.SAGA_SUCCEEDED, LogEvent.COMPLETED]
    assert action.log[-2].message == f"order-{action.args['order_id']} succeeded"
    assert action.saga == SagaOutcome(execution, "SUCCEEDED")
    assert action.waiting_for is None and action.claim_expires_at is None
    [ended] = [line for line in log_lines() if line["message"] == "saga succeeded"]
    assert (ended["action_id"], ended["status"]) == (action_id, "SUCCEEDED")


def test_an_action_whose_saga_compensates_fails_with_the_sagas_error(saga, log_lines):
    order = _order({"create_shipment": "permanent"})
    action_id, execution = _waiting(saga, order)
    assert saga.wait(execution)["status"] == "FAILED"
    saga.deliver_outcomes()

    action = store.get(action_id)
    assert action.status is ActionStatus.FAILED
    error = (
        f"saga order-{order['order_id']} failed: PermanentError: create_shipment failed "
        "(as asked); compensated: cancel_shipment, refund_payment, release_inventory"
    )
    assert action.last_error == error
    assert _events(action)[-3:] == [LogEvent.WAITING, LogEvent.SAGA_FAILED, LogEvent.FAILED]
    assert action.saga.status == "FAILED"
    # In the failed list, as any failed action.
    failed = store.query(store.Criteria(hook="start_order_saga", status=ActionStatus.FAILED))
    assert [found.action_id for found in failed.items] == [action_id]
    lines = log_lines()
    [ended] = [line for line in lines if line["message"] == "saga failed"]
    assert ended["level"] == "WARNING" and ended["action_id"] == action_id
    assert "compensated: cancel_shipment" in ended["error"]
    ran = [line["compensation"] for line in lines if line["message"] == "compensation ran"]
    assert ran == ["cancel_shipment", "refund_payment", "release_inventory"]


def test_an_outcome_delivered_twice_is_recorded_once(saga):
    action_id, execution = _waiting(saga, _order())
    saga.wait(execution)
    saga.deliver_outcomes()
    recorded = store.get(action_id)

    assert store.record_saga_outcome(action_id, SagaOutcome(execution, "SUCCEEDED")) == recorded
    assert store.get(action_id) == recorded


def test_a_saga_that_ends_before_its_action_waits_finishes_the_action_at_once(saga, register):
    """The outcome may land while the run still holds its claim: the wait finds it."""
    from functions.hooks.orders import start_order_saga

    def racing(args, action):
        started = start_order_saga(args, action)
        saga.wait(started.execution_arn)
        assert saga.deliver_outcomes() == 1
        noted = store.get(action.action_id)
        assert noted.status is ActionStatus.IN_PROGRESS
        assert _events(noted)[-1] is LogEvent.SAGA_FAILED
        return started

    register("racing_order_saga", racing)
    from functions.actions import enqueue_async_action

    action_id = enqueue_async_action("racing_order_saga", _order({"charge_payment": "permanent"}))
    saga.work()

    action = store.get(action_id)
    assert action.status is ActionStatus.FAILED
    assert LogEvent.WAITING not in _events(action)
    assert _events(action)[-2:] == [LogEvent.SAGA_FAILED, LogEvent.FAILED]
    assert "PermanentError: charge_payment failed" in action.last_error


def test_a_second_start_of_the_same_order_completes_at_once_and_the_first_gets_the_outcome(saga):
    order = _order()
    first = saga.enqueue(order)
    second = saga.enqueue(order)
    saga.work()
    assert store.get(second).status is ActionStatus.COMPLETE
    assert store.get(second).log[-1].message.startswith("saga already started: ")
    execution = store.get(first).waiting_for
    saga.wait(execution)
    saga.deliver_outcomes()

    assert store.get(first).status is ActionStatus.COMPLETE
    assert store.get(second).saga is None  # the outcome goes to the starter only


def test_an_aborted_saga_fails_its_action(saga, function_id):
    from functions.handlers.saga import lambda_handler

    entered, release = threading.Event(), threading.Event()

    def blocking(event, context):
        entered.set()
        release.wait(10)
        return lambda_handler(event, context)

    with inprocess_lambdas({function_id: blocking}):
        action_id = saga.enqueue(_order())
        saga.work()
        execution = store.get(action_id).waiting_for
        assert entered.wait(10)
        saga.sfn.stop_execution(executionArn=execution, error="Operator", cause="stopped by hand")
        release.set()
        assert saga.wait(execution)["status"] == "ABORTED"
    saga.deliver_outcomes()

    action = store.get(action_id)
    assert action.status is ActionStatus.FAILED
    assert action.saga.status == "ABORTED"
    assert "aborted" in action.last_error


def test_an_outcome_for_an_action_that_is_gone_is_logged_and_dropped(saga, log_lines):
    action_id, execution = _waiting(saga, _order())
    store.table.dynamodb().delete_item(TableName=store.table.name(), Key=store.table.key(action_id))
    saga.wait(execution)
    assert saga.deliver_outcomes() == 1
    assert saga.deliver_outcomes() == 0  # not received again
    assert [line for line in log_lines() if "gone" in line["message"]]


# --- actionsctl saga ------------------------------------------------------------------------


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    from infra.cli.main import main

    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_saga_list_shows_the_executions_newest_first_and_filters_by_status(saga, capsys):
    good, bad = _order(), _order({"charge_payment": "permanent"})
    for order in (good, bad):
        saga.wait(saga.start(order, name=f"order-{order['order_id']}"))

    code, out, err = _cli(capsys, "saga", "list")
    assert (code, err) == (0, "")
    [header, *rows] = out.strip().splitlines()[:3]
    assert header.split()[:4] == ["EXECUTION", "STATUS", "STARTED", "STOPPED"]
    assert {row.split()[0]: row.split()[1] for row in rows} == {
        f"order-{good['order_id']}": "SUCCEEDED",
        f"order-{bad['order_id']}": "FAILED",
    }

    code, out, _ = _cli(capsys, "saga", "list", "--status", "failed", "--json")
    assert code == 0
    [listed] = [json.loads(line) for line in out.splitlines()]
    assert listed["name"] == f"order-{bad['order_id']}"
    assert listed["status"] == "FAILED"


def test_saga_get_shows_how_it_ended_the_states_it_went_through_and_its_action(saga, capsys):
    order = _order({"create_shipment": "permanent"})
    action_id, execution = _waiting(saga, order)
    saga.wait(execution)
    saga.deliver_outcomes()

    name = f"order-{order['order_id']}"
    code, out, err = _cli(capsys, "saga", "get", name)
    assert (code, err) == (0, "")
    fields = dict(line.split(":", 1) for line in out.splitlines() if not line.startswith(" "))
    assert fields["execution"].strip() == name
    assert fields["status"].strip() == "FAILED"
    assert fields["action"].strip() == f"{action_id} (failed)"
    assert "compensated: cancel_shipment, refund_payment, release_inventory" in fields["error"]
    assert "Undo create_shipment -> Undo charge_payment -> Undo reserve_inventory" in out
    assert "origin" not in fields["input"]  # the order, not the plumbing

    code, out, _ = _cli(capsys, "saga", "get", execution, "--json")
    document = json.loads(out)
    assert document["arn"] == execution
    assert document["action_id"] == action_id
    assert document["input"]["order_id"] == order["order_id"]
    assert document["states"][:2] == ["Start", "reserve_inventory"]


def test_saga_get_of_an_unknown_execution_is_a_one_line_error(saga, capsys):
    code, out, err = _cli(capsys, "saga", "get", "order-nobody")
    assert (code, out) == (1, "")
    assert err.strip() == "actionsctl: error: no execution 'order-nobody' of the order saga"


# --- the local seam itself -------------------------------------------------------------------


def test_with_a_clock_a_retry_waits_its_interval_on_that_clock(saga, function_id):
    """The local cloud's retries wait on its clock: a test moves the clock, nobody sleeps."""
    from functions.handlers.saga import lambda_handler
    from infra.local.scheduler_clock import ManualClock

    clock = ManualClock()
    called = threading.Semaphore(0)

    def handler(event, context):
        saga.calls.append(event)
        called.release()
        return lambda_handler(event, context)

    with inprocess_lambdas({function_id: handler}, clock=clock) as slept:
        execution = saga.start(_order({"charge_payment": "transient:1"}))
        for _ in range(2):  # reserve_inventory, then the first charge_payment
            assert called.acquire(timeout=10)
        assert clock.wait_for_waiters(1, timeout=10)
        assert slept == [2]
        assert saga.tasks_called() == ["reserve_inventory", "charge_payment"]

        clock.advance(1.5)  # not yet: the retry still waits for the clock
        assert clock.wait_for_waiters(1, timeout=10)
        assert saga.tasks_called() == ["reserve_inventory", "charge_payment"]

        clock.advance(0.5)
        assert saga.wait(execution)["status"] == "SUCCEEDED"
    assert saga.tasks_called() == [
        "reserve_inventory",
        "charge_payment",
        "charge_payment",
        "create_shipment",
    ]
    assert clock.waiting == 0


def test_an_unregistered_function_fails_the_task(saga, function_id):
    with inprocess_lambdas({"SomeOtherFunction": lambda event, context: {}}):
        result = saga.run(_order())
    assert result["status"] == "FAILED"
    # The first step fails, and so does its compensation: nothing can run.
    assert result["error"] == COMPENSATION_FAILED
    assert "LookupError" in result["cause"]
    assert saga.calls == []


def test_a_large_order_travels_by_claim_check_and_every_step_reads_it(saga):
    """An order over Step Functions' 256 KB (refused at StartExecution on AWS, and here:
    infra/local/aws_limits.py) starts its saga; the execution carries a reference."""
    from infra.local.aws_limits import STATES_PAYLOAD_BYTES, enforce

    order = {**_order(), "lines": ["x" * 1000] * 300}  # about 300 KB
    assert len(json.dumps(order)) > STATES_PAYLOAD_BYTES
    with enforce():
        _, execution = _waiting(saga, order)
        described = saga.wait(execution)

    assert described["status"] == "SUCCEEDED", described
    carried = json.loads(described["input"])["input"]
    assert set(carried) == {"order_id", "origin", "payload"}
    assert len(described["input"]) < 2000
    # Each step got the whole order back (charge_payment needs its amount).
    state = saga.state(order["order_id"])
    assert state["charge"] == f"ch-{order['order_id']}"
    assert saga.tasks_called() == list(STEPS)
    assert all("payload" in call["input"] for call in saga.calls)
