"""The one conversion between Python values and DynamoDB's typed attribute values.

Every module that talks to DynamoDB with the low-level client (the actions store, the
circuit breaker, the saga state) converts through here, so a number reads back as the
same ``int`` or ``float`` everywhere and a float is never refused (boto3's serializer
wants ``Decimal``). Condition failures are recognized here too.
"""

from __future__ import annotations

import re
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

# Floats of this size are numbers DynamoDB holds exactly as ``repr`` writes them (17
# digits at most, far inside its exponent range): boto3's context changes none of them.
_FLOAT_LOW, _FLOAT_HIGH = 1e-120, 1e120

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

    The scalars most items are made of (exactly ``str``, ``int``, ``bool``, ``float`` or
    None) are written here as boto3's serializer writes them, without its type checks: a
    warm worker converts about 30 values a record. So are exactly ``dict`` and ``list`` (an
    action's log, its recurrence), element by element. Anything else goes through boto3.
    """
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is int and -_EXACT_INT < value < _EXACT_INT:
        return {"N": str(value)}
    if kind is bool:
        return {"BOOL": value}
    if kind is float and (value == 0 or _FLOAT_LOW < abs(value) < _FLOAT_HIGH):
        text = repr(value)  # times are floats: a few a write
        return {"N": text if "e" not in text else str(Decimal(text))}
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
    """One attribute value as a plain value, as boto3's deserializer and ``_to_plain`` read it.

    What items are made of (strings, booleans, nulls, whole numbers, binaries, maps and
    lists of those) is read here directly: a warm worker reads about 60 values a record.
    Sets and numbers with a fraction or an exponent go through boto3.
    """
    if len(value) == 1:
        kind, inner = next(iter(value.items()))
        if kind in _AS_IS:
            return inner
        if kind == "N":
            if _WHOLE.fullmatch(inner):
                return int(inner)
            if _FRACTION.fullmatch(inner) and len(inner.lstrip("-")) <= _DIGITS + 1:
                whole, _, fraction = inner.partition(".")
                return float(inner) if fraction.strip("0") else int(whole)
        if kind == "M":
            return {key: from_attribute(item) for key, item in inner.items()}
        if kind == "L":
            return [from_attribute(item) for item in inner]
        if kind == "NULL":
            return None
        if kind == "B" and type(inner) is bytes:
            return inner
    return _to_plain(_deserializer.deserialize(cast("AttributeValueTypeDef", value)))


_AS_IS = frozenset({"S", "BOOL"})
_DIGITS = 38  # DynamoDB's precision, boto3's Decimal context's
# A number DynamoDB returns as digits alone: boto3 reads it as an integral Decimal.
_WHOLE = re.compile(rf"-?[0-9]{{1,{_DIGITS}}}")
# One with a fraction and no exponent (times are): within 38 digits, ``float`` reads it as
# ``float(Decimal)`` does, and a zero fraction is integral (boto3's Decimal("5.0") is 5).
_FRACTION = re.compile(r"-?[0-9]+\.[0-9]+")


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as plain values: integral numbers as ``int``, others as ``float``."""
    return {name: from_attribute(value) for name, value in item.items()}


def condition_failed(exc: ClientError) -> bool:
    """Did this write fail only because its condition did not hold?"""
    return bool(exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")
