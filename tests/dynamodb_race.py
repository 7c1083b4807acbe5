"""Two conditional puts of one new DynamoDB item, raced from two threads inside moto:
what tells whether moto (bare, or the local cloud's) serves DynamoDB requests atomically
(infra/local/atomic.py). Used by tests/integration/test_local_atomic.py on ``mock_aws``
and by tests/local/test_cloud.py against a running local cloud."""

from __future__ import annotations

import threading
from typing import Any
from unittest import mock

import boto3
from botocore.exceptions import ClientError

# How long the first put waits inside moto for the second to join it: the second never
# can while requests are atomic, so that test waits this long once; on bare moto the
# second joins at once, and the long wait only bounds a machine too loaded to start it.
JOIN_SECONDS = 0.5
JOIN_SECONDS_BARE = 30.0


def create_table(name: str) -> str:
    boto3.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def race(table: str, join_seconds: float) -> tuple[list[str], int]:
    """Two conditional puts of the same new item from two threads, the first held inside
    moto until the second joins it (or ``join_seconds`` pass): the outcomes and the most
    puts moto ran at once."""
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.put_item
    lock, inside, most = threading.Lock(), [0], [0]
    first_inside, second_sent, second_inside = (
        threading.Event(),
        threading.Event(),
        threading.Event(),
    )

    def put_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            first = not first_inside.is_set()
        if first:
            first_inside.set()
            second_sent.wait(timeout=10)
            second_inside.wait(timeout=join_seconds)
        else:
            second_inside.set()
        try:
            return original(self, *args, **kwargs)
        finally:
            with lock:
                inside[0] -= 1

    clients = [boto3.client("dynamodb"), boto3.client("dynamodb")]
    outcomes: list[str] = []

    def put(client: Any, before: threading.Event | None) -> None:
        if before is not None:
            before.wait(timeout=10)
            second_sent.set()
        try:
            client.put_item(
                TableName=table,
                Item={"id": {"S": "delivery-1"}},
                ConditionExpression="attribute_not_exists(id)",
            )
            outcomes.append("put")
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])

    with mock.patch.object(DynamoDBBackend, "put_item", put_item):
        threads = [
            threading.Thread(target=put, args=(clients[0], None)),
            threading.Thread(target=put, args=(clients[1], first_inside)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    return sorted(outcomes), most[0]
