"""The console's JSON API on moto: its handler with the claims API Gateway's Cognito
authorizer passes, over the deployed stack; the worker runs what it queues. Nothing of ours
is mocked. Contract: docs/reference/console-api.md."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import boto3
import pytest

from functions import actions
from functions.actions import store

HOOK = "console_test_hook"
OTHER = "console_other_hook"


@pytest.fixture
def ran(register) -> list[dict]:
    calls: list[dict] = []

    def console_test_hook(args, action) -> str:
        calls.append({"args": args, "action_id": action.action_id})
        return "ok"

    def console_other_hook(args, action) -> str:
        raise actions.PermanentError(f"cannot do {args!r}")

    register(HOOK, console_test_hook, base_delay=0, max_delay=0)
    register(OTHER, console_other_hook, base_delay=0, max_delay=0, max_attempts=1)
    return calls


def _later(hours: float = 1) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


# --- who may do what --------------------------------------------------------------------


def test_me_says_who_is_signed_in_and_whether_they_operate(console):
    assert console.get("/me").body == {
        "username": "olivia",
        "groups": ["operators"],
        "operator": True,
    }
    viewer = console.as_user("victor", "viewers")
    assert viewer.get("/me").body == {
        "username": "victor",
        "groups": ["viewers"],
        "operator": False,
    }


@pytest.mark.parametrize(
    "claim", ["operators", "[operators]", "viewers,operators", '["operators"]']
)
def test_the_groups_claim_is_read_as_api_gateway_flattens_it(console, claim):
    assert console.as_user("o", claim).get("/me").body["operator"] is True


def test_a_viewer_is_refused_every_change_and_nothing_changes(console, ran):
    action_id = actions.schedule_single_action(_later(), HOOK, {"n": 1})
    viewer = console.as_user("victor", "viewers")
    for path, body in (
        (f"/actions/{action_id}/cancel", None),
        (f"/actions/{action_id}/run", None),
        ("/actions/cancel", {"action_ids": [action_id]}),
        ("/dead-letters/default/redrive", {"all": True}),
    ):
        answer = viewer.post(path, body)
        assert answer.status == 403, path
        assert answer.body["error"] == "forbidden"
        assert "operators" in answer.body["message"]
    found = store.get(action_id)
    assert found is not None and found.status is store.ActionStatus.PENDING
    assert [entry.event for entry in found.log] == [store.LogEvent.CREATED]
    assert viewer.get(f"/actions/{action_id}").status == 200


def test_someone_in_neither_group_reads_nothing(console, ran):
    stranger = console.as_user("sam", None)
    for path in ("/me", "/actions", "/counts", "/health"):
        answer = stranger.get(path)
        assert answer.status == 403 and answer.body["error"] == "forbidden", path


def test_a_request_without_claims_is_refused_fail_closed(console):
    answer = console.request("GET", "/actions", claims=False)
    assert answer.status == 403
    assert answer.body["error"] == "unauthenticated"


# --- the list ---------------------------------------------------------------------------


def test_the_list_shows_rows_of_a_tab_with_abridged_args(console, ran):
    long = {"text": "x" * 500}
    first = actions.schedule_single_action(_later(1), HOOK, long, group="g1")
    second = actions.schedule_single_action(_later(2), HOOK, {"n": 2}, group="g2")
    answer = console.get("/actions", "status=pending")
    assert answer.status == 200
    rows = answer.body["actions"]
    assert [row["action_id"] for row in rows] == [first, second]
    assert rows[0]["args_truncated"] is True and len(rows[0]["args"]) == 200
    assert rows[1]["args"] == '{"n": 2}' and rows[1]["args_truncated"] is False
    assert rows[0]["group"] == "g1" and rows[0]["status"] == "pending"
    assert rows[0]["past_due"] is False and rows[0]["last_log"]["event"] == "created"
    assert answer.body["cursor"] is None and answer.body["search"] is None
    latest = console.get("/actions", "status=pending&order=desc").body["actions"]
    assert [row["action_id"] for row in latest] == [second, first]


def test_the_list_filters_by_hook_group_and_exact_args(console, ran):
    wanted = actions.schedule_single_action(_later(), HOOK, {"order": 42}, group="shop")
    actions.schedule_single_action(_later(), HOOK, {"order": 43}, group="shop")
    actions.schedule_single_action(_later(), HOOK, {"order": 42}, group="other")
    actions.schedule_single_action(_later(), OTHER, {"order": 42}, group="shop")
    query = f"hook={HOOK}&group=shop&args={quote(json.dumps({'order': 42}))}"
    rows = console.get("/actions", query).body["actions"]
    assert [row["action_id"] for row in rows] == [wanted]
    by_group = console.get("/actions", "group=shop").body["actions"]
    assert len(by_group) == 3


def test_the_list_pages_with_a_cursor(console, ran):
    made = [actions.schedule_single_action(_later(1 + i), HOOK, {"i": i}) for i in range(5)]
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        query = "per_page=2" + (f"&cursor={quote(cursor)}" if cursor else "")
        page = console.get("/actions", query).body
        seen.extend(row["action_id"] for row in page["actions"])
        cursor = page["cursor"]
        if not cursor:
            break
    assert seen == made


def test_past_due_and_failed_tabs(console, jobs, ran):
    due = actions.schedule_single_action(datetime.now(UTC) - timedelta(minutes=5), HOOK, {})
    failing = actions.enqueue_async_action(OTHER, {"boom": 1})
    jobs.work("default")
    jobs.work("low")
    jobs.work("high")
    past_due = [
        row["action_id"] for row in console.get("/actions", "status=past-due").body["actions"]
    ]
    assert due in past_due or store.get(due).status is not store.ActionStatus.PENDING
    failed = console.get("/actions", "status=failed").body["actions"]
    assert [row["action_id"] for row in failed] == [failing]
    assert failed[0]["last_log"]["event"] == "dead-lettered"


def test_a_bad_query_is_refused_with_the_reason(console):
    for query, words in (
        ("status=lost", "status"),
        ("per_page=1000", "per_page"),
        ("args=not-json", "JSON"),
        ("colour=red", "unknown query parameter"),
        ("cursor=garbage", "cursor"),
    ):
        answer = console.get("/actions", query)
        assert answer.status == 400, query
        assert answer.body["error"] == "invalid_request"
        assert words in answer.body["message"], (query, answer.body)


def test_search_finds_text_in_args_and_says_when_it_stopped_short(console, ran, monkeypatch):
    from functions.api.console import listing

    for i in range(12):
        actions.schedule_single_action(
            _later(1 + i), HOOK, {"name": "needle" if i == 9 else f"hay{i}"}
        )
    whole = console.get("/actions", "search=NEEDLE").body
    assert len(whole["actions"]) == 1 and "needle" in whole["actions"][0]["args"]
    assert whole["search"]["stopped_short"] is False and whole["search"]["scanned"] == 12
    monkeypatch.setattr(listing, "SEARCH_LIMIT", 5)
    short = console.get("/actions", "search=needle").body
    assert short["actions"] == [] and short["search"]["stopped_short"] is True
    assert short["search"]["scanned"] == 5 and short["cursor"]
    more = console.get("/actions", f"search=needle&cursor={quote(short['cursor'])}").body
    assert [row["args"] for row in more["actions"]] == ['{"name": "needle"}']


# --- one action -------------------------------------------------------------------------


def test_one_action_has_its_log_and_large_args_load_on_demand(console, stack, ran):
    big = {"blob": "y" * 300_000}
    action_id = actions.schedule_single_action(_later(), HOOK, big)
    answer = console.get(f"/actions/{quote(action_id, safe='')}")
    assert answer.status == 200
    assert answer.body["args_in_payload_bucket"] is True
    assert answer.body["action"]["args"] is None
    assert answer.body["action"]["log"][0]["event"] == "created"
    assert answer.body["parent"] is None and answer.body["saga"] is None
    assert answer.body["logs_insights_url"] is None  # no log groups: the local cloud
    loaded = console.get(f"/actions/{action_id}/args").body
    assert loaded == {"args": big, "size_bytes": loaded["size_bytes"], "from_payload_bucket": True}
    assert loaded["size_bytes"] > 300_000


def test_an_unknown_action_is_404(console):
    answer = console.get("/actions/no-such-action")
    assert answer.status == 404 and answer.body["error"] == "unknown_action"


def test_the_logs_insights_link_names_the_correlation_id(console, ran, monkeypatch):
    from functions import settings

    monkeypatch.setenv("CONSOLE_LOG_GROUPS", '["/aws/lambda/worker", "/aws/lambda/webhook"]')
    settings.reset()
    action_id = actions.schedule_single_action(_later(), HOOK, {})
    url = console.get(f"/actions/{action_id}").body["logs_insights_url"]
    assert url.startswith(
        "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logsV2:logs-insights"
    )
    assert action_id in url
    # The console's URL state: each log group as ~'name, '/' escaped as *2F.
    assert "~source~(~'*2Faws*2Flambda*2Fworker~'*2Faws*2Flambda*2Fwebhook)" in url
    assert "correlation_id*20*3D*20*22" + action_id + "*22" in url


def test_a_recurring_action_lists_its_runs_and_a_run_names_its_parent(console, jobs, ran):
    parent = actions.schedule_recurring_action(datetime.now(UTC), 3600, HOOK, {"r": 1})
    jobs.work("default")
    detail = console.get(f"/actions/{parent}").body
    assert detail["action"]["recurrence"]["interval_seconds"] == 3600
    runs = detail["runs"]
    assert len(runs) == 1 and runs[0]["action_id"].startswith(parent + "@")
    assert runs[0]["status"] == "complete"
    run = console.get(f"/actions/{quote(runs[0]['action_id'], safe='')}").body
    assert run["parent"] == parent


# --- run now, cancel ----------------------------------------------------------------------


def test_run_now_sends_it_and_logs_who_asked(console, jobs, ran):
    action_id = actions.schedule_single_action(_later(5), HOOK, {"go": 1})
    answer = console.post(f"/actions/{action_id}/run")
    assert answer.status == 202 and answer.body["action"]["action_id"] == action_id
    jobs.work("default")
    assert ran == [{"args": {"go": 1}, "action_id": action_id}]
    log = store.get(action_id).log
    assert any(
        e.event is store.LogEvent.RUN_NOW and e.message == "run now by olivia (console)"
        for e in log
    )


def test_run_now_of_a_finished_action_is_409(console, jobs, ran):
    action_id = actions.enqueue_async_action(HOOK, {})
    jobs.work("default")
    answer = console.post(f"/actions/{action_id}/run")
    assert answer.status == 409
    assert answer.body["error"] == "not_runnable" and answer.body["status"] == "complete"


def test_cancel_logs_who_canceled(console, ran):
    action_id = actions.schedule_single_action(_later(), HOOK, {})
    answer = console.post(f"/actions/{action_id}/cancel")
    assert answer.status == 200 and answer.body["action"]["status"] == "canceled"
    assert answer.body["action"]["log"][-1]["message"] == "canceled by olivia (console)"
    assert console.post(f"/actions/{action_id}/cancel").status == 200  # repeatable


def test_bulk_cancel_says_how_each_went(console, jobs, ran):
    pending = actions.schedule_single_action(_later(), HOOK, {"a": 1})
    done = actions.enqueue_async_action(HOOK, {"b": 1})
    jobs.work("default")
    answer = console.post("/actions/cancel", {"action_ids": [pending, done, "missing"]})
    assert answer.status == 200
    assert answer.body["canceled"] == 1
    results = {r["action_id"]: r for r in answer.body["results"]}
    assert results[pending] == {"action_id": pending, "canceled": True, "status": "canceled"}
    assert results[done]["error"] == "not_cancelable" and results[done]["status"] == "complete"
    assert results["missing"]["error"] == "unknown_action"


@pytest.mark.parametrize(
    "body",
    [
        None,
        {},
        {"action_ids": []},
        {"action_ids": "x"},
        {"action_ids": ["a"] * 101},
        {"ids": ["a"]},
    ],
)
def test_bulk_cancel_refuses_a_bad_body(console, body):
    answer = console.post("/actions/cancel", body)
    assert answer.status == 400 and answer.body["error"] == "invalid_request"


# --- counts -------------------------------------------------------------------------------


def test_counts_are_counted_then_kept_until_they_age(console, jobs, ran, monkeypatch):
    from functions.api.console import tally

    actions.schedule_single_action(_later(), HOOK, {})
    actions.schedule_single_action(datetime.now(UTC) - timedelta(minutes=1), HOOK, {})
    first = console.get("/counts").body
    assert first["counts"]["pending"] == {"count": 2, "more": False}
    assert first["counts"]["past-due"] == {"count": 1, "more": False}
    assert first["counts"]["complete"] == {"count": 0, "more": False}
    assert first["age_seconds"] == 0.0 and first["max_age_seconds"] == 60
    actions.schedule_single_action(_later(), HOOK, {})
    kept = console.get("/counts").body  # within its age: the kept tally, not a count
    assert kept["counts"]["pending"]["count"] == 2
    assert kept["counted_at"] == first["counted_at"]
    later = datetime.fromisoformat(first["counted_at"]).timestamp() + 61
    monkeypatch.setattr(tally.time, "time", lambda: later)
    recounted = console.get("/counts").body
    assert recounted["counts"]["pending"]["count"] == 3 and recounted["age_seconds"] == 0.0


def test_a_kept_tally_costs_one_dynamodb_read_per_view(console, ran):
    from tests.conftest import record_aws_calls

    actions.schedule_single_action(_later(), HOOK, {})
    console.get("/counts")
    calls = record_aws_calls()
    console.get("/counts")
    assert calls == [("dynamodb", "GetItem")]


# --- dead letters -------------------------------------------------------------------------


def _dead_lettered(jobs, count: int) -> list[str]:
    made = [actions.enqueue_async_action(OTHER, {"i": i}) for i in range(count)]
    for queue in ("default", "low", "high"):
        jobs.work(queue)
    return made


def _queue_of_letters(console) -> str:
    for queue in console.get("/dead-letters").body["queues"]:
        if queue["count"]:
            return queue["queue"]
    raise AssertionError("no dead letters")


def test_dead_letters_are_counted_listed_and_redriven_one_at_a_time(console, jobs, ran):
    made = _dead_lettered(jobs, 2)
    queue = _queue_of_letters(console)
    listed = console.get(f"/dead-letters/{queue}").body
    assert listed["matched"] == 2 and listed["more"] is False
    letter = listed["messages"][0]
    assert letter["hook"] == OTHER and "cannot do" in letter["error"] and letter["reason"]
    assert letter["age_seconds"] is not None and letter["action_id"] in made
    answer = console.post(f"/dead-letters/{queue}/redrive", {"message_id": letter["message_id"]})
    assert answer.status == 200 and answer.body["moved"] == 1
    again = store.get(letter["action_id"])
    assert again.status is store.ActionStatus.PENDING
    assert again.log[-1].message.startswith("redriven by olivia (console)")
    assert console.get(f"/dead-letters/{queue}").body["matched"] == 1


def test_redrive_by_hook_and_reason_then_all(console, jobs, ran):
    _dead_lettered(jobs, 3)
    queue = _queue_of_letters(console)
    reason = console.get(f"/dead-letters/{queue}").body["messages"][0]["reason"]
    none = console.post(f"/dead-letters/{queue}/redrive", {"hook": HOOK, "reason": reason})
    assert none.body["moved"] == 0
    counted = console.get(f"/dead-letters/{queue}", f"hook={OTHER}&reason={reason}").body["matched"]
    assert counted == 3
    some = console.post(f"/dead-letters/{queue}/redrive", {"hook": OTHER, "reason": reason})
    assert some.body["moved"] == 3
    assert console.get(f"/dead-letters/{queue}").body["matched"] == 0
    assert console.post(f"/dead-letters/{queue}/redrive", {"all": True}).body["moved"] == 0


@pytest.mark.parametrize(
    "body",
    [
        None,
        {},
        {"all": False},
        {"all": True, "hook": "x"},
        {"message_id": "m", "hook": "x"},
        {"hook": ""},
        {"colour": "red"},
    ],
)
def test_redrive_refuses_a_bad_body(console, body):
    answer = console.post("/dead-letters/default/redrive", body)
    assert answer.status == 400 and answer.body["error"] == "invalid_request"


def test_an_unknown_queue_is_404(console):
    assert console.get("/dead-letters/nope").body["error"] == "unknown_queue"
    assert console.post("/dead-letters/nope/redrive", {"all": True}).status == 404


# --- schedules, sagas, health, webhooks, charts -------------------------------------------


def test_schedules_list_recurring_and_cron_actions_with_next_runs(console, ran):
    actions.schedule_single_action(_later(), HOOK, {})
    rate = actions.schedule_recurring_action(_later(1), 3600, HOOK, {"r": 1})
    cron = actions.schedule_cron_action(
        _later(2), "0 9 * * 1", HOOK, {"c": 1}, timezone="Europe/Paris"
    )
    found = {s["action_id"]: s for s in console.get("/schedules").body["schedules"]}
    assert set(found) == {rate, cron}
    assert found[rate]["expression"] == "rate(3600 seconds)" and found[rate]["kind"] == "rate"
    runs = [datetime.fromisoformat(t) for t in found[rate]["next_runs"]]
    assert len(runs) == 3 and runs[1] - runs[0] == timedelta(hours=1)
    assert found[cron]["expression"] == "0 9 * * 1" and found[cron]["timezone"] == "Europe/Paris"
    assert len(found[cron]["next_runs"]) == 3
    assert console.post(f"/actions/{cron}/cancel").status == 200
    assert cron not in {s["action_id"] for s in console.get("/schedules").body["schedules"]}


def test_health_is_the_health_report(console):
    answer = console.get("/health")
    assert answer.status == 200
    assert answer.body["status"] in {"healthy", "unhealthy"}
    assert set(answer.body["queues"]) >= {"default", "high", "low"}


def test_sagas_list_recent_executions_with_their_status(console, stack):
    sfn = boto3.client("stepfunctions")
    machine = stack.resources.console_environment["ORDER_SAGA_ARN"]
    for name in ("order-1", "order-2"):
        sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps({"input": {}}))
    stopped = f"{machine.replace(':stateMachine:', ':execution:')}:order-1"
    sfn.stop_execution(executionArn=stopped, error="Saga.CompensationFailed", cause="refund failed")
    found = {e["name"]: e for e in console.get("/sagas").body["executions"]}
    assert set(found) == {"order-1", "order-2"}
    assert found["order-2"]["status"] == "RUNNING"
    assert found["order-2"]["compensation_failed"] is False
    assert found["order-1"]["status"] == "ABORTED"
    running = console.get("/sagas", "status=RUNNING").body["executions"]
    assert [e["name"] for e in running] == ["order-2"]
    assert console.get("/sagas", "status=LOST").status == 400


def _put(metric: str, value: float, **dimensions: str) -> None:
    boto3.client("cloudwatch").put_metric_data(
        Namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ActionScheduler"),
        MetricData=[
            {
                "MetricName": metric,
                "Value": value,
                "Unit": "Count",
                "Timestamp": datetime.now(UTC) - timedelta(minutes=2),
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
            }
        ],
    )


def _emf(metric: str, value: float, service: str = "webhook", **dimensions: str) -> None:
    """As EMF publishes a value with dimensions: once under ``service`` alone, once with them."""
    _put(metric, value, service=service)
    if dimensions:
        _put(metric, value, service=service, **dimensions)


def test_webhook_counts_come_from_cloudwatch_by_reason(console, stack):
    _emf("WebhooksAccepted", 4, source="github")
    _emf("WebhooksAccepted", 1, source="stripe")
    _emf("WebhooksDuplicated", 2)
    _emf("WebhooksRejected", 3, reason="invalid_signature")
    body = console.get("/webhooks").body
    hour = body["windows"]["hour"]
    assert hour == {
        "accepted": 5,
        "duplicate": 2,
        "rejected": 3,
        "rejected_by_reason": {"invalid_signature": 3},
    }
    assert body["windows"]["day"]["accepted"] == 5
    assert {s["source"] for s in body["sources"]} == set(stack.resources.secret_names)


def test_charts_sum_each_series_per_minute(console):
    _emf("ActionsCompleted", 3, "worker", hook="a", priority="default")
    _emf("ActionsCompleted", 2, "worker", hook="b", priority="high")
    _emf("ActionsCompleted", 7, "not-ours")  # another service's: not in the sum
    body = console.get("/charts", "hours=1").body
    series = {s["id"]: s for s in body["series"]}
    assert body["period_seconds"] == 60
    assert [point[1] for point in series["completed"]["points"]] == [5.0]
    assert series["failed"]["points"] == []
    assert {"depth_default", "oldest_default", "webhooks_accepted"} <= set(series)
    assert console.get("/charts", "hours=99").status == 400
