"""API Gateway's own answers to webhook senders, in the receiver's ``{"error", "message"}`` shape.

API Gateway answers some requests without calling the receiver: a path or method the API
does not have, a body over its 10 MB, its throttle, a function that failed. The stack
gives each a gateway response (infra/constructs/webhook_api.py), the local cloud's HTTP
front applies the same responses from the template, and the OpenAPI document lists them
(infra/openapi.py). The error codes are the receiver's (functions/webhooks/exceptions.py)
plus ``throttled``; the README's endpoint table lists them all. No CDK import here: the
local cloud and the OpenAPI document read this module too.
Why: docs/decisions/0031-the-gateways-own-answers-in-the-receivers-shape.md
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class GatewayAnswer:
    """What API Gateway answers on its own for one response type.

    ``status`` None keeps API Gateway's status for the type; ``message`` None keeps its
    message (``$context.error.messageString``, a JSON string); ``headers`` are static.
    """

    error: str
    status: str | None = None
    message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def template(self) -> str:
        """The gateway response's ``application/json`` mapping template."""
        message = json.dumps(self.message) if self.message else "$context.error.messageString"
        return f'{{"error": {json.dumps(self.error)}, "message": {message}}}'


# By API Gateway's response type; a type not listed falls back to DEFAULT_4XX or DEFAULT_5XX.
GATEWAY_ANSWERS: dict[str, GatewayAnswer] = {
    # What a REST API answers for a path or method it does not have (403 by default).
    "MISSING_AUTHENTICATION_TOKEN": GatewayAnswer("not_found", "404", "no such route"),
    "REQUEST_TOO_LARGE": GatewayAnswer(
        "payload_too_large", "413", "the request is over API Gateway's 10 MB limit"
    ),
    "THROTTLED": GatewayAnswer(
        "throttled", "429", "too many requests: retry later", {"Retry-After": "1"}
    ),
    # Only with usage plans, which the stack has none of; shaped all the same.
    "QUOTA_EXCEEDED": GatewayAnswer("throttled", "429", "the request quota is used up"),
    "DEFAULT_4XX": GatewayAnswer("bad_request"),
    # A function error or malformed proxy response (502), an integration timeout (504).
    "DEFAULT_5XX": GatewayAnswer("internal_error"),
}

# What the OpenAPI document adds to the receiver's own answers: status -> description.
OPENAPI_ANSWERS: dict[str, str] = {
    "429": "Throttled by API Gateway (the stage's or the route's limit, with Retry-After) "
    "or by the WAF's per-IP rate rule: error `throttled`; retry later.",
    "502": "The receiver failed (API Gateway's answer): error `internal_error`; retry.",
    "504": "The receiver did not answer in time (API Gateway's answer): error "
    "`internal_error`; retry.",
}
