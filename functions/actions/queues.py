"""SQS: the job queues and their dead-letter queues. This module owns the SQS client.

Sizes are counted as SQS counts them against a queue's ``MaximumMessageSize``: the body
and every message attribute's name, data type and value (``message_size``). The door
(``check_size``) accepts only an envelope whose dead letter would fit too, and a dead
letter cuts its error text to fit (``dead_letter``): a dead letter's send never fails
for its size. Why: docs/decisions/0044-a-dead-letter-always-fits.md
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from mypy_boto3_sqs.literals import QueueAttributeFilterType

from functions.actions.config import QueueConfig, queue_named
from functions.actions.envelope import MAX_MESSAGE_BYTES, Envelope, escape_for_sqs
from functions.actions.exceptions import ActionTooLarge
from functions.clients import lazy_client

_sqs = lazy_client("sqs")
# SQS's own ceiling on DelaySeconds; a longer delay is made of several hops.
MAX_DELAY_SECONDS = 900
# Every message attribute we send is a string.
_STRING = "String"
# The error a dead letter carries: in its body, and (shorter) as its ``error`` attribute.
BODY_ERROR_CHARS = 2000
ATTRIBUTE_ERROR_CHARS = 1000
# What a dead letter keeps of its error however large its envelope (with the note that it
# was cut, and where the rest is): the door reserves room for it.
RESERVED_ERROR_CHARS = 200
# Bytes an envelope may grow by as its action moves on (a two-digit attempt, a retry's
# time with microseconds where the first had none), reserved at the door.
GROWTH_BYTES = 32
# What SQS refuses in a message attribute's value (and, raw, in a body): anything but
# tab, line feed, carriage return and U+0020-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF.
# Compiled on first use (a dead letter's): compiling it takes 4 ms of a cold start.
_REFUSED = "[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"


@functools.cache
def _refused() -> re.Pattern[str]:
    return re.compile(_REFUSED)


def clean_text(text: str) -> str:
    """Free text (an error) with what SQS refuses replaced by U+FFFD."""
    return _refused().sub("\ufffd", text)


def message_size(body: str, attributes: Mapping[str, str]) -> int:
    """The bytes SQS counts against ``MaximumMessageSize``: the body, and each string
    attribute's name, data type and value, in UTF-8."""
    size = len(body.encode("utf-8"))
    for name, value in attributes.items():
        size += len(name.encode("utf-8")) + len(_STRING) + len(value.encode("utf-8"))
    return size


def _string_attributes(attributes: Mapping[str, str]) -> dict[str, Any]:
    return {
        name: {"DataType": _STRING, "StringValue": value}
        for name, value in attributes.items()
        if value
    }


def _send_attributes(envelope: Envelope) -> dict[str, str]:
    return {"hook": envelope.hook, "action_id": envelope.action_id}


def check_size(envelope: Envelope, queue: QueueConfig) -> None:
    """Refuse (``ActionTooLarge``) an envelope SQS could not carry all its life.

    Its dead letter is the largest message it makes (the body with an error, and more
    attributes than the job message): that must fit with ``RESERVED_ERROR_CHARS`` of
    error and the cut note, and ``GROWTH_BYTES`` to spare for the envelope's growth.
    """
    body = envelope.to_message()  # the body alone: refused over MAX_MESSAGE_BYTES
    note = DeadLetterNote(
        DeadLetterReason.HOOK_UNAVAILABLE,  # the longest reason an envelope may get
        "",
        "",
        hook=envelope.hook,
        action_id=envelope.action_id,
        attempts=max(envelope.max_attempts, envelope.attempt),
        group=envelope.group,
    )
    note = replace(note, error="x" * RESERVED_ERROR_CHARS + _cut_mark(note))
    size = _letter_size(queue, body, note, note.error, error_in_body=True)
    if size + GROWTH_BYTES > MAX_MESSAGE_BYTES:
        raise ActionTooLarge(
            f"the action's envelope is {len(body.encode('utf-8'))} bytes; with its message "
            f"attributes and an error its dead letter would be {size}, and SQS accepts at "
            f"most {MAX_MESSAGE_BYTES} ({GROWTH_BYTES} are kept for the envelope's growth)"
        )


