"""API Gateway entry point for ``GET /health``. No logic lives here.

``200`` with the report when healthy, ``503`` with the same report when not;
``Cache-Control: no-store``; a warm function reuses its report for
``HEALTH_CACHE_SECONDS``. Any other route is answered 404 here, without a router.
Why: docs/decisions/0017-the-health-check-is-a-lambda-of-its-own.md
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.health import checks
from functions.health.config import cache_seconds
from functions.metrics import Metric
from functions.observability import add_metric, logger, publish_metrics, tracer

ROUTE = ("GET", "/health")
HEADERS = {"Cache-Control": "no-store"}


def _json(status_code: int, body: dict) -> dict[str, Any]:
    """An API Gateway proxy answer, shaped as Powertools' REST resolver shapes one."""
    headers = {"Content-Type": "application/json", **HEADERS}
    return {
        "statusCode": status_code,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def get_health() -> dict[str, Any]:
    report = checks.latest(cache_seconds())
    # 1 per unhealthy answer, 0 per healthy one: its average is the unhealthy share.
    add_metric(Metric.HEALTH_CHECK_UNHEALTHY, value=0 if report.healthy else 1)
    if not report.healthy:
        logger.warning("unhealthy", extra={"reasons": report.reasons})
    return _json(200 if report.healthy else 503, report.to_dict())


def unexpected() -> dict[str, Any]:
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
    if (event.get("httpMethod"), event.get("resource") or event.get("path")) != ROUTE:
        return _json(404, {"error": "not_found", "message": "no such route"})
    try:
        return get_health()
    except Exception:
        return unexpected()
