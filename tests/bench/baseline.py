"""The bare baseline: the floor any webhook handler of this kind pays.

It verifies a GitHub HMAC over the raw body and sends one message, nothing else: no
idempotency, no action record, no logging, no metrics. The bench drives it with the
same events, through the same stubbed (or moto) AWS, as the real handlers.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore import xform_name
from botocore.client import BaseClient

Call = tuple[str, str, dict[str, Any]]  # (service, operation, params) as a handler made it


class BareHandler:
    """``handle(event)`` answers 202 after one ``SendMessage``, or 401 on a bad signature."""

    def __init__(self, secret: bytes, queue_url: str) -> None:
        self._secret = secret
        self._queue_url = queue_url
        self.sqs = boto3.client("sqs")

    def verified(self, event: dict[str, Any]) -> tuple[bytes, str] | None:
        """The raw body and delivery id of a correctly signed event, else None."""
        body = event.get("body") or ""
        raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
        headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
        expected = "sha256=" + hmac.new(self._secret, raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers.get("x-hub-signature-256", "")):
            return None
        return raw, headers.get("x-github-delivery", "")

    def handle(self, event: dict[str, Any], _context: Any = None) -> dict[str, Any]:
        verified = self.verified(event)
        if verified is None:
            return {"statusCode": 401, "body": '{"error": "invalid_signature"}'}
        raw, delivery_id = verified
        self.sqs.send_message(
            QueueUrl=self._queue_url,
            MessageBody=json.dumps({"delivery_id": delivery_id, "payload": raw.decode()}),
        )
        return {"statusCode": 202, "body": json.dumps({"delivery_id": delivery_id})}


class BareSameCalls(BareHandler):
    """The webhook's own AWS calls, made bare: the floor of *this* handler's work.

    The issue's baseline sends one message; ours must also record the delivery and the
    action (idempotency's put and update, the action's put), and most of a warm
    request's time is botocore's per call. Made bare, the same four calls separate
    what the calls cost from what the framework around them (Powertools' event handler
    and idempotency, pydantic, logs, metrics) adds.
    """

    def __init__(self, secret: bytes, queue_url: str, idempotency_table: str, actions_table: str):
        super().__init__(secret, queue_url)
        self.dynamodb = boto3.client("dynamodb")
        self._idempotency = idempotency_table
        self._actions = actions_table

    def handle(self, event: dict[str, Any], _context: Any = None) -> dict[str, Any]:
        verified = self.verified(event)
        if verified is None:
            return {"statusCode": 401, "body": '{"error": "invalid_signature"}'}
        raw, delivery_id = verified
        key = {"id": {"S": f"github#{delivery_id}"}}
        self.dynamodb.put_item(
            TableName=self._idempotency,
            Item={**key, "status": {"S": "INPROGRESS"}, "expiration": {"N": "1"}},
            ConditionExpression="attribute_not_exists(id)",
        )
        self.dynamodb.put_item(
            TableName=self._actions,
            Item={
                "action_id": {"S": delivery_id},
                "hook": {"S": "process_webhook"},
                "status": {"S": "pending"},
                "args": {"S": raw.decode()},
            },
            ConditionExpression="attribute_not_exists(action_id)",
        )
        self.sqs.send_message(
            QueueUrl=self._queue_url,
            MessageBody=json.dumps({"delivery_id": delivery_id, "payload": raw.decode()}),
        )
        answer = json.dumps({"delivery_id": delivery_id, "status": "queued"})
        self.dynamodb.update_item(
            TableName=self._idempotency,
            Key=key,
            UpdateExpression="SET #s = :done, #d = :data",
            ExpressionAttributeNames={"#s": "status", "#d": "data"},
            ExpressionAttributeValues={":done": {"S": "COMPLETED"}, ":data": {"S": answer}},
        )
        return {"statusCode": 202, "body": answer}


class BareWorker:
    """The worker's own AWS calls per record, made bare: claim, run nothing, complete."""

    def __init__(self, actions_table: str) -> None:
        self.dynamodb = boto3.client("dynamodb")
        self._actions = actions_table

    def handle(self, event: dict[str, Any], _context: Any = None) -> dict[str, Any]:
        for record in event["Records"]:
            envelope = json.loads(record["body"])
            key = {"action_id": {"S": envelope["action_id"]}}
            for old, new in (("pending", "in-progress"), ("in-progress", "complete")):
                self.dynamodb.update_item(
                    TableName=self._actions,
                    Key=key,
                    UpdateExpression="SET #s = :new",
                    ConditionExpression="#s = :old",
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={":new": {"S": new}, ":old": {"S": old}},
                )
        return {"batchItemFailures": []}


@contextmanager
def recorded_calls() -> Iterator[list[Call]]:
    """Every AWS call made inside the block, by any client of the process (ours and
    Powertools'), with the exact params it was made with."""
    calls: list[Call] = []
    original = BaseClient._make_api_call

    def record(self: Any, operation: str, params: dict[str, Any]) -> Any:
        calls.append((self.meta.service_model.service_name, operation, copy.deepcopy(params)))
        return original(self, operation, params)

    BaseClient._make_api_call = record  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


class ExactCalls:
    """A handler's own AWS calls, with the very params it sent, made bare: each through a
    default boto3 client's public method, nothing around them.

    What the handler takes beyond this is the framework's and ours alone (Powertools'
    idempotency and batch, models, logs, metrics), whatever the size of the items the
    calls carry; ``BareSameCalls`` and ``BareWorker`` make the same operations with
    minimal params, so their ratio also counts botocore's work on our larger items.
    """

    def __init__(self, calls: list[Call]) -> None:
        clients = {service: boto3.client(service) for service, _, _ in calls}  # type: ignore[call-overload]
        self.calls = [
            (getattr(clients[service], xform_name(operation)), params)
            for service, operation, params in calls
        ]

    def handle(self) -> None:
        for method, params in self.calls:
            method(**params)
