"""AWS's run-time limits applied to moto (infra/local/aws_limits.py, as the local cloud
applies them): what AWS refuses is refused here too, and what AWS accepts still passes."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from infra.local.aws_limits import enforce

KIB = 1024


@pytest.fixture
def limited(aws):
    with enforce():
        yield


def test_sqs_refuses_a_message_over_the_queues_maximum_counting_attributes(limited):
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="q", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    attributes = {"hook": {"DataType": "String", "StringValue": "x" * 20}}
    sqs.send_message(QueueUrl=url, MessageBody="a" * 990, MessageAttributes=attributes)
    with pytest.raises(ClientError, match="Message must be shorter than 1024 bytes"):
        # 1,010 body bytes + 4 + 6 + 20 of the attribute = 1,040: over, the body alone fits.
        sqs.send_message(QueueUrl=url, MessageBody="a" * 1010, MessageAttributes=attributes)
    with pytest.raises(ClientError, match="shorter than 1024"):
        sqs.send_message(QueueUrl=url, MessageBody="é" * 600)  # 1,200 bytes in UTF-8
    assert (
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]["ApproximateNumberOfMessages"]
        == "1"
    )


def _table() -> str:
    boto3.client("dynamodb").create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return "t"


def test_dynamodb_refuses_an_item_over_400_kb(limited):
    dynamodb = boto3.client("dynamodb")
    table = _table()
    dynamodb.put_item(TableName=table, Item={"id": {"S": "a"}, "v": {"S": "x" * (400 * KIB - 8)}})
    with pytest.raises(ClientError, match="Item size has exceeded"):
        dynamodb.put_item(
            TableName=table, Item={"id": {"S": "b"}, "v": {"S": "x" * (400 * KIB - 2)}}
        )


def test_an_update_that_sets_an_attribute_again_counts_it_once(limited):
    # moto 5.2.5 alone counts the old and the new value: 2 x 250 KB would be refused.
    dynamodb = boto3.client("dynamodb")
    table = _table()
    dynamodb.put_item(TableName=table, Item={"id": {"S": "a"}, "v": {"S": "x" * (250 * KIB)}})
    dynamodb.update_item(
        TableName=table,
        Key={"id": {"S": "a"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "y" * (250 * KIB)}},
    )
    item = dynamodb.get_item(TableName=table, Key={"id": {"S": "a"}})["Item"]
    assert item["v"]["S"].startswith("y")
    with pytest.raises(ClientError, match="Item size to update has exceeded"):
        dynamodb.update_item(
            TableName=table,
            Key={"id": {"S": "a"}},
            UpdateExpression="SET w = :w",
            ExpressionAttributeValues={":w": {"S": "z" * (160 * KIB)}},
        )


def test_scheduler_refuses_a_target_input_over_256_kb(limited):
    scheduler = boto3.client("scheduler")

    def create(name: str, size: int) -> None:
        scheduler.create_schedule(
            Name=name,
            ScheduleExpression="at(2030-01-01T00:00:00)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": "arn:aws:sqs:us-east-1:123456789012:q",
                "RoleArn": "arn:aws:iam::123456789012:role/r",
                "Input": "x" * size,
            },
        )

    create("fits", 256 * KIB)
    with pytest.raises(ClientError, match="EventBridge Scheduler accepts at most 262144"):
        create("over", 256 * KIB + 1)


def test_step_functions_refuses_an_execution_input_over_256_kb(limited):
    sfn = boto3.client("stepfunctions")
    arn = sfn.create_state_machine(
        name="m",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/r",
    )["stateMachineArn"]
    with pytest.raises(ClientError, match=r"less than or equal to 262144"):
        sfn.start_execution(
            stateMachineArn=arn, name="big", input=json.dumps({"x": "y" * 256 * KIB})
        )
    sfn.start_execution(stateMachineArn=arn, name="small", input=json.dumps({"x": "y"}))


def test_a_task_result_over_256_kb_fails_the_state_as_step_functions_does():
    """The local Step Functions seam (infra/local/stepfunctions.py): a Lambda task whose
    result is over 256 KB fails its state with States.DataLimitExceeded."""
    from moto import mock_aws
    from moto.stepfunctions.parser.utils import TMP_THREADS

    from infra.local.stepfunctions import inprocess_lambdas

    arn_of = "arn:aws:lambda:us-east-1:123456789012:function:{}"
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName.$": "$.fn", "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "End": True,
            }
        },
    }
    handlers = {
        "small": lambda event, context: {"x": "y"},
        "large": lambda event, context: {"x": "y" * (256 * KIB)},
    }
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions")
        machine = sfn.create_state_machine(
            name="m", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/r"
        )["stateMachineArn"]
        before = len(TMP_THREADS)
        with inprocess_lambdas(handlers):
            runs = {
                name: sfn.start_execution(
                    stateMachineArn=machine,
                    name=name,
                    input=json.dumps({"fn": arn_of.format(name)}),
                )["executionArn"]
                for name in handlers
            }
            while running := [t for t in TMP_THREADS[before:] if t.is_alive()]:
                for thread in running:
                    thread.join(20)
        small, large = (sfn.describe_execution(executionArn=runs[n]) for n in ("small", "large"))
    assert small["status"] == "SUCCEEDED"
    assert large["status"] == "FAILED"
    assert large["error"] == "States.DataLimitExceeded", large.get("cause")
