"""The one conversion between Python values and DynamoDB's typed attribute values.

Every module that talks to DynamoDB with the low-level client (the actions store, the
circuit breaker, the saga state) converts through here, so a number reads back as the
same ``int`` or ``float`` everywhere and a float is never refused (boto3's serializer
wants ``Decimal``). Condition failures are recognized here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
# Integers strictly inside this bound have at most 38 digits: boto3 writes them as
# ``str(value)`` (DynamoDB's precision); larger ones go through its serializer, which
# refuses them.
_EXACT_INT = 10**38

AttributeValue = "AttributeValueTypeDef"
Item = dict[str, "AttributeValueTypeDef"]


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {key: _to_dynamo(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo(inner) for inner in value]
    return value


def _to_plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _to_plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_to_plain(inner) for inner in value]
    if isinstance(value, Binary):
        return bytes(value)  # type: ignore[call-overload]  # Binary has __bytes__; its stub does not say so
    return value


def to_attribute(value: Any) -> AttributeValueTypeDef:
    """One Python value (str, bytes, int, float, bool, None, list, dict) as an attribute value.

    The scalars most items are made of (exactly ``str``, ``int``, ``bool`` or None) are
    written here as boto3's serializer writes them, without its type checks: a warm
    worker converts about 30 values a record. So are exactly ``dict`` and ``list`` (an
    action's log, its recurrence), element by element. Anything else goes through boto3.
    """
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is int and -_EXACT_INT < value < _EXACT_INT:
        return {"N": str(value)}
    if kind is bool:
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if kind is dict:
        return {"M": {key: to_attribute(inner) for key, inner in value.items()}}
    if kind is list:
        return {"L": [to_attribute(inner) for inner in value]}
    return _serializer.serialize(_to_dynamo(value))


def to_item(values: Mapping[str, Any]) -> Item:
    """A mapping of plain values as a DynamoDB item (or key)."""
    return {name: to_attribute(value) for name, value in values.items()}


def to_values(values: Mapping[str, Any]) -> Item:
    """``ExpressionAttributeValues``: each name gets its ``:`` prefix."""
    return {f":{name}": to_attribute(value) for name, value in values.items()}


def from_attribute(value: Mapping[str, Any]) -> Any:
    if value:  # strings, booleans and nulls as boto3's deserializer reads them, directly
        kind = next(iter(value))
        if kind in _AS_IS:
            return value[kind]
        if kind == "NULL":
            return None
    return _to_plain(_deserializer.deserialize(cast("AttributeValueTypeDef", value)))


_AS_IS = frozenset({"S", "BOOL"})


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as plain values: integral numbers as ``int``, others as ``float``."""
    return {name: from_attribute(value) for name, value in item.items()}


def condition_failed(exc: ClientError) -> bool:
    """Did this write fail only because its condition did not hold?"""
    return bool(exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")
