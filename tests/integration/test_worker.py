"""The worker end to end on moto: real SQS messages, the real handler, the real table."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import boto3
import pytest

from functions.actions import DuplicateAction, InvalidAction, enqueue_async_action
from functions.actions.envelope import Envelope
from functions.actions.exceptions import PermanentError, TransientError
from functions.settings import reset as reset_settings


class Recorder:
    """A hook that records its calls and fails as told: ``plan`` lists outcomes per call."""

    def __init__(self, *plan: BaseException | None) -> None:
        self.plan = list(plan)
        self.calls: list[tuple[object, int]] = []

    def __call__(self, args, action) -> None:
        self.calls.append((args, action.attempt))
        outcome = self.plan.pop(0) if self.plan else None
        if outcome is not None:
            raise outcome


def _events(item: dict) -> list[str]:
    return [entry.event for entry in item.log]


def test_a_hook_runs_once_and_its_action_completes(jobs, register):
    hook = register("test_ok", Recorder(), base_delay=0)

    action_id = enqueue_async_action("test_ok", {"n": 1}, group="g")
    jobs.work()

    assert hook.calls == [({"n": 1}, 1)]
    item = jobs.action(action_id)
    assert item.status == "complete"
    assert item.attempts == 1
    assert _events(item) == ["created", "started", "completed"]
    assert 30 * 86400 < item.expires_at.timestamp() - time.time() <= 31 * 86400
    assert jobs.depth() == 0


def test_a_transient_failure_retries_with_the_next_attempt_then_completes(jobs, register):
    hook = register("test_flaky", Recorder(TransientError("busy")), base_delay=0, max_delay=0)

    action_id = enqueue_async_action("test_flaky", [1, 2])
    jobs.work()

    assert hook.calls == [([1, 2], 1), ([1, 2], 2)]
    item = jobs.action(action_id)
    assert item.status == "complete"
    assert _events(item) == ["created", "started", "retry", "started", "completed"]
    assert "TransientError: busy" in item.last_error


def test_unexpected_exceptions_are_transient_by_default(jobs, register):
    hook = register("test_crashy", Recorder(KeyError("x")), base_delay=0, max_delay=0)

    action_id = enqueue_async_action("test_crashy")
    jobs.work()

    assert len(hook.calls) == 2
    assert jobs.action(action_id).status == "complete"


def test_retry_waits_for_the_backoff_and_the_log_says_how_long(jobs, register):
    register("test_slow_retry", Recorder(TransientError("later")), base_delay=60, max_delay=60)

    action_id = enqueue_async_action("test_slow_retry")
    jobs.work()

    item = jobs.action(action_id)
    assert item.status == "pending"
    assert item.scheduled_for.timestamp() > time.time()
    [retry] = [entry for entry in item.log if entry.event == "retry"]
    assert "attempt 2 in" in retry.message
    # The next attempt is on the queue, delayed: nothing to receive yet.
    assert jobs.work() == []
    assert jobs.depth() == 1


def test_a_wait_longer_than_sqs_allows_hops_until_due(jobs, register):
    hook = register("test_far", Recorder())
    now = datetime.now(UTC)
    envelope = Envelope(
        action_id="far-1",
        hook="test_far",
        scheduled_for=now.replace(year=now.year + 1),
        enqueued_at=now,
    )
    jobs.sqs.send_message(QueueUrl=jobs.queue().url, MessageBody=envelope.to_message())

    jobs.work()

    assert hook.calls == []
    assert jobs.depth() == 1  # sent on, delayed by the 15-minute maximum
    assert jobs.action("far-1") is None


def test_exhausted_attempts_dead_letter_the_action_with_its_error(jobs, register):
    hook = register(
        "test_broken", Recorder(*[TransientError("down")] * 5), max_attempts=3, base_delay=0
    )

    action_id = enqueue_async_action("test_broken", {"order": 7}, group="shop")
    jobs.work()

    assert [attempt for _, attempt in hook.calls] == [1, 2, 3]
    item = jobs.action(action_id)
    assert item.status == "failed"
    assert _events(item)[-2:] == ["failed", "dead-lettered"]
    assert 92 * 86400 < item.expires_at.timestamp() - time.time() <= 93 * 86400
    [letter] = jobs.dead_letters()
    assert letter["body"]["action_id"] == action_id
    assert letter["body"]["args"] == {"order": 7}
    assert letter["body"]["error"] == "TransientError: down"
    assert letter["attributes"] == {
        "reason": "exhausted",
        "error": "TransientError: down",
        "hook": "test_broken",
        "action_id": action_id,
        "attempts": "3",
        "source_queue": "default",
    }
    assert jobs.depth() == 0


def test_a_permanent_error_dead_letters_at_once(jobs, register):
    hook = register("test_bad_input", Recorder(PermanentError("no such user")), base_delay=0)

    action_id = enqueue_async_action("test_bad_input", {"user": 0})
    jobs.work()

    assert len(hook.calls) == 1
    assert jobs.action(action_id).status == "failed"
    [letter] = jobs.dead_letters()
    assert letter["attributes"]["reason"] == "permanent"
    assert letter["attributes"]["error"] == "PermanentError: no such user"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json at all", "malformed"),
        ('{"v": 1, "action_id": "x"}', "malformed"),
        ('{"v": 2, "action_id": "x", "hook": "send_email"}', "unsupported_version"),
        # Deeper than the JSON parser goes: refused, not a crash of the batch.
        ("[" * 5000 + "]" * 5000, "malformed"),
        # A number as text: pydantic's lax mode took it; no message of ours carries one.
        (
            '{"v": 1, "action_id": "x", "hook": "send_email", "attempt": "2", '
            '"scheduled_for": "2026-01-01T00:00:00Z", "enqueued_at": "2026-01-01T00:00:00Z"}',
            "malformed",
        ),
    ],
    ids=["text", "incomplete", "version 2", "too deep", "a number as text"],
)
def test_a_malformed_message_goes_to_the_dead_letters_not_into_a_loop(jobs, body, reason):
    jobs.sqs.send_message(QueueUrl=jobs.queue().url, MessageBody=body)

    [result] = jobs.work()

    assert result.failed == []
    assert result.crashed is None
    [letter] = jobs.dead_letters()
    assert letter["attributes"]["reason"] == reason
    assert jobs.depth() == 0


def test_an_unknown_hook_is_dead_lettered(jobs):
    now = datetime.now(UTC)
    envelope = Envelope(action_id="u-1", hook="nobody_home", scheduled_for=now, enqueued_at=now)
    jobs.sqs.send_message(QueueUrl=jobs.queue().url, MessageBody=envelope.to_message())

    jobs.work()

    [letter] = jobs.dead_letters()
    assert letter["attributes"]["reason"] == "unknown_hook"
    assert jobs.action("u-1").status == "failed"


def test_a_redelivered_message_of_a_completed_action_is_skipped(jobs, register):
    hook = register("test_once", Recorder())
    action_id = enqueue_async_action("test_once", {"k": 1})
    message = jobs.sqs.receive_message(QueueUrl=jobs.queue().url, VisibilityTimeout=0)
    body = message["Messages"][0]["Body"]
    jobs.work()

    jobs.sqs.send_message(QueueUrl=jobs.queue().url, MessageBody=body)  # SQS delivers again
    jobs.work()

    assert len(hook.calls) == 1
    assert jobs.action(action_id).status == "complete"
    assert jobs.depth() == 0


def test_a_canceled_action_does_not_run(jobs, register):
    hook = register("test_cancel", Recorder())
    action_id = enqueue_async_action("test_cancel")
    boto3.client("dynamodb").update_item(
        TableName=jobs.resources.actions_table,
        Key={"action_id": {"S": action_id}},
        UpdateExpression="SET #s = :c",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":c": {"S": "canceled"}},
    )

    jobs.work()

    assert hook.calls == []
    assert jobs.action(action_id).status == "canceled"
    assert jobs.depth() == 0


class WorkerDied(BaseException):
    """Stands for the runtime killing the function mid-run (a timeout, out of memory)."""


@pytest.fixture
def claims_expire_at_once(monkeypatch):
    """A run's claim outlives the function's timeout; here the timeout is 0 s."""
    monkeypatch.setenv("WORKER_TIMEOUT_SECONDS", "0")
    monkeypatch.setenv("CLAIM_MARGIN_SECONDS", "0")
    reset_settings()


def test_a_worker_that_dies_mid_run_is_retried_after_its_claim_expires(
    jobs, register, claims_expire_at_once
):
    hook = register("test_dies", Recorder(WorkerDied()), base_delay=0, max_delay=0)
    action_id = enqueue_async_action("test_dies")

    [crashed] = jobs.work(rounds=1)
    assert isinstance(crashed.crashed, WorkerDied)
    assert jobs.action(action_id).status == "in-progress"
    # Lambda deleted nothing; SQS shows the message again after its visibility timeout.
    _expire_visibility(jobs, crashed.kept)
    jobs.work()

    # The run that died was attempt 1: the next one is attempt 2.
    assert [attempt for _, attempt in hook.calls] == [1, 2]
    item = jobs.action(action_id)
    assert (item.status, item.attempts) == ("complete", 2)
    assert _events(item) == ["created", "started", "started", "retry", "started", "completed"]
    assert "attempt 1 ended without an outcome" in item.last_error


class Slow:
    """A hook each of whose runs takes ``seconds`` on the worker's clock (no sleep): past
    the invocation's deadline the clock ends it, as Lambda's timeout does."""

    def __init__(self, clock, seconds: float) -> None:
        self.clock = clock
        self.seconds = seconds
        self.calls: list[tuple[object, int]] = []

    def __call__(self, args, action) -> None:
        self.calls.append((args, action.attempt))
        self.clock.spend(self.seconds)


def _receive_counts(jobs, queue: str = "default") -> list[int]:
    """How often SQS has delivered each message on the queue, this look included; the
    messages are left visible."""
    found = jobs.sqs.receive_message(
        QueueUrl=jobs.queue(queue).url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,
        AttributeNames=["ApproximateReceiveCount"],
    ).get("Messages", [])
    return [int(m["Attributes"]["ApproximateReceiveCount"]) for m in found]


def test_records_the_time_left_cannot_fit_are_handed_back_unstarted(jobs, register, lambda_clock):
    """Ten 9-second runs do not fit the worker's 60 s. A record starts only while more
    than its hook's budget (10 s, the default) plus the 5 s margin is left: at 60, 51, 42,
    33 and 24 s. The other five go back to SQS at once, as new messages, unstarted."""
    hook = register("test_slow", Slow(lambda_clock, 9), base_delay=0)
    ids = [enqueue_async_action("test_slow", {"n": n}) for n in range(10)]

    [first] = jobs.work(rounds=1, clock=lambda_clock)

    assert first.crashed is None  # the invocation ended before its timeout
    assert first.failed == []  # each record ran, or its copy is on the queue
    assert len(hook.calls) == 5
    started = {args["n"] for args, _ in hook.calls}
    waiting = [jobs.action(a) for n, a in enumerate(ids) if n not in started]
    assert [(a.status, a.attempts) for a in waiting] == [("pending", 0)] * 5
    # Fresh copies: SQS counts their receives from zero, so hand-backs never add up to
    # its redrive policy's maxReceiveCount.
    assert _receive_counts(jobs) == [1] * 5

    jobs.work(clock=lambda_clock)

    assert sorted(args["n"] for args, _ in hook.calls) == list(range(10))
    assert {attempt for _, attempt in hook.calls} == {1}
    assert all(jobs.action(a).status == "complete" for a in ids)
    assert jobs.depth() == 0


def test_a_hooks_declared_timeout_is_its_budget(jobs, register, lambda_clock):
    """A hook that declares 20 s starts only with more than 25 s left: twice in 60 s. A
    short hook behind it in the batch still starts in the time that is left."""
    slow = register("test_budget_slow", Slow(lambda_clock, 20), timeout=20, base_delay=0)
    quick = register("test_budget_quick", Slow(lambda_clock, 1), timeout=1, base_delay=0)
    for n in range(3):
        enqueue_async_action("test_budget_slow", {"n": n})
    enqueue_async_action("test_budget_quick", {"n": 3})

    [first] = jobs.work(rounds=1, clock=lambda_clock)

    assert first.crashed is None
    assert (len(slow.calls), len(quick.calls)) == (2, 1)
    jobs.work(clock=lambda_clock)
    assert (len(slow.calls), len(quick.calls)) == (3, 1)


def test_a_run_that_keeps_timing_out_uses_its_attempts_then_is_dead_lettered(
    jobs, register, lambda_clock, claims_expire_at_once
):
    """A hook that outlasts its budget times the invocation out. Each such run counts as
    a failed attempt when its message comes back, so the worker, not SQS's redrive,
    dead-letters the action, with its status and reason, after ``max_attempts`` runs."""
    hook = register("test_hangs", Slow(lambda_clock, 120), max_attempts=3, base_delay=0)
    action_id = enqueue_async_action("test_hangs")

    for _ in range(10):
        rounds = jobs.work(clock=lambda_clock)
        kept = [handle for result in rounds for handle in result.kept]
        if not kept:
            break
        assert all(isinstance(result.crashed, BaseException) for result in rounds if result.kept)
        _expire_visibility(jobs, kept)

    assert [attempt for _, attempt in hook.calls] == [1, 2, 3]
    item = jobs.action(action_id)
    assert (item.status, item.attempts) == ("failed", 3)
    assert "attempt 3 ended without an outcome" in item.last_error
    [letter] = jobs.dead_letters()
    assert letter["attributes"]["reason"] == "exhausted"
    assert letter["attributes"]["attempts"] == "3"
    assert jobs.depth() == 0


def test_a_run_still_in_progress_elsewhere_is_handed_back_not_run_twice(jobs, register):
    hook = register("test_busy", Recorder())
    enqueue_async_action("test_busy")
    body = jobs.sqs.receive_message(QueueUrl=jobs.queue().url, VisibilityTimeout=0)["Messages"][0][
        "Body"
    ]
    from functions.actions import store

    assert store.claim(Envelope.from_message(body), 1, 600).claimed  # another worker has it

    [result] = jobs.work(rounds=1)

    assert hook.calls == []
    assert len(result.failed) == 1  # back to SQS for later, not deleted
    assert result.crashed is None  # a partial batch response, not an invocation error


def test_a_partial_batch_reports_only_the_failed_record(jobs, register):
    from functions.actions import store

    hook = register("test_batch", Recorder())
    busy = enqueue_async_action("test_batch", {"n": 0})
    others = [enqueue_async_action("test_batch", {"n": n}) for n in (1, 2)]
    messages = jobs.sqs.receive_message(
        QueueUrl=jobs.queue().url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )["Messages"]
    busy_body = next(m["Body"] for m in messages if busy in m["Body"])
    assert store.claim(Envelope.from_message(busy_body), 1, 600).claimed

    [result] = jobs.work(rounds=1)

    assert result.received == 3
    assert len(result.failed) == 1
    assert sorted(args["n"] for args, _ in hook.calls) == [1, 2]
    assert all(jobs.action(a).status == "complete" for a in others)
    # The two that succeeded were deleted; only the busy one is left.
    _expire_visibility(jobs, result.kept)
    assert (
        jobs.sqs.receive_message(QueueUrl=jobs.queue().url, MaxNumberOfMessages=10)["Messages"][0][
            "Body"
        ]
        == busy_body
    )


def _expire_visibility(jobs, kept: list[str], queue: str = "default") -> None:
    """What the passing of a visibility timeout does: the kept messages show again."""
    for receipt in kept:
        jobs.sqs.change_message_visibility(
            QueueUrl=jobs.queue(queue).url, ReceiptHandle=receipt, VisibilityTimeout=0
        )


# --- Priorities ------------------------------------------------------------------------


def test_each_priority_has_its_own_queue(jobs, register):
    register("test_urgent", Recorder(), priority="high")
    register("test_bulk", Recorder(), priority="low")

    enqueue_async_action("test_urgent")
    enqueue_async_action("test_bulk")
    enqueue_async_action("test_bulk", {"x": 1}, priority="high")  # per-call override

    assert (jobs.depth("high"), jobs.depth("default"), jobs.depth("low")) == (2, 0, 1)
    jobs.work("high")
    assert (jobs.depth("high"), jobs.depth("low")) == (0, 1)


# --- Enqueue -----------------------------------------------------------------------------


def test_enqueue_refuses_bad_input_before_writing_anything(jobs, register):
    register("test_any", Recorder())
    with pytest.raises(InvalidAction, match="no hook"):
        enqueue_async_action("not_registered")
    with pytest.raises(InvalidAction, match="JSON"):
        enqueue_async_action("test_any", {"when": datetime.now(UTC)})
    with pytest.raises(InvalidAction, match="JSON"):
        enqueue_async_action("test_any", float("nan"))
    # Args over 32 KiB go to the payload bucket; over 10 MiB they are refused.
    with pytest.raises(InvalidAction, match="at most"):
        enqueue_async_action("test_any", "x" * (10 * 1024 * 1024 + 1))

    assert boto3.client("dynamodb").scan(TableName=jobs.resources.actions_table)["Items"] == []
    assert jobs.depth() == 0


def test_enqueue_leaves_no_record_when_the_message_cannot_be_sent(jobs, register):
    register("test_any", Recorder())
    jobs.sqs.delete_queue(QueueUrl=jobs.queue().url)

    with pytest.raises(Exception, match=r"NonExistentQueue|does not exist"):
        enqueue_async_action("test_any")

    assert boto3.client("dynamodb").scan(TableName=jobs.resources.actions_table)["Items"] == []


def test_unique_refuses_a_second_pending_action_until_the_first_is_done(jobs, register):
    register("test_unique", Recorder(), unique_by="args")
    first = enqueue_async_action("test_unique", {"a": 1}, group="g", unique=True)

    with pytest.raises(DuplicateAction) as refused:
        enqueue_async_action("test_unique", {"a": 1}, group="g", unique=True)
    assert refused.value.existing_action_id == first
    other_args = enqueue_async_action("test_unique", {"a": 2}, group="g", unique=True)
    jobs.work()
    again = enqueue_async_action("test_unique", {"a": 1}, group="g", unique=True)

    assert len({first, other_args, again}) == 3


def test_the_webhook_action_runs_process_webhook(stack, jobs):
    body = json.dumps({"ref": "refs/heads/main", "commits": [{}, {}]}).encode()
    headers = stack.signed("github", body, "push-1", event_type="push")
    accepted = stack.post("github", body, headers)

    jobs.work()

    item = jobs.action(accepted.body["action_id"])
    assert item.hook == "process_webhook"
    assert item.group == "github"
    assert item.status == "complete"


def test_aws_requests_per_completed_action(jobs, register):
    """The worker's own calls; receiving and deleting are the event source mapping's."""
    from functions.clients import each_client

    register("test_counted", Recorder())
    enqueue_async_action("test_counted")
    made: list[str] = []
    for client in each_client():
        client.meta.events.register(
            "before-send.*", lambda event_name, **_: made.append(event_name.split(".")[2])
        )

    jobs.work()

    assert made == ["UpdateItem", "UpdateItem"]  # claim, complete


def test_a_message_whose_action_has_no_item_creates_it_whole_at_its_claim(jobs, register):
    """A claim writes only what it changes, expecting enqueue's item; a message sent with
    none (a scheduler's, or one whose item expired) still gets a whole item, created by
    a second claim write, and runs once."""
    from functions.clients import each_client

    hook = register("test_itemless", Recorder())
    now = datetime.now(UTC)
    envelope = Envelope(
        action_id="itemless-1",
        hook="test_itemless",
        args={"n": 7},
        group="g",
        scheduled_for=now,
        enqueued_at=now,
        correlation_id="corr-7",
    )
    jobs.sqs.send_message(QueueUrl=jobs.queue().url, MessageBody=envelope.to_message())
    made: list[str] = []
    for client in each_client():
        client.meta.events.register(
            "before-send.*", lambda event_name, **_: made.append(event_name.split(".")[2])
        )

    jobs.work()

    assert hook.calls == [({"n": 7}, 1)]
    assert made == ["UpdateItem", "UpdateItem", "UpdateItem"]  # short claim, whole, complete
    item = jobs.action("itemless-1")
    assert (item.status, item.hook, item.group, item.args) == (
        "complete",
        "test_itemless",
        "g",
        {"n": 7},
    )
    assert item.correlation_id == "corr-7"
    assert _events(item) == ["started", "completed"]


def test_an_items_log_keeps_its_newest_entries_up_to_the_limit(jobs, register):
    """A run's outcome appends its entries to the log; past LOG_LIMIT the oldest go."""
    from functions.actions import store

    register("test_long_lived", Recorder(), max_attempts=20)
    action_id = enqueue_async_action("test_long_lived")
    body = jobs.sqs.receive_message(QueueUrl=jobs.queue().url, VisibilityTimeout=0)["Messages"][0][
        "Body"
    ]
    envelope = Envelope.from_message(body)
    lengths = []
    # The store counts runs past max_attempts (the worker stops there): 30 runs here.
    for attempt in range(1, 31):  # created, then started + retry per attempt
        claim = store.claim(envelope, attempt, 600)
        assert claim.claimed
        assert claim.action is not None
        store.retry_later(claim.action, f"error {attempt}", 0)
        lengths.append(len(jobs.action(action_id).log))

    assert lengths[:3] == [3, 5, 7]
    assert lengths[-1] == store.LOG_LIMIT
    log = jobs.action(action_id).log
    assert log[-1].event == "retry"
    assert log[-1].message.startswith("error 30 - attempt 31")
    assert [entry.attempt for entry in log[::2]] == list(range(6, 31))  # the newest 25 runs
