"""The actions API's pure parts: what a body and a query become, keys, callers, schemas."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from functions.actions.store import Action
from functions.api.caller import iam_caller
from functions.api.errors import InvalidRequest, Unauthenticated
from functions.api.idempotency import action_id_for, fields_sha256
from functions.api.inputs import NewAction, idempotency_key, list_arguments
from functions.api.routes import ACTION_SCHEMA


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b'{"hook": "h"}', "async"),
        (b'{"hook": "h", "timestamp": 1800000000}', "single"),
        (
            b'{"hook": "h", "timestamp": "2030-01-01T00:00:00+00:00", "interval_seconds": 60}',
            "recurring",
        ),
        (b'{"hook": "h", "timestamp": 0, "cron": "* * * * *", "timezone": "UTC"}', "cron"),
    ],
)
def test_the_fields_given_say_which_function_makes_the_action(body, kind):
    assert NewAction.parse(body).kind == kind


def test_only_the_fields_given_are_passed_on():
    assert NewAction.parse(b'{"hook": "h", "args": null}').given() == {"hook": "h", "args": None}
    assert NewAction.parse(b'{"hook": "h"}').given() == {"hook": "h"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "Input should be a valid dictionary"),
        (b'{"hook": "h", "unique": 1}', "unique: Input should be a valid boolean"),
        (b'{"hook": "h", "interval_seconds": true, "timestamp": 0}', "interval_seconds"),
        (b'{"hook": "h", "extra": 1}', "extra: Extra inputs are not permitted"),
        (b'{"hook": "h", "timestamp": 0, "interval_seconds": 60, "cron": "x"}', "not both"),
        (b'{"hook": "h", "cron": "* * * * *"}', "needs its first time"),
        (b'{"hook": "h"', "the body is not JSON"),
        (b'{"hook": "h", "args": NaN}', "NaN is not a JSON number"),
        (b'{"hook": "h", "args": [Infinity]}', "Infinity is not a JSON number"),
        (b"[" * 100_000 + b"]" * 100_000, "the body is not JSON"),
    ],
)
def test_a_body_of_the_wrong_shape_says_what_is_wrong(body, message):
    with pytest.raises(InvalidRequest, match=message):
        NewAction.parse(body)


def test_a_list_query_becomes_get_scheduled_actions_arguments():
    query = {
        "hook": ["h"],
        "args": ['{"a": [1, 2]}'],
        "status": ["pending,failed"],
        "date_from": ["1700000000"],
        "date_to": ["2030-01-01T00:00:00+01:00"],
        "per_page": ["10"],
    }
    assert list_arguments(query) == {
        "hook": "h",
        "args": {"a": [1, 2]},
        "status": ["pending", "failed"],
        "date_from": 1700000000.0,
        "date_to": datetime(2029, 12, 31, 23, tzinfo=UTC),  # the same instant
        "per_page": 10,
    }
    assert list_arguments({"status": ["pending"]}) == {"status": "pending"}
    assert list_arguments({"status": ["pending", "failed"]}) == {"status": ["pending", "failed"]}
    assert list_arguments({"status": [""]}) == {}
    assert list_arguments(None) == {}


@pytest.mark.parametrize(
    "query",
    [
        {"colour": ["x"]},
        {"hook": ["a", "b"]},
        {"per_page": ["-1"]},
        {"args": ["{"]},
        {"date_to": ["soon"]},
    ],
)
def test_a_bad_list_query_is_refused(query):
    with pytest.raises(InvalidRequest):
        list_arguments(query)


def test_idempotency_keys_are_printable_ascii_up_to_255():
    assert idempotency_key(None) is None
    assert idempotency_key("order-42:welcome") == "order-42:welcome"
    for bad in ("", "a b", "é", "x" * 256, "tab\t"):
        with pytest.raises(InvalidRequest):
            idempotency_key(bad)


def test_a_keys_action_id_is_stable_and_depends_on_key_and_fields():
    fields = {"hook": "h", "args": {"a": 1, "b": 2}}
    same = fields_sha256({"args": {"b": 2, "a": 1}, "hook": "h"})

    assert fields_sha256(fields) == same
    assert action_id_for("k", same) == action_id_for("k", fields_sha256(fields))
    assert action_id_for("k", same) != action_id_for("k2", same)
    assert action_id_for("k", same) != action_id_for("k", fields_sha256({"hook": "h"}))


def test_the_iam_caller_is_the_signers_arn_and_none_is_refused():
    assert (
        iam_caller({"identity": {"userArn": "arn:aws:iam::1:user/app"}})
        == "arn:aws:iam::1:user/app"
    )
    for context in ({}, {"identity": None}, {"identity": {"userArn": None, "sourceIp": "1.2.3.4"}}):
        with pytest.raises(Unauthenticated):
            iam_caller(context)


def test_the_documented_action_is_the_typed_records_json():
    fields = {f.name for f in dataclasses.fields(Action)}

    assert set(ACTION_SCHEMA["properties"]) <= fields
    assert set(ACTION_SCHEMA["required"]) <= set(ACTION_SCHEMA["properties"])
    assert {f.name for f in dataclasses.fields(Action) if f.default is dataclasses.MISSING} <= set(
        ACTION_SCHEMA["required"]
    )
