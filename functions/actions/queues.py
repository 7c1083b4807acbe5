"""SQS: the job queues and their dead-letter queues. This module owns the SQS client."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from mypy_boto3_sqs.literals import QueueAttributeFilterType

from functions.actions.config import QueueConfig, queue_named
from functions.actions.envelope import Envelope
from functions.clients import lazy_client

_sqs = lazy_client("sqs")
# SQS's own ceiling on DelaySeconds; a longer delay is made of several hops.
MAX_DELAY_SECONDS = 900


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
        "MessageAttributes": {
            "hook": {"DataType": "String", "StringValue": envelope.hook},
            "action_id": {"DataType": "String", "StringValue": envelope.action_id},
        },
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


def dead_letter(queue: QueueConfig, body: str, note: DeadLetterNote) -> str:
    """Put a message on the queue's dead-letter queue with why it is there.

    On a FIFO dead-letter queue the deduplication id is the dead-lettered message's
    own id: a redriven action is a new message, so failing again is never dropped.
    """
    reason, hook = note.reason, note.hook
    attributes = {
        "reason": str(reason),
        "error": note.error[:1000] or str(reason),
        "hook": hook,
        "action_id": note.action_id,
        "attempts": str(note.attempts),
        "source_queue": queue.name,
    }
    params: dict[str, Any] = {
        "QueueUrl": queue.dead_letter_url,
        "MessageBody": body,
        "MessageAttributes": {
            name: {"DataType": "String", "StringValue": value}
            for name, value in attributes.items()
            if value
        },
    }
    if queue.dead_letter_url.endswith(".fifo"):
        params["MessageGroupId"] = note.group or hook or "dead-letters"
        params["MessageDeduplicationId"] = f"{note.message_id or note.action_id}:{reason}"[:128]
    return _sqs().send_message(**params)["MessageId"]


def change_visibility(queue: QueueConfig, receipt_handle: str, seconds: float) -> None:
    """Hide a received message for ``seconds`` (a FIFO retry's backoff)."""
    _sqs().change_message_visibility(
        QueueUrl=queue.url,
        ReceiptHandle=receipt_handle,
        VisibilityTimeout=max(0, min(43_200, round(seconds))),
    )


def dead_letter_body(envelope_body: str, error: str) -> str:
    """The envelope as it was, with the error attached for whoever reads the dead letters."""
    try:
        document = json.loads(envelope_body)
    except ValueError:
        return envelope_body
    if isinstance(document, dict):
        document["error"] = error[:2000]
        return json.dumps(document)
    return envelope_body


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
