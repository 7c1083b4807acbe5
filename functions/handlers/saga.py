"""Step Functions entry point: runs the saga task named in the event."""

from __future__ import annotations

from aws_lambda_powertools.utilities.typing import LambdaContext

import functions.sagas.order  # noqa: F401 - registers the order saga's tasks
from functions.observability import logger, publish_metrics, trace_user_http_calls, tracer
from functions.sagas import tasks

trace_user_http_calls()  # saga steps call HTTP services


@logger.inject_lambda_context(clear_state=True)
@publish_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    origin = tasks.origin(event)
    logger.append_keys(
        task=event.get("task"), execution=event.get("execution"), action_id=origin.action_id
    )
    # The originating webhook delivery (or action) id when the saga's starter passed it
    # on, so one query finds a delivery's lines in every function; else the execution.
    logger.set_correlation_id(origin.correlation_id or event.get("execution"))
    return tasks.run(event)
