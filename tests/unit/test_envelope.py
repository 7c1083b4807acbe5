"""The job envelope: validation, JSON round trip, strict args, the SQS size limit, and
the message the pydantic model wrote, byte for byte."""

from __future__ import annotations

import json
import math
from dataclasses import FrozenInstanceError, replace
from datetime import UTC, datetime, timedelta, timezone

import pydantic_core
import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.actions.envelope import (
    MAX_MESSAGE_BYTES,
    Envelope,
    InvalidEnvelope,
    _float,
    dump_args,
)
from functions.actions.exceptions import ActionTooLarge, InvalidAction
from functions.payloads.ref import PayloadRef

SCHEDULED = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
ENQUEUED = datetime(2025, 3, 1, 12, 0, 5, 123456, tzinfo=UTC)


def make(**overrides: object) -> Envelope:
    fields: dict[str, object] = {
        "action_id": "act_01HV8Z",
        "hook": "orders.send_receipt",
        "args": {"order_id": 42},
        "scheduled_for": SCHEDULED,
        "enqueued_at": ENQUEUED,
    }
    fields.update(overrides)
    return Envelope(**fields)


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


def message(**overrides: object) -> str:
    """A valid message body with some fields replaced (or removed when set to ...)."""
    doc = json.loads(make().to_message())
    for key, value in overrides.items():
        if value is ...:
            doc.pop(key)
        else:
            doc[key] = value
    return json.dumps(doc)


# ----------------------------------------------------------------------- round trip


def test_round_trip_preserves_every_field() -> None:
    envelope = make(
        args={"order_id": 42, "items": [1, 2.5, "é", None, True], "nested": {"k": []}},
        group="receipts",
        priority="high",
        attempt=3,
        max_attempts=7,
        correlation_id="req-9",
    )
    body = envelope.to_message()
    restored = Envelope.from_message(body)
    assert restored == envelope
    assert restored.args == {
        "order_id": 42,
        "items": [1, 2.5, "é", None, True],
        "nested": {"k": []},
    }
    doc = json.loads(body)
    assert doc["v"] == 1
    assert doc["hook"] == "orders.send_receipt"
    assert doc["priority"] == "high"
    assert doc["attempt"] == 3
    assert datetime.fromisoformat(doc["scheduled_for"]) == SCHEDULED


def test_defaults() -> None:
    envelope = Envelope.from_message(message(args=..., group=..., priority=...))
    assert envelope.v == 1
    assert envelope.args is None
    assert envelope.group == ""
    assert envelope.priority == "default"
    assert envelope.attempt == 1
    assert envelope.max_attempts == 5
    assert envelope.correlation_id == ""


def test_aware_timestamps_are_normalised_to_utc() -> None:
    paris = timezone(timedelta(hours=2))
    envelope = make(scheduled_for=datetime(2025, 3, 1, 14, 30, tzinfo=paris))
    assert envelope.scheduled_for == SCHEDULED
    assert envelope.scheduled_for.utcoffset() == timedelta(0)
    assert Envelope.from_message(envelope.to_message()).scheduled_for == SCHEDULED


def test_envelope_is_frozen() -> None:
    envelope = make()
    with pytest.raises(FrozenInstanceError):
        envelope.attempt = 2  # type: ignore[misc]


# ----------------------------------------------------------------------- validation


@pytest.mark.parametrize("field", ["scheduled_for", "enqueued_at"])
def test_naive_datetime_is_refused(field: str) -> None:
    with pytest.raises(InvalidEnvelope, match=f"{field}: timestamps must be timezone-aware"):
        make(**{field: datetime(2025, 3, 1, 12, 30)})  # naive on purpose
    with pytest.raises(InvalidEnvelope, match=f"{field}: timestamps must be timezone-aware"):
        Envelope.from_message(message(**{field: "2025-03-01T12:30:00"}))


