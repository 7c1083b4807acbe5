"""Property: whatever the enqueue and schedule functions accept, the worker can run.

For any hook, args, group and time, a call either raises ``InvalidAction`` before any AWS
request, or what it sent (the SQS message body, or the EventBridge schedule's input)
parses with the worker's own parser (``Envelope.from_message``) to the args and group
given, in characters SQS accepts, and the action's item reads back to the same record.
Deterministic (``derandomize=True``), so CI runs the same cases every time.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from functions.actions import (
    InvalidAction,
    enqueue_async_action,
    queues,
    schedule_cron_action,
    schedule_recurring_action,
    schedule_single_action,
    timers,
)
from functions.actions.envelope import Envelope
from functions.actions.limits import MAX_ARGS_DEPTH
from functions.actions.store.record import from_item, to_item
from functions.dynamodb import from_item as plain
from functions.dynamodb import to_item as typed
from tests.conftest import record_aws_calls

HOOK = "runnable_test"
ORDERED = "runnable_ordered"
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
# What SQS accepts in a message body (its documented character set).
SQS_TEXT = re.compile("^[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*$")

# Characters that have tripped a parser or a service: SQS refuses U+FFFE and U+FFFF,
# UTF-8 has no lone surrogates, JSON must escape NUL, JavaScript U+2028.
ODD = ["\ufffe", "\uffff", "\x00", "\u2028", "😀", "é"]
SURROGATES = ["\ud800", "\udfff"]


def _texts(extra: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=12),
        st.lists(st.one_of(st.characters(), st.sampled_from(extra)), max_size=6).map("".join),
    )


def _json(texts: st.SearchStrategy[str], floats, keys) -> st.SearchStrategy[object]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(10**60), max_value=10**60),
        floats,
        texts,
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.tuples(children, children),
            st.dictionaries(keys, children, max_size=4),
        ),
        max_leaves=12,
    )


def _nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = {"n": value} if depth % 2 else [value]
    return value


texts = _texts(ODD)
# What a caller means to send, and what no worker could receive unchanged.
valid_json = _json(texts, st.floats(allow_nan=False, allow_infinity=False), texts)
hostile_json = _json(
    _texts(ODD + SURROGATES),
    st.floats(),
    st.one_of(_texts(ODD + SURROGATES), st.integers(0, 3), st.booleans()),
)
json_like = st.one_of(
    valid_json,
    valid_json,
    hostile_json,
    st.integers(MAX_ARGS_DEPTH - 3, MAX_ARGS_DEPTH + 3).map(_nested),
    st.sampled_from([{1, 2}, b"bytes", object(), {"k": float("nan")}]),
)
groups = st.one_of(
    st.just(""),
    st.just(""),
    st.text(max_size=20),
    st.text("abcdefgh-_.:!~0123456789", min_size=1, max_size=128),
    _texts(ODD + SURROGATES),
    st.text(alphabet="abc-_!~", min_size=120, max_size=140),
    st.text(min_size=250, max_size=260),
)
zones = st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))])
NOW = datetime.now(UTC)
# Mostly times a caller would give (the last year to the latest schedulable time), some
# anywhere a datetime or an epoch number can be, and the edges.
likely = st.integers(-365 * 86400, 173 * 365 * 86400).map(lambda s: NOW + timedelta(seconds=s))
moments = st.one_of(
    likely,
    likely,
    likely,
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9999, 12, 30), timezones=zones),
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
    st.integers(min_value=-(10**12), max_value=10**13),
    st.sampled_from([datetime(2199, 12, 31, 23, 59, 59, tzinfo=UTC), 7_258_118_400, 0]),
)


def normalized(args: object) -> object:
    """Args as JSON carries them: tuples are lists."""
    return json.loads(json.dumps(args))


def _call(kind: str, when, hook: str, args, group: str) -> str:
    if kind == "async":
        return enqueue_async_action(hook, args, group=group)
    if kind == "single":
        return schedule_single_action(when, hook, args, group=group)
    if kind == "recurring":
        return schedule_recurring_action(when, 3600, hook, args, group=group)
    return schedule_cron_action(when, "15 8 * * 1", hook, args, group=group)


@pytest.fixture
def sent(jobs, register):
    """The parameters of every SendMessage and CreateSchedule request, as sent."""
    register(HOOK, lambda args, action: None)
    register(ORDERED, lambda args, action: None, ordered=True)
    requests: list[tuple[str, dict]] = []

    def capture(params, model, **_):
        requests.append((model.name, copy.deepcopy(params)))

    timers._scheduler().meta.events.register(
        "provide-client-params.scheduler.CreateSchedule", capture
    )
    queues._sqs().meta.events.register("provide-client-params.sqs.SendMessage", capture)
    return requests


def _what_the_worker_parses(operation: str, params: dict) -> str:
    if operation == "SendMessage":
        return params["MessageBody"]
    text = params["Target"]["Input"]
    # A recurring schedule's input is a template EventBridge fills in per run.
    return text.replace(SCHEDULED_TIME, "2030-01-07T08:15:00Z")


@settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from(["async", "single", "recurring", "cron"]),
    when=moments,
    ordered=st.booleans(),
    args=json_like,
    group=groups,
)
def test_whatever_is_accepted_the_worker_parses_as_given(sent, kind, when, ordered, args, group):
    from functions.actions import store

    sent.clear()
    calls = record_aws_calls()
    hook = ORDERED if ordered else HOOK
    try:
        action_id = _call(kind, when, hook, args, group)
    except InvalidAction as exc:
        event("refused: " + " ".join(str(exc).split()[:2]))
        assert calls == [], "refused after an AWS request"
        return
    event(f"accepted: {kind}")

    # One request; two for a recurring action whose first run is due (sent to SQS, and
    # the schedule from the run after it).
    assert [operation for operation, _ in sent] in (
        [["SendMessage"], ["CreateSchedule"]]
        if kind in {"async", "single"}
        else [["CreateSchedule"], ["CreateSchedule", "SendMessage"]]
    )
    for operation, params in sent:
        text = _what_the_worker_parses(operation, params)
        assert SQS_TEXT.fullmatch(text), "a character SQS refuses"
        envelope = Envelope.from_message(text)
        assert envelope.args == normalized(args)
        assert (envelope.hook, envelope.group) == (hook, group)
        if kind in {"async", "single"}:
            assert envelope.action_id == action_id
        elif operation == "SendMessage":
            assert envelope.action_id.startswith(f"{action_id}@")
    action = store.get(action_id)
    assert action is not None
    assert action.args == normalized(args)
    assert action.group == group
    # As DynamoDB types it, and back (large args as compressed binary).
    assert from_item(plain(typed(to_item(action)))) == action
