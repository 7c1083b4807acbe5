"""Saga outcomes entry point: each SQS record is a Step Functions status change event."""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.observability import logger, publish_metrics, tracer
from functions.sagas import outcomes


def _record(record: SQSRecord) -> None:
    outcomes.record(outcomes.parse(json.loads(record.body)))


@logger.inject_lambda_context(clear_state=True)
@publish_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    processor = BatchProcessor(event_type=EventType.SQS)
    return process_partial_response(
        event=event, record_handler=_record, processor=processor, context=context
    )
