"""AWS's run-time limits that moto does not apply, applied to moto: one place, used by the
local cloud (``LocalCloud.start``) and by the tests (``enforce()``, ``SqsMessageRules``).

- SQS: a message's body and every attribute's name, data type and value count towards
  the queue's ``MaximumMessageSize`` in UTF-8 (moto counts the body's characters alone);
  SQS refuses some characters.
- DynamoDB: an item is at most 400 KB counted as DynamoDB counts it (names and values,
  once each). moto 5.2.5 counts an attribute twice when an update sets it again; the rule
  here replaces moto's.
- EventBridge Scheduler: a target's input is at most 256 KB.
- Step Functions: an execution's input is at most 256 KB (``StartExecution`` refuses it).
- Lambda: a function's environment is at most 4 KB (``check_environment``; the local cloud
  does not start such a function).

The limits' values and sources are ``infra/limits.py``'s table. Built against moto 5.2.x.
Why: docs/decisions/0067-the-local-cloud-refuses-what-aws-refuses.md
"""

from __future__ import annotations

import base64
import contextlib
import functools
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any
from unittest import mock

from infra.limits import LIMITS, environment_size

ENVIRONMENT_BYTES = LIMITS["lambda_environment"].value
ITEM_BYTES = LIMITS["dynamodb_item"].value
SCHEDULER_INPUT_BYTES = LIMITS["scheduler_input"].value
STATES_PAYLOAD_BYTES = LIMITS["states_payload"].value
# What SQS accepts in a body or a string attribute: tab, line feed, carriage return and
# U+0020-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF.
SQS_REFUSES = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class EnvironmentTooLarge(RuntimeError):
    """A function's environment is over Lambda's 4 KB: AWS would not create it."""


def check_environment(function: str, variables: Mapping[str, str]) -> int:
    """The environment's size as Lambda measures it; raises over the limit."""
    size = environment_size(dict(variables))
    if size > ENVIRONMENT_BYTES:
        raise EnvironmentTooLarge(
            f"function {function}: its environment is {size:,} bytes, over Lambda's limit of "
            f"{ENVIRONMENT_BYTES:,} ({LIMITS['lambda_environment'].source}); AWS would refuse "
            "to create it. Keep settings that grow with use out of the environment "
            "(docs/reference/limits.md)."
        )
    return size


def sqs_message_size(body: str, attributes: Mapping[str, Mapping[str, Any]] | None) -> int:
    """The bytes SQS counts against ``MaximumMessageSize``: the body, and each message
    attribute's name, data type and value (a binary value's bytes), in UTF-8."""
    size = len(body.encode("utf-8"))
    for name, value in (attributes or {}).items():
        data_type = value.get("DataType") or value.get("data_type") or ""
        size += len(name.encode("utf-8")) + len(str(data_type).encode("utf-8"))
        text = value.get("StringValue") or value.get("string_value") or ""
        size += len(str(text).encode("utf-8"))
        binary = value.get("BinaryValue") or value.get("binary_value") or b""
        if isinstance(binary, str):  # base64 on the wire
            binary = base64.b64decode(binary)
        size += len(binary)
    return size


def sqs_message_problem(
    body: str, attributes: Mapping[str, Mapping[str, Any]] | None, limit: int
) -> str | None:
    """Why SQS refuses the message (its reason, as SQS words it), or None."""
    if sqs_message_size(body, attributes) > limit:
        return f"Message must be shorter than {limit} bytes."
    texts = [body] + [
        str(value.get("StringValue") or value.get("string_value") or "")
        for value in (attributes or {}).values()
    ]
    if any(SQS_REFUSES.search(text) for text in texts):
        return "Invalid characters found."
    return None


def dynamodb_value_size(kind: str, value: Any) -> int:
    """A DynamoDB attribute value's size as DynamoDB counts it: a string's or binary's
    bytes, a number's (significant digits / 2) + 1, 1 for a boolean or null, and for a list
    or map 3 bytes plus each element (and each map key) plus 1 byte per element."""
    if kind == "S":
        return len(str(value).encode("utf-8"))
    if kind == "B":
        return len(value) if isinstance(value, bytes | bytearray) else len(base64.b64decode(value))
    if kind == "N":
        digits = Decimal(str(value)).normalize().as_tuple().digits
        return (len(digits) + 1) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(dynamodb_value_size(kind[0], item) for item in value)
    if kind == "L":
        return 3 + sum(_typed_size(item) + 1 for item in value)
    if kind == "M":
        return 3 + sum(
            len(key.encode("utf-8")) + _typed_size(item) + 1 for key, item in value.items()
        )
    raise ValueError(f"not a DynamoDB type: {kind}")


