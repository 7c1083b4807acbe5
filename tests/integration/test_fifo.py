"""Ordered hooks on moto's SQS FIFO queue: order within a group, retries in place, dead letters.

SQS (and moto) hand out no message of a group while another message of that group is
in flight. When the head of a group fails, the worker hides it for its backoff, and
the batch processor reports the group's later records failed unprocessed; the worker
shows those again at once, so the group waits for its head only. A crashed invocation
keeps its whole batch in flight for the queue's visibility timeout (360 s here).
``_drain`` lets that time pass: after each round it makes the messages the round kept
visible again, as the end of their visibility timeout would.

It does so with ChangeMessageVisibility rather than by moving moto's clock: when
several in-flight messages of one group time out together, moto's ReceiveMessage
still counts the later ones as in flight while it looks at the head, skips the head
and delivers a later message first (SQS delivers the head). For the same reason
``_peek`` hides what it looks at and then shows it again explicitly.
"""

from __future__ import annotations

import json

import pytest

from functions.actions import enqueue_async_action, queues
from functions.actions.envelope import Envelope
from functions.actions.exceptions import PermanentError, TransientError
from functions.settings import reset as reset_settings

HOOK = "test_ordered"


class Ordered:
    """An ordered hook that records (group, n, attempt) per call; ``fail`` maps (group, n) to
    the exceptions its first calls raise."""

    def __init__(
        self,
        fail: dict[tuple[str, int], list[BaseException]] | None = None,
        *,
        clock=None,
        seconds: dict[tuple[str, int], float] | None = None,
        each: float = 0.0,
    ) -> None:
        self.fail = {key: list(errors) for key, errors in (fail or {}).items()}
        self.calls: list[tuple[str, int, int]] = []
        # How long each run takes on the worker's clock (a LambdaClock), by (group, n).
        self.clock = clock
        self.seconds = seconds or {}
        self.each = each

    def __call__(self, args, action) -> None:
        key = (action.group, args["n"])
        self.calls.append((*key, action.attempt))
        if self.clock is not None:
            self.clock.spend(self.seconds.get(key, self.each))
        errors = self.fail.get(key)
        if errors:
            raise errors.pop(0)

    def order(self, group: str) -> list[tuple[int, int]]:
        """(n, attempt) of the group's calls, in call order."""
        return [(n, attempt) for g, n, attempt in self.calls if g == group]


def _show(jobs, receipts: list[str]) -> None:
    """What the end of their visibility timeout does: the messages are visible again."""
    for receipt in receipts:
        jobs.sqs.change_message_visibility(
            QueueUrl=jobs.queue("fifo").url, ReceiptHandle=receipt, VisibilityTimeout=0
        )


def _drain(jobs, *, batch_size: int = 10, rounds: int = 40) -> list:
    results = []
    for _ in range(rounds):
        found = jobs.work("fifo", rounds=1, batch_size=batch_size)
        if not found:
            break
        results.extend(found)
        _show(jobs, found[0].kept)
    return results


def _peek(jobs) -> list[dict]:
    """The messages on the FIFO queue, in order, left visible."""
    messages = jobs.sqs.receive_message(
        QueueUrl=jobs.queue("fifo").url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=30,
        AttributeNames=["MessageGroupId"],
    ).get("Messages", [])
    _show(jobs, [m["ReceiptHandle"] for m in messages])
    return messages


def _events(item: dict) -> list[str]:
    return [entry.event for entry in item.log]


def _enqueue(group: str, n: int) -> str:
    return enqueue_async_action(HOOK, {"n": n}, group=group)


