"""The actions HTTP API on moto: its handler behind API Gateway's IAM check, signed requests.

Each request is signed with botocore's SigV4 signer and checked as the local cloud checks
it (``ActionsApi`` in conftest.py); the actions it makes are run by the worker as SQS
would run them. Nothing of ours is mocked.
"""

from __future__ import annotations

import inspect
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import boto3
import pytest

from functions import actions
from functions.actions import hooks
from functions.api.inputs import NewAction

HOOK = "api_test_hook"
# With the Action Scheduler's semantics, unique=True needs the hook registered with a
# unique_by; before them, the registry takes no such option.
UNIQUE = {"unique_by": "group"} if "unique_by" in inspect.signature(hooks.hook).parameters else {}


@pytest.fixture
def ran(register) -> list[dict]:
    calls: list[dict] = []

    def api_test_hook(args, action) -> str:
        calls.append({"args": args, "action_id": action.action_id})
        return "ok"

    register(HOOK, api_test_hook, base_delay=0, max_delay=0, **UNIQUE)
    return calls


def _items(stack) -> list[dict]:
    """The actions table's action items (not the counters a unique hook's actions keep)."""
    items = stack.dynamodb.scan(TableName=stack.resources.actions_table)["Items"]
    return [item for item in items if not item["action_id"]["S"].startswith("unique#")]


def _nothing_written(stack, jobs, *, items_before: int = 0) -> None:
    assert len(_items(stack)) == items_before
    assert sum(jobs.depth(q) for q in ("high", "default", "low", "fifo")) == 0


def _in(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


# --- making actions --------------------------------------------------------------------


def test_a_signed_post_makes_an_action_the_worker_runs(stack, jobs, actions_api, ran):
    answer = actions_api.request("POST", "/actions", {"hook": HOOK, "args": {"n": 1}, "group": "g"})

    assert answer.status == 201, answer
    action = answer.body
    assert (action["hook"], action["args"], action["group"]) == (HOOK, {"n": 1}, "g")
    assert (action["status"], action["kind"]) == ("pending", "async")
    assert answer.headers["Location"] == f"actions/{action['action_id']}"
    # One serialization: the typed record's.
    assert action == jobs.action(action["action_id"]).to_document()
    jobs.work()
    assert ran == [{"args": {"n": 1}, "action_id": action["action_id"]}]
    assert jobs.action(action["action_id"]).status == "complete"


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"timestamp": "in 2 hours"}, "single"),
        ({"timestamp": "in 2 hours", "interval_seconds": 3600}, "rate"),
        ({"timestamp": "in 2 hours", "cron": "30 8 * * 1-5", "timezone": "Europe/Paris"}, "cron"),
    ],
)
def test_single_recurring_and_cron_actions_are_made_as_the_python_api_makes_them(
    stack, jobs, actions_api, ran, fields, kind
):
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    fields = {**fields, "timestamp": when.isoformat()}

    answer = actions_api.request("POST", "/actions", {"hook": HOOK, **fields})

    assert answer.status == 201, answer
    assert answer.body["kind"] == kind
    made = jobs.action(answer.body["action_id"])
    assert made.kind == kind
    if kind == "cron":
        assert (made.recurrence.cron, made.recurrence.timezone) == ("30 8 * * 1-5", "Europe/Paris")
    else:
        assert made.scheduled_for == when
    if kind == "rate":
        assert made.recurrence.interval_seconds == 3600
    assert made.schedule_name  # on EventBridge Scheduler, not on a queue
    assert jobs.depth() == 0


def test_args_reach_the_hook_exactly_as_sent(stack, jobs, actions_api, ran):
    args = {"big": 2**70, "float": 0.1, "text": "é\u2028😀", "none": None, "list": [[], {}]}

    answer = actions_api.request("POST", "/actions", {"hook": HOOK, "args": args})

    assert answer.body["args"] == args
    jobs.work()
    assert ran[0]["args"] == args


