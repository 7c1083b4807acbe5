"""Unrecorded actions (``recorded=False``): the message alone carries the action. What a
user relies on: no item is ever written to the actions table, the hook runs with the
same context, retries and dead letters as any action's, the metrics count it, a redrive
runs it again, and what cannot work without an item is refused at enqueue.
Why: docs/decisions/0071-unrecorded-actions-are-an-opt-in.md"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from functions.actions import (
    InvalidAction,
    enqueue_async_action,
    queues,
    redrive,
    schedule_single_action,
)
from functions.actions.envelope import Envelope
from functions.actions.exceptions import PermanentError, TransientError
from functions.actions.hooks import AwaitSaga
from tests.conftest import record_aws_calls, reset_process_state

HOOK = "test_unrecorded"


class Plan:
    """A hook that raises (or returns) what it is told, in turn, then returns "done"."""

    def __init__(self, *outcomes: Any) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[tuple[Any, int, str]] = []

    def __call__(self, args, action) -> Any:
        self.calls.append((args, action.attempt, action.action_id))
        outcome = self.outcomes.pop(0) if self.outcomes else "done"
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


@pytest.fixture
def unrecorded(register):
    def make(*outcomes: Any, **policy: Any) -> Plan:
        plan = Plan(*outcomes)
        register(HOOK, plan, **{"base_delay": 0, "max_delay": 0, "max_attempts": 3, **policy})
        return plan

    return make


@pytest.fixture(autouse=True)
def _short_polls(monkeypatch):
    monkeypatch.setattr(redrive, "RECEIVE_WAIT_SECONDS", 0)


def _metric(documents: list[dict[str, Any]], name: str) -> float:
    """The total of ``name`` for the test hook, over every EMF blob."""
    total = 0.0
    for doc in documents:
        if "_aws" not in doc or doc.get("hook") != HOOK or name not in doc:
            continue
        value = doc[name]
        total += sum(value) if isinstance(value, list) else value
    return total


def _items(stack) -> list[dict]:
    """Everything in the actions table: an unrecorded action must leave it empty."""
    table = stack.resources.environment["ACTIONS_TABLE_NAME"]
    return stack.dynamodb.scan(TableName=table)["Items"]


def _waiting(jobs, queue: str = "default") -> list[dict]:
    """The job queue's messages, as the worker would parse them (left invisible)."""
    found: list[dict] = []
    while batch := jobs.sqs.receive_message(
        QueueUrl=jobs.queue(queue).url, MaxNumberOfMessages=10, VisibilityTimeout=300
    ).get("Messages", []):
        found.extend(json.loads(message["Body"]) for message in batch)
    return found


def test_enqueue_writes_no_item_and_the_envelope_says_recorded_false(stack, jobs, unrecorded):
    unrecorded()

    action_id = enqueue_async_action(HOOK, {"n": 1}, group="g", recorded=False)

    assert uuid.UUID(action_id)
    assert _items(stack) == []
    assert jobs.action(action_id) is None
    [message] = _waiting(jobs)
    assert message["recorded"] is False
    assert (message["action_id"], message["args"], message["attempt"]) == (action_id, {"n": 1}, 1)
    assert Envelope.from_dict(message).recorded is False


def test_a_recorded_envelope_leaves_recorded_out_of_its_message(stack, jobs, unrecorded):
    unrecorded()

    enqueue_async_action(HOOK, {"n": 1})

    [message] = _waiting(jobs)
    assert "recorded" not in message


def test_the_worker_runs_it_without_touching_the_actions_table(stack, jobs, unrecorded, printed):
    plan = unrecorded()
    action_id = enqueue_async_action(HOOK, {"n": 2}, group="g", recorded=False)
    calls = record_aws_calls()
    printed()

    jobs.work()

    assert plan.calls == [({"n": 2}, 1, action_id)]
    assert [call for call in calls if call[0] == "dynamodb"] == []
    assert _items(stack) == []
    assert jobs.depth() == 0
    out = printed()
    assert _metric(out, "ActionsStarted") == 1
    assert _metric(out, "ActionsCompleted") == 1
    assert _metric(out, "ActionDuration") >= 0
    assert any(doc.get("ActionStartLatency") is not None for doc in out if "_aws" in doc)
    [done] = [doc for doc in out if doc.get("message") == "action completed"]
    assert (done["action_id"], done["recorded"]) == (action_id, False)


