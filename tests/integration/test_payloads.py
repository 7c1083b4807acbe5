"""Large bodies and args travel by claim check: the payload bucket on moto, end to end.

A GitHub-signed body of 1 MB or 4 MB is accepted, its args kept in the payload bucket,
the envelope and the item carry a reference, and the hook receives the whole payload.
The same holds for args from every enqueue and schedule function, a redrive reads them
back, and a body over the limit is a 413 with nothing stored.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import boto3
import pytest

from functions.actions import (
    ActionTooLarge,
    circuit,
    enqueue_async_action,
    has_scheduled_action,
    redrive,
    schedule_recurring_action,
    schedule_single_action,
)
from functions.actions.envelope import MAX_MESSAGE_BYTES
from functions.actions.exceptions import PermanentError
from functions.actions.store import args_hash
from functions.hooks.webhooks import on
from functions.payloads.config import DEFAULT_INLINE_BYTES
from functions.webhooks.config import MAX_BODY_BYTES
from infra.local.scheduler_clock import ManualClock, SchedulerClock
from tests.integration.faults import Fault, Faults

MB = 1_000_000
EVENT = "payload_check"


@on("github", EVENT)
def _payload_check(payload, action) -> str:
    """The digest of the payload the hook received, into the action's log."""
    return f"payload {_digest(payload)}"


def _digest(value) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _body(size: int) -> bytes:
    """A GitHub-like push of about ``size`` bytes: many commits."""
    commit = {"id": "0" * 40, "message": "m" * 900, "author": {"name": "ünïcode"}}
    each = len(json.dumps(commit)) + 2
    commits = [dict(commit, id=f"{n:040x}") for n in range(max(1, (size - 100) // each))]
    body = json.dumps({"ref": "refs/heads/main", "commits": commits}).encode()
    assert len(body) <= size
    return body + b" " * (size - len(body))  # JSON allows trailing whitespace


def _objects(bucket: str) -> list[dict]:
    return boto3.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])


def _completed_with(jobs, action_id: str) -> str:
    action = jobs.action(action_id)
    assert action.status == "complete", action.last_error
    return action.log[-1].message


@pytest.fixture
def _short_polls(monkeypatch):
    monkeypatch.setattr(redrive, "RECEIVE_WAIT_SECONDS", 0)


def _peek(sqs, url: str) -> list[dict]:
    """The queue's messages, left visible for the worker."""
    found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in found.get("Messages", [])]


@pytest.mark.parametrize("size", [1 * MB, 4 * MB])
def test_a_large_signed_github_delivery_is_accepted_and_its_hook_gets_the_whole_payload(
    stack, jobs, size
):
    body = _body(size)
    headers = stack.signed("github", body, f"big-{size}", event_type=EVENT)

    answer = stack.post("github", body, headers)

    assert answer.status == 202, answer.body
    [message] = _peek(stack.sqs, stack.resources.queue_url)
    assert "args" not in message
    assert len(json.dumps(message)) < 2048
    ref = message["args_ref"]
    [stored] = _objects(stack.resources.payload_bucket)
    assert stored["Key"] == ref["key"]
    assert ref["key"].startswith("d100/")
    assert stored["Size"] == ref["size"] > size * 0.9
    item = jobs.action(answer.body["action_id"])
    assert (item.args, item.args_ref.key) == (None, ref["key"])

    jobs.work()

    assert _completed_with(jobs, answer.body["action_id"]) == f"payload {_digest(json.loads(body))}"


def test_a_repeated_large_delivery_stores_one_object_and_answers_the_first_result(stack):
    body = _body(300_000)
    headers = stack.signed("github", body, "big-repeat", event_type=EVENT)

    first, second = stack.post("github", body, headers), stack.post("github", body, headers)

    assert (first.status, second.status) == (202, 200)
    assert len(_objects(stack.resources.payload_bucket)) == 1


def test_a_body_over_the_limit_is_413_and_nothing_is_stored_or_enqueued(stack):
    body = _body(MAX_BODY_BYTES + 1)
    headers = stack.signed("github", body, "too-big", event_type=EVENT)

    answer = stack.post("github", body, headers)

    assert answer.status == 413
    assert answer.body["error"] == "payload_too_large"
    assert str(MAX_BODY_BYTES) in answer.body["message"]
    assert _objects(stack.resources.payload_bucket) == []
    assert stack.queue_depth() == 0
    assert stack.idempotency_records() == []


def test_a_body_at_the_limit_is_accepted(stack):
    body = _body(MAX_BODY_BYTES)
    headers = stack.signed("github", body, "at-limit", event_type=EVENT)

    assert stack.post("github", body, headers).status == 202


# --- args from the API ------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.calls: list[object] = []

    def __call__(self, args, action) -> None:
        self.calls.append(args)


