"""API Gateway's own answers, in the receiver's ``{"error", "message"}`` shape.

API Gateway answers some requests without calling a function: a path or method the API
does not have, a request to an IAM route that is not signed or whose signature does not
verify, a body over its 10 MB, its throttle, a function that failed. The stack
gives each a gateway response (infra/constructs/webhook_api.py), the local cloud's HTTP
front applies the same responses from the template, and the OpenAPI document lists them
(infra/openapi.py). The error codes are the receiver's (functions/webhooks/exceptions.py)
plus ``throttled`` and the IAM routes' own; docs/reference/errors.md lists them. No CDK
import here: the local cloud and the OpenAPI document read this module too.
Why: docs/decisions/0031-the-gateways-own-answers-in-the-receivers-shape.md,
0051-a-missing-route-and-an-unsigned-request-get-one-403.md
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
    # What a REST API answers for a path or method it does not have, and for a request
    # to an AWS_IAM route that is not signed: API Gateway tells them apart in neither
    # the type nor its variables, so one 403 says both.
    "MISSING_AUTHENTICATION_TOKEN": GatewayAnswer(
        "missing_authentication_token",
        "403",
        "no such route, or the route needs a request signed with AWS Signature Version 4",
    ),
    # An AWS_IAM route's signature that does not verify, a key AWS does not know, a
    # signature over 5 minutes old (403 by default); API Gateway's message says which.
    "INVALID_SIGNATURE": GatewayAnswer("invalid_signature"),
    # An expired session token (403 by default).
    "EXPIRED_TOKEN": GatewayAnswer("expired_token"),
    # The signer's IAM policies do not allow execute-api:Invoke on the route (403).
    "ACCESS_DENIED": GatewayAnswer("access_denied"),
    # A Cognito route's request without a valid ID token: none, not one of the pool's,
    # or expired (401); API Gateway's message says which ("Unauthorized", "The incoming
    # token has expired"). The console signs in again.
    "UNAUTHORIZED": GatewayAnswer("unauthorized", "401"),
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

# What the OpenAPI document adds to the functions' own answers: status -> description.
OPENAPI_ANSWERS: dict[str, str] = {
    "429": "Throttled by API Gateway (the stage's or the route's limit, with Retry-After) "
    "or by the WAF's per-IP rate rule: error `throttled`; retry later.",
    "502": "The function failed (API Gateway's answer): error `internal_error`; retry.",
    "504": "The function did not answer in time (API Gateway's answer): error "
    "`internal_error`; retry.",
}