def _typed_size(item: Any) -> int:
    """The size of ``{"S": "x"}`` or of moto's DynamoType holding it."""
    if hasattr(item, "type") and hasattr(item, "value"):
        return dynamodb_value_size(item.type, item.value)
    if not isinstance(item, dict):  # what moto stores untyped: counted as its text
        return len(str(item).encode("utf-8"))
    ((kind, value),) = item.items()
    return dynamodb_value_size(kind, value)


def dynamodb_item_size(item: Mapping[str, Any]) -> int:
    """An item's size: each attribute's name in UTF-8 and its value, counted once."""
    return sum(len(name.encode("utf-8")) + _typed_size(value) for name, value in item.items())


def _item_setitem(self: dict[str, Any], key: str, value: Any) -> None:
    """moto's LimitedSizeDict.__setitem__ with DynamoDB's rule: the item as it will be
    (the attribute replaced, not added again) is at most 400 KB."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge

    after = {**self, key: value}
    if dynamodb_item_size(after) > ITEM_BYTES:
        raise ItemSizeTooLarge
    dict.__setitem__(self, key, value)


def _send_message(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def send(self: Any, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
        from moto.sqs.exceptions import InvalidParameterValue

        queue = self.get_queue(queue_name)
        attributes = kwargs.get("message_attributes") or (args[0] if args else None)
        problem = sqs_message_problem(message_body, attributes, int(queue.maximum_message_size))
        if problem:
            raise InvalidParameterValue(f"One or more parameters are invalid. Reason: {problem}")
        return original(self, queue_name, message_body, *args, **kwargs)

    return send


def _schedule(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        from moto.scheduler.exceptions import ValidationException

        target = kwargs.get("target") or {}
        size = len(str(target.get("Input") or "").encode("utf-8"))
        if size > SCHEDULER_INPUT_BYTES:
            raise ValidationException(
                f"The target's Input is {size} bytes; EventBridge Scheduler accepts at most "
                f"{SCHEDULER_INPUT_BYTES}."
            )
        return original(self, *args, **kwargs)

    return write


def _start_execution(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def start(self: Any, state_machine_arn: str, *args: Any, **kwargs: Any) -> Any:
        from moto.stepfunctions.exceptions import ValidationException

        given = kwargs.get("execution_input", args[1] if len(args) > 1 else None)
        size = len(str(given or "").encode("utf-8"))
        if size > STATES_PAYLOAD_BYTES:
            raise ValidationException(
                "1 validation error detected: Value at 'input' failed to satisfy constraint: "
                f"Member must have length less than or equal to {STATES_PAYLOAD_BYTES} "
                f"(it is {size} bytes)"
            )
        return original(self, state_machine_arn, *args, **kwargs)

    return start


@contextlib.contextmanager
def enforce() -> Iterator[None]:
    """Apply the limits above to moto's backends in this process (the local cloud's
    server, or a test's ``mock_aws``) until the context ends."""
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict
    from moto.scheduler.models import EventBridgeSchedulerBackend
    from moto.sqs.models import SQSBackend
    from moto.stepfunctions.models import StepFunctionBackend
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    with contextlib.ExitStack() as patches:
        patches.enter_context(
            mock.patch.object(SQSBackend, "send_message", _send_message(SQSBackend.send_message))
        )
        patches.enter_context(mock.patch.object(LimitedSizeDict, "__setitem__", _item_setitem))
        for name in ("create_schedule", "update_schedule"):
            method = getattr(EventBridgeSchedulerBackend, name)
            patches.enter_context(
                mock.patch.object(EventBridgeSchedulerBackend, name, _schedule(method))
            )
        for backend in (StepFunctionBackend, StepFunctionsParserBackend):
            patches.enter_context(
                mock.patch.object(
                    backend, "start_execution", _start_execution(backend.start_execution)
                )
            )
        yield