def test_a_transient_error_sends_attempt_2_and_writes_no_item(stack, jobs, unrecorded, printed):
    plan = unrecorded(TransientError("busy"))
    action_id = enqueue_async_action(HOOK, recorded=False)
    printed()

    jobs.work(rounds=1)

    [retry] = _waiting(jobs)
    assert (retry["action_id"], retry["attempt"], retry["recorded"]) == (action_id, 2, False)
    assert _items(stack) == []
    assert _metric(printed(), "ActionsRetried") == 1
    assert [attempt for _, attempt, _ in plan.calls] == [1]


def test_a_retried_attempt_runs_with_its_attempt_number(stack, jobs, unrecorded):
    plan = unrecorded(RuntimeError("flaky"))
    enqueue_async_action(HOOK, recorded=False)

    jobs.work()

    assert [attempt for _, attempt, _ in plan.calls] == [1, 2]
    assert _items(stack) == []
    assert jobs.dead_letters() == []


def test_a_permanent_error_dead_letters_it_with_no_item(stack, jobs, unrecorded, printed):
    unrecorded(PermanentError("bad input"))
    action_id = enqueue_async_action(HOOK, {"n": 3}, recorded=False)
    printed()

    jobs.work()

    [letter] = jobs.dead_letters()
    assert letter["attributes"]["reason"] == "permanent"
    assert letter["attributes"]["action_id"] == action_id
    assert letter["attributes"]["attempts"] == "1"
    assert "bad input" in letter["attributes"]["error"]
    assert letter["body"]["recorded"] is False
    assert _items(stack) == []
    assert _metric(printed(), "ActionsDeadLettered") == 1


def test_exhausted_attempts_dead_letter_it_with_its_attempts(stack, jobs, unrecorded):
    unrecorded(*[TransientError("down")] * 3)
    enqueue_async_action(HOOK, recorded=False)

    jobs.work()

    [letter] = jobs.dead_letters()
    assert (letter["attributes"]["reason"], letter["attributes"]["attempts"]) == ("exhausted", "3")
    assert _items(stack) == []


def test_a_redrive_runs_its_dead_letter_again_with_fresh_attempts(stack, jobs, unrecorded):
    plan = unrecorded(TransientError("down"), PermanentError("bad input"))
    enqueue_async_action(HOOK, {"n": 5}, recorded=False)
    jobs.work()  # attempt 1 retried, attempt 2 dead-lettered
    assert [attempt for _, attempt, _ in plan.calls] == [1, 2]

    result = redrive.redrive("default")
    jobs.work()

    assert (result.moved, result.skipped, result.failed) == (1, 0, 0), result.problems

    assert [(args, attempt) for args, attempt, _ in plan.calls][2:] == [({"n": 5}, 1)]
    assert jobs.dead_letters() == []
    assert _items(stack) == []


def test_a_hook_that_waits_for_a_saga_is_dead_lettered(stack, jobs, unrecorded):
    unrecorded(AwaitSaga("arn:aws:states:us-east-1:123456789012:execution:x:y", 60))
    enqueue_async_action(HOOK, recorded=False)

    jobs.work()

    [letter] = jobs.dead_letters()
    assert letter["attributes"]["reason"] == "permanent"
    assert "an unrecorded action cannot wait for a saga" in letter["attributes"]["error"]
    assert _items(stack) == []


def test_an_unknown_hook_is_dead_lettered_without_a_claim(stack, jobs, unrecorded):
    unrecorded()
    envelope = Envelope.from_dict(
        {
            "action_id": str(uuid.uuid4()),
            "hook": "test_no_such_hook",
            "scheduled_for": "2026-01-01T00:00:00Z",
            "enqueued_at": "2026-01-01T00:00:00Z",
            "recorded": False,
        }
    )
    queues.send(envelope, "default")

    jobs.work()

    [letter] = jobs.dead_letters()
    assert letter["attributes"]["reason"] == "unknown_hook"
    assert _items(stack) == []


def test_one_on_the_ordered_queue_is_dead_lettered_not_looped(stack, jobs, unrecorded):
    unrecorded()
    envelope = Envelope.from_dict(
        {
            "action_id": str(uuid.uuid4()),
            "hook": HOOK,
            "scheduled_for": "2026-01-01T00:00:00Z",
            "enqueued_at": "2026-01-01T00:00:00Z",
            "recorded": False,
        }
    )
    queues.send(envelope, "fifo")

    jobs.work("fifo")

    [letter] = jobs.dead_letters("fifo")
    assert "ordered (FIFO) queue" in letter["attributes"]["error"]
    assert _items(stack) == []


