"""Dead letters: look at what a job queue's dead-letter queue holds, and send it back.

``inspect`` lists dead letters without removing them. ``redrive`` sends each match
back to its job queue with fresh attempts (the action back to ``pending`` with a
``redriven`` log entry), then deletes it: a failure at any point leaves it in place.
Skipped, and left in place: malformed dead letters; those of actions that are complete,
canceled, running under a live claim, or gone from the table (only an action nothing
runs is started again, so a redrive never runs it twice at once); and those whose args
were kept in the payload bucket and have expired since (a redrive checks the object is
there before it sends the action back; the worker loads it).
``native=True`` hands the whole queue to SQS's move task: attempts are not reset.
A dead letter of an unrecorded action (``recorded=False``) has no item: it is sent back
with fresh attempts and nothing is written (no live claim to check either: as any
delivery of an unrecorded action, it may run beside another).

Why: docs/decisions/0011-redrive-one-by-one-with-fresh-attempts.md.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageTypeDef

from botocore.exceptions import BotoCoreError, ClientError

from functions.actions import queues, store
from functions.actions.config import QueueConfig, queue_named
from functions.actions.envelope import Envelope, InvalidEnvelope
from functions.actions.exceptions import InvalidAction
from functions.clients import lazy_client
from functions.payloads import store as payloads
from functions.payloads.ref import PayloadRef

_sqs = lazy_client("sqs")

# How long a dead letter stays hidden while ``inspect`` looks at the queue.
INSPECT_VISIBILITY_SECONDS = 60
# Long polling asks every SQS server, so an empty answer means an empty queue.
RECEIVE_WAIT_SECONDS = 1
BATCH = 10


@dataclass(frozen=True)
class DeadLetter:
    """One message on a dead-letter queue, as an operator wants to see it."""

    message_id: str
    action_id: str
    hook: str
    group: str
    args: Any
    attempts: int
    error: str
    reason: str
    source_queue: str
    sent_at: datetime | None
    body: str
    # The body is not an envelope: it cannot be redriven.
    malformed: bool = False
    # Args kept in the payload bucket (``args`` is then None).
    args_ref: PayloadRef | None = None

    def to_dict(self) -> dict[str, Any]:
        document = asdict(self)
        document["sent_at"] = self.sent_at.isoformat() if self.sent_at else None
        document["args_ref"] = self.args_ref.to_dict() if self.args_ref else None
        return document


@dataclass
class RedriveResult:
    moved: int = 0
    skipped: int = 0
    failed: int = 0
    # One line per dead letter that was skipped or failed, saying why.
    problems: list[str] = field(default_factory=list)
    # Set when SQS's own message move task was started (``native=True``).
    task_handle: str | None = None


@dataclass(frozen=True)
class _Received:
    letter: DeadLetter
    receipt_handle: str
    envelope: Envelope | None


def inspect(
    queue_name: str,
    *,
    limit: int = 100,
    hook: str | None = None,
    group: str | None = None,
    error: str | None = None,
    reason: str | None = None,
) -> list[DeadLetter]:
    """Up to ``limit`` dead letters of the queue that match, left on the queue.

    ``hook``, ``group`` and ``reason`` match exactly; ``error`` is a case-insensitive
    substring of the error the action failed with.
    """
    queue = queue_named(queue_name)
    if limit < 1:
        raise InvalidAction("limit must be at least 1")
    found: list[DeadLetter] = []
    held: dict[str, str] = {}
    try:
        for received in _walk(queue, held, INSPECT_VISIBILITY_SECONDS):
            if _matches(received.letter, hook, group, error, reason):
                found.append(received.letter)
                if len(found) >= limit:
                    break
    finally:
        _release(queue, held)
    return found


def redrive(
    queue_name: str,
    *,
    hook: str | None = None,
    group: str | None = None,
    error: str | None = None,
    rate_per_second: float | None = None,
    limit: int | None = None,
    native: bool = False,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    reason: str | None = None,
    message_id: str | None = None,
    by: str | None = None,
) -> RedriveResult:
    """Move the matching dead letters back to the queue with fresh attempts.

    Filters as ``inspect``; ``message_id`` picks one dead letter. ``by`` (who asked)
    goes into each redriven action's log. ``limit`` bounds how many are moved (or tried);
    ``rate_per_second`` spaces the sends. ``native=True`` (no filter, no limit)
    starts SQS's message move task instead, which does not reset attempts.
    """
    queue = queue_named(queue_name)
    if rate_per_second is not None and rate_per_second <= 0:
        raise InvalidAction("rate_per_second must be positive")
    if limit is not None and limit < 1:
        raise InvalidAction("limit must be at least 1")
    if native:
        filters = (hook, group, error, limit, reason, message_id)
        if any(value is not None for value in filters):
            raise InvalidAction("a native redrive moves the whole queue: no filters, no limit")
        handle = _start_move_task(queue, rate_per_second)
        if handle is not None:
            return RedriveResult(task_handle=handle)

    result = RedriveResult()
    throttle = _Throttle(rate_per_second, clock, sleep)
    # Enough time to move a batch at the given rate before the batch shows again.
    visibility = min(43_200, 60 + (math.ceil(BATCH / rate_per_second) if rate_per_second else 0))
    held: dict[str, str] = {}
    try:
        for received in _walk(queue, held, visibility):
            if limit is not None and result.moved + result.failed >= limit:
                break
            if not _matches(received.letter, hook, group, error, reason, message_id):
                continue
            if _move(queue, received, result, throttle, by):
                held.pop(received.letter.message_id, None)
            if message_id is not None:
                break  # the one asked for: found, moved or not
    finally:
        _release(queue, held)
    return result


def _move(
    queue: QueueConfig,
    received: _Received,
    result: RedriveResult,
    throttle: _Throttle,
    by: str | None = None,
) -> bool:
    """Move one dead letter; True when it was sent and deleted."""
    letter = received.letter
    if received.envelope is None:
        result.skipped += 1
        result.problems.append(f"{letter.message_id}: not an envelope, left in place")
        return False
    try:
        ref = received.envelope.args_ref
        if ref is not None and not payloads.exists(ref):
            result.skipped += 1
            result.problems.append(
                f"{letter.message_id}: its args ({ref.key}) are no longer in the payload "
                "bucket, left in place"
            )
            return False
        throttle.wait()
        fresh = replace(received.envelope, attempt=1, scheduled_for=datetime.now(UTC), listed=True)
        note = f"from the {queue.name} dead-letter queue; it had failed with: " + (
            letter.error or letter.reason
        )
        if by:
            note = f"redriven by {by} {note}"
        # Pending first: a worker that receives the envelope must be able to claim it.
        # An unrecorded action has no item: its message alone is the action.
        try:
            if fresh.recorded:
                store.reset_for_redrive(letter.action_id, note)
        except store.NotRedrivable as exc:
            result.skipped += 1
            result.problems.append(f"{letter.message_id}: {exc}, left in place")
            return False
        _send(fresh, queue, letter.message_id)
    except (ClientError, BotoCoreError, InvalidAction, payloads.PayloadUnavailable) as exc:
        result.failed += 1
        result.problems.append(f"{letter.message_id}: {_describe(exc)}, left in place")
        return False
    result.moved += 1
    try:
        _sqs().delete_message(QueueUrl=queue.dead_letter_url, ReceiptHandle=received.receipt_handle)
    except (ClientError, BotoCoreError) as exc:
        # Sent, so it counts as moved; once the action completes a redrive skips it.
        result.problems.append(
            f"{letter.message_id}: sent, but the dead letter stays ({_describe(exc)})"
        )
        return False
    return True


def _send(envelope: Envelope, queue: QueueConfig, dead_letter_id: str) -> None:
    """Send the fresh envelope; on FIFO with a deduplication id of this redrive.

    The first attempt's usual id (action and attempt) was used when the action was
    enqueued: within SQS's five-minute window the redriven message would be dropped.
    The dead letter's id is new for each redrive and the same when one is repeated
    after a crash.
    """
    queues.send(envelope, queue, deduplication_id=f"redrive:{dead_letter_id}")


def _start_move_task(queue: QueueConfig, rate_per_second: float | None) -> str | None:
    """SQS's own redrive; None where the API is not available."""
    params: dict[str, Any] = {"SourceArn": queue.dead_letter_arn, "DestinationArn": queue.arn}
    if rate_per_second is not None:
        params["MaxNumberOfMessagesPerSecond"] = max(1, int(rate_per_second))
    try:
        return _sqs().start_message_move_task(**params)["TaskHandle"]
    except (NotImplementedError, AttributeError, ClientError):
        return None


