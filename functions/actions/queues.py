"""SQS: the job queues. This module owns the SQS client."""

from __future__ import annotations

from functions.actions.config import queue_url
from functions.actions.envelope import Envelope
from functions.clients import lazy_client

_sqs = lazy_client("sqs")
# SQS's own ceiling on DelaySeconds; later runs go through EventBridge Scheduler.
MAX_DELAY_SECONDS = 900


def send(envelope: Envelope, *, delay_seconds: int = 0) -> str:
    """Send the envelope to its priority's queue; return the SQS message id."""
    if not 0 <= delay_seconds <= MAX_DELAY_SECONDS:
        raise ValueError(f"delay_seconds must be within 0..{MAX_DELAY_SECONDS}")
    body = envelope.to_message()
    response = _sqs().send_message(
        QueueUrl=queue_url(envelope.priority),
        MessageBody=body,
        DelaySeconds=delay_seconds,
        MessageAttributes={
            "hook": {"DataType": "String", "StringValue": envelope.hook},
            "action_id": {"DataType": "String", "StringValue": envelope.action_id},
        },
    )
    return response["MessageId"]
