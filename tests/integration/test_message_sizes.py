"""Message sizes as SQS counts them: what the door accepts, SQS carries all its life.

SQS counts a message's body and every message attribute (name, data type and value)
against the queue's MaximumMessageSize (256 KiB); moto counts the body alone, up to
1 MiB. ``SqsMessageRules`` (tests/integration/faults.py) applies SQS's rules to our sends.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.actions import ActionTooLarge, enqueue_async_action, queues
from functions.actions.config import queue_named
from functions.actions.envelope import MAX_MESSAGE_BYTES, Envelope
from functions.actions.exceptions import PermanentError
from functions.settings import reset as reset_settings
from tests.integration.faults import SqsMessageRules

HOOK = "test_sized"


class Fails:
    """A hook that fails permanently with ``error``, and counts its runs."""

    def __init__(self, error: str) -> None:
        self.error = error
        self.runs = 0

    def __call__(self, args, action) -> None:
        self.runs += 1
        raise PermanentError(self.error)


# Args are kept inline up to PAYLOAD_INLINE_BYTES (raised to its most, 128 KiB, here);
# U+FFFE, which SQS refuses raw, travels as a six-byte JSON escape: 43,650 of them (131 KB
# of UTF-8, inline) make an envelope of about 256 KiB. No other field of an envelope
# grows it as far (a group is at most 255 characters).
BIG = "\ufffe"


@pytest.fixture
def inline_up_to_128_kib(monkeypatch):
    monkeypatch.setenv("PAYLOAD_INLINE_BYTES", "131072")
    reset_settings()


def _envelope(action_id: str, args: object, group: str = "") -> Envelope:
    """The envelope enqueue_async_action makes."""
    now = datetime.now(UTC)
    return Envelope(
        action_id=action_id,
        hook=HOOK,
        args=args,
        group=group,
        scheduled_for=now,
        enqueued_at=now,
        correlation_id=action_id,
    )


def _body_bytes(envelope: Envelope) -> int:
    return len(envelope.to_message().encode("utf-8"))


def _accepted(envelope: Envelope) -> bool:
    try:
        queues.check_size(envelope, queue_named("default"))
    except ActionTooLarge:
        return False
    return True


def _largest(accepts, high: int) -> int:
    """The largest n in [0, high) that ``accepts`` (a binary search; 0 must be accepted)."""
    low = 0
    while low < high - 1:
        middle = (low + high) // 2
        low, high = (middle, high) if accepts(middle) else (low, middle)
    return low


def test_an_envelope_a_few_bytes_under_the_body_limit_is_refused_at_the_door(
    jobs, register, inline_up_to_128_kib
):
    """Its body alone is under 256 KiB; with the hook and action id attributes it is not:
    ``ActionTooLarge`` before anything is written, never SQS's raw ClientError."""
    register(HOOK, Fails("unused"))
    rules = SqsMessageRules().install()
    base = _body_bytes(_envelope("near-limit", ""))
    args = BIG * ((MAX_MESSAGE_BYTES - 10 - base) // 6)
    assert MAX_MESSAGE_BYTES - 16 < _body_bytes(_envelope("near-limit", args)) < MAX_MESSAGE_BYTES

    with pytest.raises(ActionTooLarge, match="message attributes"):
        enqueue_async_action(HOOK, args, action_id="near-limit")

    assert jobs.action("near-limit") is None
    assert jobs.depth() == 0
    assert rules.sizes == []


def test_the_largest_envelope_accepted_fits_as_a_dead_letter_with_a_huge_error(
    jobs, register, inline_up_to_128_kib
):
    """A hook fails permanently with a megabyte of error text, for the largest envelope the
    door takes (to the byte): its dead letter carries the error cut to fit, and where the
    rest is; the send never fails, so the hook runs once and its action ends failed."""
    hook = register(HOOK, Fails("é" * 1_000_000))
    rules = SqsMessageRules().install()
    count = _largest(lambda n: _accepted(_envelope("largest", BIG * n)), 50_000)
    args = BIG * count
    pad = _largest(lambda n: _accepted(_envelope("largest", args, "g" * n)), 256)
    assert pad < 255  # the limit fell within the group's range: exact to the byte
    with pytest.raises(ActionTooLarge):
        enqueue_async_action(HOOK, args, group="g" * (pad + 1), action_id="largest")

    enqueue_async_action(HOOK, args, group="g" * pad, action_id="largest")
    jobs.work()

    assert hook.runs == 1
    item = jobs.action("largest")
    assert item.status == "failed"
    [letter] = jobs.dead_letters()
    assert max(rules.sizes) <= MAX_MESSAGE_BYTES
    assert letter["body"]["args"] == args
    error = letter["body"]["error"]
    mark = "... [cut to fit the dead letter; the action largest keeps more]"
    kept, _, rest = error.partition(mark)
    assert rest == ""
    assert kept.startswith("PermanentError: éé")
    assert len(kept.encode("utf-8")) >= queues.RESERVED_ERROR_CHARS - 1
    assert item.last_error.startswith(kept)  # the action's item keeps 2000 characters
    assert letter["attributes"]["error"] == error
    assert letter["attributes"]["reason"] == "permanent"
    assert jobs.depth() == 0


def test_the_largest_envelope_of_a_hook_whose_module_failed_fits_as_its_dead_letter(
    jobs, broken_hook_module, inline_up_to_128_kib
):
    """``hook_unavailable`` is the longest reason an envelope's dead letter may carry: the
    door keeps room for it, and for its import error cut to fit, so the send never fails."""
    broken_hook_module(HOOK, "é" * 1_000_000)
    rules = SqsMessageRules().install()
    count = _largest(lambda n: _accepted(_envelope("largest", BIG * n)), 50_000)
    args = BIG * count
    pad = _largest(lambda n: _accepted(_envelope("largest", args, "g" * n)), 256)

    enqueue_async_action(HOOK, args, group="g" * pad, action_id="largest")
    jobs.work()

    [letter] = jobs.dead_letters()
    assert letter["attributes"]["reason"] == "hook_unavailable"
    assert max(rules.sizes) <= MAX_MESSAGE_BYTES
    assert jobs.action("largest").status == "failed"


def test_a_dead_letter_keeps_the_envelopes_own_bytes(jobs, register, inline_up_to_128_kib):
    """Inline args of non-ASCII text (up to 128 KiB when PAYLOAD_INLINE_BYTES says so) are
    not written again as ``\\u`` escapes, which would make them twice as large and the
    dead letter too large to send."""
    hook = register(HOOK, Fails("no such customer"))
    rules = SqsMessageRules().install()
    args = {"text": "語" * 43_600}  # 130,800 bytes of UTF-8: inline

    action_id = enqueue_async_action(HOOK, args)
    jobs.work()

    assert hook.runs == 1
    assert jobs.action(action_id).status == "failed"
    [letter] = jobs.dead_letters()
    assert letter["body"]["args"] == args
    assert letter["body"]["error"] == "PermanentError: no such customer"
    assert max(rules.sizes) <= MAX_MESSAGE_BYTES


def test_an_error_with_characters_sqs_refuses_is_dead_lettered(jobs, register):
    """A control character or U+FFFE in the error is replaced in the ``error`` attribute
    (the body escapes it as JSON does), so the dead letter's send is not refused."""
    hook = register(HOOK, Fails("bad \x00 input \ufffe here"))
    rules = SqsMessageRules().install()

    action_id = enqueue_async_action(HOOK, {"n": 1})
    jobs.work()

    assert hook.runs == 1
    assert jobs.action(action_id).status == "failed"
    [letter] = jobs.dead_letters()
    assert letter["attributes"]["error"] == "PermanentError: bad \ufffd input \ufffd here"
    assert len(rules.sizes) == 2  # the job, its dead letter


def test_a_malformed_body_that_leaves_no_room_keeps_the_attributes_that_fit(jobs):
    """A message not sent through the door: its body is kept as it is, and the dead
    letter's attributes are left out, the least needed first, until it fits."""
    body = "x" * (MAX_MESSAGE_BYTES - 40)
    jobs.sqs.send_message(QueueUrl=jobs.queue().url, MessageBody=body)
    rules = SqsMessageRules().install()

    [result] = jobs.work()

    assert result.failed == []
    [letter] = jobs.dead_letters()
    assert letter["body"] == body
    assert letter["attributes"] == {"reason": "malformed"}
    assert rules.sizes and max(rules.sizes) <= MAX_MESSAGE_BYTES
