"""What Lambda hands a handler, built locally: API Gateway proxy events and a context.

Shared by ``make run``, the tests and the CLI so that every local invocation sees
the shapes a deployed function sees.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LocalContext:
    """The attributes of Lambda's context object that Powertools and our handlers read.

    ``get_remaining_time_in_millis`` counts down from ``timeout_seconds`` (give the
    function's own, as the process runtime does) on ``clock``: the monotonic clock, or a
    test's, which moves time for the worker's time budget without sleeping.
    """

    function_name: str = "local-function"
    memory_limit_in_mb: int = 512
    timeout_seconds: float = 10.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local-function"
    log_stream_name: str = "local"
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = self.clock() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self.clock()) * 1000))


def rest_proxy_event(  # noqa: PLR0913 - keyword-only: the event's optional fields, by name
    method: str,
    path: str,
    *,
    resource: str,
    path_parameters: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    base64_encoded: bool = True,
    stage: str = "v1",
) -> dict[str, Any]:
    """An API Gateway REST API Lambda-proxy event.

    With the stack's binary media type ``*/*``, API Gateway base64-encodes every
    body, so ``base64_encoded`` defaults to True.
    """
    headers = dict(headers or {})
    if body is None:
        encoded = None
    elif base64_encoded:
        encoded = base64.b64encode(body).decode("ascii")
    else:
        encoded = body.decode("utf-8")
    request_id = str(uuid.uuid4())
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "protocol": "HTTP/1.1",
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": headers.get("User-Agent", "")},
        },
        "body": encoded,
        "isBase64Encoded": bool(body is not None and base64_encoded),
    }


def webhook_event(
    source: str, headers: dict[str, str], body: bytes, *, base64_encoded: bool = True
) -> dict[str, Any]:
    """The event of ``POST /webhooks/{source}``."""
    return rest_proxy_event(
        "POST",
        f"/webhooks/{source}",
        resource="/webhooks/{source}",
        path_parameters={"source": source},
        headers=headers,
        body=body,
        base64_encoded=base64_encoded,
    )