@pytest.mark.parametrize(
    "hook",
    ["", "1hook", "-hook", ".hook", "has space", "hook/slash", "hook\n", "héllo", "a" * 129],
)
def test_bad_hook_names_are_refused(hook: str) -> None:
    with pytest.raises(InvalidEnvelope, match="hook: hook names match"):
        make(hook=hook)


@pytest.mark.parametrize("hook", ["a", "_private", "A" * 128, "orders.send_receipt", "ns:hook-v2"])
def test_good_hook_names_are_accepted(hook: str) -> None:
    assert make(hook=hook).hook == hook


@pytest.mark.parametrize("version", [2, 0, "1", None])
def test_unknown_version_is_refused(version: object) -> None:
    with pytest.raises(InvalidEnvelope, match="v: the envelope's version is 1"):
        Envelope.from_message(message(v=version))


def test_version_two_is_refused_when_constructed() -> None:
    with pytest.raises(InvalidEnvelope, match="v: "):
        make(v=2)


def test_extra_fields_are_refused() -> None:
    # Python's own refusal of an unknown keyword, in code; the envelope's, in a message.
    with pytest.raises(TypeError, match="tenant"):
        make(tenant="acme")
    with pytest.raises(InvalidEnvelope, match="tenant: not a field of the envelope"):
        Envelope.from_message(message(tenant="acme"))


def test_the_args_cache_is_not_a_field_of_the_envelope_or_its_message() -> None:
    envelope = make()
    assert envelope.args_text == dump_args({"order_id": 42})

    assert "_args_text" not in envelope.to_message()
    assert envelope == make()  # a made cache changes no comparison
    with pytest.raises(TypeError):
        make(_args_text="{}")
    with pytest.raises(InvalidEnvelope, match="_args_text: not a field of the envelope"):
        Envelope.from_message(message(_args_text="{}"))


def test_the_args_text_follows_the_args_of_each_envelope() -> None:
    """Encoded once per envelope: a copy with other args (``replace``, as a retry's
    envelope is made) encodes its own, even after the first envelope's was made."""
    first = make(args={"n": 1})
    assert first.args_text == '{"n":1}'

    second = replace(first, args={"n": 2})

    assert second.args_text == '{"n":2}'
    assert json.loads(second.to_message())["args"] == {"n": 2}
    assert json.loads(first.to_message())["args"] == {"n": 1}


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"action_id": ""}, "action_id: an action id is 1-128 printable characters"),
        ({"action_id": "a" * 129}, "action_id: an action id is 1-128"),
        ({"action_id": "line\nbreak"}, "action_id: an action id is 1-128"),
        ({"action_id": 42}, "action_id: an action id is 1-128"),
        ({"action_id": ...}, "action_id: missing"),
        ({"hook": ...}, "hook: missing"),
        ({"scheduled_for": ...}, "scheduled_for: missing"),
        ({"enqueued_at": ...}, "enqueued_at: missing"),
        ({"priority": "urgent"}, "priority: the priority is 'high', 'default' or 'low'"),
        ({"priority": None}, "priority: "),
        ({"attempt": 0}, "attempt: an integer of at least 1"),
        ({"max_attempts": 0}, "max_attempts: an integer of at least 1"),
        ({"group": "g" * 256}, "group: a group is text of at most 255 characters"),
        ({"group": None}, "group: "),
        ({"group": "\ud800"}, "group: "),
        ({"correlation_id": None}, "correlation_id: a correlation id is text"),
        ({"correlation_id": "\udfff"}, "correlation_id: "),
        ({"args": {"x": math.nan}}, "args: JSON numbers must be finite"),
        ({"args": "\ud800"}, "args: strings must be valid Unicode"),
        ({"args": _nested(65)}, "args: JSON nests deeper than 64"),
        ({"scheduled_for": "tomorrow"}, "scheduled_for: not an ISO 8601 time"),
        ({"scheduled_for": "2026-01-01"}, "scheduled_for: timestamps must be timezone-aware"),
        ({"enqueued_at": "0001-01-01T00:00:00+05:00"}, "enqueued_at: the time is out of range"),
        ({"args_ref": 7}, "args_ref: a payload reference is an object"),
    ],
    ids=repr,
)
def test_other_field_constraints(overrides: dict, problem: str) -> None:
    with pytest.raises(InvalidEnvelope, match=problem):
        Envelope.from_message(message(**overrides))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        # pydantic's lax mode took these (3, 3, 1, True, a time of epoch seconds); a
        # message only ever carries what to_message writes, so the parser is strict.
        ({"attempt": "3"}, "attempt"),
        ({"attempt": 3.0}, "attempt"),
        ({"max_attempts": True}, "max_attempts"),
        ({"v": True}, "v"),
        ({"v": 1.0}, "v"),
        ({"listed": "true"}, "listed"),
        ({"listed": 0}, "listed"),
        ({"recorded": None}, "recorded"),
        ({"scheduled_for": 1735689600}, "scheduled_for"),
        ({"enqueued_at": "1735689600"}, "enqueued_at"),
    ],
    ids=repr,
)
def test_numbers_flags_and_times_take_their_json_types_only(overrides: dict, field: str) -> None:
    with pytest.raises(InvalidEnvelope, match=f"^{field}: ") as refused:
        Envelope.from_message(message(**overrides))
    assert refused.value.field == field


