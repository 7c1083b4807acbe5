"""What the functions tell operators: EMF metrics and JSON log lines, from the real handlers.

The handlers run on moto as Lambda would run them; stdout is what CloudWatch Logs
would receive. EMF blobs are the lines with an ``_aws`` key; log lines have a
``level``. Each metric must be published under ``[service]`` (what alarms watch)
and under ``[service, <breakdown>]`` (what the dashboard shows).
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from functions.actions import enqueue_async_action
from functions.actions.exceptions import PermanentError, TransientError
from functions.metrics import Metric
from functions.observability import NAMESPACE, SERVICE, add_metric, logger, publish_metrics
from functions.settings import reset as reset_settings


@dataclass(frozen=True)
class Point:
    """One metric in one EMF blob: its unit, values and every dimension set it is under."""

    name: str
    unit: str
    values: list[float]
    dimension_sets: list[list[str]]
    dimensions: dict[str, str]


class Output:
    """Everything the functions printed during a test, read as CloudWatch would."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys
        self.text = ""

    def read(self) -> Output:
        self.text += self._capsys.readouterr().out
        return self

    def clear(self) -> None:
        self.read()
        self.text = ""

    @property
    def documents(self) -> list[dict[str, Any]]:
        found = []
        for line in self.text.splitlines():
            if line.startswith("{"):
                found.append(json.loads(line))
        return found

    @property
    def log_lines(self) -> list[dict[str, Any]]:
        return [doc for doc in self.documents if "level" in doc and "_aws" not in doc]

    @property
    def points(self) -> list[Point]:
        points = []
        for doc in self.documents:
            if "_aws" not in doc:
                continue
            # One document may carry several directives, each with its own dimensions.
            for directive in doc["_aws"]["CloudWatchMetrics"]:
                assert directive["Namespace"] == NAMESPACE
                keys = {key for dimension_set in directive["Dimensions"] for key in dimension_set}
                for metric in directive["Metrics"]:
                    value = doc[metric["Name"]]
                    points.append(
                        Point(
                            name=metric["Name"],
                            unit=metric["Unit"],
                            values=value if isinstance(value, list) else [value],
                            dimension_sets=directive["Dimensions"],
                            dimensions={key: doc[key] for key in keys},
                        )
                    )
        return points

    def metric(self, name: str, **dimensions: str) -> Point:
        """The one point of ``name`` with these breakdown dimensions (one invocation)."""
        matches = self.metrics(name, **dimensions)
        assert len(matches) == 1, (name, dimensions, self.points)
        return matches[0]

    def metrics(self, name: str, **dimensions: str) -> list[Point]:
        """Every point of ``name`` with these breakdown dimensions, checked for shape."""
        matches = [
            p
            for p in self.points
            if p.name == name and p.dimensions == {"service": SERVICE, **dimensions}
        ]
        expected_sets = [["service"], ["service", *dimensions]] if dimensions else [["service"]]
        for point in matches:
            assert point.dimension_sets == expected_sets, point
        return matches

    def total(self, name: str, **dimensions: str) -> float:
        return sum(sum(point.values) for point in self.metrics(name, **dimensions))

    def names(self) -> set[str]:
        return {point.name for point in self.points}


class _CurrentStdout:
    """Writes to whatever sys.stdout is when a line is written (pytest swaps it per phase)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@pytest.fixture
def output(capsys, monkeypatch) -> Output:
    """stdout as CloudWatch Logs would get it; the functions' log handler writes there too."""
    # The logger's handler keeps the stdout of when it was made; make it this test's.
    for handler in logging.getLogger(logger.name).handlers:
        monkeypatch.setattr(handler, "stream", _CurrentStdout())
    found = Output(capsys)
    found.clear()
    return found


class Recorder:
    def __init__(self, *plan: BaseException | None) -> None:
        self.plan = list(plan)

    def __call__(self, args: Any, action: Any) -> None:
        outcome = self.plan.pop(0) if self.plan else None
        if outcome is not None:
            raise outcome


def _github(stack, *, body: dict | None = None, secret: str | None = None):
    delivery_id = f"github-{uuid.uuid4()}"
    raw = json.dumps(body or {"action": "opened", "number": 7}).encode()
    kwargs: dict[str, Any] = {"event_type": "push"}
    if secret is not None:
        kwargs["secret"] = secret
    return raw, stack.signed("github", raw, delivery_id, **kwargs), delivery_id


# --- webhooks --------------------------------------------------------------------------------