def test_an_epoch_timestamp_and_a_priority_are_taken(stack, jobs, actions_api, ran):
    when = int((datetime.now(UTC) + timedelta(minutes=5)).timestamp())

    answer = actions_api.request(
        "POST", "/actions", {"hook": HOOK, "timestamp": when, "priority": "high"}
    )

    assert answer.status == 201, answer
    made = jobs.action(answer.body["action_id"])
    assert (made.scheduled_for.timestamp(), made.priority) == (when, "high")
    assert jobs.depth("high") == 1  # five minutes ahead: waits on SQS


# Each invalid body, and whether the Python API refuses the same fields with the same
# message (None: refused by the body's shape, before any function is called).
INVALID = [
    ("not JSON", b"{hook", None),
    ("not an object", b"[1, 2]", None),
    ("empty", b"", None),
    # pydantic's JSON parser takes NaN; the Python API's limits refuse it.
    ("args NaN", b'{"hook": "api_test_hook", "args": NaN}', None),
    ("unknown field", {"hook": HOOK, "arg": {}}, None),
    ("hook not a string", {"hook": 7}, None),
    ("unique not a boolean", {"hook": HOOK, "unique": "yes"}, None),
    ("unknown priority", {"hook": HOOK, "priority": "urgent"}, None),
    (
        "interval and cron",
        {"hook": HOOK, "timestamp": 0, "interval_seconds": 60, "cron": "* * * * *"},
        None,
    ),
    ("timezone without cron", {"hook": HOOK, "timezone": "UTC"}, None),
    ("recurring without timestamp", {"hook": HOOK, "interval_seconds": 3600}, None),
    ("timestamp not a time", {"hook": HOOK, "timestamp": "tomorrow"}, None),
    ("a float interval", {"hook": HOOK, "timestamp": 0, "interval_seconds": 60.0}, None),
    ("naive timestamp", {"hook": HOOK, "timestamp": "2030-01-01T09:00:00"}, "python"),
    ("interval under a minute", {"hook": HOOK, "timestamp": 0, "interval_seconds": 30}, "python"),
    (
        "interval not whole minutes",
        {"hook": HOOK, "timestamp": 0, "interval_seconds": 90},
        "python",
    ),
    ("bad cron", {"hook": HOOK, "timestamp": 0, "cron": "61 * * * *"}, "python"),
    (
        "unknown time zone",
        {"hook": HOOK, "timestamp": 0, "cron": "0 8 * * *", "timezone": "Mars/Base"},
        "python",
    ),
    ("time beyond 2199", {"hook": HOOK, "timestamp": "2200-01-01T00:00:00+00:00"}, "python"),
    ("args nested too deep", {"hook": HOOK, "args": json.loads("[" * 70 + "]" * 70)}, "python"),
    ("group too long", {"hook": HOOK, "group": "g" * 256}, "python"),
    ("hook name no hook can have", {"hook": "no spaces allowed"}, None),
]