def _large_args(size: int = 300_000) -> dict:
    # Keys out of order on purpose: the hook sees them as they were given.
    return {"z": "é" * (size // 2), "a": list(range(10)), "m": {"y": 1, "b": None}}


def test_small_args_stay_inline_and_the_message_is_as_before(jobs, register):
    register("test_small", Recorder())

    action_id = enqueue_async_action("test_small", {"n": "x" * (DEFAULT_INLINE_BYTES - 20)})

    [message] = _peek(jobs.sqs, jobs.queue().url)
    assert "args_ref" not in message
    assert message["args"]["n"]
    assert jobs.action(action_id).args_ref is None
    assert _objects(jobs.resources.payload_bucket) == []


def test_large_args_from_enqueue_reach_the_hook_exactly_and_still_match(jobs, register):
    hook = register("test_large", Recorder(), unique_by="args")
    args = _large_args()

    action_id = enqueue_async_action("test_large", args, group="g", unique=True)

    [message] = _peek(jobs.sqs, jobs.queue().url)
    assert len(json.dumps(message).encode()) < 1024
    assert message["args_ref"]["args_hash"] == args_hash(args)
    assert has_scheduled_action("test_large", args, "g")
    assert not has_scheduled_action("test_large", {"other": 1}, "g")
    with pytest.raises(Exception, match="exists"):
        enqueue_async_action("test_large", args, group="g", unique=True)

    jobs.work()

    assert hook.calls == [args]
    assert list(hook.calls[0]) == ["z", "a", "m"]
    assert jobs.action(action_id).status == "complete"


def test_args_over_the_action_limit_are_refused_before_anything_is_written(jobs, register):
    register("test_huge", Recorder())

    with pytest.raises(ActionTooLarge, match="at most"):
        enqueue_async_action("test_huge", {"blob": "x" * (10 * 1024 * 1024)})

    assert _objects(jobs.resources.payload_bucket) == []
    assert jobs.depth() == 0


def test_without_a_bucket_large_args_are_refused_clearly(jobs, register, monkeypatch):
    from functions import settings

    register("test_nobucket", Recorder())
    monkeypatch.setenv("PAYLOAD_BUCKET_NAME", "")
    settings.reset()

    with pytest.raises(ActionTooLarge, match="PAYLOAD_BUCKET_NAME"):
        enqueue_async_action("test_nobucket", _large_args())
    assert jobs.depth() == 0


def _schedule_input(jobs, action_id: str) -> str:
    schedule = boto3.client("scheduler").get_schedule(
        Name=f"action-{action_id}"[:64], GroupName=jobs.resources.schedule_group
    )
    return schedule["Target"]["Input"]


@pytest.fixture
def move_to(sqs_clock, monkeypatch):
    """Move SQS's and the worker's clocks to just past a time (no sleeping)."""
    from functions.actions import worker

    def now() -> float:
        return time.time() + sqs_clock.offset

    monkeypatch.setattr(worker, "time", SimpleNamespace(time=now, monotonic=time.monotonic))

    def move(when: datetime) -> None:
        sqs_clock.advance(max(0.0, when.timestamp() - now()) + 1)

    return move


def _fire(name: str, at: datetime) -> None:
    fired = SchedulerClock(ManualClock(at), log=lambda line: None).tick()
    [outcome] = [f for f in fired if f.name == name]
    assert outcome.status == "delivered", outcome


def test_a_far_single_action_with_large_args_carries_a_reference_through_the_scheduler(
    jobs, register, move_to
):
    hook = register("test_later", Recorder())
    args = _large_args()
    when = datetime.now(UTC) + timedelta(days=30)

    action_id = schedule_single_action(when, "test_later", args)

    text = _schedule_input(jobs, action_id)
    assert len(text.encode()) < 1024  # EventBridge Scheduler takes 256 KB of input
    ref = json.loads(text)["args_ref"]
    assert ref["key"].startswith("d400/")  # 30 days of waiting and 100 of retention
    assert has_scheduled_action("test_later", args)

    move_to(when)  # first: SQS keeps a message 14 days
    _fire(f"action-{action_id}", when + timedelta(seconds=1))
    jobs.work()

    assert hook.calls == [args]


def test_a_recurring_action_with_large_args_runs_each_time_with_them(jobs, register, move_to):
    hook = register("test_every", Recorder())
    args = _large_args()
    start = datetime.now(UTC) + timedelta(minutes=5)

    action_id = schedule_recurring_action(start, 3600, "test_every", args)

    document = json.loads(_schedule_input(jobs, action_id))
    assert document["args_ref"]["key"].startswith("d6400/")
    assert has_scheduled_action("test_every", args)
    for run in range(2):
        move_to(start + timedelta(hours=run))
        _fire(f"action-{action_id}", start + timedelta(hours=run, seconds=1))
        jobs.work()

    assert hook.calls == [args, args]
    runs = [a for a in _runs(jobs) if a.action_id.startswith(f"{action_id}@")]
    assert {run.args_ref.args_hash for run in runs} == {args_hash(args)}


def _runs(jobs) -> list:
    from functions.actions.store.record import from_item, is_action
    from functions.dynamodb import from_item as plain

    rows = boto3.client("dynamodb").scan(TableName=jobs.resources.actions_table)["Items"]
    return [from_item(plain(row)) for row in rows if is_action(plain(row))]


# --- dead letters ------------------------------------------------------------------------------


class Switch:
    def __init__(self) -> None:
        self.failing = True
        self.calls: list[object] = []

    def __call__(self, args, action) -> None:
        self.calls.append(args)
        if self.failing:
            raise PermanentError("not today")


@pytest.mark.usefixtures("_short_polls")
def test_a_dead_lettered_large_action_keeps_its_reference_and_a_redrive_reads_it_back(
    jobs, register
):
    hook = register("test_dead", Switch(), max_attempts=1)
    args = _large_args()
    action_id = enqueue_async_action("test_dead", args)
    jobs.work()
    assert jobs.action(action_id).status == "failed"
    [letter] = redrive.inspect("default")
    assert (letter.args, letter.args_ref.args_hash) == (None, args_hash(args))

    hook.failing = False
    result = redrive.redrive("default")
    jobs.work()

    assert (result.moved, result.skipped) == (1, 0)
    assert hook.calls == [args, args]
    assert jobs.action(action_id).status == "complete"


@pytest.mark.usefixtures("_short_polls")
def test_a_dead_letter_whose_payload_expired_is_left_in_place(jobs, register):
    register("test_gone", Switch(), max_attempts=1)
    action_id = enqueue_async_action("test_gone", _large_args())
    jobs.work()
    s3 = boto3.client("s3")
    [stored] = _objects(jobs.resources.payload_bucket)
    s3.delete_object(Bucket=jobs.resources.payload_bucket, Key=stored["Key"])

    result = redrive.redrive("default")

    assert (result.moved, result.skipped) == (0, 1)
    assert "no longer in the payload bucket" in result.problems[0]
    assert jobs.action(action_id).status == "failed"


def test_an_action_whose_payload_is_gone_is_dead_lettered_with_the_reason(jobs, register):
    hook = register("test_lost", Recorder())
    action_id = enqueue_async_action("test_lost", _large_args())
    [stored] = _objects(jobs.resources.payload_bucket)
    boto3.client("s3").delete_object(Bucket=jobs.resources.payload_bucket, Key=stored["Key"])

    jobs.work()

    assert hook.calls == []
    action = jobs.action(action_id)
    assert action.status == "failed"
    assert "PayloadUnavailable" in action.last_error
    [letter] = jobs.dead_letters()
    assert letter["attributes"]["reason"] == "permanent"
    assert letter["body"]["args_ref"]["key"] == stored["Key"]


def test_every_message_stays_under_the_sqs_limit(jobs, register):
    register("test_sizes", Recorder())
    for size in (DEFAULT_INLINE_BYTES - 100, DEFAULT_INLINE_BYTES + 100, 2 * MB):
        enqueue_async_action("test_sizes", {"blob": "x" * size})
    sizes = [len(json.dumps(m).encode()) for m in _peek(jobs.sqs, jobs.queue().url)]
    assert len(sizes) == 3
    assert max(sizes) < min(MAX_MESSAGE_BYTES, 64 * 1024)


def test_an_s3_outage_while_loading_args_retries_the_action_and_spares_its_circuit(
    jobs, register, sqs_clock
):
    """S3 is the runtime's dependency, not the hook's: an outage is an attempt that
    raised (retried later), never a dead letter nor a failure of the hook's circuit."""
    hook = register("test_s3_outage", Recorder(), base_delay=1, circuit="mail-api")
    args = _large_args()
    action_id = enqueue_async_action("test_s3_outage", args)
    faults = Faults().install()
    faults.by_call[("s3", "GetObject")] = Fault("server_error")

    jobs.work(rounds=1)

    assert faults.injected, "the load did not reach S3"
    action = jobs.action(action_id)
    assert (action.status, action.attempts) == ("pending", 1)
    assert "InternalError" in action.last_error
    assert hook.calls == []
    assert jobs.dead_letters() == []
    assert circuit.state("mail-api") == {}

    sqs_clock.advance(60)
    jobs.work()

    assert hook.calls == [args]
    assert jobs.action(action_id).status == "complete"
