"""API Gateway entry point for the console's JSON API (``/console/api/...``, Cognito).

No logic lives here: the routes are ``functions.api.console.routes``, and each checks
the caller's group from the claims API Gateway's Cognito authorizer passes.
"""

from __future__ import annotations

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.api.console import routes
from functions.api.resolver import json_resolver
from functions.observability import logger, publish_metrics, tracer

app = json_resolver()
app.include_router(routes.router)


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@publish_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