def _counts(jobs) -> dict[str, int]:
    attributes = jobs.sqs.get_queue_attributes(
        QueueUrl=jobs.queue("fifo").url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return {
        "visible": int(attributes["ApproximateNumberOfMessages"]),
        "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    }


@pytest.mark.parametrize("batch_size", [1, 3, 10])
def test_each_group_runs_in_enqueue_order(jobs, register, batch_size):
    hook = register(HOOK, Ordered(), ordered=True, base_delay=0, max_delay=0)
    ids = []
    for n in range(1, 6):  # interleaved: g1-1, g2-1, g1-2, g2-2, ...
        ids.append(_enqueue("g1", n))
        if n <= 3:
            ids.append(_enqueue("g2", n))

    assert jobs.depth("fifo") == 8
    _drain(jobs, batch_size=batch_size)

    assert hook.order("g1") == [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1)]
    assert hook.order("g2") == [(1, 1), (2, 1), (3, 1)]
    assert all(jobs.action(a).status == "complete" for a in ids)
    assert jobs.depth("fifo") == 0


@pytest.mark.parametrize("batch_size", [1, 10])
def test_a_failing_head_holds_back_its_group_until_it_succeeds(jobs, register, batch_size):
    hook = register(
        HOOK,
        Ordered(
            {
                ("g1", 1): [TransientError("busy"), RuntimeError("flaky")],
                ("g1", 2): [TransientError("busy")],
            }
        ),
        ordered=True,
        base_delay=0,
        max_delay=0,
    )
    g1 = [_enqueue("g1", n) for n in (1, 2, 3)]

    _drain(jobs, batch_size=batch_size)

    # Nothing later in g1 ran before the earlier action had succeeded.
    assert hook.order("g1") == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (3, 1)]
    attempts = [jobs.action(a).attempts for a in g1]
    assert attempts == [3, 2, 1]
    assert all(jobs.action(a).status == "complete" for a in g1)
    assert _events(jobs.action(g1[0])) == [
        "created",
        "started",
        "retry",
        "started",
        "retry",
        "started",
        "completed",
    ]
    assert jobs.depth("fifo") == 0


def test_another_group_is_not_held_back_by_a_failing_group(jobs, register):
    hook = register(
        HOOK,
        Ordered({("g1", 1): [TransientError("busy")]}),
        ordered=True,
        base_delay=0,
        max_delay=0,
    )
    g1 = [_enqueue("g1", n) for n in (1, 2, 3)]
    g2 = [_enqueue("g2", n) for n in (1, 2)]

    [first] = jobs.work("fifo", rounds=1)

    # In the round where g1's head failed, g2 ran in full; g1's rest was not even tried.
    assert first.received == 5
    assert len(first.failed) == 3  # g1's head and the two held behind it
    assert hook.order("g2") == [(1, 1), (2, 1)]
    assert hook.order("g1") == [(1, 1)]
    assert all(jobs.action(a).status == "complete" for a in g2)
    assert [(jobs.action(a).status, jobs.action(a).attempts) for a in g1] == [
        ("pending", 1),
        ("pending", 0),
        ("pending", 0),
    ]

    _show(jobs, first.kept)
    _drain(jobs)

    assert hook.order("g1") == [(1, 1), (1, 2), (2, 1), (3, 1)]
    assert hook.order("g2") == [(1, 1), (2, 1)]
    assert all(jobs.action(a).status == "complete" for a in g1)


def test_while_the_head_waits_out_its_backoff_its_group_waits_and_others_run(
    jobs, register, sqs_clock
):
    hook = register(
        HOOK,
        Ordered({("g1", 1): [TransientError("rate limited", delay=120)]}),
        ordered=True,
        base_delay=0,
        max_delay=0,
    )
    _enqueue("g1", 1)
    _enqueue("g1", 2)
    [first] = jobs.work("fifo")
    assert hook.order("g1") == [(1, 1)]
    _head, follower = first.kept  # in the order received
    _show(jobs, [follower])  # the follower's visibility timeout is over; the head's is not

    later = _enqueue("g2", 1)
    jobs.work("fifo")

    assert hook.order("g2") == [(1, 1)]
    assert jobs.action(later).status == "complete"
    assert hook.order("g1") == [(1, 1)]  # the follower did not overtake its hidden head
    assert _counts(jobs) == {"visible": 1, "in_flight": 1}

    sqs_clock.advance(115)
    assert jobs.work("fifo") == []
    sqs_clock.advance(10)  # the retry's 120 s have passed
    jobs.work("fifo")
    assert hook.order("g1") == [(1, 1), (1, 2), (2, 1)]
    assert jobs.depth("fifo") == 0


def test_a_retry_with_no_delay_is_visible_again_at_once(jobs, register):
    hook = register(
        HOOK, Ordered({("g1", 1): [TransientError("busy")]}), ordered=True, base_delay=0
    )
    action_id = _enqueue("g1", 1)

    results = jobs.work("fifo")  # no time passes

    assert [r.received for r in results] == [1, 1]
    assert len(results[0].failed) == 1  # the failed attempt stays on the queue...
    assert results[1].failed == []  # ...and the next receive runs it again
    assert hook.order("g1") == [(1, 1), (1, 2)]
    item = jobs.action(action_id)
    assert (item.status, item.attempts) == ("complete", 2)
    assert "TransientError: busy" in item.last_error
    assert jobs.depth("fifo") == 0


