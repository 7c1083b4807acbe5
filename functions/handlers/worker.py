"""SQS entry point of the worker: every job queue's event source mapping invokes this."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

import functions.hooks  # noqa: F401 - registers the project's hooks
from functions.actions import worker
from functions.observability import logger, publish_metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@publish_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return worker.handle(event, context)
