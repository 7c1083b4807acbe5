"""DynamoDB's atomic requests, which moto's threaded server does not give.

In AWS a conditional write is checked and applied as one step: of two concurrent
PutItems on condition that the item does not exist, one fails. moto checks a condition,
then writes, in Python, and its threaded server (the local cloud's) can run a second
request between the two: both succeed. The webhook's de-duplication (Powertools
idempotency's conditional put), a claim and every status change rely on the guarantee,
so the local cloud serves one DynamoDB request at a time. moto's server is bound by
the GIL either way; other services are untouched (SQS delivers at least once in AWS too).
Why: docs/decisions/0077-the-local-cloud-writes-dynamodb-items-atomically.md
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from typing import Any
from unittest import mock


@contextlib.contextmanager
def atomic_dynamodb() -> Iterator[None]:
    """Serve moto's DynamoDB requests in this process one at a time until the context ends."""
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()  # re-entrant: a request that makes another in its thread
    original = DynamoHandler.call_action

    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        with lock:
            return original(self)

    with mock.patch.object(DynamoHandler, "call_action", call_action):
        yield