def test_an_accepted_webhook_is_received_accepted_by_source_and_enqueues(stack, output):
    body, headers, _ = _github(stack)

    assert stack.post("github", body, headers).status == 202

    out = output.read()
    assert out.metric("WebhooksReceived").values == [1.0]
    assert out.metric("WebhooksAccepted", source="github").values == [1.0]
    enqueued = out.metric("ActionsEnqueued", hook="process_webhook", priority="default")
    assert (enqueued.unit, enqueued.values) == ("Count", [1.0])
    assert "WebhooksRejected" not in out.names()
    assert "WebhooksDuplicated" not in out.names()


def test_an_accepted_webhooks_metrics_share_one_emf_document(stack, output):
    # Three metrics, three sets of dimensions, one document: the blobs' shared envelope
    # is billed once per webhook, not three times (functions/observability.py _pack).
    body, headers, _ = _github(stack)

    stack.post("github", body, headers)

    out = output.read()
    [document] = [doc for doc in out.documents if "_aws" in doc]
    assert len(document["_aws"]["CloudWatchMetrics"]) == 3
    assert {p.name for p in out.points} == {
        "WebhooksReceived",
        "WebhooksAccepted",
        "ActionsEnqueued",
    }


def test_a_repeated_delivery_counts_as_duplicated_and_enqueues_nothing(stack, output):
    body, headers, _ = _github(stack)
    stack.post("github", body, headers)
    output.clear()

    assert stack.post("github", body, headers).status == 200

    out = output.read()
    assert out.metric("WebhooksReceived").values == [1.0]
    assert out.metric("WebhooksDuplicated", source="github").values == [1.0]
    assert {"WebhooksAccepted", "ActionsEnqueued"}.isdisjoint(out.names())


@pytest.mark.parametrize(
    ("source", "tamper", "reason"),
    [
        ("github", "signature", "invalid_signature"),
        ("nope", None, "unknown_source"),
    ],
)
def test_a_rejection_is_counted_by_reason_never_by_source(stack, output, source, tamper, reason):
    body, headers, _ = _github(stack)
    if tamper == "signature":
        headers = {name.lower(): value for name, value in headers.items()}
        headers["x-hub-signature-256"] = "sha256=" + "0" * 64

    answer = stack.post(source, body, headers)

    assert answer.body["error"] == reason
    out = output.read()
    assert out.metric("WebhooksReceived").values == [1.0]
    assert out.metric("WebhooksRejected", reason=reason).values == [1.0]
    assert all("source" not in point.dimensions for point in out.points)
    assert {"WebhooksAccepted", "ActionsEnqueued"}.isdisjoint(out.names())


def test_every_line_of_a_webhook_request_carries_its_delivery_id(stack, output):
    body, headers, delivery_id = _github(stack)

    stack.post("github", body, headers)

    lines = output.read().log_lines
    assert lines, "the request logged nothing"
    for line in lines:
        assert line["correlation_id"] == delivery_id, line
        assert line["delivery_id"] == delivery_id
        assert line["source"] == "github"
    # One line says the delivery was accepted, with its action's id; the enqueue of an
    # action to run now is at DEBUG (log bytes are billed per webhook).
    assert [line["message"] for line in lines] == ["webhook accepted"]
    assert lines[0]["action_id"]


def test_lines_leave_out_what_the_log_group_and_report_line_say(stack, output):
    body, headers, _ = _github(stack)

    stack.post("github", body, headers)

    [line] = output.read().log_lines
    # sampling_rate: this environment sets no sample rate; test_log_lines.py sets one.
    assert {"function_arn", "function_memory_size", "function_name"}.isdisjoint(line)
    assert {"function_request_id", "cold_start", "correlation_id"} <= set(line)


# --- actions ---------------------------------------------------------------------------------


def test_a_completed_action_counts_start_completion_latency_and_duration(jobs, register, output):
    register("test_obs_ok", Recorder(), priority="high")
    enqueue_async_action("test_obs_ok", {"n": 1})
    output.clear()

    jobs.work("high")

    out = output.read()
    by = {"hook": "test_obs_ok", "priority": "high"}
    assert out.metric("ActionsStarted", **by).values == [1.0]
    assert out.metric("ActionsCompleted", **by).values == [1.0]
    latency = out.metric("ActionStartLatency", **by)
    duration = out.metric("ActionDuration", **by)
    assert latency.unit == duration.unit == "Milliseconds"
    assert 0 <= latency.values[0] < 60_000
    assert 0 <= duration.values[0] < 60_000
    assert {"ActionsRaised", "ActionsRetried", "ActionsDeadLettered"}.isdisjoint(out.names())


