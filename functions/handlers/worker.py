"""SQS entry point of the worker: every job queue's event source mapping invokes this."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.actions import hooks, worker
from functions.actions.batch import PartialItemFailureResponse
from functions.observability import logger, publish_metrics, trace_user_http_calls, tracer

trace_user_http_calls()  # hooks call HTTP services
# Each hook module on its own: one that fails to import fails only its hooks' actions.
hooks.load()


@logger.inject_lambda_context(clear_state=True)
@publish_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return worker.handle(event, context)
