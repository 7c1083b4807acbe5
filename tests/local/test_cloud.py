"""The local cloud end to end: the synthesized stack on moto's server, driven over HTTP.

One cloud for the module, on free ports of 127.0.0.1; it restores the process's
environment when it stops, so other suites keep their own moto worlds.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
import time_machine

from functions.actions.envelope import Envelope
from infra.cli.main import main as actionsctl
from infra.local import sample_events
from infra.local.cloud import LocalCloud
from infra.local.scheduler_clock import ManualClock, SchedulerClock
from tests.dynamodb_race import JOIN_SECONDS, create_table, race
from tests.local import local_hooks


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def quiet_cloud(template: dict) -> Iterator[LocalCloud]:
    """A module's local cloud of ``template``: on free ports, its log dropped, stopped
    when the module is done (``yield from`` it in a fixture)."""
    local = LocalCloud(
        api_port=_free_port(), aws_port=_free_port(), log=lambda line: None, template=template
    )
    local.start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="module")
def cloud(synthesized):
    template, _ = synthesized
    saved = os.environ.get("ACTION_HOOK_MODULES")
    os.environ["ACTION_HOOK_MODULES"] = "tests.local.local_hooks"
    lines: list[str] = []
    local = LocalCloud(
        api_port=_free_port(),
        aws_port=_free_port(),
        log=lines.append,
        template=template,
        reload=True,
    )
    local.start()
    local.lines = lines
    yield local
    local.stop()
    if saved is None:
        os.environ.pop("ACTION_HOOK_MODULES", None)
    else:
        os.environ["ACTION_HOOK_MODULES"] = saved


def _post(cloud, sample_name: str) -> tuple[int, dict]:
    sample = {s.name: s for s in sample_events.build(now=int(time.time()))}[sample_name]
    event = sample.event
    body = base64.b64decode(event["body"])
    source = event["pathParameters"]["source"]
    request = urllib.request.Request(  # noqa: S310 - the local cloud on 127.0.0.1
        f"{cloud.webhook_url}{source}", data=body, method="POST", headers=event["headers"]
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _action(cloud, action_id: str) -> dict:
    table = cloud.deployment.outputs["ActionsTableName"]
    item = (
        boto3.client("dynamodb")
        .get_item(TableName=table, Key={"action_id": {"S": action_id}}, ConsistentRead=True)
        .get("Item", {})
    )
    return {key: next(iter(value.values())) for key, value in item.items()}


def _wait(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def test_the_health_check_is_served_and_a_fresh_cloud_is_healthy(cloud):
    health_url = cloud.webhook_url.replace("/webhooks/", "/health")
    with urllib.request.urlopen(health_url, timeout=10) as response:  # noqa: S310 - loopback
        status, headers, body = response.status, response.headers, json.loads(response.read())

    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    assert body["status"] == "healthy"
    assert body["reasons"] == []
    assert set(body["queues"]) == {"high", "default", "low", "fifo"}


def test_a_signed_webhook_becomes_a_completed_action(cloud):
    status, body = _post(cloud, "github.valid")

    assert status == 202
    item = _wait(lambda: (a := _action(cloud, body["action_id"])).get("status") == "complete" and a)
    assert item["hook"] == "process_webhook"


def test_a_duplicate_is_accepted_once(cloud):
    first = _post(cloud, "shopify.valid")
    second = _post(cloud, "shopify.valid")

    assert (first[0], second[0]) == (202, 200)
    assert second[1]["action_id"] == first[1]["action_id"]


def test_a_tampered_webhook_is_refused_over_http(cloud):
    status, body = _post(cloud, "stripe.tampered")

    assert status == 401
    assert body["error"] == "invalid_signature"


def _send(
    url: str, *, method: str = "GET", body: bytes | None = None, headers: dict | None = None
) -> tuple[int, dict, dict]:
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data=body, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "webhooks"), ("GET", "webhooks/github"), ("GET", "nowhere")]
)
def test_a_missing_route_answers_403_missing_authentication_token_as_deployed(cloud, method, path):
    url = cloud.webhook_url.replace("/webhooks/", f"/{path}")
    status, headers, body = _send(url, method=method, body=b"{}" if method == "POST" else None)

    assert status == 403
    assert headers["Content-Type"] == "application/json"
    assert body["error"] == "missing_authentication_token"
    assert "no such route" in body["message"]


def test_a_body_over_api_gateways_10_mb_answers_413_as_deployed(cloud):
    status, headers, body = _send(
        f"{cloud.webhook_url}github", method="POST", body=b"x" * (11 * 1024 * 1024)
    )

    assert status == 413
    assert headers["Content-Type"] == "application/json"
    assert body["error"] == "payload_too_large"
    assert "API Gateway" in body["message"]  # the front's answer, not the receiver's


def test_the_cli_sees_the_local_cloud(cloud, capsys):
    status, body = _post(cloud, "hmac.valid")
    assert status == 202
    _wait(lambda: _action(cloud, body["action_id"]).get("status") == "complete")

    exit_code = actionsctl(["--stack", "ActionScheduler", "action", "get", body["action_id"]])

    assert exit_code == 0
    assert "complete" in capsys.readouterr().out


def test_a_saga_runs_through_step_functions_and_compensates(cloud):

    queues = json.loads(cloud.deployment.outputs["JobQueues"])
    now = datetime.now(UTC)
    envelope = Envelope(
        action_id="saga-e2e",
        hook="start_order_saga",
        args={"order_id": "e2e-1", "amount": 100, "fail": {"create_shipment": "permanent"}},
        scheduled_for=now,
        enqueued_at=now,
    )
    boto3.client("sqs").send_message(
        QueueUrl=queues["default"]["url"], MessageBody=envelope.to_message()
    )
    sfn = boto3.client("stepfunctions")
    machine = cloud.deployment.outputs["OrderSagaArn"]

    def finished():
        executions = sfn.list_executions(stateMachineArn=machine)["executions"]
        done = [e for e in executions if e["status"] != "RUNNING"]
        return done and sfn.describe_execution(executionArn=done[0]["executionArn"])

    execution = _wait(finished, timeout=60)

    assert execution["status"] == "FAILED"
    assert execution["error"] == "PermanentError"
    assert json.loads(execution["cause"])["compensated"] == [
        "cancel_shipment",
        "refund_payment",
        "release_inventory",
    ]
    # The outcome reaches the action through EventBridge, the outcomes queue and its
    # function: the action that waited for the saga fails with the saga's error.
    item = _wait(lambda: (a := _action(cloud, "saga-e2e")).get("status") == "failed" and a)
    assert "saga started" in json.dumps(item)
    assert item["last_error"] == (
        "saga order-e2e-1 failed: PermanentError: create_shipment failed (as asked); "
        "compensated: cancel_shipment, refund_payment, release_inventory"
    )


def test_a_saga_started_with_an_order_over_256_kb_runs_by_claim_check(cloud, monkeypatch):
    """Step Functions takes at most 256 KB of input (the local cloud refuses more, as AWS):
    the order goes to the payload bucket, the execution carries its reference."""
    from functions.actions import enqueue_async_action
    from tests.conftest import reset_process_state

    monkeypatch.setenv("ACTION_SCHEDULER_STACK", cloud.stack_name)
    reset_process_state()
    order = {"order_id": "e2e-large", "amount": 7, "lines": ["x" * 1000] * 300}
    action_id = enqueue_async_action("start_order_saga", order)
    sfn = boto3.client("stepfunctions")
    arn = cloud.deployment.outputs["OrderSagaArn"].replace(":stateMachine:", ":execution:")

    def finished():
        try:
            found = sfn.describe_execution(executionArn=f"{arn}:order-e2e-large")
        except sfn.exceptions.ExecutionDoesNotExist:
            return None
        return found["status"] != "RUNNING" and found

    execution = _wait(finished, timeout=60)
    assert execution["status"] == "SUCCEEDED", execution
    assert len(execution["input"]) < 2000
    assert "payload" in json.loads(execution["input"])["input"]
    _wait(lambda: _action(cloud, action_id).get("status") == "complete")
    reset_process_state()


def test_an_sqs_message_over_the_queues_maximum_is_refused_counting_attributes(cloud):
    queues = json.loads(cloud.deployment.outputs["JobQueues"])
    sqs = boto3.client("sqs")
    attributes = {"hook": {"DataType": "String", "StringValue": "h" * 100}}
    with pytest.raises(sqs.exceptions.ClientError, match="Message must be shorter than 262144"):
        sqs.send_message(
            QueueUrl=queues["low"]["url"],
            MessageBody="x" * (256 * 1024 - 50),  # the body alone fits
            MessageAttributes=attributes,
        )


def test_the_clouds_dynamodb_serves_two_conditional_puts_one_after_the_other(cloud):
    """The local cloud's moto takes one DynamoDB request at a time, as AWS applies each
    conditional write whole: two copies of one delivery cannot both be accepted."""
    table = create_table(f"race-{uuid.uuid4().hex[:8]}")

    outcomes, most = race(table, JOIN_SECONDS)

    assert most == 1
    assert outcomes == ["ConditionalCheckFailedException", "put"]


def test_the_live_log_says_what_happened(cloud):
    assert any("deployed ActionScheduler" in line for line in cloud.lines)
    assert any("message(s) ->" in line for line in cloud.lines)


def test_a_failing_action_lands_in_the_dead_letters_and_is_redriven_by_the_cli(cloud, capsys):
    queues = json.loads(cloud.deployment.outputs["JobQueues"])
    now = datetime.now(UTC)
    envelope = Envelope(
        action_id="dlq-e2e",
        hook="send_email",
        args={"subject": "no recipient"},  # send_email refuses this permanently
        scheduled_for=now,
        enqueued_at=now,
    )
    boto3.client("sqs").send_message(
        QueueUrl=queues["default"]["url"], MessageBody=envelope.to_message()
    )
    _wait(lambda: _action(cloud, "dlq-e2e").get("status") == "failed")
    capsys.readouterr()

    assert actionsctl(["dlq", "list", "--hook", "send_email", "--json"]) == 0
    [letter] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    assert letter["action_id"] == "dlq-e2e"
    assert "PermanentError" in letter["error"]

    # The operator's health check says why the system is not healthy.
    assert actionsctl(["health"]) == 1
    assert "dead-letter queue default: 1 message\n" in capsys.readouterr().out

    assert actionsctl(["dlq", "redrive", "--hook", "send_email", "--yes"]) == 0
    redriven = _wait(
        lambda: (
            "redriven" in json.dumps(a := _action(cloud, "dlq-e2e"))
            and a.get("status") == "failed"
            and a
        )
    )
    assert "redriven" in json.dumps(redriven)


def test_a_failing_hook_retries_with_backoff_then_completes(cloud):
    queues = json.loads(cloud.deployment.outputs["JobQueues"])
    now = datetime.now(UTC)
    envelope = Envelope(
        action_id="flaky-e2e",
        hook="local_flaky",
        args={"failures": 2},
        scheduled_for=now,
        enqueued_at=now,
    )
    boto3.client("sqs").send_message(
        QueueUrl=queues["default"]["url"], MessageBody=envelope.to_message()
    )

    item = _wait(lambda: (a := _action(cloud, "flaky-e2e")).get("status") == "complete" and a)

    log = json.dumps(item)
    assert log.count('"retry"') == 2
    assert "succeeded on call 3" in log


# Schedules: EventBridge's time, the worker's "is it due?" and SQS's delays all read
# one clock, the process's. time-machine moves it for every thread at once (the
# scheduler clock, the pollers, the in-process worker and moto's server), and time
# keeps flowing from where it lands, so nothing needs a long sleep.


def _scheduled(capsys, *argv: str) -> str:
    capsys.readouterr()
    assert actionsctl(["schedule", *argv]) == 0
    return capsys.readouterr().out.strip()


def _schedule_of(cloud, name: str) -> dict | None:
    scheduler = boto3.client("scheduler")
    group = cloud.deployment.outputs["ScheduleGroupName"]
    try:
        return scheduler.get_schedule(Name=name, GroupName=group)
    except scheduler.exceptions.ResourceNotFoundException:
        return None


def _runs_of(cloud, action_id: str) -> list[dict]:
    table = cloud.deployment.outputs["ActionsTableName"]
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=table)
    items = [item for page in pages for item in page["Items"]]
    runs = [
        {key: next(iter(value.values())) for key, value in item.items()}
        for item in items
        if item["action_id"]["S"].startswith(f"{action_id}@")
    ]
    return sorted(runs, key=lambda run: run["action_id"])


def test_a_one_off_schedule_fires_at_its_time_and_deletes_itself(cloud, capsys):
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    action_id = _scheduled(capsys, "at", at.isoformat(), "local_tick", "--args", '{"n": 1}')
    name = _action(cloud, action_id)["schedule_name"]
    schedule = _schedule_of(cloud, name)
    assert schedule["ScheduleExpression"] == f"at({at.strftime('%Y-%m-%dT%H:%M:%S')})"
    assert schedule["ActionAfterCompletion"] == "DELETE"

    # A tick of a scheduler clock now, two hours early: not due, nothing fires.
    early = SchedulerClock(ManualClock(at - timedelta(seconds=1)), log=lambda _: None)
    assert name not in [fired.name for fired in early.tick()]
    assert _action(cloud, action_id)["status"] == "pending"

    with time_machine.travel(at + timedelta(seconds=1), tick=True):
        item = _wait(lambda: (a := _action(cloud, action_id)).get("status") == "complete" and a)
        assert _wait(lambda: _schedule_of(cloud, name) is None)

    assert f"tick 1 as {action_id}" in json.dumps(item)
    assert any(f"{name} fired at" in line for line in cloud.lines)


def test_a_recurring_schedule_fires_at_each_of_its_times(cloud, capsys):
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    action_id = _scheduled(
        capsys, "every", "3600", "local_tick", "--args", '{"n": 2}', "--start", start.isoformat()
    )
    name = _action(cloud, action_id)["schedule_name"]
    assert _schedule_of(cloud, name)["ScheduleExpression"] == "rate(1 hour)"

    for hours in (0, 1, 2):
        with time_machine.travel(start + timedelta(hours=hours, seconds=1), tick=True):
            _wait(
                lambda n=hours + 1: (
                    len(runs := _runs_of(cloud, action_id)) == n
                    and all(run["status"] == "complete" for run in runs)
                )
            )

    runs = _runs_of(cloud, action_id)
    times = [start + timedelta(hours=hours) for hours in (0, 1, 2)]
    assert [run["action_id"] for run in runs] == [
        f"{action_id}@{moment.strftime('%Y-%m-%dT%H:%M:%SZ')}" for moment in times
    ]
    # The recurring action stays pending, pointed at its next run; its schedule stays.
    recurring = _action(cloud, action_id)
    assert recurring["status"] == "pending"
    assert float(recurring["scheduled_for"]) == (start + timedelta(hours=3)).timestamp()
    assert _schedule_of(cloud, name) is not None

    # Canceled, it stops: its schedule is deleted with it.
    assert actionsctl(["action", "cancel", action_id]) == 0
    assert _action(cloud, action_id)["status"] == "canceled"
    assert _schedule_of(cloud, name) is None


def _tick(cloud, action_id: str) -> int:
    """Run local_tick as action_id through the worker; the process that ran it."""
    queues = json.loads(cloud.deployment.outputs["JobQueues"])
    now = datetime.now(UTC)
    envelope = Envelope(
        action_id=action_id, hook="local_tick", args={"n": 3}, scheduled_for=now, enqueued_at=now
    )
    boto3.client("sqs").send_message(
        QueueUrl=queues["default"]["url"], MessageBody=envelope.to_message()
    )
    item = _wait(lambda: (a := _action(cloud, action_id)).get("status") == "complete" and a)
    return int(re.search(r" in process (\d+)", json.dumps(item))[1])


def test_code_changes_take_effect_without_a_restart(cloud):
    before = _tick(cloud, "reload-e2e-before")

    os.utime(Path(local_hooks.__file__))  # as an editor's save would
    _wait(lambda: any("code changed" in line for line in cloud.lines))
    after = _tick(cloud, "reload-e2e-after")

    # Every environment of the old code is gone: the new code runs in a new process.
    assert after != before


def _large_push(size: int) -> bytes:
    commit = {"id": "0" * 40, "message": "m" * 900}
    each = len(json.dumps(commit)) + 2
    commits = [dict(commit, id=f"{n:040x}") for n in range((size - 100) // each)]
    body = json.dumps({"ref": "refs/heads/main", "commits": commits}).encode()
    return body + b" " * (size - len(body))


@pytest.mark.parametrize("size", [1_000_000, 4_000_000])
def test_a_large_signed_github_delivery_is_processed_whole_through_the_payload_bucket(cloud, size):
    from functions.webhooks.schemes import GitHub
    from infra.local.demo_secrets import DEMO_SECRETS

    body = _large_push(size)
    headers = GitHub().sign(
        body, DEMO_SECRETS["github"], delivery_id=f"local-big-{size}", event_type="payload_check"
    )
    request = urllib.request.Request(  # noqa: S310 - the local cloud on 127.0.0.1
        f"{cloud.webhook_url}github", data=body, method="POST", headers=headers
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        status, answer = response.status, json.loads(response.read())

    assert status == 202
    item = _wait(
        lambda: (a := _action(cloud, answer["action_id"])).get("status") == "complete" and a
    )
    assert "args" not in item
    key = item["args_ref"]["key"]["S"]
    assert key.startswith("d100/")
    canonical = json.dumps(
        json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    assert item["log"][-1]["M"]["message"]["S"] == f"payload {digest}"
    bucket = cloud.deployment.outputs["PayloadBucketName"]
    assert boto3.client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"] >= size * 0.9


ROOT = Path(__file__).resolve().parents[2]


def _included(text: str, language: str) -> list[str]:
    """The files a page's ``language`` snippets include (pymdownx.snippets), as shown."""
    blocks = re.findall(rf"```{language}\n(.*?)```", text, re.DOTALL)
    paths = [path for block in blocks for path in re.findall(r'^--8<-- "([^":]+)"', block, re.M)]
    return [(ROOT / path).read_text() for path in paths]


