"""API Gateway entry point for ``POST /webhooks/{source}``. No logic lives here.

One route, dispatched here as Powertools' REST resolver dispatches it (its path rule,
its answers' shape, its exception handlers' order), without importing Powertools' event
handler package on a cold start. The same route on the resolver, ``app`` in
``functions/handlers/webhook_openapi.py``, is the OpenAPI document's source
(infra/openapi.py) and the reference this dispatch is tested against.
Why: docs/decisions/0070-handlers-import-what-a-request-needs.md
"""

from __future__ import annotations

import binascii
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths

from functions.metrics import Metric
from functions.observability import add_metric, logger, publish_metrics, tracer
from functions.webhooks import receiver
from functions.webhooks.exceptions import MalformedPayload, WebhookRejected

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
    from aws_lambda_powertools.utilities.typing import LambdaContext

METHOD = "POST"
PATH = "/webhooks/<source>"
# Powertools' rule for PATH on a REST API (APIGatewayRestResolver._compile_regex): the
# source is one path segment of URI characters, and trailing slashes are allowed.
ROUTE = re.compile(r"^/webhooks/(?P<source>[-._~()'!*:@,;=+&$%<> \[\]{}|^\w]+)/*$")


def _json(status_code: int, body: dict, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway proxy answer, shaped as Powertools' REST resolver shapes a
    ``Response(status_code, "application/json", json.dumps(body), headers)``."""
    merged: dict[str, str | None] = dict(headers or {})
    merged.setdefault("Content-Type", "application/json")
    return {
        "statusCode": status_code,
        "body": json.dumps(body),
        "isBase64Encoded": False,
        "multiValueHeaders": {name: [value] for name, value in merged.items() if value is not None},
    }


def raw_body(body: str | None, is_base64_encoded: bool | None) -> bytes:
    """The exact bytes the sender signed: API Gateway base64-encodes binary bodies.

    Raises ``MalformedPayload`` (400) for a body that is not what the event says it is.
    """
    if body is None:
        return b""
    if not is_base64_encoded:
        try:
            return body.encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedPayload("the body is not valid UTF-8 text") from None
    try:  # strict: only the base64 alphabet, padded as RFC 4648 has it
        return binascii.a2b_base64(body.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError):
        raise MalformedPayload("the body is not valid base64, as API Gateway says it is") from None


def _described(description: str, schema: dict[str, Any]) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


# What the route answers, for the OpenAPI document (webhook_openapi.py). Documentation
# only: nothing here runs per request and the answers are exactly those of the code below.
SUMMARY = "Receive a signed webhook"
DESCRIPTION = "Verifies the source's signature, accepts each delivery once and queues it."
_RECEIPT = {
    "type": "object",
    "required": ["delivery_id", "action_id", "status"],
    "properties": {
        "delivery_id": {"type": "string"},
        "action_id": {"type": "string"},
        "status": {"const": "queued"},
    },
}
_ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}
RESPONSES: dict[int, OpenAPIResponse] = {
    202: _described("Accepted: the delivery is queued as an action.", _RECEIPT),
    200: _described("A repeat of an accepted delivery: the first answer.", _RECEIPT),
    400: _described("Signed, but not what this source sends.", _ERROR),
    401: _described("Missing or wrong signature, or a timestamp out of tolerance.", _ERROR),
    404: _described("No source of this name.", _ERROR),
    409: _described("The same delivery is being accepted right now; retry.", _ERROR),
    413: _described("The body is too large.", _ERROR),
    422: _described("The delivery id was accepted before with another body.", _ERROR),
    500: _described("The source is misconfigured, or an unexpected error; retry.", _ERROR),
    503: _described("A dependency failed; retry.", _ERROR),
}


def post_webhook(source: str, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    # In total only: the source is not known to be one of ours yet.
    add_metric(Metric.WEBHOOKS_RECEIVED)
    # Header names in lower case, as Powertools' event gives them (CaseInsensitiveDict).
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    receipt = receiver.receive(
        source,
        headers=headers,
        body=raw_body(event.get("body"), event.get("isBase64Encoded")),
        lambda_context=context,
    )
    return _json(receipt.status_code, receipt.body)


def rejected(exc: WebhookRejected) -> dict[str, Any]:
    logger.info("webhook rejected", extra={"reason": exc.error, "status_code": exc.status_code})
    # By reason (a fixed set of codes), never by source: an unknown source is whatever
    # a caller put in the path, and each distinct value would be a new billed metric.
    add_metric(Metric.WEBHOOKS_REJECTED, reason=exc.error)
    return _json(exc.status_code, {"error": exc.error, "message": exc.message}, exc.headers)


def not_found(exc: Exception | None = None) -> dict[str, Any]:
    return _json(404, {"error": "not_found", "message": "no such route"})


def unexpected(exc: Exception) -> dict[str, Any]:
    logger.exception("unexpected error")
    # Counted as a rejection too, so received = accepted + duplicated + rejected.
    add_metric(Metric.WEBHOOKS_REJECTED, reason="internal_error")
    return _json(500, {"error": "internal_error", "message": "an unexpected error occurred"})


def resolve(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Route ``event`` as the REST resolver would: ``POST`` on ``ROUTE``, else 404; a
    rejection answered by ``rejected``, anything else raised by ``unexpected``."""
    method = event["httpMethod"].upper()
    path = event["path"]
    matched = ROUTE.match(path) if method == METHOD else None
    try:
        if matched is None:
            return not_found()
        return post_webhook(matched["source"], event, context)
    except WebhookRejected as exc:
        return rejected(exc)
    except Exception as exc:
        return unexpected(exc)


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@publish_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return resolve(event, context)
