"""The bare baseline: the floor any webhook handler of this kind pays.

It verifies a GitHub HMAC over the raw body and sends one message, nothing else: no
idempotency, no action record, no logging, no metrics. The bench drives it with the
same events, through the same stubbed (or moto) AWS, as the real handlers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import boto3


class BareHandler:
    """``handle(event)`` answers 202 after one ``SendMessage``, or 401 on a bad signature."""

    def __init__(self, secret: bytes, queue_url: str) -> None:
        self._secret = secret
        self._queue_url = queue_url
        self.sqs = boto3.client("sqs")

    def handle(self, event: dict[str, Any], _context: Any = None) -> dict[str, Any]:
        body = event.get("body") or ""
        raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
        headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
        expected = "sha256=" + hmac.new(self._secret, raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers.get("x-hub-signature-256", "")):
            return {"statusCode": 401, "body": '{"error": "invalid_signature"}'}
        delivery_id = headers.get("x-github-delivery", "")
        self.sqs.send_message(
            QueueUrl=self._queue_url,
            MessageBody=json.dumps({"delivery_id": delivery_id, "payload": raw.decode()}),
        )
        return {"statusCode": 202, "body": json.dumps({"delivery_id": delivery_id})}
