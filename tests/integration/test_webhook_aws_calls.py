"""AWS requests per webhook, counted from botocore's event hooks: exact, not timed."""

from __future__ import annotations

import json

import pytest

from tests.conftest import record_aws_calls


@pytest.fixture
def calls(stack):
    """Every AWS operation our clients make, in order, as (service, operation)."""
    return record_aws_calls()


def _github(stack, delivery_id: str, body: bytes = b'{"zen": "ok"}'):
    return body, stack.signed("github", body, delivery_id)


def test_requests_per_accepted_repeat_and_rejected_webhook(stack, calls):
    body, headers = _github(stack, "count-1")
    assert stack.post("github", body, headers).status == 202
    first = list(calls)
    calls.clear()
    assert stack.post("github", body, headers).status == 200
    repeat = list(calls)
    calls.clear()
    assert stack.post("github", body + b" ", headers).status == 401
    rejected = list(calls)

    assert first == [
        ("secrets-manager", "GetSecretValue"),
        ("dynamodb", "PutItem"),  # the idempotency record, in progress
        ("dynamodb", "PutItem"),  # the action, pending
        ("sqs", "SendMessage"),
        ("dynamodb", "UpdateItem"),  # the idempotency record, completed
    ]
    # The secret is cached, and the failed conditional write returns the stored result.
    assert repeat == [("dynamodb", "PutItem")]
    assert rejected == []
    print(json.dumps({"accepted": len(first), "repeat": len(repeat), "rejected": 0}))