def test_use_it_from_your_project_runs_as_written(cloud, tmp_path):
    """The docs' page (docs/guides/your-project.md), command by command: this checkout
    installed with pip into a virtualenv of its own, ACTION_SCHEDULER_STACK the one
    setting, the local cloud's exports as `make run` prints them, and the action run by
    the cloud's worker."""
    import shutil
    import subprocess
    import sys

    section = (ROOT / "docs" / "guides" / "your-project.md").read_text().split("\n## ")[0]
    [commands] = _included(section, "bash")
    [program] = _included(section, "python")
    (tmp_path / program.splitlines()[0].removeprefix("# ")).write_text(program)
    checkout = tmp_path / "action-scheduler-aws"
    root = ROOT
    for name in ("functions", "infra"):
        shutil.copytree(root / name, checkout / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(root / name, checkout / name)
    venv = tmp_path / "app-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
    # The local cloud's exports (this process has them); nothing of a test's or a stack's.
    left_out = {"JOB_QUEUES", "ACTIONS_TABLE_NAME", "ACTION_HOOK_MODULES", "PYTHONPATH"}
    environment = {k: v for k, v in os.environ.items() if k not in left_out}
    environment["PATH"] = f"{venv / 'bin'}{os.pathsep}{environment['PATH']}"

    ran = subprocess.run(  # noqa: S603 - bash running the docs' commands
        [
            "/bin/bash",
            "-euo",
            "pipefail",
            "-c",
            commands.replace("/path/to/action-scheduler-aws", str(checkout)),
        ],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert ran.returncode == 0, ran.stderr[-3000:]
    action_id = ran.stdout.strip().splitlines()[-1]
    item = _wait(lambda: (a := _action(cloud, action_id)).get("status") == "complete" and a)
    assert item["hook"] == "send_email"
