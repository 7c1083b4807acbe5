"""API Gateway entry point for the actions API (``/actions``, IAM-signed). No logic lives here.

The routes are ``functions.api.routes``; this handler adds what is IAM's: every request
must carry the caller API Gateway verified (``functions.api.caller``), logged with it.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.api import routes
from functions.api.caller import iam_caller
from functions.api.resolver import json_resolver
from functions.observability import logger, publish_metrics, tracer

app = json_resolver()


def require_iam_caller(resolver: APIGatewayRestResolver, next_middleware: Callable) -> Response:
    caller = iam_caller(resolver.current_event.raw_event.get("requestContext") or {})
    logger.append_keys(caller=caller)
    response: Response = next_middleware(resolver)
    return response


app.use(middlewares=[require_iam_caller])
app.include_router(routes.router)


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@publish_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