def test_one_blob_per_hook_and_priority_when_a_batch_mixes_hooks(jobs, register, output):
    register("test_obs_a", Recorder())
    register("test_obs_b", Recorder())
    for hook in ("test_obs_a", "test_obs_b", "test_obs_a"):
        enqueue_async_action(hook)
    output.clear()

    jobs.work()

    out = output.read()
    assert out.metric("ActionsStarted", hook="test_obs_a", priority="default").values == [1, 1]
    assert out.metric("ActionsStarted", hook="test_obs_b", priority="default").values == [1]


def test_a_retry_counts_a_raised_run_and_a_retry(jobs, register, output):
    register("test_obs_flaky", Recorder(TransientError("busy")), base_delay=0, max_delay=0)
    enqueue_async_action("test_obs_flaky")
    output.clear()

    jobs.work()

    out = output.read()
    by = {"hook": "test_obs_flaky", "priority": "default"}
    # Two invocations (the retry is a new message): a blob each.
    assert out.total("ActionsStarted", **by) == 2
    assert out.total("ActionsRaised", **by) == 1
    assert out.total("ActionsRetried", **by) == 1
    assert out.total("ActionsCompleted", **by) == 1
    assert len(out.metrics("ActionDuration", **by)) == 2


def test_a_dead_letter_counts_a_raised_run_and_a_dead_letter(jobs, register, output):
    register("test_obs_broken", Recorder(PermanentError("no such order")))
    enqueue_async_action("test_obs_broken")
    output.clear()

    jobs.work()

    out = output.read()
    by = {"hook": "test_obs_broken", "priority": "default"}
    assert out.metric("ActionsRaised", **by).values == [1.0]
    assert out.metric("ActionsDeadLettered", **by).values == [1.0]
    assert {"ActionsCompleted", "ActionsRetried"}.isdisjoint(out.names())


def test_a_recurring_action_that_stops_is_counted_once_by_hook(jobs, register, output):
    from datetime import UTC, datetime

    from functions.actions import schedule_recurring_action

    register("test_obs_recurring", Recorder(PermanentError("gone")), max_failed_runs=1)
    start = datetime.now(UTC).replace(microsecond=0)
    action_id = schedule_recurring_action(start, 3600, "test_obs_recurring", priority="low")
    output.clear()

    jobs.work("low")

    out = output.read()
    by = {"hook": "test_obs_recurring", "priority": "low"}
    assert out.metric("RecurringActionsStopped", **by).values == [1.0]
    [line] = [doc for doc in out.log_lines if doc["message"] == "recurring action stopped"]
    assert (line["level"], line["recurring_action_id"]) == ("ERROR", action_id)


def test_a_malformed_message_is_dead_lettered_in_the_total_only(jobs, output):
    jobs.sqs.send_message(QueueUrl=jobs.queue().url, MessageBody="not an envelope")

    jobs.work()

    out = output.read()
    assert out.metric("ActionsDeadLettered").values == [1.0]
    [line] = [line for line in out.log_lines if line["message"].startswith("malformed")]
    assert line["correlation_id"]  # the message id: no action id to give
    assert "action_id" not in line


def test_an_action_a_hook_enqueues_is_counted_by_the_worker(jobs, register, output):
    register("test_obs_child", Recorder())
    register("test_obs_parent", lambda args, action: enqueue_async_action("test_obs_child"))
    enqueue_async_action("test_obs_parent")
    output.clear()

    jobs.work()

    out = output.read()
    assert out.metric("ActionsEnqueued", hook="test_obs_child", priority="default").values == [1]
    assert out.metric("ActionsCompleted", hook="test_obs_child", priority="default").values == [1]


def test_outside_a_handler_nothing_is_published(jobs, register, output):
    """The operator CLI enqueues through the same API: its output must stay its own."""
    register("test_obs_cli", Recorder())

    enqueue_async_action("test_obs_cli")
    add_metric(Metric.ACTIONS_ENQUEUED, hook="test_obs_cli", priority="default")

    assert output.read().points == []


def test_a_handler_that_fails_still_publishes_what_it_counted(output):
    @publish_metrics
    def handler(event: Any, context: Any) -> None:
        add_metric(Metric.WEBHOOKS_RECEIVED)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        handler({}, None)

    assert output.read().metric("WebhooksReceived").values == [1.0]


def test_a_name_or_a_dimension_the_vocabulary_does_not_declare_is_dropped(output):
    """Only the vocabulary's metrics reach CloudWatch, and the work goes on regardless."""

    @publish_metrics
    def handler(event: Any, context: Any) -> str:
        add_metric("ActionsExploded")  # type: ignore[arg-type]
        add_metric(Metric.WEBHOOKS_RECEIVED, hook="not_a_breakdown_of_it")
        add_metric(Metric.WEBHOOKS_ACCEPTED, source="github")
        return "done"

    assert handler({}, None) == "done"

    out = output.read()
    assert out.names() == {"WebhooksAccepted"}
    dropped = [line["metric"] for line in out.log_lines if line["message"] == "metric not recorded"]
    assert dropped == ["ActionsExploded", "WebhooksReceived"]


