"""The health check on moto: healthy, each unhealthy reason, what it refuses to reveal, its cost."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
import time_machine

from functions.actions import api, circuit, store
from functions.actions.config import CircuitSettings
from functions.actions.envelope import Envelope
from functions.actions.exceptions import PermanentError
from functions.handlers.health import lambda_handler
from functions.health import checks
from functions.settings import reset as reset_settings
from infra.local.lambda_runtime import LocalContext, rest_proxy_event
from tests.conftest import record_aws_calls

SECRET_ARGS = {"card": "4111-1111-1111-1111", "password": "hunter2-very-secret"}
SECRET_ERROR = "token sk_live_DO_NOT_LEAK refused for customer 42"


@pytest.fixture
def health(jobs, monkeypatch):
    """The stack on moto with the health check's own settings, as the stack sets them."""
    monkeypatch.setenv(
        "HEALTH_DEAD_LETTER_QUEUES",
        json.dumps({"scheduler": jobs.resources.scheduler_dead_letter_url}),
    )
    monkeypatch.setenv("HEALTH_CACHE_SECONDS", "0")
    reset_settings()
    checks.forget()
    yield jobs
    checks.forget()


@pytest.fixture
def calls(health):
    """Every AWS operation our clients make, in order, as (service, operation)."""
    return record_aws_calls()


def _get(path: str = "/health") -> tuple[int, dict, dict]:
    event = rest_proxy_event("GET", path, resource=path)
    response = lambda_handler(event, LocalContext(function_name="health"))
    headers = dict(response.get("headers") or {})
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[name] = values[-1]
    return response["statusCode"], json.loads(response["body"]), headers