@pytest.mark.parametrize(("body", "python"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_input_is_400_with_the_python_apis_message_and_writes_nothing(
    stack, jobs, actions_api, ran, body, python
):
    raw = body if isinstance(body, bytes) else None
    answer = actions_api.request(
        "POST", "/actions", None if raw is not None else body, raw_body=raw
    )

    assert answer.status == 400, answer
    assert answer.body["error"] == "invalid_request"
    assert set(answer.body) == {"error", "message"}
    _nothing_written(stack, jobs)
    if python:  # the same fields through the Python API: the same refusal
        with pytest.raises(actions.InvalidAction) as refused:
            NewAction.model_validate(body).schedule()
        assert answer.body["message"] == str(refused.value)


def test_an_unknown_hook_is_404_and_writes_nothing(stack, jobs, actions_api):
    answer = actions_api.request("POST", "/actions", {"hook": "no_such_hook"})

    assert (answer.status, answer.body["error"]) == (404, "unknown_hook")
    _nothing_written(stack, jobs)


def test_a_unique_conflict_is_409_naming_the_action_that_holds_it(stack, jobs, actions_api, ran):
    first = actions_api.request("POST", "/actions", {"hook": HOOK, "group": "g", "unique": True})
    second = actions_api.request("POST", "/actions", {"hook": HOOK, "group": "g", "unique": True})

    assert first.status == 201, first
    assert (second.status, second.body["error"]) == (409, "duplicate_action")
    assert second.body["action_id"] == first.body["action_id"]
    assert jobs.depth() == 1


def test_args_over_what_an_action_takes_are_413(stack, jobs, actions_api, ran):
    from functions.actions.envelope import MAX_ARGS_BYTES

    answer = actions_api.request("POST", "/actions", {"hook": HOOK, "args": "x" * MAX_ARGS_BYTES})

    assert (answer.status, answer.body["error"]) == (413, "payload_too_large")
    _nothing_written(stack, jobs)


# --- Idempotency-Key ---------------------------------------------------------------------


def test_a_repeat_with_the_same_key_answers_the_first_result_and_makes_nothing(
    stack, jobs, actions_api, ran
):
    key = {"Idempotency-Key": "order-42-welcome"}
    first = actions_api.request(
        "POST", "/actions", {"hook": HOOK, "args": {"a": 1, "b": 2}}, headers=key
    )
    # The same fields, written otherwise: key order and whitespace do not count.
    again = actions_api.request(
        "POST",
        "/actions",
        raw_body=b'{ "args": {"b": 2, "a": 1},  "hook": "%s" }' % HOOK.encode(),
        headers=key,
    )

    assert (first.status, again.status) == (201, 201)
    assert again.body == first.body
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(_items(stack)) == 1
    assert jobs.depth() == 1


def test_the_same_key_with_other_fields_is_422_and_makes_nothing(stack, jobs, actions_api, ran):
    key = {"Idempotency-Key": "k-1"}
    assert (
        actions_api.request("POST", "/actions", {"hook": HOOK, "args": 1}, headers=key).status
        == 201
    )

    answer = actions_api.request("POST", "/actions", {"hook": HOOK, "args": 2}, headers=key)

    assert (answer.status, answer.body["error"]) == (422, "idempotency_key_conflict")
    assert len(_items(stack)) == 1
    assert jobs.depth() == 1


def test_a_refused_request_leaves_its_key_free_for_the_corrected_one(stack, jobs, actions_api, ran):
    key = {"Idempotency-Key": "k-2"}
    refused = actions_api.request(
        "POST", "/actions", {"hook": HOOK, "group": "g" * 300}, headers=key
    )
    corrected = actions_api.request("POST", "/actions", {"hook": HOOK, "group": "g"}, headers=key)
    other = actions_api.request(
        "POST", "/actions", {"hook": HOOK}, headers={"Idempotency-Key": "k-3"}
    )

    assert (refused.status, corrected.status, other.status) == (400, 201, 201)
    assert len(_items(stack)) == 2


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "naïve"])
def test_a_malformed_idempotency_key_is_400(stack, jobs, actions_api, ran, key):
    answer = actions_api.request(
        "POST", "/actions", {"hook": HOOK}, headers={"Idempotency-Key": key}
    )

    assert (answer.status, answer.body["error"]) == (400, "invalid_request")
    _nothing_written(stack, jobs)


def test_an_async_action_made_under_a_key_has_an_id_derived_from_it(stack, jobs, actions_api, ran):
    """If the stored answer were lost, the retry would make an action of the same id,
    which the store refuses to make twice."""
    from functions.api.idempotency import action_id_for, fields_sha256

    fields = {"hook": HOOK, "args": {"n": 1}}
    answer = actions_api.request("POST", "/actions", fields, headers={"Idempotency-Key": "k-4"})

    assert answer.body["action_id"] == action_id_for("k-4", fields_sha256(fields))


# --- reading -----------------------------------------------------------------------------


