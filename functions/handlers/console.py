"""API Gateway entry point for the console's JSON API (``/console/api/...``, Cognito).

No logic lives here: the routes are ``functions.api.console.routes``, and each checks
the caller's group from the claims API Gateway's Cognito authorizer passes.
"""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.api.console import routes
from functions.observability import logger, publish_metrics, tracer

app = APIGatewayRestResolver()
app.include_router(routes.router)


def _json(status_code: int, body: dict) -> Response:
    return Response(status_code=status_code, content_type="application/json", body=json.dumps(body))


@app.not_found
def not_found(exc: Exception) -> Response:
    return _json(404, {"error": "not_found", "message": "no such route"})


@app.exception_handler(Exception)
def unexpected(exc: Exception) -> Response:
    logger.exception("unexpected error")
    return _json(500, {"error": "internal_error", "message": "an unexpected error occurred"})


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@publish_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
