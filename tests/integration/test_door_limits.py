"""The limits checked at the door (functions/actions/limits.py), on moto: each refusal is
``InvalidAction`` or ``400 malformed_payload`` before any AWS request, and what is
accepted runs in the worker with the args exactly as given."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from functions.actions import (
    InvalidAction,
    cancel_action,
    count_scheduled_actions,
    enqueue_async_action,
    get_scheduled_actions,
    has_scheduled_action,
    next_scheduled_action,
    run_action_now,
    schedule_cron_action,
    schedule_recurring_action,
    schedule_single_action,
    unschedule_all_actions,
)
from functions.actions.limits import LATEST, MAX_ARGS_DEPTH, MAX_WEBHOOK_BODY_DEPTH
from functions.handlers.webhook import lambda_handler
from infra.local.lambda_runtime import LocalContext, webhook_event
from tests.conftest import record_aws_calls

HOOK = "door_test"
ORDERED = "door_ordered"


def nested(depth: int, leaf: object = 1) -> object:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


@pytest.fixture
def calls_to_hook(jobs, register) -> list:
    seen: list = []
    register(HOOK, lambda args, action: seen.append(args))
    register(ORDERED, lambda args, action: seen.append(args), ordered=True)
    return seen


def _written(jobs) -> dict:
    """What exists: items of the actions table, schedules, messages on each queue."""
    items = boto3.client("dynamodb").scan(TableName=jobs.resources.actions_table)["Items"]
    schedules = boto3.client("scheduler").list_schedules(GroupName=jobs.resources.schedule_group)
    names = [s["Name"] for s in schedules["Schedules"] if s["Name"].startswith("action-")]
    depths = {name: jobs.depth(name) for name in jobs.resources.queues}
    return {"items": len(items), "schedules": names, "messages": sum(depths.values())}


NOTHING = {"items": 0, "schedules": [], "messages": 0}


# --- enqueue and schedule: refused before anything is written ----------------------------

REFUSED_ARGS = {
    "one level too deep": nested(MAX_ARGS_DEPTH + 1),
    "hostile depth": nested(5000),
    "NaN": {"x": float("nan")},
    "Infinity": [float("inf")],
    "a lone surrogate": {"name": "\ud800"},
    "a lone surrogate in a key": {"\udfff": 1},
    "an int key": {1: "a", "1": "b"},
    "a set": {1, 2},
    "bytes": b"raw",
}


@pytest.mark.parametrize("args", REFUSED_ARGS.values(), ids=REFUSED_ARGS.keys())
def test_args_the_worker_could_not_run_are_refused_before_any_request(jobs, calls_to_hook, args):
    calls = record_aws_calls()

    with pytest.raises(InvalidAction, match="args"):
        enqueue_async_action(HOOK, args)
    with pytest.raises(InvalidAction, match="args"):
        schedule_single_action(datetime.now(UTC) + timedelta(days=2), HOOK, args)

    assert calls == []
    assert _written(jobs) == NOTHING


def test_args_at_the_depth_limit_and_odd_characters_run_exactly_as_given(jobs, calls_to_hook):
    args = {"deep": nested(MAX_ARGS_DEPTH - 1), "text": "a\ufffeb\uffff\x00\u2028😀"}

    enqueue_async_action(HOOK, args)
    jobs.work()

    assert calls_to_hook == [args]


def test_characters_sqs_refuses_are_sent_escaped_through_eventbridge_too(jobs, calls_to_hook):
    when = datetime.now(UTC) + timedelta(days=1)
    action_id = schedule_single_action(when, HOOK, {"text": "\ufffe\uffff"})

    schedule = boto3.client("scheduler").get_schedule(
        Name=f"action-{action_id}", GroupName=jobs.resources.schedule_group
    )

    text = schedule["Target"]["Input"]
    assert "\ufffe" not in text and "\uffff" not in text
    assert json.loads(text)["args"] == {"text": "\ufffe\uffff"}


@pytest.mark.parametrize(
    "when",
    [
        datetime(2200, 1, 1, tzinfo=UTC),
        LATEST + timedelta(seconds=1),
        datetime(9999, 12, 31, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
        -1,
        7_258_118_400,  # 2200-01-01 in epoch seconds
    ],
)
def test_times_eventbridge_cannot_express_are_refused_at_every_schedule_function(
    jobs, calls_to_hook, when
):
    calls = record_aws_calls()

    with pytest.raises(InvalidAction, match="1970-2199"):
        schedule_single_action(when, HOOK)
    with pytest.raises(InvalidAction, match="1970-2199"):
        schedule_recurring_action(when, 3600, HOOK)
    if not isinstance(when, int) and when.year < 1970:
        pass  # a cron action starts now at the earliest
    else:
        with pytest.raises(InvalidAction, match="1970-2199"):
            schedule_cron_action(when, "0 8 * * *", HOOK)

    assert calls == []
    assert _written(jobs) == NOTHING


def test_the_latest_time_is_accepted_and_a_cron_whose_first_run_is_later_is_not(
    jobs, calls_to_hook
):
    schedule_single_action(LATEST, HOOK)

    with pytest.raises(InvalidAction, match="the scheduled time"):
        schedule_cron_action(LATEST - timedelta(minutes=1), "0 8 1 1 *", HOOK)

    assert _written(jobs)["schedules"] != []


@pytest.mark.parametrize("group", ["ü-group", "with space", "x" * 129, "tab\there"])
def test_an_ordered_hooks_group_must_be_a_fifo_message_group(jobs, calls_to_hook, group):
    calls = record_aws_calls()

    with pytest.raises(InvalidAction, match="FIFO message group"):
        enqueue_async_action(ORDERED, {"n": 1}, group=group)
    with pytest.raises(InvalidAction, match="FIFO message group"):
        schedule_single_action(datetime.now(UTC) + timedelta(days=1), ORDERED, group=group)

    assert calls == []
    assert _written(jobs) == NOTHING


def test_any_text_is_a_group_of_an_unordered_hook_up_to_its_length(jobs, calls_to_hook):
    enqueue_async_action(HOOK, None, group="ü group\twith anything")

    with pytest.raises(InvalidAction, match="group"):
        enqueue_async_action(HOOK, None, group="x" * 256)


@pytest.mark.parametrize("action_id", ["x" * 129, "line\nbreak", "\ud800", "\uffff"])
def test_a_callers_action_id_must_fit_the_table_key(jobs, calls_to_hook, action_id):
    calls = record_aws_calls()

    with pytest.raises(InvalidAction, match="action_id"):
        enqueue_async_action(HOOK, None, action_id=action_id)

    assert calls == []


# --- the query functions: refused before any query ----------------------------------------

LONG = "h" * 3000

QUERIES = {
    "has, a long hook": lambda: has_scheduled_action(LONG),
    "has, a long group": lambda: has_scheduled_action(HOOK, group="g" * 3000),
    "has, hostile args": lambda: has_scheduled_action(HOOK, nested(5000)),
    "has, NaN args": lambda: has_scheduled_action(HOOK, {"x": float("nan")}),
    "next, a long hook": lambda: next_scheduled_action(LONG),
    "unschedule all, a bad hook name": lambda: unschedule_all_actions("not a hook name"),
    "get, a long hook": lambda: get_scheduled_actions(hook=LONG),
    "get, a surrogate group": lambda: get_scheduled_actions(hook=HOOK, group="\ud800"),
    "get, a NaN bound": lambda: get_scheduled_actions(hook=HOOK, date_to=float("nan")),
    "count, a long hook": lambda: count_scheduled_actions("pending", hook=LONG),
    "cancel, a long id": lambda: cancel_action(LONG),
    "cancel, an empty id": lambda: cancel_action(""),
    "run now, a long id": lambda: run_action_now(LONG),
}


@pytest.mark.parametrize("query", QUERIES.values(), ids=QUERIES.keys())
def test_queries_refuse_what_no_action_has_before_any_request(jobs, query):
    calls = record_aws_calls()

    with pytest.raises(InvalidAction):
        query()

    assert calls == []


def test_query_bounds_beyond_any_action_are_clamped_not_refused(jobs, calls_to_hook):
    action_id = schedule_single_action(datetime.now(UTC) + timedelta(minutes=5), HOOK)

    page = get_scheduled_actions(hook=HOOK, status="pending", date_from=-1e300, date_to=10**400)

    assert [action.action_id for action in page.items] == [action_id]


# --- the webhook receiver: 400 malformed_payload, nothing stored ---------------------------


def _signed_post(stack, body: bytes, delivery_id: str = "d-1"):
    return stack.post("github", body, stack.signed("github", body, delivery_id, event_type="push"))


def _assert_nothing_stored(stack) -> None:
    assert stack.idempotency_records() == []
    assert stack.queue_depth() == 0


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"a": nested(MAX_WEBHOOK_BODY_DEPTH)}).encode(),
        b'{"a": ' + b"[" * 300 + b"]" * 300 + b"}",  # accepted, then dead-lettered, before
        b'{"a": ' + b"[" * 950 + b"]" * 950 + b"}",  # a 500, before
        b'{"a": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b'{"a": 1e400}',
        b'{"a": "\\ud800"}',
        b'{"\\udfff": 1}',
    ],
    ids=["one too deep", "300 deep", "950 deep", "50000 deep", "1e400", "surrogate", "key"],
)
def test_a_signed_body_the_worker_could_not_run_is_400(stack, body):
    answer = _signed_post(stack, body)

    assert (answer.status, answer.body["error"]) == (400, "malformed_payload")
    _assert_nothing_stored(stack)


def test_a_signed_body_at_the_depth_limit_is_accepted_and_runs(stack, jobs):
    from functions.actions import store

    payload = {"a": nested(MAX_WEBHOOK_BODY_DEPTH - 1), "text": "\uffff"}

    answer = _signed_post(stack, json.dumps(payload).encode())
    jobs.work()

    assert answer.status == 202
    action = store.get(answer.body["action_id"])
    assert action is not None
    assert (action.status, action.args["payload"]) == ("complete", payload)


@pytest.mark.parametrize("encoded", ["not base64!", "YWJjZA", "YW Jj", "éé"])
def test_a_body_that_is_not_the_base64_api_gateway_says_is_400(stack, encoded):
    event = webhook_event("github", {"x-github-delivery": "b64-1"}, b"")
    event["body"], event["isBase64Encoded"] = encoded, True

    response = lambda_handler(event, LocalContext(function_name="webhook"))

    body = response["body"]
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    assert response["statusCode"] == 400
    assert json.loads(body)["error"] == "malformed_payload"
    _assert_nothing_stored(stack)