def test_a_retry_waits_in_place_for_its_backoff(jobs, register, sqs_clock):
    hook = register(
        HOOK,
        Ordered({("g1", 1): [TransientError("slow down", delay=30)]}),
        ordered=True,
        base_delay=0,
        max_delay=0,
    )
    action_id = _enqueue("g1", 1)

    jobs.work("fifo")
    assert _counts(jobs) == {"visible": 0, "in_flight": 1}  # the same message, hidden
    item = jobs.action(action_id)
    assert (item.status, item.attempts) == ("pending", 1)
    [retry] = [e for e in item.log if e.event == "retry"]
    assert "attempt 2 in 30.0 s" in retry.message

    sqs_clock.advance(25)
    assert jobs.work("fifo") == []
    sqs_clock.advance(10)
    jobs.work("fifo")

    assert hook.order("g1") == [(1, 1), (1, 2)]
    assert jobs.action(action_id).status == "complete"


def _dead_letter_groups(jobs) -> list[str]:
    found = []
    while batch := jobs.sqs.receive_message(
        QueueUrl=jobs.queue("fifo").dead_letter_url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=300,
        AttributeNames=["MessageGroupId"],
    ).get("Messages", []):
        found.extend(m["Attributes"]["MessageGroupId"] for m in batch)
    return found


def test_an_exhausted_ordered_action_goes_to_the_fifo_dead_letters_and_frees_its_group(
    jobs, register
):
    hook = register(
        HOOK,
        Ordered({("g1", 1): [TransientError("down")] * 5}),
        ordered=True,
        max_attempts=3,
        base_delay=0,
        max_delay=0,
    )
    doomed, after = _enqueue("g1", 1), _enqueue("g1", 2)

    _drain(jobs)

    assert hook.order("g1") == [(1, 1), (1, 2), (1, 3), (2, 1)]
    item = jobs.action(doomed)
    assert (item.status, item.attempts) == ("failed", 3)
    assert _events(item)[-2:] == ["failed", "dead-lettered"]
    assert jobs.action(after).status == "complete"
    [letter] = jobs.dead_letters("fifo")
    assert letter["body"]["action_id"] == doomed
    assert letter["body"]["group"] == "g1"
    assert letter["body"]["args"] == {"n": 1}
    assert letter["body"]["error"] == "TransientError: down"
    assert letter["attributes"] == {
        "reason": "exhausted",
        "error": "TransientError: down",
        "hook": HOOK,
        "action_id": doomed,
        "attempts": "3",
        "source_queue": "fifo",
    }
    assert jobs.dead_letters("default") == []
    assert jobs.depth("fifo") == 0


def test_a_permanent_error_dead_letters_an_ordered_action_at_once(jobs, register):
    hook = register(
        HOOK,
        Ordered({("g1", 1): [PermanentError("bad input")]}),
        ordered=True,
        base_delay=0,
    )
    doomed, after = _enqueue("g1", 1), _enqueue("g1", 2)

    jobs.work("fifo")

    assert hook.order("g1") == [(1, 1), (2, 1)]
    assert jobs.action(doomed).status == "failed"
    assert jobs.action(after).status == "complete"
    assert _dead_letter_groups(jobs) == ["g1"]


def test_the_same_action_sent_twice_within_the_window_is_deduplicated(jobs, register):
    hook = register(HOOK, Ordered(), ordered=True, base_delay=0)

    first = enqueue_async_action(HOOK, {"n": 1}, group="g1", action_id="dup-1")
    again = enqueue_async_action(HOOK, {"n": 1}, group="g1", action_id="dup-1")

    assert first == again == "dup-1"
    assert jobs.depth("fifo") == 1  # SQS dropped the second send
    jobs.work("fifo")
    assert hook.calls == [("g1", 1, 1)]
    assert jobs.action("dup-1").status == "complete"


def test_a_repeated_send_of_one_envelope_is_deduplicated_by_sqs(jobs, register):
    hook = register(HOOK, Ordered(), ordered=True, base_delay=0)
    action_id = _enqueue("g1", 1)
    [message] = _peek(jobs)
    envelope = Envelope.from_message(message["Body"])

    queues.send(envelope, "fifo")
    queues.send(envelope, "fifo")

    assert jobs.depth("fifo") == 1
    jobs.work("fifo")
    assert hook.calls == [("g1", 1, 1)]
    assert jobs.action(action_id).status == "complete"


def test_different_actions_with_equal_args_are_not_deduplicated(jobs, register):
    hook = register(HOOK, Ordered(), ordered=True, base_delay=0)

    _enqueue("g1", 1)
    _enqueue("g1", 1)

    assert jobs.depth("fifo") == 2
    jobs.work("fifo")
    assert hook.calls == [("g1", 1, 1), ("g1", 1, 1)]


