"""``POST /actions`` with an Idempotency-Key under AWS faults: every call of its path fails
in turn, as AWS can make it fail.

The promise: a failure answers a status the client retries (503, or 409 with
Retry-After while an interrupted request still holds the key), never 2xx; and retrying
with the same key ends in exactly one action, which the worker runs once, whatever
was written before the fault (the action's id is derived from the key and fields).
"""

from __future__ import annotations

import time

import pytest
import time_machine

from functions.api.idempotency import RETRY_AFTER_SECONDS
from tests.integration.faults import KINDS, Fault, Faults

HOOK = "api_fault_hook"
PATH = [
    ("dynamodb", "PutItem"),  # the idempotency record, in progress
    ("dynamodb", "PutItem"),  # the action, pending
    ("sqs", "SendMessage"),
    ("dynamodb", "GetItem"),  # the action, read back for the answer
    ("dynamodb", "UpdateItem"),  # the idempotency record, completed
]
REPEAT_PATH = [("dynamodb", "PutItem")]
BODY = {"hook": HOOK, "args": {"order": 7}}
KEY = {"Idempotency-Key": "fault-key-1"}


@pytest.fixture
def runs(register) -> list[str]:
    ran: list[str] = []
    register(HOOK, lambda args, action: ran.append(action.action_id), base_delay=0, max_delay=0)
    return ran


@pytest.fixture
def faults(stack) -> Faults:
    return Faults().install()


@pytest.fixture
def clock():
    """The wall clock, movable: an interrupted request holds its key until it expires."""
    with time_machine.travel(time.time(), tick=True) as traveller:
        yield traveller


def _retry_until_made(actions_api, clock) -> list[int]:
    statuses = []
    for _ in range(6):
        answer = actions_api.request("POST", "/actions", BODY, headers=KEY)
        statuses.append(answer.status)
        if answer.status == 201:
            return statuses
        assert (answer.status, answer.body["error"]) == (409, "request_in_progress"), answer
        assert answer.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        clock.shift(RETRY_AFTER_SECONDS + 1)
    raise AssertionError(f"never made: {statuses}")


def test_the_paths_are_as_declared(stack, actions_api, faults, runs):
    with faults.failing({}) as calls:
        assert actions_api.request("POST", "/actions", BODY, headers=KEY).status == 201
    assert calls == PATH
    with faults.failing({}) as calls:
        assert actions_api.request("POST", "/actions", BODY, headers=KEY).status == 201
    assert calls == REPEAT_PATH


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "index", range(len(PATH)), ids=[f"{i}-{s}.{o}" for i, (s, o) in enumerate(PATH)]
)
def test_a_fault_at_each_call_answers_a_retryable_error_and_a_retry_makes_one_action(
    stack, jobs, actions_api, faults, clock, runs, index, kind
):
    with faults.failing({index: Fault(kind)}):
        answer = actions_api.request("POST", "/actions", BODY, headers=KEY)
    assert faults.injected, "the fault was not injected: the path changed"

    assert answer.status in {409, 503}, answer
    assert answer.body["error"] in {"service_unavailable", "request_in_progress"}, answer.body
    faults.reset()

    _retry_until_made(actions_api, clock)
    items = stack.dynamodb.scan(TableName=stack.resources.actions_table)["Items"]
    assert len(items) == 1, items
    jobs.work()
    assert runs == [items[0]["action_id"]["S"]]
    assert jobs.action(runs[0]).status == "complete"
