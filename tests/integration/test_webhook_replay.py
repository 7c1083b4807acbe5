"""A signed request replayed as new work: schemes that sign the body alone accept each
body once (``dedupe_signed_body``); schemes that sign an id or a timestamp keep keying on
the delivery id. Through the Lambda handler, on moto; the worker runs what was queued."""

from __future__ import annotations

import json
import time

import pytest

from functions.webhooks.config import parse_sources
from tests.conftest import reset_process_state

BODY_SIGNED = ["github", "shopify", "hmac"]
EVENT_TYPES = {"github": "push", "shopify": "orders/create", "hmac": "order.shipped"}
OTHER_EVENT_TYPES = {"github": "release", "shopify": "orders/paid", "hmac": "order.refunded"}


def _body(source: str) -> bytes:
    return json.dumps({"source": source, "ref": "refs/heads/main", "order": 42}).encode()


def _actions(stack) -> list[dict]:
    """Every action the receiver made, from the actions table (not the uniqueness locks)."""
    table = stack.resources.environment["ACTIONS_TABLE_NAME"]
    items = stack.dynamodb.scan(TableName=table)["Items"]
    return [item for item in items if "hook" in item]


def _set_dedupe(stack, monkeypatch, source: str, on: bool) -> None:
    sources = json.loads(stack.resources.environment["WEBHOOK_SOURCES"])
    sources[source]["dedupe_signed_body"] = on
    monkeypatch.setenv("WEBHOOK_SOURCES", json.dumps(sources))
    reset_process_state()


@pytest.mark.parametrize("source", BODY_SIGNED)
def test_a_replay_with_a_fresh_delivery_id_makes_no_second_action(stack, source):
    body = _body(source)
    first = stack.post(
        source, body, stack.signed(source, body, "first-id", event_type=EVENT_TYPES[source])
    )

    replay = stack.post(
        source, body, stack.signed(source, body, "fresh-id", event_type=EVENT_TYPES[source])
    )

    assert first.status == 202
    assert (replay.status, replay.body) == (200, first.body)
    assert first.body["delivery_id"] == "first-id"
    assert len(stack.messages()) == 1
    assert len(_actions(stack)) == 1


@pytest.mark.parametrize("source", BODY_SIGNED)
def test_a_replay_with_another_event_type_header_makes_no_second_action(stack, source):
    body = _body(source)
    first = stack.post(
        source, body, stack.signed(source, body, "id-1", event_type=EVENT_TYPES[source])
    )

    replays = [
        stack.post(
            source, body, stack.signed(source, body, "id-1", event_type=OTHER_EVENT_TYPES[source])
        ),
        stack.post(
            source, body, stack.signed(source, body, "id-2", event_type=OTHER_EVENT_TYPES[source])
        ),
    ]

    assert [(r.status, r.body) for r in replays] == [(200, first.body)] * 2
    [message] = stack.messages()
    # The hook sees the event type the body was first accepted with.
    assert message["args"]["event_type"] == EVENT_TYPES[source]
    assert len(_actions(stack)) == 1


@pytest.mark.parametrize("source", BODY_SIGNED)
def test_a_sender_retry_still_answers_200_and_another_body_is_new_work(stack, source):
    body = _body(source)
    headers = stack.signed(source, body, "id-1", event_type=EVENT_TYPES[source])
    first = stack.post(source, body, headers)
    other = json.dumps({"source": source, "order": 43}).encode()

    retry = stack.post(source, body, headers)
    # The same id with another body is another signed body: new work, nothing dropped.
    second = stack.post(
        source, other, stack.signed(source, other, "id-1", event_type=EVENT_TYPES[source])
    )

    assert (retry.status, retry.body) == (200, first.body)
    assert second.status == 202
    assert second.body["action_id"] != first.body["action_id"]
    assert len(stack.messages()) == 2


@pytest.mark.parametrize("source", BODY_SIGNED)
def test_with_the_setting_off_each_delivery_id_is_new_work(stack, monkeypatch, source):
    _set_dedupe(stack, monkeypatch, source, on=False)
    body = _body(source)

    first = stack.post(source, body, stack.signed(source, body, "id-1"))
    second = stack.post(source, body, stack.signed(source, body, "id-2"))
    repeat = stack.post(source, body, stack.signed(source, body, "id-1"))

    assert (first.status, second.status) == (202, 202)
    assert (repeat.status, repeat.body) == (200, first.body)
    assert len(stack.messages()) == 2


@pytest.mark.parametrize("source", ["standard", "stripe"])
def test_schemes_that_sign_an_id_or_a_timestamp_keep_their_behaviour(stack, source):
    """Standard Webhooks signs its id: a fresh id over the same body is a new delivery.
    Stripe's id is in the signed body: a re-signed copy is a repeat of that event."""
    body = (
        json.dumps({"id": "evt_9", "type": "invoice.paid"}).encode()
        if source == "stripe"
        else json.dumps({"type": "user.created", "data": {}}).encode()
    )
    now = int(time.time())
    first = stack.post(source, body, stack.signed(source, body, "msg-1", timestamp=now))
    again = stack.post(source, body, stack.signed(source, body, "msg-2", timestamp=now + 1))

    assert first.status == 202
    if source == "standard":
        assert again.status == 202
        assert again.body["delivery_id"] == "msg-2"
        assert len(stack.messages()) == 2
    else:
        assert (again.status, again.body) == (200, first.body)
        assert len(stack.messages()) == 1


@pytest.mark.parametrize("source", ["standard", "stripe"])
def test_the_setting_is_refused_where_the_signature_covers_an_id_or_a_timestamp(source):
    document = json.dumps({source: {"scheme": source, "secret": "s", "dedupe_signed_body": True}})

    with pytest.raises(ValueError, match="dedupe_signed_body"):
        parse_sources(document)


def test_the_replay_runs_once_in_the_worker(stack, jobs):
    body = _body("github")
    for delivery_id in ("a", "b", "c"):
        stack.post("github", body, stack.signed("github", body, delivery_id, event_type="push"))

    jobs.work()

    [action] = _actions(stack)
    assert action["status"]["S"] == "complete"
    assert jobs.depth() == 0