def test_a_redelivery_after_the_first_was_processed_still_runs_once(jobs, register):
    """Moto forgets a deduplication id once its message is deleted (SQS keeps it for five
    minutes), so this send gets through on moto; the worker must still run it only once."""
    hook = register(HOOK, Ordered(), ordered=True, base_delay=0)
    action_id = _enqueue("g1", 1)
    [message] = _peek(jobs)
    jobs.work("fifo")

    queues.send(Envelope.from_message(message["Body"]), "fifo")
    jobs.work("fifo")

    assert hook.calls == [("g1", 1, 1)]
    assert jobs.action(action_id).status == "complete"
    assert jobs.depth("fifo") == 0


def test_an_ordered_action_without_a_group_is_grouped_by_its_hook(jobs, register):
    hook = register(HOOK, Ordered(), ordered=True, base_delay=0)
    for n in (1, 2, 3):
        enqueue_async_action(HOOK, {"n": n})

    messages = _peek(jobs)
    assert {m["Attributes"]["MessageGroupId"] for m in messages} == {HOOK}
    assert [json.loads(m["Body"])["args"]["n"] for m in messages] == [1, 2, 3]

    jobs.work("fifo")
    assert hook.order("") == [(1, 1), (2, 1), (3, 1)]


# --- The worker's time budget and runs that end without an outcome -----------------------


def test_ordered_records_the_time_left_cannot_fit_are_handed_back_in_place(
    jobs, register, lambda_clock
):
    """Nine-second runs: five start in the worker's 60 s (each needs more than its 10 s
    budget and the 5 s margin left). The sixth is shown again at once and reported
    failed, so it keeps its place; the two behind it are shown again too. Nobody waits
    for a visibility timeout, and no attempt is used."""
    hook = register(HOOK, Ordered(clock=lambda_clock, each=9), ordered=True, base_delay=0)
    ids = [_enqueue("g1", n) for n in range(1, 9)]

    [first] = jobs.work("fifo", rounds=1, clock=lambda_clock)

    assert first.crashed is None  # the invocation ended before its timeout
    assert hook.order("g1") == [(n, 1) for n in range(1, 6)]
    assert len(first.failed) == 3
    assert [(jobs.action(a).status, jobs.action(a).attempts) for a in ids[5:]] == [
        ("pending", 0)
    ] * 3
    assert _counts(jobs) == {"visible": 3, "in_flight": 0}

    jobs.work("fifo", clock=lambda_clock)  # no visibility timeout waited for

    assert hook.order("g1") == [(n, 1) for n in range(1, 9)]
    assert all(jobs.action(a).status == "complete" for a in ids)
    assert jobs.depth("fifo") == 0


@pytest.fixture
def claims_expire_at_once(monkeypatch):
    monkeypatch.setenv("WORKER_TIMEOUT_SECONDS", "0")
    monkeypatch.setenv("CLAIM_MARGIN_SECONDS", "0")
    reset_settings()


def test_a_poisoned_head_fails_after_its_attempts_and_frees_its_group(
    jobs, register, lambda_clock, claims_expire_at_once
):
    """The head's hook times the invocation out every time. Each such run uses an
    attempt; when its message comes back with none left, the worker dead-letters it
    (status ``failed``) and its group goes on. So a poisoned group is held for at most
    ``max_attempts`` visibility timeouts, whatever the queue's maxReceiveCount."""
    hook = register(
        HOOK,
        Ordered(clock=lambda_clock, seconds={("g1", 1): 120}),
        ordered=True,
        max_attempts=3,
        base_delay=0,
        max_delay=0,
    )
    poisoned, after = _enqueue("g1", 1), _enqueue("g1", 2)

    timeouts = 0
    for _ in range(10):
        found = jobs.work("fifo", rounds=1, clock=lambda_clock)
        if not found:
            break
        timeouts += found[0].crashed is not None
        _show(jobs, found[0].kept)  # the visibility timeout of what it kept has passed

    assert timeouts == 3
    assert hook.order("g1") == [(1, 1), (1, 2), (1, 3), (2, 1)]
    item = jobs.action(poisoned)
    assert (item.status, item.attempts) == ("failed", 3)
    assert "attempt 3 ended without an outcome" in item.last_error
    [letter] = jobs.dead_letters("fifo")
    assert letter["attributes"]["reason"] == "exhausted"
    assert letter["body"]["action_id"] == poisoned
    assert jobs.action(after).status == "complete"
    assert jobs.depth("fifo") == 0
