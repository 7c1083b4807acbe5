"""``functions.dynamodb`` writes and reads attribute values exactly as boto3's
serializer and deserializer do: its shortcut for plain scalars changes nothing."""

from __future__ import annotations

from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from functions.dynamodb import _to_dynamo, _to_plain, from_attribute, to_attribute


class Colour(StrEnum):
    RED = "red"


class Level(IntEnum):
    ONE = 1


VALUES: list[Any] = [
    "",
    "text",
    "é\u2028\U0001f600",
    0,
    1,
    -1,
    10**38 - 1,
    -(10**38) + 1,
    True,
    False,
    None,
    1.5,
    0.1,
    -0.0,
    Decimal("2.50"),
    b"\x00bytes",
    [],
    {},
    [1, "a", None, [True]],
    {"k": [2.5, {"n": 3}]},
    {"a", "b"},
    Colour.RED,
    Level.ONE,
]


def _boto3(value: Any) -> Any:
    return TypeSerializer().serialize(_to_dynamo(value))


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_a_value_is_written_and_read_back_as_boto3_does(value: Any) -> None:
    written = to_attribute(value)

    assert written == _boto3(value)
    assert type(next(iter(written.values()))) is type(next(iter(_boto3(value).values())))
    read = from_attribute(written)
    expected = _to_plain(TypeDeserializer().deserialize(_boto3(value)))
    assert read == expected
    assert type(read) is type(expected)


@pytest.mark.parametrize("value", [10**38, -(10**38), 10**40])
def test_a_number_dynamodb_cannot_hold_is_refused_as_boto3_refuses_it(value: int) -> None:
    with pytest.raises(Exception) as ours:
        to_attribute(value)
    with pytest.raises(Exception) as theirs:
        _boto3(value)
    assert type(ours.value) is type(theirs.value)


def test_an_attribute_value_with_no_type_is_refused_as_boto3_refuses_it() -> None:
    with pytest.raises(TypeError):
        from_attribute({})