def send(
    envelope: Envelope,
    queue: QueueConfig | str,
    *,
    delay_seconds: float = 0,
    deduplication_id: str | None = None,
) -> str:
    """Send the envelope to a job queue; return the SQS message id.

    On the FIFO queue the message group is the action's group (or its hook when it
    has none), so order holds within a group, and the deduplication id is the action
    and attempt (or ``deduplication_id``), so a repeated send within SQS's
    five-minute window is dropped. FIFO queues take no per-message delay.
    """
    queue = queue_named(queue) if isinstance(queue, str) else queue
    body = envelope.to_message()
    params: dict[str, Any] = {
        "QueueUrl": queue.url,
        "MessageBody": body,
        "MessageAttributes": _string_attributes(_send_attributes(envelope)),
    }
    if queue.fifo:
        params["MessageGroupId"] = envelope.group or envelope.hook
        params["MessageDeduplicationId"] = (
            deduplication_id or f"{envelope.action_id}:{envelope.attempt}"
        )[:128]
    else:
        params["DelaySeconds"] = max(0, min(MAX_DELAY_SECONDS, round(delay_seconds)))
    return _sqs().send_message(**params)["MessageId"]


class DeadLetterReason(StrEnum):
    """Why a message is on a dead-letter queue (its ``reason`` attribute)."""

    PERMANENT = "permanent"  # the hook raised PermanentError
    EXHAUSTED = "exhausted"  # the last attempt raised
    UNKNOWN_HOOK = "unknown_hook"
    HOOK_UNAVAILABLE = "hook_unavailable"  # its module failed to import in the worker
    MALFORMED = "malformed"  # the body is not an envelope
    UNSUPPORTED_VERSION = "unsupported_version"


@dataclass(frozen=True)
class DeadLetterNote:
    """Why a message is dead-lettered, and what it was: its message attributes.

    ``message_id`` is the dead-lettered SQS message's own id."""

    reason: DeadLetterReason
    error: str
    message_id: str
    hook: str = ""
    action_id: str = ""
    attempts: int = 0
    group: str = ""


def dead_letter(
    queue: QueueConfig, body: str, note: DeadLetterNote, *, error_in_body: bool = False
) -> str:
    """Put a message on the queue's dead-letter queue with why it is there.

    With ``error_in_body`` the body (an envelope) carries the error too. An error too
    long for the message to fit is cut, and ends with where the whole of it is; if even
    that does not fit (a body not sent through the door), attributes are left out, the
    least needed first. On a FIFO dead-letter queue the deduplication id is the
    dead-lettered message's own id: a redriven action is a new message, so failing
    again is never dropped.
    """
    reason, hook = note.reason, note.hook
    error = _fitting_error(queue, body, note, error_in_body=error_in_body)
    letter = _with_error(body, error) if error_in_body else body
    attributes = _fitting_attributes(letter, _dead_letter_attributes(queue, note, error))
    params: dict[str, Any] = {
        "QueueUrl": queue.dead_letter_url,
        "MessageBody": letter,
        "MessageAttributes": _string_attributes(attributes),
    }
    if queue.dead_letter_url.endswith(".fifo"):
        params["MessageGroupId"] = note.group or hook or "dead-letters"
        params["MessageDeduplicationId"] = f"{note.message_id or note.action_id}:{reason}"[:128]
    return _sqs().send_message(**params)["MessageId"]


def _dead_letter_attributes(queue: QueueConfig, note: DeadLetterNote, error: str) -> dict[str, str]:
    """A dead letter's attributes, in the order they are left out if it cannot fit."""
    return {
        "reason": str(note.reason),
        "source_queue": queue.name,
        "action_id": note.action_id,
        "hook": note.hook,
        "attempts": str(note.attempts),
        "error": error[:ATTRIBUTE_ERROR_CHARS] or str(note.reason),
    }


