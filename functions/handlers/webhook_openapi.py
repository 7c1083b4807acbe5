"""The webhook route on Powertools' REST resolver: what the OpenAPI document is made from.

``functions/handlers/webhook.py`` dispatches its one route itself, so that a cold start
does not import Powertools' event handler package; this is the same route declared on
``APIGatewayRestResolver``, for the OpenAPI document (infra/openapi.py) and for the test
that the handler answers every request exactly as the resolver would. Lambda never
imports it. Why: docs/decisions/0070-handlers-import-what-a-request-needs.md
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from functions.handlers import webhook
from functions.webhooks.exceptions import WebhookRejected

app = APIGatewayRestResolver()


def _response(answer: dict[str, Any]) -> Response:
    """The handler's proxy answer as the resolver's ``Response``."""
    headers = {name: values[-1] for name, values in answer["multiValueHeaders"].items()}
    return Response(status_code=answer["statusCode"], body=answer["body"], headers=headers)


@app.post(
    webhook.PATH,
    summary=webhook.SUMMARY,
    description=webhook.DESCRIPTION,
    responses=webhook.RESPONSES,
)
def post_webhook(source: str) -> Response[dict]:
    event = app.current_event.raw_event
    return _response(webhook.post_webhook(source, event, app.lambda_context))


@app.exception_handler(WebhookRejected)
def rejected(exc: WebhookRejected) -> Response:
    return _response(webhook.rejected(exc))


@app.not_found
def not_found(exc: Exception) -> Response:
    return _response(webhook.not_found(exc))


@app.exception_handler(Exception)
def unexpected(exc: Exception) -> Response:
    return _response(webhook.unexpected(exc))