def test_the_hooks_route_answers_each_hooks_policy_from_the_manifest(
    stack, actions_api, ran, tmp_path, monkeypatch
):
    from functions.actions import manifest

    policy = {**manifest.policy(hooks.get(HOOK)), "priority": "high", "unique_by": "group"}
    written = manifest.Manifest(
        modules=("team_hooks.billing",),
        hooks={"team_invoice": {"module": "team_hooks.billing", **policy}},
    )
    (tmp_path / "manifest.json").write_text(written.to_json())
    monkeypatch.setenv(manifest.PATH_VARIABLE, str(tmp_path / "manifest.json"))
    hooks.forget_loading()
    try:
        answer = actions_api.request("GET", "/hooks")
    finally:
        hooks.forget_loading()

    assert answer.status == 200
    # The hook of a package this process never imported, with its policy and no module.
    assert answer.body["hooks"]["team_invoice"] == policy
    assert answer.body["hooks"][HOOK]["max_attempts"] == hooks.get(HOOK).max_attempts


def test_get_answers_the_action_and_404_for_an_unknown_one(stack, actions_api, ran):
    made = actions_api.request("POST", "/actions", {"hook": HOOK}).body

    found = actions_api.request("GET", f"/actions/{made['action_id']}")
    unknown = actions_api.request("GET", "/actions/no-such-action")
    too_long = actions_api.request("GET", f"/actions/{'x' * 200}")

    assert (found.status, found.body) == (200, made)
    assert (unknown.status, unknown.body["error"]) == (404, "unknown_action")
    assert (too_long.status, too_long.body["error"]) == (400, "invalid_request")


def test_the_list_filters_as_get_scheduled_actions_and_pages_with_a_cursor(
    stack, jobs, actions_api, ran
):
    for n in range(3):
        actions_api.request(
            "POST", "/actions", {"hook": HOOK, "args": {"n": n}, "timestamp": _in(n + 1)}
        )
    actions_api.request("POST", "/actions", {"hook": HOOK, "args": {"n": 9}, "group": "other"})

    first = actions_api.request("GET", "/actions", query=f"hook={HOOK}&per_page=2&group=")
    second = actions_api.request(
        "GET",
        "/actions",
        query=f"hook={HOOK}&per_page=2&group=&cursor={quote(first.body['cursor'], safe='')}",
    )
    matching = actions_api.request(
        "GET", "/actions", query="args=%7B%22n%22%3A%201%7D&hook=" + HOOK
    )

    assert first.status == 200, first
    assert [a["args"] for a in first.body["actions"]] == [{"n": 0}, {"n": 1}]
    assert [a["args"] for a in second.body["actions"]] == [{"n": 2}]
    assert second.body["cursor"] is None
    assert [a["args"] for a in matching.body["actions"]] == [{"n": 1}]
    assert (
        first.body["actions"][0] == jobs.action(first.body["actions"][0]["action_id"]).to_document()
    )


def test_the_list_filters_by_status_and_order(stack, jobs, actions_api, ran):
    done = actions_api.request("POST", "/actions", {"hook": HOOK, "args": "done"}).body
    jobs.work()
    later = actions_api.request("POST", "/actions", {"hook": HOOK, "timestamp": _in(1)}).body
    sooner = actions_api.request("POST", "/actions", {"hook": HOOK, "timestamp": _in(0.5)}).body

    complete = actions_api.request("GET", "/actions", query="status=complete")
    pending = actions_api.request("GET", "/actions", query=f"hook={HOOK}&status=pending&order=desc")

    assert [a["action_id"] for a in complete.body["actions"]] == [done["action_id"]]
    assert [a["action_id"] for a in pending.body["actions"]] == [
        later["action_id"],
        sooner["action_id"],
    ]


@pytest.mark.parametrize(
    "query",
    [
        "status=sleeping",
        "per_page=0",
        "per_page=many",
        "order=sideways",
        "cursor=not-a-cursor",
        "args=%7Bnot-json",
        "date_from=yesterday",
        "colour=blue",
        "hook=a&hook=b",
        "date_from=2030-01-01T00%3A00%3A00",  # naive
    ],
)
def test_a_bad_list_query_is_400(stack, actions_api, query):
    answer = actions_api.request("GET", "/actions", query=query)

    assert (answer.status, answer.body["error"]) == (400, "invalid_request"), answer


# --- cancel and run now ------------------------------------------------------------------


