"""The action record and its one conversion to and from the table's item."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.actions.envelope import Envelope
from functions.actions.store.record import (
    Action,
    ActionKind,
    ActionStatus,
    LogEntry,
    LogEvent,
    Recurrence,
    SagaOutcome,
    entry_from_item,
    epoch,
    from_item,
    is_action,
    moment,
    status_scheduled,
    to_item,
)
from functions.dynamodb import from_item as plain
from functions.dynamodb import to_item as typed

times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def _envelope(scheduled_for: datetime, args: object = None) -> Envelope:
    return Envelope(
        action_id="a-1",
        hook="send_email",
        args=args,
        group="g",
        priority="high",
        max_attempts=3,
        scheduled_for=scheduled_for,
        enqueued_at=scheduled_for,
        correlation_id="c-1",
    )


@given(when=times)
def test_a_time_reads_back_as_the_same_time_and_the_same_epoch(when):
    """Conditional writes compare the epoch the store wrote with one made from a record
    it read: both must be the very same number."""
    assert moment(epoch(when)) == when
    assert epoch(moment(epoch(when))) == epoch(when)


@given(when=times, args=json_values, attempts=st.integers(0, 100))
def test_an_action_survives_the_trip_through_a_dynamodb_item(when, args, attempts):
    action = Action.new(_envelope(when, args), at=when).but(
        attempts=attempts,
        status=ActionStatus.IN_PROGRESS,
        kind=ActionKind.CRON,
        recurrence=Recurrence.cron_rule("0 9 * * 1-5", "Europe/Paris"),
        schedule_name="action-a-1",
        last_error="TransientError: busy",
        claim_expires_at=when + timedelta(minutes=15),
        log=(LogEntry(when.replace(microsecond=0), LogEvent.STARTED, "attempt 1 of 3", 1),),
        waiting_for="arn:aws:states:us-east-1:1:execution:Saga:order-o-1",
        saga=SagaOutcome("arn:aws:states:us-east-1:1:execution:Saga:order-o-0", "FAILED", "E: x"),
    )

    item = plain(typed(to_item(action)))

    assert from_item(item) == action


def test_a_saga_outcome_says_in_one_line_how_the_execution_ended():
    arn = "arn:aws:states:us-east-1:1:execution:Saga:order-o-1"
    assert SagaOutcome(arn, "SUCCEEDED").describe() == "order-o-1 succeeded"
    assert SagaOutcome(arn, "SUCCEEDED").succeeded
    timed_out = SagaOutcome(arn, "TIMED_OUT", "States.Timeout")
    assert timed_out.describe() == "order-o-1 timed out: States.Timeout"
    assert not timed_out.succeeded
    document = Action.new(_envelope(datetime(2026, 11, 30, tzinfo=UTC))).but(saga=timed_out)
    assert document.to_document()["saga"] == {
        "execution_arn": arn,
        "status": "TIMED_OUT",
        "error": "States.Timeout",
    }


def test_the_item_carries_the_index_keys_derived_from_the_record():
    when = datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC)
    item = to_item(Action.new(_envelope(when, {"to": "x"}), at=when))

    assert item["status_scheduled"] == f"pending#{when.timestamp():020.6f}"
    assert item["args"] == '{"to":"x"}'
    assert len(item["match_key"]) == len(item["args_hash"]) == 64
    assert "recurrence" not in item  # absent fields are left out, not null
    assert "expires_at" not in item


def test_the_args_hash_is_read_from_the_item_and_forgotten_with_other_args():
    """A read action keeps its item's hash (its index keys are derived again without
    encoding the args); a copy with other args must not carry that hash."""
    when = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    item = to_item(Action.new(_envelope(when, {"to": "x"}), at=when))
    read = from_item(plain(typed(item)))

    assert read.args_hash == item["args_hash"] == read.hashed_args
    changed = read.but(args={"to": "y"})
    assert changed.args_hash is None
    assert (
        to_item(changed)["args_hash"]
        == to_item(Action.new(_envelope(when, {"to": "y"}), at=when))["args_hash"]
    )
    assert to_item(changed)["args_hash"] != item["args_hash"]


def test_a_rate_recurrence_keeps_its_start():
    start = datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)
    rule = Recurrence.rate(3600, start)

    assert Recurrence.from_plain(json.loads(json.dumps(rule.to_plain()))) == rule


def test_a_uniqueness_lock_is_not_an_action():
    assert not is_action({"action_id": "unique#abc", "holder": "a-1"})


def test_an_index_entry_takes_status_and_time_from_the_sort_key():
    when = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    entry = entry_from_item(
        {"action_id": "a-1", "status_scheduled": status_scheduled(ActionStatus.FAILED, when)}
    )

    assert (entry.status, entry.scheduled_for) == (ActionStatus.FAILED, when)


def test_the_document_is_json_with_iso_times():
    when = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    action = Action.new(_envelope(when, {"n": 1}), at=when, kind=ActionKind.ASYNC)

    document = json.loads(json.dumps(action.to_document()))

    assert document["scheduled_for"] == "2026-11-30T12:00:00+00:00"
    assert (document["status"], document["kind"], document["args"]) == (
        "pending",
        "async",
        {"n": 1},
    )


def test_an_unknown_status_is_refused_not_guessed():
    when = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    item = to_item(Action.new(_envelope(when), at=when))

    with pytest.raises(ValueError, match="'paused'"):
        from_item({**item, "status": "paused"})


# --- args kept compressed, and unlisted items -----------------------------------------------


def _round_trip(action: Action) -> tuple[dict, Action]:
    item = typed(to_item(action))
    return item, from_item(plain(item))


def test_large_args_are_kept_compressed_and_read_back_exactly():
    args = {"commits": [{"id": f"{n:040x}", "message": "fix the build"} for n in range(20)]}
    action = Action.new(_envelope(datetime(2030, 1, 1, tzinfo=UTC), args))

    item, back = _round_trip(action)

    assert "args" not in item and "B" in item["args_z"]
    assert len(item["args_z"]["B"]) * 4 < len(json.dumps(args))
    assert back.args == args


@pytest.mark.parametrize(
    "args",
    # Small; none; hashes, which compression cannot shrink by a quarter.
    [
        {"n": 1},
        None,
        [base64.b85encode(hashlib.sha512(bytes([n])).digest()).decode() for n in range(6)],
    ],
    ids=["small", "none", "incompressible"],
)
def test_small_or_incompressible_args_stay_json_text(args):
    action = Action.new(_envelope(datetime(2030, 1, 1, tzinfo=UTC), args))

    item, back = _round_trip(action)

    assert "args_z" not in item
    assert back.args == args


def test_an_item_written_before_compression_reads_as_it_did():
    action = Action.new(_envelope(datetime(2030, 1, 1, tzinfo=UTC), {"k": "v" * 400}))
    values = to_item(action)
    values.pop("args_z", None)
    values["args"] = json.dumps({"k": "v" * 400})

    assert from_item(values).args == {"k": "v" * 400}


def test_an_unlisted_item_has_none_of_the_indexes_keys_and_keeps_its_time():
    when = datetime(2030, 1, 1, 12, tzinfo=UTC)
    action = Action.new(replace(_envelope(when), listed=False))

    item, back = _round_trip(action)

    assert {"scheduled_for", "match_key", "status_scheduled"}.isdisjoint(item)
    assert back.scheduled_for == when and back.listed is False
    assert "listed" not in back.to_document()