@pytest.mark.parametrize(
    "text", ["2025-03-01T12:30:00Z", "2025-03-01T12:30:00+00:00", "2025-03-01T14:30:00+02:00"]
)
def test_times_are_read_from_iso_8601_with_z_or_an_offset(text: str) -> None:
    envelope = Envelope.from_message(message(scheduled_for=text))
    assert envelope.scheduled_for == SCHEDULED
    assert envelope.scheduled_for.tzinfo is UTC


@pytest.mark.parametrize(
    "body", ["", "not json", "[]", "null", "{", '"text"', "[" * 100_000, b"\xff"], ids=repr
)
def test_from_message_refuses_non_envelopes(body: str) -> None:
    with pytest.raises(InvalidEnvelope, match=r"^body: "):
        Envelope.from_message(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@given(
    document=st.dictionaries(st.sampled_from([*Envelope.__dataclass_fields__, "x"]), json_values)
)
def test_any_json_object_is_an_envelope_or_an_invalid_envelope(document: dict) -> None:
    fields = json.loads(message()) | document
    try:
        envelope = Envelope.from_message(json.dumps(fields))
    except InvalidEnvelope:
        return
    assert Envelope.from_message(envelope.to_message()) == envelope


def test_replace_checks_the_fields_again() -> None:
    envelope = make()
    assert replace(envelope, attempt=2).attempt == 2
    with pytest.raises(InvalidEnvelope, match="attempt: "):
        replace(envelope, attempt=0)
    paris = timezone(timedelta(hours=2))
    moved = replace(envelope, scheduled_for=datetime(2025, 3, 1, 14, 30, tzinfo=paris))
    assert moved.scheduled_for == SCHEDULED and moved.scheduled_for.tzinfo is UTC


# ------------------------------------------------------------------------ dump_args


def test_dump_args_is_compact_strict_json() -> None:
    assert dump_args({"a": [1, "é", None]}) == '{"a":[1,"é",null]}'
    assert dump_args(None) == "null"
    assert dump_args([]) == "[]"


class Custom:
    pass


@pytest.mark.parametrize(
    "args",
    [
        {1, 2},
        {"ids": {1, 2}},
        frozenset(),
        Custom(),
        {"when": datetime(2025, 1, 1, tzinfo=UTC)},
        b"bytes",
        {(1, 2): "tuple key"},
        math.nan,
        {"x": math.nan},
        [math.inf],
        -math.inf,
    ],
    ids=[
        "set",
        "nested-set",
        "frozenset",
        "object",
        "datetime",
        "bytes",
        "tuple-key",
        "nan",
        "nested-nan",
        "inf",
        "neg-inf",
    ],
)
def test_dump_args_refuses_what_is_not_json(args: object) -> None:
    with pytest.raises(InvalidAction, match="JSON-serializable"):
        dump_args(args)


def test_invalid_action_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        dump_args({1, 2})


# ------------------------------------------------------------------------ size limit


def overhead() -> int:
    """Bytes of a message whose args are the empty string."""
    return len(make(args="").to_message().encode("utf-8"))


def test_message_of_exactly_the_limit_is_accepted() -> None:
    body = make(args="a" * (MAX_MESSAGE_BYTES - overhead())).to_message()
    assert len(body.encode("utf-8")) == MAX_MESSAGE_BYTES


def test_message_one_byte_over_the_limit_is_refused() -> None:
    envelope = make(args="a" * (MAX_MESSAGE_BYTES - overhead() + 1))
    with pytest.raises(ActionTooLarge, match=str(MAX_MESSAGE_BYTES)):
        envelope.to_message()


def test_limit_counts_utf8_bytes_not_characters() -> None:
    characters = (MAX_MESSAGE_BYTES - overhead()) // 2 + 1
    envelope = make(args="é" * characters)
    # The overhead is ASCII: as many characters as bytes.
    assert overhead() + characters <= MAX_MESSAGE_BYTES < overhead() + 2 * characters
    with pytest.raises(ActionTooLarge):
        envelope.to_message()


def test_action_too_large_is_an_invalid_action() -> None:
    with pytest.raises(InvalidAction):
        make(args="a" * MAX_MESSAGE_BYTES).to_message()


# --------------------------------------------------------------- the wire format, pinned

# Messages the pydantic model wrote for these envelopes, before
# docs/decisions/0073-the-functions-hot-path-is-pydantic-free.md: workers of either
# version read the other's messages, and the bytes do not change.
T = datetime(2026, 1, 1, tzinfo=UTC)
REF = PayloadRef(key=f"d100/act-1/{'a' * 64}.json", size=123, args_hash="b" * 64)
TAIL = (
    '"group":"","priority":"default","attempt":1,"max_attempts":5,'
    '"scheduled_for":"2026-01-01T00:00:00Z","enqueued_at":"2026-01-01T00:00:00Z",'
    '"correlation_id":""'
)
PINNED = {
    "no args": (
        {"action_id": "act-1", "hook": "h"},
        '{"v":1,"action_id":"act-1","hook":"h","args":null,' + TAIL + "}",
    ),
    "an object": (
        {
            "action_id": "act-1",
            "hook": "orders.send_receipt",
            "args": {
                "order_id": 42,
                "items": [1, 2.5, "x", None, True, False],
                "nested": {"k": []},
            },
            "group": "receipts",
            "priority": "high",
            "attempt": 3,
            "max_attempts": 7,
            "enqueued_at": datetime(2026, 1, 1, 0, 0, 5, 123456, tzinfo=UTC),
            "correlation_id": "req-9",
        },
        '{"v":1,"action_id":"act-1","hook":"orders.send_receipt","args":{"order_id":42,'
        '"items":[1,2.5,"x",null,true,false],"nested":{"k":[]}},"group":"receipts",'
        '"priority":"high","attempt":3,"max_attempts":7,"scheduled_for":"2026-01-01T00:00:00Z",'
        '"enqueued_at":"2026-01-01T00:00:05.123456Z","correlation_id":"req-9"}',
    ),
    "unicode": (
        {
            "action_id": "act-\xe9",
            "hook": "h",
            "args": {"\xe9": '\xfc\u20ac\U0001f600\u2028\n\t"\\/\x00\x1f\x7f'},
        },
        '{"v":1,"action_id":"act-\xe9","hook":"h","args":{"\xe9":"\xfc\u20ac\U0001f600\u2028'
        '\\n\\t\\"\\\\/\\u0000\\u001f\x7f"},' + TAIL + "}",
    ),
    "U+FFFE and U+FFFF": (
        {"action_id": "act-1", "hook": "h", "args": ["\ufffe\uffff", "a\ufffeb"]},
        '{"v":1,"action_id":"act-1","hook":"h","args":["\\ufffe\\uffff","a\\ufffeb"],' + TAIL + "}",
    ),
    "a reference": (
        {"action_id": "act-1", "hook": "h", "args_ref": REF},
        '{"v":1,"action_id":"act-1","hook":"h",'
        + TAIL
        + ',"args_ref":{"key":"d100/act-1/'
        + "a" * 64
        + '.json","size":123,"args_hash":"'
        + "b" * 64
        + '"}}',
    ),
    "unlisted, unrecorded": (
        {"action_id": "act-1", "hook": "h", "args": 1, "listed": False, "recorded": False},
        '{"v":1,"action_id":"act-1","hook":"h","args":1,'
        + TAIL
        + ',"listed":false,"recorded":false}',
    ),
    "microseconds": (
        {
            "action_id": "act-1",
            "hook": "h",
            "args": "s",
            "scheduled_for": datetime(2026, 1, 1, 0, 0, 0, 500, tzinfo=UTC),
            "enqueued_at": datetime(
                2025, 6, 30, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))
            ),
        },
        '{"v":1,"action_id":"act-1","hook":"h","args":"s","group":"","priority":"default",'
        '"attempt":1,"max_attempts":5,"scheduled_for":"2026-01-01T00:00:00.000500Z",'
        '"enqueued_at":"2025-07-01T04:59:59.999999Z","correlation_id":""}',
    ),
    "numbers": (
        {
            "action_id": "act-1",
            "hook": "h",
            "args": [
                1e20,
                1e16,
                1e15,
                123456789012345678.0,
                1e-7,
                0.0001,
                0.00001,
                1.0,
                -0.0,
                0.1,
                1.5e300,
                2**70,
                -(2**64),
                5e-324,
            ],
        },
        '{"v":1,"action_id":"act-1","hook":"h","args":[1e+20,1e+16,1000000000000000.0,'
        "1.2345678901234568e+17,1e-7,0.0001,0.00001,1.0,-0.0,0.1,1.5e+300,"
        "1180591620717411303424,-18446744073709551616,5e-324]," + TAIL + "}",
    ),
    "a tuple": (
        {"action_id": "act-1", "hook": "h", "args": (1, (2, 3))},
        '{"v":1,"action_id":"act-1","hook":"h","args":[1,[2,3]],' + TAIL + "}",
    ),
    "the limits of time": (
        {
            "action_id": "act-1",
            "hook": "h",
            "scheduled_for": datetime(1970, 1, 1, tzinfo=UTC),
            "enqueued_at": datetime(2199, 12, 31, 23, 59, 59, tzinfo=UTC),
        },
        '{"v":1,"action_id":"act-1","hook":"h","args":null,"group":"","priority":"default",'
        '"attempt":1,"max_attempts":5,"scheduled_for":"1970-01-01T00:00:00Z",'
        '"enqueued_at":"2199-12-31T23:59:59Z","correlation_id":""}',
    ),
}


@pytest.mark.parametrize("case", list(PINNED))
def test_the_message_is_the_pydantic_model_s_byte_for_byte(case: str) -> None:
    fields, written = PINNED[case]
    envelope = Envelope(**{"scheduled_for": T, "enqueued_at": T, **fields})  # type: ignore[arg-type]

    assert envelope.to_message() == written
    back = Envelope.from_message(written)
    assert back.to_message() == written
    if case != "a tuple":  # a tuple comes back a list, as JSON has it
        assert back == envelope


@given(
    number=st.floats(allow_nan=False, allow_infinity=False)
    | st.floats(min_value=1e-9, max_value=1e-3).map(lambda x: x * (-1) ** int(x * 1e12))
)
def test_floats_are_written_as_pydantic_wrote_them(number: float) -> None:
    assert _float(number) == pydantic_core.to_json(number).decode()
    assert json.loads(_float(number)) == number
    written = make(args={"x": [number, "1e-05"]}).to_message()
    assert f'"args":{{"x":[{_float(number)},"1e-05"]}}' in written
