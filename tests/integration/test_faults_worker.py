"""The worker under AWS faults: every call of each of its paths fails in turn.

The promise: a fault fails the record (a partial batch response, so SQS delivers it
again) and never loses the action; on redelivery the action ends complete, or failed
with exactly one dead letter, and a successful hook's effect happens once.

Where at-least-once is inherent, the tests say so: a hook whose effect happened and
whose completion could not be recorded (the completion write failed) runs again on
redelivery, after its claim expires. No ordering avoids that without a transaction
spanning the hook's own side effects; hooks that must not repeat an effect use the
action id as their own idempotency key. Likewise a dead letter whose ``failed``
status could not be written is sent again when the run repeats.

Each scenario's path is recorded from a clean run and checked against its declared
list, so a new AWS call fails ``test_the_paths_are_as_declared`` until declared here.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import boto3
import pytest
import time_machine

from functions.actions import enqueue_async_action
from functions.actions.exceptions import PermanentError, TransientError
from tests.integration.faults import Fault, Faults

DEP = "fault_dep"
# (service, operation, what it addresses: the actions or circuits table, the queue or its DLQ)
CLAIM = ("dynamodb", "UpdateItem", "actions")
FINISH = ("dynamodb", "UpdateItem", "actions")
SEND = ("sqs", "SendMessage", "queue")
DEAD_LETTER = ("sqs", "SendMessage", "dead-letter queue")
CIRCUIT_READ = ("dynamodb", "GetItem", "circuits")
CIRCUIT_WRITE = ("dynamodb", "UpdateItem", "circuits")
Step = tuple[str, str, str]


@dataclass(frozen=True)
class Scenario:
    """A hook's behaviour, the circuit it starts with, and the calls of its first run."""

    name: str
    path: list[tuple[Step, str]]
    fails: tuple[str, ...] = ()  # outcomes of the hook's runs, in order: "transient", ...
    circuit: str | None = None  # None (no circuit), "closed" or "half-open due"
    status: str = "complete"

    @property
    def steps(self) -> list[Step]:
        return [step for step, _ in self.path]


SCENARIOS = [
    Scenario("complete", [(CLAIM, "claim"), (FINISH, "complete")]),
    Scenario(
        "retry",
        [(CLAIM, "claim"), (SEND, "next attempt"), (FINISH, "retry_later")],
        fails=("transient",),
    ),
    Scenario(
        "dead_letter",
        [(CLAIM, "claim"), (DEAD_LETTER, "dead letter"), (FINISH, "fail")],
        fails=("permanent", "permanent", "permanent"),
        status="failed",
    ),
    Scenario(
        "circuit_trial",
        [
            (CIRCUIT_READ, "circuit state"),
            (CIRCUIT_WRITE, "take the half-open trial"),
            (CLAIM, "claim"),
            (FINISH, "complete"),
            (CIRCUIT_WRITE, "close the circuit"),
        ],
        circuit="half-open due",
    ),
    Scenario(
        "circuit_failure",
        [
            (CIRCUIT_READ, "circuit state"),
            (CLAIM, "claim"),
            (CIRCUIT_WRITE, "count the failure"),
            (CIRCUIT_WRITE, "start a window"),
            (CIRCUIT_READ, "failures so far"),
            (SEND, "next attempt"),
            (FINISH, "retry_later"),
        ],
        fails=("transient",),
        circuit="closed",
    ),
]
BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}
CASES = [
    pytest.param(scenario, index, id=f"{scenario.name}-{index}-{what.replace(' ', '_')}")
    for scenario in SCENARIOS
    for index, (_, what) in enumerate(scenario.path)
]
# A successful hook whose completion was not recorded runs again: inherent (see above).
REPEATS_EFFECT = {("complete", "complete"), ("circuit_trial", "complete")}
# A dead letter whose failed status was not recorded, or whose send's answer was lost,
# is sent again with the repeat run: the standard dead-letter queue cannot drop it.
REPEATS_DEAD_LETTER = {("dead_letter", "fail"), ("dead_letter", "dead letter", "lost_response")}
# The circuit's bookkeeping after the hook ran is best effort: a fault there does not
# fail the record (that would run a hook again for a counter's sake).
BEST_EFFORT = {
    ("circuit_trial", "close the circuit"),
    ("circuit_failure", "count the failure"),
    ("circuit_failure", "start a window"),
    ("circuit_failure", "failures so far"),
}


