"""Step Functions entry point: runs the saga task named in the event."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

import functions.sagas.order  # noqa: F401 - registers the order saga's tasks
from functions.observability import logger, tracer
from functions.sagas import tasks


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    logger.append_keys(task=event.get("task"), execution=event.get("execution"))
    logger.set_correlation_id(event.get("execution"))
    return tasks.run(event)
