"""What Lambda's SQS event source mapping does, done locally: receive, invoke, delete.

Builds the event Lambda builds (records with ``attributes``, ``messageAttributes`` and
``eventSourceARN``), invokes the handler, and deletes the messages the handler did
not report in ``batchItemFailures``. A handler that raises deletes nothing: the
whole batch comes back after its visibility timeout, as on AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from functions.actions.config import QueueConfig
from infra.local.lambda_runtime import LocalContext

Handler = Callable[[dict[str, Any], Any], dict[str, Any] | None]


@dataclass
class PollResult:
    received: int = 0
    failed: list[str] = field(default_factory=list)
    crashed: BaseException | None = None
    # Receipt handles of the messages left on the queue (failed, or all on a crash).
    kept: list[str] = field(default_factory=list)


def _message_attributes(message: dict[str, Any]) -> dict[str, Any]:
    return {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        for name, value in (message.get("MessageAttributes") or {}).items()
    }


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    region = queue_arn.split(":")[3]
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": _message_attributes(message),
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


def poll_once(
    queue: QueueConfig,
    handler: Handler,
    *,
    batch_size: int = 10,
    function_name: str = "worker",
    sqs: Any = None,
) -> PollResult:
    """One receive-invoke-delete round; returns what happened."""
    sqs = sqs or boto3.client("sqs")
    messages = sqs.receive_message(
        QueueUrl=queue.url,
        MaxNumberOfMessages=batch_size,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])
    result = PollResult(received=len(messages))
    if not messages:
        return result
    try:
        response = handler(sqs_event(messages, queue.arn), LocalContext(function_name)) or {}
    except BaseException as exc:  # a crashed invocation deletes nothing
        result.crashed = exc
        result.failed = [m["MessageId"] for m in messages]
        result.kept = [m["ReceiptHandle"] for m in messages]
        return result
    result.failed = [f["itemIdentifier"] for f in response.get("batchItemFailures", [])]
    done = [m for m in messages if m["MessageId"] not in set(result.failed)]
    result.kept = [m["ReceiptHandle"] for m in messages if m["MessageId"] in set(result.failed)]
    for start in range(0, len(done), 10):
        sqs.delete_message_batch(
            QueueUrl=queue.url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(done[start : start + 10])
            ],
        )
    return result