class Hook:
    """Fails as its plan says, then succeeds; counts runs and effects (successful runs)."""

    def __init__(self, fails: tuple[str, ...]) -> None:
        self.plan = list(fails)
        self.runs = 0
        self.effects = 0

    def __call__(self, args, action) -> None:
        self.runs += 1
        outcome = self.plan.pop(0) if self.plan else None
        if outcome == "transient":
            raise TransientError("the dependency is busy")
        if outcome == "permanent":
            raise PermanentError("the input is wrong")
        self.effects += 1


@dataclass
class World:
    jobs: object
    faults: Faults
    clock: time_machine.Traveller
    hook: Hook
    action_id: str = ""
    rounds: list = field(default_factory=list)

    def work_until_settled(self) -> None:
        """Run the worker; after a failed record, wait out its visibility (and the claim)."""
        for _ in range(6):
            self.rounds.extend(self.jobs.work())
            if self.jobs.depth() == 0:
                return
            # past the queue's visibility timeout, six times the worker's
            self.clock.shift(int(os.environ["WORKER_TIMEOUT_SECONDS"]) * 6 + 1)
        raise AssertionError("the queue never settled")


@pytest.fixture
def clock():
    with time_machine.travel(time.time(), tick=True) as traveller:
        yield traveller


def _world(stack, jobs, register, clock, scenario: Scenario) -> World:
    faults = Faults().install()
    hook = Hook(scenario.fails)
    name = f"fault_{scenario.name}"
    register(
        name, hook, base_delay=0, max_delay=0, max_attempts=3, circuit=scenario.circuit and DEP
    )
    if scenario.circuit == "half-open due":
        boto3.client("dynamodb").put_item(
            TableName=stack.resources.circuits_table,
            Item={
                "name": {"S": DEP},
                "state": {"S": "open"},
                "opened_at": {"N": str(time.time() - 3600)},
                "failures": {"N": "5"},
                "window_start": {"N": str(time.time() - 3600)},
            },
        )
    action_id = enqueue_async_action(name, {"n": 1})
    return World(jobs, faults, clock, hook, action_id)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_the_paths_are_as_declared(stack, jobs, register, clock, scenario):
    world = _world(stack, jobs, register, clock, scenario)
    with world.faults.failing({}):
        jobs.work(rounds=1)
    assert _steps(stack, world.faults) == scenario.steps


def _steps(stack, faults: Faults) -> list[Step]:
    """The recorded calls, with what each addressed named by its role."""
    resources = stack.resources
    roles = {
        resources.environment["ACTIONS_TABLE_NAME"]: "actions",
        resources.circuits_table: "circuits",
        resources.queue_url: "queue",
        resources.queues["default"].dead_letter_url: "dead-letter queue",
    }
    return [
        (service, operation, roles.get(target, target))
        for (service, operation), target in zip(faults.calls, faults.targets, strict=True)
    ]


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize(("scenario", "index"), CASES)
def test_a_fault_at_each_call_fails_the_record_and_the_action_ends_once(
    stack, jobs, register, clock, scenario, index, when
):
    """``before``: the call is refused (a throttle at even indices, a server error at odd
    ones: the worker treats them alike); ``after``: it took effect and its answer was lost."""
    world = _world(stack, jobs, register, clock, scenario)
    what = scenario.path[index][1]
    kind = "lost_response" if when == "after" else ("throttle", "server_error")[index % 2]

    with world.faults.failing({index: Fault(kind)}):
        first = jobs.work(rounds=1)
    assert world.faults.injected, "the fault was not injected: the path changed"
    failed = first[0]
    if (scenario.name, what) in BEST_EFFORT:
        assert not (failed.failed or failed.crashed), failed
    else:
        # The record is reported failed (or the invocation failed): SQS keeps the message.
        assert failed.failed or failed.crashed, failed
    world.faults.reset()

    world.work_until_settled()

    item = jobs.action(world.action_id)
    assert item.status == scenario.status, item
    dead = [d for d in jobs.dead_letters() if d["attributes"].get("action_id") == world.action_id]
    if scenario.status == "failed":
        repeated = (scenario.name, what) in REPEATS_DEAD_LETTER and kind != "lost_response"
        repeated |= (scenario.name, what, kind) in REPEATS_DEAD_LETTER
        assert len(dead) == (2 if repeated else 1), dead
    else:
        assert dead == []
        repeated = (scenario.name, what) in REPEATS_EFFECT and kind != "lost_response"
        assert world.hook.effects == (2 if repeated else 1), (world.hook.runs, item.log)
    assert jobs.depth() == 0