def test_every_line_of_a_record_carries_the_delivery_id_and_the_action_id(stack, jobs, output):
    body, headers, delivery_id = _github(stack)
    action_id = stack.post("github", body, headers).body["action_id"]
    output.clear()

    jobs.work()

    lines = output.read().log_lines
    assert any(line["message"] == "action completed" for line in lines)
    for line in lines:
        assert line["correlation_id"] == delivery_id, line
        assert line["action_id"] == action_id
        assert line["hook"] == "process_webhook"


def test_the_next_record_never_inherits_the_last_ones_ids(jobs, register, output):
    register("test_obs_first", Recorder())
    first = enqueue_async_action("test_obs_first")
    jobs.work()
    jobs.sqs.send_message(QueueUrl=jobs.queue().url, MessageBody="{}")
    output.clear()

    jobs.work()

    for line in output.read().log_lines:
        assert first not in json.dumps(line), line


# --- sagas -----------------------------------------------------------------------------------


@pytest.fixture
def saga_table(aws, monkeypatch) -> None:
    boto3.client("dynamodb").create_table(
        TableName="saga-state-obs",
        KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("SAGA_TABLE_NAME", "saga-state-obs")
    reset_settings()


def _saga_event(task: str, **extra: Any) -> dict[str, Any]:
    origin = {"action_id": "a-1", "correlation_id": "delivery-1"}
    return {
        "task": task,
        "input": {"order_id": "o-obs", "origin": origin, **extra},
        "execution": "order-o-obs",
    }


def test_a_saga_task_logs_the_originating_delivery_and_counts_by_task(saga_table, output):
    from functions.handlers.saga import lambda_handler
    from infra.local.lambda_runtime import LocalContext

    lambda_handler(_saga_event("reserve_inventory"), LocalContext(function_name="saga"))
    with pytest.raises(PermanentError):
        lambda_handler(
            _saga_event("charge_payment", fail={"charge_payment": "permanent"}),
            LocalContext(function_name="saga"),
        )
    lambda_handler(
        {**_saga_event("release_inventory"), "compensation": True, "compensated": []},
        LocalContext(function_name="saga"),
    )

    out = output.read()
    assert out.metric("SagaStepsCompleted", task="reserve_inventory").values == [1.0]
    assert out.metric("SagaStepsRaised", task="charge_payment").values == [1.0]
    assert out.metric("SagaCompensationsCompleted", task="release_inventory").values == [1.0]
    lines = out.log_lines
    assert lines
    for line in lines:
        assert line["correlation_id"] == "delivery-1", line
        assert line["action_id"] == "a-1"
        assert line["execution"] == "order-o-obs"


def test_a_saga_task_without_an_origin_correlates_by_execution(saga_table, output):
    from functions.handlers.saga import lambda_handler
    from infra.local.lambda_runtime import LocalContext

    event = {"task": "reserve_inventory", "input": {"order_id": "o-2"}, "execution": "order-o-2"}
    lambda_handler(event, LocalContext(function_name="saga"))

    [line] = [line for line in output.read().log_lines if line["message"] == "inventory reserved"]
    assert line["correlation_id"] == "order-o-2"
    assert "action_id" not in line


# --- what is never logged --------------------------------------------------------------------

SECRET = "whsec-OBSERVABILITY-SECRET-7f3a"
MARKER = "PAYLOAD-MARKER-9c1e"


def test_no_secret_signature_or_payload_reaches_the_logs(stack, jobs, output):
    stack.set_secrets("github", [SECRET])
    payload = {"ref": "refs/heads/main", "commits": [], "note": MARKER}
    body, headers, delivery_id = _github(stack, body=payload, secret=SECRET)
    signature = {name.lower(): value for name, value in headers.items()}["x-hub-signature-256"]
    digest = signature.removeprefix("sha256=")

    assert stack.post("github", body, headers).status == 202
    # A forged request with the marker too: the rejection path logs nothing of it either.
    forged = {"x-github-delivery": "forged-1", "x-github-event": "push"}
    forged["x-hub-signature-256"] = "sha256=" + "1" * 64
    assert stack.post("github", body.replace(b"main", b"evil"), forged).status == 401
    jobs.work()

    out = output.read()
    assert any(line["message"] == "github push" for line in out.log_lines)
    assert delivery_id in out.text
    for needle in (SECRET, digest, "1" * 64, MARKER):
        assert needle not in out.text, needle
