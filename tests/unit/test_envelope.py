"""The job envelope: validation, JSON round trip, strict args and the SQS size limit."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from functions.actions.envelope import MAX_MESSAGE_BYTES, Envelope, dump_args
from functions.actions.exceptions import ActionTooLarge, InvalidAction

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
    with pytest.raises(ValidationError):
        envelope.attempt = 2


# ----------------------------------------------------------------------- validation


@pytest.mark.parametrize("field", ["scheduled_for", "enqueued_at"])
def test_naive_datetime_is_refused(field: str) -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        make(**{field: datetime(2025, 3, 1, 12, 30)})  # naive on purpose
    with pytest.raises(ValidationError, match="timezone-aware"):
        Envelope.from_message(message(**{field: "2025-03-01T12:30:00"}))


@pytest.mark.parametrize(
    "hook",
    ["", "1hook", "-hook", ".hook", "has space", "hook/slash", "hook\n", "héllo", "a" * 129],
)
def test_bad_hook_names_are_refused(hook: str) -> None:
    with pytest.raises(ValidationError, match="hook names match"):
        make(hook=hook)


@pytest.mark.parametrize("hook", ["a", "_private", "A" * 128, "orders.send_receipt", "ns:hook-v2"])
def test_good_hook_names_are_accepted(hook: str) -> None:
    assert make(hook=hook).hook == hook


@pytest.mark.parametrize("version", [2, 0, "1", None])
def test_unknown_version_is_refused(version: object) -> None:
    with pytest.raises(ValidationError):
        Envelope.from_message(message(v=version))


def test_version_two_is_refused_when_constructed() -> None:
    with pytest.raises(ValidationError):
        make(v=2)


def test_extra_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        make(tenant="acme")
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Envelope.from_message(message(tenant="acme"))


@pytest.mark.parametrize(
    "overrides",
    [
        {"action_id": ""},
        {"action_id": "a" * 129},
        {"action_id": ...},
        {"hook": ...},
        {"scheduled_for": ...},
        {"priority": "urgent"},
        {"attempt": 0},
        {"max_attempts": 0},
        {"group": "g" * 256},
    ],
    ids=repr,
)
def test_other_field_constraints(overrides: dict) -> None:
    with pytest.raises(ValidationError):
        Envelope.from_message(message(**overrides))


@pytest.mark.parametrize("body", ["", "not json", "[]", "null"])
def test_from_message_refuses_non_envelopes(body: str) -> None:
    with pytest.raises(ValidationError):
        Envelope.from_message(body)


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
    envelope = make(args="é" * ((MAX_MESSAGE_BYTES - overhead()) // 2 + 1))
    body = envelope.model_dump_json()
    assert len(body) <= MAX_MESSAGE_BYTES < len(body.encode("utf-8"))
    with pytest.raises(ActionTooLarge):
        envelope.to_message()


def test_action_too_large_is_an_invalid_action() -> None:
    with pytest.raises(InvalidAction):
        make(args="a" * MAX_MESSAGE_BYTES).to_message()