class _Throttle:
    """At most ``rate`` sends a second: waits before a send that would come too soon."""

    def __init__(
        self,
        rate: float | None,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.interval = 1 / rate if rate else 0.0
        self.clock = clock
        self.sleep = sleep
        self.next_at: float | None = None

    def wait(self) -> None:
        if not self.interval:
            return
        if self.next_at is not None:
            delay = self.next_at - self.clock()
            if delay > 0:
                self.sleep(delay)
        now = self.clock()
        self.next_at = max(now, self.next_at or now) + self.interval


def _walk(queue: QueueConfig, held: dict[str, str], visibility: int) -> Iterator[_Received]:
    """Each dead letter once, received and kept invisible; ``held`` maps id to receipt.

    Ends when the queue has nothing more to give, or when a batch holds only
    letters already seen (their visibility ran out before the walk ended).
    """
    seen: set[str] = set()
    while True:
        messages = (
            _sqs()
            .receive_message(
                QueueUrl=queue.dead_letter_url,
                MaxNumberOfMessages=BATCH,
                VisibilityTimeout=visibility,
                WaitTimeSeconds=RECEIVE_WAIT_SECONDS,
                MessageAttributeNames=["All"],
                MessageSystemAttributeNames=["All"],
            )
            .get("Messages", [])
        )
        fresh = [m for m in messages if m["MessageId"] not in seen]
        for message in messages:
            held[message["MessageId"]] = message["ReceiptHandle"]
        if not fresh:
            return
        for message in fresh:
            seen.add(message["MessageId"])
            received = _parse(queue, message)
            yield received


def _parse(queue: QueueConfig, message: MessageTypeDef) -> _Received:
    attributes = {
        name: value.get("StringValue", "")
        for name, value in (message.get("MessageAttributes") or {}).items()
    }
    system = message.get("Attributes") or {}
    body = message["Body"]
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        document = None
    envelope: Envelope | None = None
    body_error = ""
    if isinstance(document, dict):
        body_error = str(document.pop("error", "") or "")
        try:
            envelope = Envelope.from_dict(document)
        except InvalidEnvelope:
            envelope = None
    sent = system.get("SentTimestamp")
    letter = DeadLetter(
        message_id=message["MessageId"],
        action_id=envelope.action_id if envelope else attributes.get("action_id", ""),
        hook=envelope.hook if envelope else attributes.get("hook", ""),
        group=envelope.group if envelope else "",
        args=envelope.args if envelope else None,
        attempts=_int(attributes.get("attempts"), envelope.attempt if envelope else 0),
        error=attributes.get("error") or body_error,
        # No reason attribute: SQS's redrive policy moved it (the worker never finished).
        reason=attributes.get("reason") or "max_receive_count",
        source_queue=attributes.get("source_queue") or queue.name,
        sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
        body=body,
        malformed=envelope is None,
        args_ref=envelope.args_ref if envelope else None,
    )
    return _Received(letter, message["ReceiptHandle"], envelope)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


def _matches(  # noqa: PLR0917 - the filters, in the order the callers name them
    letter: DeadLetter,
    hook: str | None,
    group: str | None,
    error: str | None,
    reason: str | None = None,
    message_id: str | None = None,
) -> bool:
    if message_id is not None and letter.message_id != message_id:
        return False
    if reason is not None and letter.reason != reason:
        return False
    if hook is not None and letter.hook != hook:
        return False
    if group is not None and letter.group != group:
        return False
    return error is None or error.lower() in letter.error.lower()


def _release(queue: QueueConfig, held: dict[str, str]) -> None:
    """Make what is still held visible again (what was moved is deleted; SQS says so)."""
    handles = list(held.values())
    for start in range(0, len(handles), BATCH):
        try:
            _sqs().change_message_visibility_batch(
                QueueUrl=queue.dead_letter_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for i, handle in enumerate(handles[start : start + BATCH])
                ],
            )
        except (ClientError, BotoCoreError):
            # They show again when their visibility timeout ends.
            continue


def _describe(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip()
    return str(exc)
