"""The claim check's plain parts: the reference, the envelope and record that carry it,
and the lifetime class an object gets."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime

import pytest

from functions.actions.envelope import Envelope, InvalidEnvelope
from functions.actions.store.record import (
    Action,
    args_hash,
    from_item,
    match_key,
    to_item,
    unique_key,
)
from functions.payloads.ref import InvalidPayloadRef, PayloadRef
from functions.payloads.store import LIFETIME_DAYS, PayloadUnavailable, lifetime_days

ARGS = {"z": 1, "a": [1, 2]}
REF = PayloadRef(key=f"d100/act-1/{'a' * 64}.json", size=123, args_hash=args_hash(ARGS))
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _envelope(**fields) -> Envelope:
    return Envelope(action_id="act-1", hook="h", scheduled_for=NOW, enqueued_at=NOW, **fields)


def test_a_message_without_a_reference_is_what_it_always_was():
    document = json.loads(_envelope(args=ARGS).to_message())
    assert "args_ref" not in document
    assert document["args"] == ARGS
    assert Envelope.from_message(json.dumps(document)).args == ARGS


def test_a_message_with_a_reference_carries_it_instead_of_the_args():
    message = _envelope(args_ref=REF).to_message()
    document = json.loads(message)
    assert "args" not in document
    assert document["args_ref"] == REF.to_dict()
    assert Envelope.from_message(message).args_ref == REF


def test_an_envelope_carries_args_or_a_reference_not_both():
    with pytest.raises(
        InvalidEnvelope, match="args_ref: an envelope carries args or args_ref, not both"
    ):
        _envelope(args=ARGS, args_ref=REF)


@pytest.mark.parametrize(
    "key",
    ["d100/a/b/" + "a" * 64 + ".json", "x100/a/" + "a" * 64 + ".json", "d100/a/short.json"],
)
def test_a_reference_names_a_key_of_the_bucket_s_form(key):
    with pytest.raises(InvalidPayloadRef, match="key: a payload key matches"):
        PayloadRef(key=key, size=1, args_hash=args_hash(ARGS))


def test_the_item_holds_the_reference_and_the_hash_of_the_args_it_names():
    action = Action.new(_envelope(args_ref=REF), at=NOW)

    item = to_item(action)

    assert "args" not in item
    assert item["args_ref"] == REF.to_dict()
    assert item["args_hash"] == args_hash(ARGS)
    assert item["match_key"] == match_key("h", ARGS, "")
    assert from_item(item) == action
    assert from_item(item).to_document()["args_ref"]["size"] == 123


def test_the_unique_lock_of_a_reference_is_that_of_its_args():
    assert unique_key("h", None, "g", hashed=REF.args_hash) == unique_key("h", ARGS, "g")


@pytest.mark.parametrize(
    ("due_in_days", "expected"),
    [(0, 100), (-3, 100), (5, 100), (5.01, 400), (305, 400), (306, 1600), (6305, 6400)],
)
def test_an_object_s_lifetime_covers_its_wait_and_the_retention(due_in_days, expected):
    assert lifetime_days(due_in_days * 86400) == expected


def test_a_recurring_action_s_payload_gets_the_longest_lifetime_and_beyond_it_none():
    assert lifetime_days(None) == LIFETIME_DAYS[-1]
    with pytest.raises(PayloadUnavailable, match="at most"):
        lifetime_days(6306 * 86400)


def test_a_reference_reads_back_what_it_wrote_and_is_frozen():
    assert PayloadRef.from_dict(REF.to_dict()) == REF
    assert REF.sha256 == "a" * 64
    with pytest.raises(FrozenInstanceError):
        REF.size = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"size": "123"}, "size: the size is an integer"),
        ({"size": 123.0}, "size: the size is an integer"),
        ({"size": True}, "size: the size is an integer"),
        ({"size": -1}, "size: the size is an integer of at least 0"),
        ({"args_hash": "A" * 64}, "args_hash: the hash matches"),
        ({"key": REF.key + "\n"}, "key: a payload key matches"),
        ({"key": f"d100/\ud800/{'a' * 64}.json"}, "key: a payload key matches"),
        ({"bucket": "b"}, "bucket: not a field of a payload reference"),
        ({"key": ...}, "key: missing"),
    ],
    ids=repr,
)
def test_a_reference_is_read_strictly(change, problem):
    document = REF.to_dict()
    for name, value in change.items():
        if value is ...:
            document.pop(name)
        else:
            document[name] = value

    with pytest.raises(InvalidPayloadRef, match=problem):
        PayloadRef.from_dict(document)


def test_a_message_s_bad_reference_is_an_invalid_envelope_naming_it():
    document = json.loads(_envelope(args_ref=REF).to_message())
    document["args_ref"]["size"] = -1

    with pytest.raises(InvalidEnvelope, match="args_ref: size: "):
        Envelope.from_message(json.dumps(document))
    with pytest.raises(InvalidEnvelope, match="args_ref: a payload reference is an object"):
        Envelope.from_message(json.dumps({**document, "args_ref": "d100/x"}))
