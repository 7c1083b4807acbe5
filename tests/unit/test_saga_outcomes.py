"""A saga's status change event, read: the execution, its status, its error in one line,
and the action that started it."""

from __future__ import annotations

import json

import pytest

from functions.sagas import outcomes, tasks
from functions.sagas.ended import DETAIL_TYPE

ARN = "arn:aws:states:us-east-1:123456789012:execution:OrderSaga:order-o-1"


def _event(status: str = "FAILED", **detail: object) -> dict:
    saga_input = {"input": {"order_id": "o-1", **tasks.origin_input("a-1", "d-1")}}
    return {
        "version": "0",
        "detail-type": DETAIL_TYPE,
        "source": "aws.states",
        "detail": {
            "executionArn": ARN,
            "status": status,
            "input": json.dumps(saga_input),
            **detail,
        },
    }


def _summary(cause: str, compensated: list[str]) -> str:
    lambda_error = {"errorType": "PermanentError", "errorMessage": cause, "stackTrace": []}
    summary = {"error": "PermanentError", "cause": json.dumps(lambda_error)}
    return json.dumps({**summary, "compensated": compensated})


def test_a_compensated_failure_reads_as_its_error_and_what_was_undone():
    ended = outcomes.parse(
        _event(
            error="PermanentError",
            cause=_summary("charge failed", ["refund_payment", "release_inventory"]),
        )
    )
    assert ended.execution_arn == ARN
    assert ended.status == "FAILED"
    assert ended.origin == tasks.Origin("a-1", "d-1")
    assert ended.error == (
        "PermanentError: charge failed; compensated: refund_payment, release_inventory"
    )
    assert ended.outcome.describe() == f"order-o-1 failed: {ended.error}"


def test_a_failed_compensation_reads_as_the_compensations_error():
    cause = json.dumps({"errorType": "PermanentError", "errorMessage": "refund failed"})
    ended = outcomes.parse(_event(error="Saga.CompensationFailed", cause=cause))
    assert ended.error == "Saga.CompensationFailed: refund failed"


@pytest.mark.parametrize(
    ("status", "error", "cause", "expected"),
    [
        ("SUCCEEDED", None, None, ""),
        ("TIMED_OUT", "States.Timeout", None, "States.Timeout"),
        ("ABORTED", "Operator", "stopped\nby hand", "Operator: stopped by hand"),
    ],
)
def test_every_ending_is_read(status, error, cause, expected):
    ended = outcomes.parse(_event(status, error=error, cause=cause))
    assert (ended.status, ended.error) == (status, expected)


def test_an_execution_without_its_input_has_no_origin():
    """EventBridge leaves the input out above 248 KiB."""
    event = _event("SUCCEEDED")
    event["detail"]["input"] = None
    assert outcomes.parse(event).origin == tasks.Origin()


@pytest.mark.parametrize(
    "event",
    [
        {"detail-type": "Something else", "detail": {}},
        {"detail-type": DETAIL_TYPE, "detail": {"executionArn": ARN, "status": "RUNNING"}},
        {"detail-type": DETAIL_TYPE, "detail": "not an object"},
        {"detail-type": DETAIL_TYPE, "detail": {"status": "FAILED"}},
    ],
)
def test_what_is_not_an_ended_execution_is_refused(event):
    with pytest.raises(ValueError):
        outcomes.parse(event)
