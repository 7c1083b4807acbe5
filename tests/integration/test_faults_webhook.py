"""The webhook under AWS faults: every call of its path fails in turn, as AWS can make it fail.

The promise: a failure answers a status the sender retries (5xx, or 409 with
Retry-After while an interrupted acceptance still holds the delivery), never 2xx and
never a 4xx that would make a sender give up; and it leaves no half-done delivery: once
the fault clears, retrying the same delivery is accepted and there is exactly one
action, with every message on the queue for that one action, and the worker runs it once.

The path is recorded from a clean run and checked against ``ACCEPT_PATH`` and
``REPEAT_PATH``, so a new AWS call in the path fails ``test_the_paths_are_as_declared``
until it is declared here, and is then failed in turn like the others.
"""

from __future__ import annotations

import json
import time

import pytest
import time_machine

from functions.webhooks.receiver import RETRY_AFTER_SECONDS
from tests.integration.faults import KINDS, Fault, Faults

ACCEPT_PATH = [
    ("secrets-manager", "GetSecretValue"),
    ("dynamodb", "PutItem"),  # idempotency record, in progress
    ("dynamodb", "PutItem"),  # the action, pending
    ("sqs", "SendMessage"),
    ("dynamodb", "UpdateItem"),  # idempotency record, completed
]
# A repeat of an accepted delivery: the conditional write fails and returns the result.
REPEAT_PATH = [("dynamodb", "PutItem")]
# After a failure at index i of ACCEPT_PATH, the calls that undo what was done, as
# (index of the failed call, index of the undoing call, what it undoes).
COMPENSATIONS = [
    (2, 3, "idempotency DeleteItem after the action's PutItem failed"),
    (3, 4, "action DeleteItem (discard) after SendMessage failed"),
    (3, 5, "idempotency DeleteItem after SendMessage failed"),
]
RETRYABLE = {429, 500, 502, 503, 504}
BODY = b'{"zen": "Keep it logically awesome."}'


@pytest.fixture
def faults(stack) -> Faults:
    return Faults().install()


@pytest.fixture
def clock():
    """The wall clock, movable: an interrupted acceptance holds its delivery until it expires."""
    with time_machine.travel(time.time(), tick=True) as traveller:
        yield traveller


def _post(stack, delivery_id: str = "fault-1"):
    return stack.post("github", BODY, stack.signed("github", BODY, delivery_id))


def _retry_until_accepted(stack, clock, delivery_id: str = "fault-1") -> list[int]:
    """Retry as a sender does, honouring Retry-After; return every status answered."""
    statuses = []
    for _ in range(5):
        answer = _post(stack, delivery_id)
        statuses.append(answer.status)
        if answer.status in {200, 202}:
            assert set(answer.body) == {"delivery_id", "action_id", "status"}
            return statuses
        assert answer.status == 409, answer
        assert answer.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        # The interrupted request held the delivery for its remaining time (at most the
        # function's timeout); a sender's backoff outlasts it.
        clock.shift(RETRY_AFTER_SECONDS + 1)
    raise AssertionError(f"never accepted: {statuses}")


def _assert_one_delivery(stack, jobs, *, exact_messages: bool) -> None:
    """One action; every message is for it; the worker runs it once, to completion."""
    actions = stack.resources.environment["ACTIONS_TABLE_NAME"]
    items = stack.dynamodb.scan(TableName=actions)["Items"]
    assert len(items) == 1, items
    action_id = items[0]["action_id"]["S"]
    # A look that leaves the messages visible, so the worker receives them next.
    messages = [
        json.loads(message["Body"])
        for message in stack.sqs.receive_message(
            QueueUrl=stack.resources.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
    ]
    assert messages, "no message: the action would never run"
    assert {m["action_id"] for m in messages} == {action_id}
    if exact_messages:
        assert len(messages) == 1, messages
    jobs.work()
    item = jobs.action(action_id)
    assert item.status == "complete"
    assert [e.event for e in item.log].count("started") == 1, item.log
    assert jobs.depth() == 0


def test_the_paths_are_as_declared(stack, faults):
    with faults.failing({}) as calls:
        assert _post(stack).status == 202
    assert calls == ACCEPT_PATH
    with faults.failing({}) as calls:
        assert _post(stack).status == 200
    assert calls == REPEAT_PATH


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "index", range(len(ACCEPT_PATH)), ids=[f"{i}-{s}.{o}" for i, (s, o) in enumerate(ACCEPT_PATH)]
)
def test_a_fault_at_each_call_of_an_acceptance_answers_a_retryable_error(
    stack, jobs, faults, clock, index, kind
):
    with faults.failing({index: Fault(kind)}):
        answer = _post(stack)
    assert faults.injected, "the fault was not injected: the path changed"

    assert answer.status in RETRYABLE, answer
    assert answer.body["error"] in {"service_unavailable", "internal_error"}, answer.body
    faults.reset()

    statuses = _retry_until_accepted(stack, clock)
    # A fault before the action was written leaves nothing to find; after the
    # acceptance was recorded, the retry answers the stored result (200).
    assert statuses[-1] in {200, 202}
    # A lost SendMessage response, or a lost completion of the idempotency record after
    # the send, may leave a second message for the same action: the worker's claim runs
    # it once. Otherwise there is exactly one message.
    sent_twice = kind == "lost_response" and ACCEPT_PATH[index] == ("sqs", "SendMessage")
    completed_late = index == len(ACCEPT_PATH) - 1
    _assert_one_delivery(stack, jobs, exact_messages=not (sent_twice or completed_late))


@pytest.mark.parametrize("kind", ["throttle", "server_error"])
@pytest.mark.parametrize(
    ("failed", "undo", "what"), COMPENSATIONS, ids=[c[2] for c in COMPENSATIONS]
)
def test_a_fault_while_undoing_a_failed_acceptance_still_leaves_a_retryable_delivery(
    stack, jobs, faults, clock, failed, undo, what, kind
):
    with faults.failing({failed: Fault(kind), undo: Fault(kind)}) as calls:
        answer = _post(stack)
    assert [index for index, _, _ in faults.injected] == [failed, undo], (what, calls)

    assert answer.status in RETRYABLE, answer
    faults.reset()
    # The idempotency record may be left in progress: the retry waits for it to expire.
    assert _retry_until_accepted(stack, clock)[-1] == 202
    _assert_one_delivery(stack, jobs, exact_messages=True)


@pytest.mark.parametrize("kind", KINDS)
def test_a_fault_on_a_repeat_answers_a_retryable_error_and_changes_nothing(
    stack, faults, clock, kind
):
    assert _post(stack).status == 202
    first = stack.messages()
    with faults.failing({0: Fault(kind)}) as calls:
        answer = _post(stack)
    assert calls == REPEAT_PATH
    assert answer.status in RETRYABLE, answer
    faults.reset()

    assert _retry_until_accepted(stack, clock)[-1] == 200
    assert stack.messages() == []  # nothing sent again
    assert [m["hook"] for m in first] == ["process_webhook"]
