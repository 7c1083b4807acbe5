"""``functions.dynamodb`` writes and reads attribute values exactly as boto3's
serializer and deserializer do: its shortcut for plain scalars changes nothing."""

from __future__ import annotations

from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

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


# Numbers as DynamoDB may return them (it normalizes, but other writers' forms are read too).
NUMBER_TEXTS = [
    *("0", "-0", "7", "-12", "007", "1.0", "1.5", "1E+2", "1e2", "-3.25E-1", "9" * 38),
    *("1.50", "-0.0", "5.000", "1796122206.424", "-0.001", "0." + "1" * 37, "1." + "0" * 37),
    *("12345678901234567890.123456789012345678", "0.000000000000000000000000000000000001"),
]


@pytest.mark.parametrize("text", NUMBER_TEXTS)
def test_a_number_is_read_as_boto3_reads_it(text: str) -> None:
    expected = _to_plain(TypeDeserializer().deserialize({"N": text}))

    read = from_attribute({"N": text})

    assert read == expected
    assert type(read) is type(expected)


@pytest.mark.parametrize("text", ["9" * 39, "1." + "1" * 38, "123456789." + "1" * 30])
def test_a_number_of_more_digits_than_dynamodb_keeps_is_refused_as_boto3_refuses_it(
    text: str,
) -> None:
    with pytest.raises(Exception) as ours:
        from_attribute({"N": text})
    with pytest.raises(Exception) as theirs:
        TypeDeserializer().deserialize({"N": text})
    assert type(ours.value) is type(theirs.value)


# Numbers within DynamoDB's range (1E-130 to 1E+126 in size); outside it boto3 refuses them.
_attributes = st.recursive(
    st.one_of(
        st.builds(lambda s: {"S": s}, st.text(max_size=5)),
        st.builds(lambda n: {"N": str(n)}, st.integers(-(10**38) + 1, 10**38 - 1)),
        st.builds(
            lambda f: {"N": repr(f)},
            st.floats(-1e120, 1e120).filter(lambda f: f == 0 or abs(f) > 1e-120),
        ),
        st.builds(lambda b: {"BOOL": b}, st.booleans()),
        st.just({"NULL": True}),
        st.builds(lambda b: {"B": b}, st.binary(max_size=5)),
        st.builds(
            lambda s: {"SS": sorted(s)}, st.sets(st.text(max_size=3), min_size=1, max_size=3)
        ),
    ),
    lambda inner: st.one_of(
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3)),
        st.builds(
            lambda items: {"M": items}, st.dictionaries(st.text(max_size=3), inner, max_size=3)
        ),
    ),
    max_leaves=12,
)


@given(_attributes)
def test_any_attribute_value_is_read_as_boto3_reads_it(value: dict[str, Any]) -> None:
    expected = _to_plain(TypeDeserializer().deserialize(value))

    read = from_attribute(value)

    assert read == expected
    assert repr(read) == repr(expected)  # the same types all the way down


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_float_is_written_as_boto3_writes_it_or_refused_as_it_refuses_it(value: float) -> None:
    try:
        expected = _boto3(value)
    except Exception as theirs:
        with pytest.raises(type(theirs)):
            to_attribute(value)
        return

    assert to_attribute(value) == expected