def test_cancel_cancels_a_pending_action_and_its_schedule_and_answers_a_repeat_alike(
    stack, jobs, actions_api, ran
):
    made = actions_api.request(
        "POST", "/actions", {"hook": HOOK, "timestamp": _in(2), "interval_seconds": 3600}
    ).body
    scheduler = boto3.client("scheduler")
    group = stack.resources.schedule_group
    scheduler.get_schedule(Name=made["schedule_name"], GroupName=group)

    canceled = actions_api.request("DELETE", f"/actions/{made['action_id']}")
    again = actions_api.request("DELETE", f"/actions/{made['action_id']}")

    assert (canceled.status, canceled.body["status"]) == (200, "canceled")
    assert (again.status, again.body) == (200, canceled.body)
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.get_schedule(Name=made["schedule_name"], GroupName=group)


def test_cancel_refuses_a_finished_action_and_404s_an_unknown_one(stack, jobs, actions_api, ran):
    made = actions_api.request("POST", "/actions", {"hook": HOOK}).body
    jobs.work()

    finished = actions_api.request("DELETE", f"/actions/{made['action_id']}")
    unknown = actions_api.request("DELETE", "/actions/no-such-action")

    assert (finished.status, finished.body["error"]) == (409, "not_cancelable")
    assert finished.body["status"] == "complete"
    assert (unknown.status, unknown.body["error"]) == (404, "unknown_action")
    assert jobs.action(made["action_id"]).status == "complete"


def test_run_now_sends_a_scheduled_action_to_its_queue(stack, jobs, actions_api, ran):
    made = actions_api.request(
        "POST", "/actions", {"hook": HOOK, "args": "now", "timestamp": _in(3)}
    ).body
    assert jobs.depth() == 0

    answer = actions_api.request("POST", f"/actions/{made['action_id']}/run")

    assert (answer.status, answer.body["action_id"]) == (202, made["action_id"])
    jobs.work()
    assert ran == [{"args": "now", "action_id": made["action_id"]}]


def test_run_now_refuses_recurring_and_finished_actions_and_404s_an_unknown_one(
    stack, jobs, actions_api, ran
):
    recurring = actions_api.request(
        "POST", "/actions", {"hook": HOOK, "timestamp": _in(1), "cron": "0 8 * * *"}
    ).body
    done = actions_api.request("POST", "/actions", {"hook": HOOK}).body
    jobs.work()

    answers = [
        actions_api.request("POST", f"/actions/{action_id}/run")
        for action_id in (recurring["action_id"], done["action_id"], "no-such-action")
    ]

    assert [(a.status, a.body["error"]) for a in answers] == [
        (409, "not_runnable"),
        (409, "not_runnable"),
        (404, "unknown_action"),
    ]
    assert "recurring" in answers[0].body["message"]
    assert jobs.depth() == 0


# --- authentication ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signing", "error"),
    [
        ("unsigned", "missing_authentication_token"),
        ("wrong_secret", "invalid_signature"),
        ("tampered", "invalid_signature"),
    ],
)
def test_an_unsigned_or_wrongly_signed_request_is_403_and_writes_nothing(
    stack, jobs, actions_api, ran, signing, error
):
    answer = actions_api.request("POST", "/actions", {"hook": HOOK}, signing=signing)

    assert (answer.status, answer.body["error"]) == (403, error)
    assert actions_api.handled == 0
    _nothing_written(stack, jobs)


def test_the_function_refuses_a_request_without_an_iam_caller(stack, jobs, actions_api, ran):
    """A route that lost its authorizer fails closed: the function wants API Gateway's caller."""
    answer = actions_api.handle("POST", "/actions", json.dumps({"hook": HOOK}).encode(), {})

    assert (answer.status, answer.body["error"]) == (403, "unauthenticated")
    _nothing_written(stack, jobs)


def test_the_caller_is_logged_with_each_request(stack, actions_api, ran, log_lines):
    actions_api.request("POST", "/actions", {"hook": HOOK})

    made = [line for line in log_lines() if line["message"] == "action made through the API"]
    assert made[0]["caller"] == "arn:aws:iam::123456789012:user/testing"
