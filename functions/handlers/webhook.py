"""API Gateway entry point for ``POST /webhooks/{source}``. No logic lives here."""

from __future__ import annotations

import binascii
import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.metrics import Metric
from functions.observability import add_metric, logger, publish_metrics, tracer
from functions.webhooks import receiver
from functions.webhooks.exceptions import MalformedPayload, WebhookRejected

app = APIGatewayRestResolver()


def _json(status_code: int, body: dict, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status_code,
        content_type="application/json",
        body=json.dumps(body),
        headers=headers or {},
    )


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


# What the route answers, for the OpenAPI document Powertools generates from this app
# (infra/openapi.py). Documentation only: validation stays off, so nothing here runs
# per request and the answers are exactly those of the code below.
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
_RESPONSES: dict[int, OpenAPIResponse] = {
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


@app.post(
    "/webhooks/<source>",
    summary="Receive a signed webhook",
    description="Verifies the source's signature, accepts each delivery once and queues it.",
    responses=_RESPONSES,
)
def post_webhook(source: str) -> Response[dict]:
    # In total only: the source is not known to be one of ours yet.
    add_metric(Metric.WEBHOOKS_RECEIVED)
    event = app.current_event
    receipt = receiver.receive(
        source,
        headers=dict(event.headers or {}),
        body=raw_body(event.body, event.is_base64_encoded),
        lambda_context=app.lambda_context,
    )
    return _json(receipt.status_code, receipt.body)


@app.exception_handler(WebhookRejected)
def rejected(exc: WebhookRejected) -> Response:
    logger.info("webhook rejected", extra={"reason": exc.error, "status_code": exc.status_code})
    # By reason (a fixed set of codes), never by source: an unknown source is whatever
    # a caller put in the path, and each distinct value would be a new billed metric.
    add_metric(Metric.WEBHOOKS_REJECTED, reason=exc.error)
    return _json(exc.status_code, {"error": exc.error, "message": exc.message}, exc.headers)


@app.not_found
def not_found(exc: Exception) -> Response:
    return _json(404, {"error": "not_found", "message": "no such route"})


@app.exception_handler(Exception)
def unexpected(exc: Exception) -> Response:
    logger.exception("unexpected error")
    # Counted as a rejection too, so received = accepted + duplicated + rejected.
    add_metric(Metric.WEBHOOKS_REJECTED, reason="internal_error")
    return _json(500, {"error": "internal_error", "message": "an unexpected error occurred"})


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@publish_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
