"""The limits checked at the door, without AWS (functions/actions/limits.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from functions.actions.envelope import Envelope
from functions.actions.exceptions import InvalidAction
from functions.actions.limits import (
    EARLIEST,
    LATEST,
    MAX_ARGS_DEPTH,
    MAX_WEBHOOK_BODY_DEPTH,
    check_action_id,
    check_fifo_group,
    check_group,
    check_hook_name,
    check_time,
    json_problem,
)
from functions.handlers.webhook import raw_body
from functions.webhooks.exceptions import MalformedPayload
from functions.webhooks.schemes import parse_json


def nested(depth: int) -> object:
    value: object = 0
    for _ in range(depth):
        value = [value]
    return value


def test_depth_counts_containers_and_stops_at_the_limit():
    assert json_problem(nested(MAX_ARGS_DEPTH)) is None
    assert "deeper than 64" in (json_problem(nested(MAX_ARGS_DEPTH + 1)) or "")
    assert json_problem({"a": {"b": [1]}}, max_depth=3) is None
    assert json_problem({"a": {"b": [1]}}, max_depth=2) is not None


def test_hostile_depth_is_measured_without_recursion():
    assert json_problem(nested(200_000)) is not None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (float("nan"), "finite"),
        ({"x": [float("-inf")]}, "finite"),
        ("\ud800", "surrogate"),
        ({"\udfff": 1}, "surrogate"),
        ({1: "a"}, "keys must be strings"),
        ({None: "a"}, "keys must be strings"),
        ({1, 2}, "not a JSON type"),
        (b"x", "not a JSON type"),
    ],
)
def test_what_json_cannot_carry_unchanged_is_named(value, reason):
    assert reason in (json_problem(value) or "")


def test_json_values_pass_tuples_included():
    value = {"a": (1, 2.5, "é\ufffe😀", None, True), "b": 10**60, "c": -0.0}
    assert json_problem(value) is None


def test_the_worker_parses_the_deepest_args_accepted_and_refuses_deeper():
    now = datetime.now(UTC)
    fields = {"action_id": "a", "hook": "h", "scheduled_for": now, "enqueued_at": now}
    message = Envelope(**fields, args=nested(MAX_ARGS_DEPTH)).to_message()
    deeper = message.replace('"args":', '"args":[', 1).replace(',"group"', '],"group"', 1)

    assert Envelope.from_message(message).args == nested(MAX_ARGS_DEPTH)
    with pytest.raises(ValueError, match="deeper than 64"):
        Envelope.from_message(deeper)


def test_characters_sqs_refuses_travel_as_json_escapes():
    now = datetime.now(UTC)
    envelope = Envelope(
        action_id="a", hook="h", args={"\uffff": "a\ufffeb"}, scheduled_for=now, enqueued_at=now
    )

    message = envelope.to_message()

    assert "\ufffe" not in message and "\uffff" not in message
    assert "\\ufffe" in message
    assert Envelope.from_message(message) == envelope
    assert json.loads(message)["args"] == {"\uffff": "a\ufffeb"}


@pytest.mark.parametrize("moment", [EARLIEST - timedelta(seconds=1), LATEST + timedelta(seconds=1)])
def test_times_outside_what_eventbridge_documents_are_refused(moment):
    with pytest.raises(InvalidAction, match="1970-2199"):
        check_time(moment)


def test_the_edges_of_the_time_range_are_accepted():
    assert check_time(EARLIEST) == EARLIEST
    assert check_time(LATEST) == LATEST


@pytest.mark.parametrize("hook", ["h" * 129, "", "with space", 7, "é"])
def test_hook_names_that_no_hook_can_have_are_refused(hook):
    with pytest.raises(InvalidAction, match="hook names"):
        check_hook_name(hook)


@pytest.mark.parametrize("group", ["g" * 256, "\ud800", None])
def test_groups_over_the_limit_or_not_text_are_refused(group):
    with pytest.raises(InvalidAction, match="group"):
        check_group(group)


@pytest.mark.parametrize("action_id", ["", "x" * 129, "a\nb", "\ud800", 5])
def test_action_ids_that_cannot_be_the_table_key_are_refused(action_id):
    with pytest.raises(InvalidAction, match="action id"):
        check_action_id(action_id)


@pytest.mark.parametrize("group", ["", "x" * 129, "a b", "ü", "a\tb"])
def test_fifo_groups_follow_sqs_message_group_rules(group):
    with pytest.raises(InvalidAction, match="FIFO"):
        check_fifo_group(group)
    assert check_fifo_group("orders:eu-1/#42!") == "orders:eu-1/#42!"


@pytest.mark.parametrize(
    "body",
    [
        b"[" * (MAX_WEBHOOK_BODY_DEPTH + 1) + b"]" * (MAX_WEBHOOK_BODY_DEPTH + 1),
        b"[" * 5000 + b"]" * 5000,
        b'{"a": 1e400}',
        b'{"a": -1e999}',
        b'{"a": "\\ud800"}',
    ],
)
def test_a_webhook_body_the_worker_could_not_run_is_malformed(body):
    with pytest.raises(MalformedPayload):
        parse_json(body, require_object=False)


def test_a_webhook_body_at_its_depth_limit_parses():
    depth = MAX_WEBHOOK_BODY_DEPTH
    assert parse_json(b"[" * depth + b"]" * depth, require_object=False) is not None


@pytest.mark.parametrize("body", ["not base64!", "YWJjZA", "YW Jj", "éé", "YWJj\n"])
def test_a_body_that_is_not_the_base64_api_gateway_says_is_malformed(body):
    with pytest.raises(MalformedPayload, match="base64"):
        raw_body(body, True)


def test_valid_base64_and_text_bodies_are_the_bytes_sent():
    assert raw_body("YWJj", True) == b"abc"
    assert raw_body("", True) == b""
    assert raw_body("héllo", False) == "héllo".encode()
    assert raw_body(None, True) == b""