def test_what_needs_an_item_is_refused_at_enqueue(stack, jobs, register):
    register("test_counted", Plan(), unique_by="group")
    register("test_in_order", Plan(), ordered=True)

    with pytest.raises(InvalidAction, match="recorded=False cannot be unique"):
        enqueue_async_action("test_counted", group="g", unique=True, recorded=False)
    with pytest.raises(InvalidAction, match="ordered"):
        enqueue_async_action("test_in_order", group="g", recorded=False)
    with pytest.raises(InvalidAction, match="recorded is True or False"):
        enqueue_async_action("test_counted", recorded="no")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="recorded"):  # only actions to run now
        schedule_single_action(0, "test_counted", recorded=False)  # type: ignore[call-arg]
    assert _items(stack) == []
    assert jobs.depth() == 0 and jobs.depth("fifo") == 0


def test_args_kept_in_the_payload_bucket_reach_the_hook(stack, jobs, unrecorded):
    from functions.payloads.config import DEFAULT_INLINE_BYTES

    plan = unrecorded()
    args = {"blob": "x" * (DEFAULT_INLINE_BYTES + 100)}
    enqueue_async_action(HOOK, args, recorded=False)
    [received] = jobs.sqs.receive_message(QueueUrl=jobs.queue().url, VisibilityTimeout=0)[
        "Messages"
    ]
    message = json.loads(received["Body"])
    assert "args_ref" in message and "args" not in message

    jobs.work()

    assert [called for called, _, _ in plan.calls] == [args]
    assert _items(stack) == []


def test_an_open_circuit_sends_it_on_without_an_item(stack, jobs, register, monkeypatch, sqs_clock):
    from functions.actions import circuit
    from functions.settings import reset as reset_settings

    for name, value in {
        "CIRCUIT_FAILURE_THRESHOLD": "2",
        "CIRCUIT_WINDOW_SECONDS": "60",
        "CIRCUIT_COOLDOWN_SECONDS": "600",
        "CIRCUIT_TRIAL_SECONDS": "60",
    }.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    plan = Plan(TransientError("down"), TransientError("down"))
    register(HOOK, plan, circuit="test_unrecorded_dep", base_delay=0, max_delay=0)
    ids = {enqueue_async_action(HOOK, {"n": n}, recorded=False) for n in (1, 2)}

    jobs.work()  # both fail, which opens the circuit; their retries are deferred

    assert len(plan.calls) == 2
    assert circuit.state("test_unrecorded_dep")["state"] == circuit.OPEN
    sqs_clock.advance(601)
    deferred = _waiting(jobs)
    assert {(m["action_id"], m["attempt"], m["recorded"]) for m in deferred} == {
        (action_id, 2, False) for action_id in ids
    }
    assert _items(stack) == []


# --- webhooks ------------------------------------------------------------------------------


@pytest.fixture
def unrecorded_github(stack, monkeypatch):
    """The github source with ``"record": false``, as its cdk.json entry would set it."""
    sources = json.loads(stack.resources.environment["WEBHOOK_SOURCES"])
    sources["github"]["record"] = False
    monkeypatch.setenv("WEBHOOK_SOURCES", json.dumps(sources))
    reset_process_state()


def test_a_source_with_record_false_queues_an_unrecorded_action(
    stack, jobs, unrecorded_github, printed
):
    from functions.hooks import webhooks

    handled: list[tuple[dict, str]] = []
    webhooks._HANDLERS[("github", "issues")] = lambda payload, action: handled.append(
        (payload, action.action_id)
    )
    try:
        body = json.dumps({"action": "opened", "issue": {"number": 42}}).encode()
        headers = stack.signed("github", body, "delivery-1", event_type="issues")
        calls = record_aws_calls()

        accepted = stack.post("github", body, headers)
        jobs.work()
        writes = [operation for service, operation in calls if service == "dynamodb"]
        repeat = stack.post("github", body, headers)
    finally:
        webhooks._HANDLERS.pop(("github", "issues"), None)

    assert accepted.status == 202
    assert accepted.body["status"] == "queued"
    action_id = accepted.body["action_id"]
    assert handled == [({"action": "opened", "issue": {"number": 42}}, action_id)]
    assert jobs.action(action_id) is None
    assert _items(stack) == []
    # The idempotency record's two writes, accepted to completed: nothing else in DynamoDB.
    assert writes == ["PutItem", "UpdateItem"]
    assert (repeat.status, repeat.body) == (200, accepted.body)
    assert jobs.depth() == 0  # the repeat queued nothing
    completed = [doc for doc in printed() if doc.get("message") == "action completed"]
    assert [doc["action_id"] for doc in completed] == [action_id]
