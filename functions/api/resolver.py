"""The REST resolver both API handlers use: errors in the receiver's ``{"error", "message"}``
shape for an unknown route (404) and for anything unexpected (500, logged)."""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from functions.observability import logger


def _json(status_code: int, body: dict) -> Response:
    return Response(status_code=status_code, content_type="application/json", body=json.dumps(body))


def json_resolver() -> APIGatewayRestResolver:
    """A resolver whose own answers (no route, an unexpected error) are JSON errors."""
    app = APIGatewayRestResolver()

    @app.not_found
    def not_found(exc: Exception) -> Response:
        return _json(404, {"error": "not_found", "message": "no such route"})

    def unexpected(exc: Exception) -> Response:
        logger.exception("unexpected error")
        return _json(500, {"error": "internal_error", "message": "an unexpected error occurred"})

    # Registered by a call, not a decorator: the decorator is untyped.
    app.exception_handler(Exception)(unexpected)
    return app
