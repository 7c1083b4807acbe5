"""Faults of the AWS side, injected into our own boto3 clients through botocore's event hooks.

Every AWS call our code makes goes through the clients of ``functions.clients``; a
``before-parameter-build`` handler on them sees each call in order, with its parameters,
and can make the N-th one fail as AWS would (a throttle, a 5xx) before anything reaches
moto, and an ``after-call``
handler can make it fail after moto applied it (the response was lost: a read timeout),
the fault that tests idempotency hardest. Nothing of ours is mocked: the handlers,
the persistence layer and moto run as they are; only the answer of one call changes.

Injected errors are what botocore raises once its own retries are spent, so they stand
for a throttle or an outage that outlasted the client's retry budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError, ReadTimeoutError

from functions.clients import each_client
from infra.local import aws_limits

Call = tuple[str, str]
"""(service id, operation), as botocore names them: ("dynamodb", "PutItem")."""

# A throttle and a server error per service, with the HTTP status AWS answers them with.
THROTTLES = {
    "dynamodb": ("ProvisionedThroughputExceededException", 400),
    "sqs": ("ThrottlingException", 400),
    "secrets-manager": ("ThrottlingException", 400),
    "s3": ("SlowDown", 503),
}
SERVER_ERRORS = {
    "dynamodb": ("InternalServerError", 500),
    "sqs": ("ServiceUnavailable", 503),
    "secrets-manager": ("InternalServiceError", 500),
    "s3": ("InternalError", 500),
}
KINDS = ("throttle", "server_error", "lost_response")


@dataclass
class Fault:
    """How one call fails: ``throttle`` or ``server_error`` before it takes effect,
    ``lost_response`` after (the call happened, the caller sees a read timeout)."""

    kind: str

    def error(self, service: str, operation: str) -> Exception:
        if self.kind == "lost_response":
            return ReadTimeoutError(endpoint_url=f"https://{service}.injected.invalid/")
        code, status = (THROTTLES if self.kind == "throttle" else SERVER_ERRORS)[service]
        return ClientError(
            {
                "Error": {"Code": code, "Message": "injected fault"},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            operation,
        )


@dataclass
class Faults:
    """Records every call of our clients; fails the calls it is told to, by index."""

    calls: list[Call] = field(default_factory=list)
    # What each call addressed: its TableName, QueueUrl or SecretId (a transaction: "").
    targets: list[str] = field(default_factory=list)
    plan: dict[int, Fault] = field(default_factory=dict)
    # Fail the next call of an operation, whatever its index: {("s3", "GetObject"): ...}.
    by_call: dict[Call, Fault] = field(default_factory=dict)
    injected: list[tuple[int, Call, str]] = field(default_factory=list)
    _after: Fault | None = None

    def install(self) -> Faults:
        for client in each_client():
            client.meta.events.register("before-parameter-build.*", self._before)
            client.meta.events.register("after-call.*", self._after_call)
        return self

    def reset(self) -> None:
        """Start counting calls anew (after a test's own set-up calls)."""
        self.calls.clear()
        self.targets.clear()
        self.plan.clear()
        self.injected.clear()

    @contextmanager
    def failing(self, plan: dict[int, Fault]) -> Iterator[list[Call]]:
        """Count calls from zero and fail those in ``plan``; yield the calls seen."""
        self.reset()
        self.plan.update(plan)
        try:
            yield self.calls
        finally:
            self.plan.clear()

    def _before(self, event_name: str, params: dict[str, Any], **_: Any) -> None:
        call = _call(event_name)
        index = len(self.calls)
        self.calls.append(call)
        self.targets.append(
            str(params.get("TableName") or params.get("QueueUrl") or params.get("SecretId") or "")
        )
        fault = self.plan.pop(index, None) or self.by_call.pop(call, None)
        if fault is None:
            return
        self.injected.append((index, call, fault.kind))
        if fault.kind == "lost_response":
            self._after = fault
            return
        raise fault.error(*call)

    def _after_call(self, event_name: str, **_: Any) -> None:
        fault, self._after = self._after, None
        if fault is not None:
            raise fault.error(*_call(event_name))


def _call(event_name: str) -> Call:
    _, service, operation = event_name.split(".")[:3]
    return service, operation


@dataclass
class SqsMessageRules:
    """SQS's own rules for a message, on our clients' SendMessage, which moto does not
    apply: the body and each message attribute's name, data type and value count
    towards ``limit`` in UTF-8 (moto counts the body alone, up to 1 MiB), and neither
    the body nor a string value may hold a character SQS refuses. A message that breaks
    them is refused as SQS refuses it. The rule is the local cloud's
    (``infra/local/aws_limits.py``), independent of the project's own sizing code.
    ``sizes``: the size of each message sent."""

    limit: int = 262_144
    sizes: list[int] = field(default_factory=list)

    def install(self) -> SqsMessageRules:
        for client in each_client():
            client.meta.events.register("before-parameter-build.sqs.SendMessage", self._check)
        return self

    def _check(self, params: dict[str, Any], **_: Any) -> None:
        body, attributes = params["MessageBody"], params.get("MessageAttributes")
        problem = aws_limits.sqs_message_problem(body, attributes, self.limit)
        if problem:
            raise _invalid(problem)
        self.sizes.append(aws_limits.sqs_message_size(body, attributes))


def _invalid(reason: str) -> ClientError:
    return ClientError(
        {
            "Error": {
                "Code": "InvalidParameterValue",
                "Message": f"One or more parameters are invalid. Reason: {reason}",
            },
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        "SendMessage",
    )
