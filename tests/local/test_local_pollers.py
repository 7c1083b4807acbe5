"""The local event source mapping: batches, partial failures, errors, redrive."""

from __future__ import annotations

import json

import boto3
import pytest

from infra.local.pollers import Mapping, SqsPoller


@pytest.fixture
def queue(aws):
    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName="jobs",
        Attributes={
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return sqs, url, arn, dlq


def _depth(sqs, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def test_a_batch_reaches_the_function_and_successes_are_deleted(queue):
    sqs, url, arn, _ = queue
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}))
    seen = []

    def invoke(function, event):
        seen.append((function, [json.loads(r["body"])["n"] for r in event["Records"]]))
        assert all(r["eventSourceARN"] == arn for r in event["Records"])
        return {"batchItemFailures": []}

    poller = SqsPoller(
        Mapping("worker", url, arn, batch_size=10), invoke, log=lambda _: None, wait_seconds=0
    )

    assert poller.poll() == 3
    assert seen == [("worker", [0, 1, 2])]
    assert _depth(sqs, url) == 0


def test_only_reported_failures_stay_and_redrive_moves_them_on(queue):
    sqs, url, arn, dlq = queue
    sqs.send_message(QueueUrl=url, MessageBody="ok")
    sqs.send_message(QueueUrl=url, MessageBody="bad")

    def invoke(function, event):
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "bad"
            ]
        }

    poller = SqsPoller(Mapping("worker", url, arn), invoke, log=lambda _: None, wait_seconds=0)
    poller.poll()
    assert _depth(sqs, url) == 1
    poller.poll()  # second receive of "bad": maxReceiveCount 2 reached
    poller.poll()  # moto moves it to the dead-letter queue on the next receive

    assert _depth(sqs, url) == 0
    [moved] = sqs.receive_message(QueueUrl=dlq)["Messages"]
    assert moved["Body"] == "bad"


def test_an_invocation_error_keeps_the_whole_batch(queue):
    sqs, url, arn, _ = queue
    sqs.send_message(QueueUrl=url, MessageBody="x")
    sqs.send_message(QueueUrl=url, MessageBody="y")

    def invoke(function, event):
        raise RuntimeError("the function crashed")

    lines: list[str] = []
    poller = SqsPoller(Mapping("worker", url, arn), invoke, log=lines.append, wait_seconds=0)

    assert poller.poll() == 2
    assert _depth(sqs, url) == 2
    assert "invocation failed" in lines[0]


def test_batch_size_is_honoured(queue):
    sqs, url, arn, _ = queue
    for n in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=str(n))
    sizes = []
    poller = SqsPoller(
        Mapping("worker", url, arn, batch_size=2),
        lambda f, e: sizes.append(len(e["Records"])) or {},
        log=lambda _: None,
        wait_seconds=0,
    )
    while poller.poll():
        pass
    assert sizes == [2, 2, 1]


def test_a_record_the_function_shows_again_is_received_by_the_next_poll(aws):
    """The worker hands a record back at once (ChangeMessageVisibility 0, reported failed)
    when its invocation has too little time left: the poller deletes only what succeeded,
    so the next poll takes it, while a plain failure waits out the visibility timeout."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="slow", Attributes={"VisibilityTimeout": "300"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    for body in ("done", "handed back", "failed"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    seen: list[list[str]] = []

    def invoke(function, event):
        seen.append([r["body"] for r in event["Records"]])
        failures = []
        for record in event["Records"]:
            if record["body"] == "handed back":
                sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
                )
            if record["body"] != "done":
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    poller = SqsPoller(Mapping("worker", url, arn), invoke, log=lambda _: None, wait_seconds=0)

    assert poller.poll() == 3
    assert poller.poll() == 1
    assert seen[1] == ["handed back"]
    assert _depth(sqs, url) == 2  # "failed" is in flight until its visibility timeout ends