def _later(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def _claim(action_id: str) -> None:
    """Start a run of the action as the worker would, and let the run die there."""
    item = store.get(action_id)
    envelope = Envelope(
        action_id=action_id,
        hook=item.hook,
        args=item.args,
        scheduled_for=item.scheduled_for,
        enqueued_at=datetime.now(UTC),
    )
    assert store.claim(envelope, 1, 90).claimed


def test_an_idle_system_is_healthy(health):
    report = checks.check_health()

    assert report.healthy, report.reasons
    body = report.to_dict()
    assert body["status"] == "healthy"
    assert body["reasons"] == []
    assert set(body["queues"]) == {"high", "default", "low", "fifo"}
    assert body["queues"]["default"] == {
        "waiting": 0,
        "in_flight": 0,
        "delayed": 0,
        "oldest_age_seconds": None,
    }
    assert body["dead_letters"] == dict.fromkeys(("high", "default", "low", "fifo", "scheduler"), 0)
    assert body["circuits"] == {"open": 0, "half_open": 0, "more": False}
    assert body["actions"] == {
        "stuck_in_progress": {"count": 0, "more": False},
        "past_due_pending": {"count": 0, "more": False},
    }


def test_work_on_time_is_healthy(health, register):
    register("test_health_noop", lambda args, action: None)
    api.enqueue_async_action("test_health_noop", {"n": 1})

    waiting = checks.check_health()
    assert waiting.healthy, waiting.reasons
    assert waiting.queues["default"].waiting == 1

    health.work()
    assert checks.check_health().healthy


def test_a_dead_letter_is_a_reason(health, register):
    def refuse(args, action):
        raise PermanentError("nope")

    register("test_health_refused", refuse)
    api.enqueue_async_action("test_health_refused", {})
    health.work()

    report = checks.check_health()
    assert report.reasons == ["dead-letter queue default: 1 message"]
    assert report.dead_letters["default"] == 1


def test_the_schedulers_dead_letters_count_too(health):
    boto3.client("sqs").send_message(
        QueueUrl=health.resources.scheduler_dead_letter_url, MessageBody="{}"
    )
    assert checks.check_health().reasons == ["dead-letter queue scheduler: 1 message"]


def test_an_action_in_progress_past_its_time_is_stuck(health, register):
    register("test_health_slow", lambda args, action: None)
    action_id = api.enqueue_async_action("test_health_slow", {})
    _claim(action_id)

    # Within the threshold a run is just running.
    assert checks.check_health(_later(60)).healthy
    report = checks.check_health(_later(301))
    assert report.reasons == ["1 action in progress for more than 300 s"]
    assert (report.stuck_in_progress.count, report.stuck_in_progress.more) == (1, False)
    # An action scheduled long ago but claimed just now is not stuck.
    assert report.past_due_pending.count == 0


def test_a_stuck_action_behind_a_page_of_freshly_claimed_ones_is_found(health, register):
    """A backlog being drained: 60 actions due earlier, all claimed just now, come first
    in the index; the one stuck since long ago is behind them."""
    register("test_health_slow", lambda args, action: None)
    fresh = [api.enqueue_async_action("test_health_slow", {"n": n}) for n in range(60)]
    stuck = api.enqueue_async_action("test_health_slow", {"n": "stuck"})
    for action_id in [*fresh, stuck]:
        _claim(action_id)
    claimed_later = str(_later(301).timestamp())
    for action_id in fresh:
        boto3.client("dynamodb").update_item(
            TableName=store.table.name(),
            Key={"action_id": {"S": action_id}},
            UpdateExpression="SET updated_at = :t",
            ExpressionAttributeValues={":t": {"N": claimed_later}},
        )

    report = checks.check_health(_later(301))

    assert report.reasons == ["1 action in progress for more than 300 s"]
    assert report.stuck_in_progress.count == 1


def test_a_pending_action_well_past_its_time_is_past_due(health, register):
    register("test_health_late", lambda args, action: None)
    api.enqueue_async_action("test_health_late", {})

    assert checks.check_health(_later(500)).healthy
    report = checks.check_health(_later(601))
    assert report.reasons == ["1 pending action more than 600 s past due"]


def test_an_open_circuit_is_a_reason(health):
    circuit.record_failure(
        "payments-api",
        circuit.Decision(True, circuit.CLOSED),
        CircuitSettings(threshold=1, window=60, cooldown=30, trial=60),
    )
    circuit.record_failure(
        "closed-one",
        circuit.Decision(True, circuit.CLOSED),
        CircuitSettings(threshold=5, window=60, cooldown=30, trial=60),
    )

    report = checks.check_health()
    assert report.reasons == ["1 circuit open or half-open (1 open, 0 half-open)"]
    assert report.to_dict()["circuits"] == {"open": 1, "half_open": 0, "more": False}


def test_a_deep_queue_is_a_reason(health, register, monkeypatch):
    monkeypatch.setenv("HEALTH_MAX_QUEUE_DEPTH", "2")
    reset_settings()
    register("test_health_many", lambda args, action: None)
    for n in range(3):
        api.enqueue_async_action("test_health_many", {"n": n})

    report = checks.check_health()
    assert report.reasons == ["queue default: 3 messages waiting (more than 2)"]


def test_an_old_message_is_a_reason_by_the_queues_own_threshold(health, register, monkeypatch):
    monkeypatch.setenv("HEALTH_MAX_QUEUE_AGE_SECONDS", json.dumps({"default": 900, "low": 3600}))
    reset_settings()
    register("test_health_aged", lambda args, action: None)
    api.enqueue_async_action("test_health_aged", {})
    # SQS publishes this metric itself; moto lets a test stand in for it.
    boto3.client("cloudwatch").put_metric_data(
        Namespace="AWS/SQS",
        MetricData=[
            {
                "MetricName": "ApproximateAgeOfOldestMessage",
                "Dimensions": [
                    {"Name": "QueueName", "Value": health.queue("default").url.rsplit("/", 1)[1]}
                ],
                "Timestamp": datetime.now(UTC) - timedelta(minutes=1),
                "Value": 1200,
                "Unit": "Seconds",
            }
        ],
    )

    report = checks.check_health()
    assert report.queues["default"].oldest_age_seconds == 1200
    assert report.queues["high"].oldest_age_seconds is None
    assert report.reasons == ["queue default: oldest message 1200 s old (more than 900 s)"]


def test_counts_are_bounded_and_the_cost_is_constant(health, register, calls):
    register("test_health_flood", lambda args, action: None)
    for n in range(store_limit() + 5):
        api.enqueue_async_action("test_health_flood", {"n": n})
    calls.clear()

    report = checks.check_health(_later(3600))

    assert (report.past_due_pending.count, report.past_due_pending.more) == (store_limit(), True)
    assert "50+ pending actions more than 600 s past due" in report.reasons
    assert calls == [
        *[("sqs", "GetQueueAttributes")] * 4,  # the job queues
        ("cloudwatch", "GetMetricData"),  # one call for every queue holding messages
        *[("sqs", "GetQueueAttributes")] * 5,  # their dead letters, and the scheduler's
        ("dynamodb", "Scan"),  # the circuits table, bounded
        ("dynamodb", "Query"),  # in progress too long
        ("dynamodb", "Query"),  # pending past due
    ]
    print(json.dumps({"aws_calls_per_check": len(calls), "idle": len(calls) - 1}))


def store_limit() -> int:
    from functions.health.config import COUNT_LIMIT

    return COUNT_LIMIT


def test_an_idle_system_makes_no_cloudwatch_call(health, calls):
    checks.check_health()
    assert ("cloudwatch", "GetMetricData") not in calls
    assert len(calls) == 12


def test_a_check_that_fails_is_a_reason_and_names_no_cause(health, monkeypatch):
    monkeypatch.setenv("CIRCUITS_TABLE_NAME", "no-such-table")
    reset_settings()

    status, body, _ = _get()

    assert status == 503
    assert body["reasons"] == ["the circuits check failed"]
    assert body["circuits"] is None
    assert "no-such-table" not in json.dumps(body)
    assert body["queues"] is not None  # the other checks still ran


# --- the endpoint ------------------------------------------------------------------------


def test_get_health_answers_200_when_healthy_and_is_never_cached(health):
    status, body, headers = _get()
    assert status == 200
    assert body["status"] == "healthy"
    assert headers["Cache-Control"] == "no-store"
    assert headers["Content-Type"] == "application/json"


def test_get_health_answers_503_with_the_reasons(health):
    boto3.client("sqs").send_message(QueueUrl=health.queue("low").dead_letter_url, MessageBody="x")
    status, body, headers = _get()
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["reasons"] == ["dead-letter queue low: 1 message"]
    assert headers["Cache-Control"] == "no-store"


def test_other_paths_are_not_found(health):
    status, body, _ = _get("/health/details")
    assert status == 404
    assert body["error"] == "not_found"


def test_the_endpoint_reveals_no_args_errors_ids_hooks_circuits_or_urls(health, register):
    def leak(args, action):
        raise PermanentError(SECRET_ERROR)

    register("test_health_secret_hook", leak)
    failed = api.enqueue_async_action("test_health_secret_hook", SECRET_ARGS, group="acme")
    health.work()
    stuck = api.enqueue_async_action("test_health_secret_hook", SECRET_ARGS, group="acme")
    _claim(stuck)
    late = api.enqueue_async_action("test_health_secret_hook", SECRET_ARGS, group="acme")
    circuit.record_failure(
        "secret-internal-dependency",
        circuit.Decision(True, circuit.CLOSED),
        CircuitSettings(threshold=1, window=60, cooldown=30, trial=60),
    )
    assert health.dead_letters()  # the error and args are there to leak
    boto3.client("sqs").send_message(  # and one more with the error in its attributes
        QueueUrl=health.queue("default").dead_letter_url,
        MessageBody=json.dumps({"args": SECRET_ARGS, "error": SECRET_ERROR}),
        MessageAttributes={"error": {"DataType": "String", "StringValue": SECRET_ERROR}},
    )

    # Long enough for the stuck and past-due actions to count.
    status, body, _ = _get_at(_later(3600))

    assert status == 503
    text = json.dumps(body)
    for secret in (
        *SECRET_ARGS.values(),
        "sk_live_DO_NOT_LEAK",
        "customer 42",
        "test_health_secret_hook",
        "acme",
        failed,
        stuck,
        late,
        "secret-internal-dependency",
        "123456789012",  # the account, in every queue URL and ARN
        "https://",
        "arn:",
    ):
        assert secret not in text, secret
    assert body["actions"]["stuck_in_progress"] == {"count": 1, "more": False}
    assert body["actions"]["past_due_pending"]["count"] >= 1
    assert body["circuits"]["open"] == 1


def _get_at(moment: datetime) -> tuple[int, dict, dict]:
    """The endpoint's answer as it would be at ``moment`` (the clock moved, not our code)."""
    with time_machine.travel(moment, tick=True):
        return _get()


def test_detail_shows_operators_ids_and_circuit_names_but_never_args(health, register):
    register("test_health_detail", lambda args, action: None)
    action_id = api.enqueue_async_action("test_health_detail", SECRET_ARGS)
    _claim(action_id)
    circuit.record_failure(
        "payments-api",
        circuit.Decision(True, circuit.CLOSED),
        CircuitSettings(threshold=1, window=60, cooldown=30, trial=60),
    )

    body = checks.check_health(_later(400), detail=True).to_dict()

    [sample] = body["actions"]["stuck_in_progress"]["sample"]
    assert sample["action_id"] == action_id
    assert sample["hook"] == "test_health_detail"
    assert set(sample) == {"action_id", "hook", "scheduled_for", "updated_at"}
    [named] = body["circuits"]["circuits"]
    assert (named["name"], named["state"]) == ("payments-api", "open")
    assert "hunter2" not in json.dumps(body)


def test_a_warm_function_reuses_its_report_for_the_cache_window(health, monkeypatch, calls):
    monkeypatch.setenv("HEALTH_CACHE_SECONDS", "60")
    reset_settings()
    first = _get()[1]
    made = len(calls)
    boto3.client("sqs").send_message(QueueUrl=health.queue("high").dead_letter_url, MessageBody="x")
    assert _get()[1] == first
    assert len(calls) == made
