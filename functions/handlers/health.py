"""API Gateway entry point for ``GET /health``. No logic lives here.

``200`` with the report when healthy, ``503`` with the same report (its ``reasons``
filled in) when not, so a plain HTTP monitor needs no parsing. Public by design: the
report holds counts and reasons only (see ``functions.health.checks``). Never cached
by anyone in between (``Cache-Control: no-store``); a warm function reuses its own
report for ``HEALTH_CACHE_SECONDS`` so a burst of requests costs one check.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.health import checks
from functions.health.config import cache_seconds
from functions.observability import add_metric, logger, publish_metrics, tracer

app = APIGatewayRestResolver()
HEADERS = {"Cache-Control": "no-store"}


def _json(status_code: int, body: dict) -> Response:
    return Response(
        status_code=status_code,
        content_type="application/json",
        body=json.dumps(body),
        headers=dict(HEADERS),
    )


@app.get("/health")
def get_health() -> Response:
    report = checks.latest(cache_seconds())
    # 1 per unhealthy answer, 0 per healthy one: its average is the unhealthy share.
    add_metric("HealthCheckUnhealthy", value=0 if report.healthy else 1)
    if not report.healthy:
        logger.warning("unhealthy", extra={"reasons": report.reasons})
    return _json(200 if report.healthy else 503, report.to_dict())


@app.not_found
def not_found(exc: Exception) -> Response:
    return _json(404, {"error": "not_found", "message": "no such route"})


@app.exception_handler(Exception)
def unexpected(exc: Exception) -> Response:
    # A health check that cannot tell is not healthy; the cause stays in the logs.
    logger.exception("health check failed")
    return _json(
        503,
        {
            "status": "unhealthy",
            "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "reasons": ["the health check failed"],
        },
    )


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@publish_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