def _letter_size(
    queue: QueueConfig, body: str, note: DeadLetterNote, error: str, *, error_in_body: bool
) -> int:
    """The size of the dead letter of ``body`` that carries ``error``."""
    letter = _with_error(body, error) if error_in_body else body
    attributes = _dead_letter_attributes(queue, note, error)
    return message_size(letter, {name: value for name, value in attributes.items() if value})


def _fitting_error(
    queue: QueueConfig, body: str, note: DeadLetterNote, *, error_in_body: bool
) -> str:
    """The note's error, cut (to whole characters, by a binary search) to fit the letter."""
    error = clean_text(note.error)[:BODY_ERROR_CHARS]
    if _letter_size(queue, body, note, error, error_in_body=error_in_body) <= MAX_MESSAGE_BYTES:
        return error
    mark = _cut_mark(note)
    low, high = 0, len(error)  # the longest prefix that fits lies in [low, high)
    while low < high - 1:
        middle = (low + high) // 2
        cut = error[:middle] + mark
        if _letter_size(queue, body, note, cut, error_in_body=error_in_body) <= MAX_MESSAGE_BYTES:
            low = middle
        else:
            high = middle
    return error[:low] + mark


def _cut_mark(note: DeadLetterNote) -> str:
    if note.action_id:
        return f"... [cut to fit the dead letter; the action {note.action_id} keeps more]"
    return "... [cut to fit the dead letter]"


def _fitting_attributes(body: str, attributes: dict[str, str]) -> dict[str, str]:
    """The attributes that fit with ``body``: left out from the last while over the limit."""
    kept = {name: value for name, value in attributes.items() if value}
    while kept and message_size(body, kept) > MAX_MESSAGE_BYTES:
        kept.popitem()
    return kept


def change_visibility(queue: QueueConfig, receipt_handle: str, seconds: float) -> None:
    """Hide a received message for ``seconds`` (a FIFO retry's backoff; 0 shows it again)."""
    _sqs().change_message_visibility(
        QueueUrl=queue.url,
        ReceiptHandle=receipt_handle,
        VisibilityTimeout=max(0, min(43_200, round(seconds))),
    )


def show_again(queue: QueueConfig, receipt_handles: list[str]) -> None:
    """Make received messages visible again at once, ten to a request."""
    for start in range(0, len(receipt_handles), 10):
        entries = receipt_handles[start : start + 10]
        _sqs().change_message_visibility_batch(
            QueueUrl=queue.url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                for i, handle in enumerate(entries)
            ],
        )


def _with_error(envelope_body: str, error: str) -> str:
    """An envelope's body with ``"error": error`` added, for whoever reads the dead letters.

    Added to the text as it is: the envelope's own bytes are kept (serializing it again
    could change them, and ``\\u`` escapes would make non-ASCII text up to three times
    larger). An envelope never has an ``error`` field of its own.
    """
    stripped = envelope_body.rstrip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return envelope_body
    field = escape_for_sqs(json.dumps(error, ensure_ascii=False))
    head = stripped[:-1].rstrip()
    separator = "" if head.endswith("{") else ","
    return f'{head}{separator}"error":{field}}}'


# What a queue holds, by the name health reports use: waiting to be received, received
# and not yet deleted (being worked, or hidden for a FIFO backoff), and delayed.
DEPTH_ATTRIBUTES = {
    "waiting": "ApproximateNumberOfMessages",
    "in_flight": "ApproximateNumberOfMessagesNotVisible",
    "delayed": "ApproximateNumberOfMessagesDelayed",
}


def depth(url: str) -> dict[str, int]:
    """How many messages the queue at ``url`` holds, by state: one GetQueueAttributes.

    SQS's numbers are approximate (eventually consistent within about a minute), which
    is what a health check or a dashboard needs; never use them to decide one message.
    """
    response = _sqs().get_queue_attributes(
        QueueUrl=url,
        AttributeNames=cast("list[QueueAttributeFilterType]", list(DEPTH_ATTRIBUTES.values())),
    )
    attributes = {str(name): value for name, value in response["Attributes"].items()}
    return {name: int(attributes.get(attribute, 0)) for name, attribute in DEPTH_ATTRIBUTES.items()}
