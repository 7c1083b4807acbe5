"""The console API reference's example answers (docs/reference/console-api.md) are what
the API answers: each comes from a call of the console's handler on moto, in one
scenario at a fixed time, with ids and cursors made readable. The committed files under
docs/examples/reference/console-api/ must equal what this scenario produces now, so a
field added, renamed or dropped fails here until the examples are written again:

    UPDATE_EXAMPLES=1 make test-integration PYTEST_ARGS='-k console_api_examples'
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import time_machine

import functions.hooks  # noqa: F401 - the example hooks registered, as the worker has them
from functions import actions
from tests.conftest import reset_process_state

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples" / "reference" / "console-api"
UPDATE = "UPDATE_EXAMPLES"
NOW = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
# Args this long go to the payload bucket in the scenario, so that one fits on a page.
INLINE_BYTES = 512
LONGEST_STRING = 200  # the list's own abridgement (listing.abridged) is shown whole
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CURSORS = {"cursor", "runs_cursor"}
# A time a ticking call gave (NOW and some milliseconds) shown to the minute, as NOW.
TIMESTAMP = re.compile(r"(\d{4}-\d\d-\d\d[T ]\d\d:\d\d):\d\d(?:\.\d+)?(\+00:00|Z)")


def send_newsletter(args: Any, action: Any) -> str:
    return "sent"


def sync_crm(args: Any, action: Any) -> str:
    raise actions.PermanentError("TimeoutError: the CRM did not answer in 10 s")


def _put_metric(metric: str, value: float, **dimensions: str) -> None:
    """As EMF publishes a value: under ``service`` alone, then with its other dimensions."""
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ActionScheduler")
    for given in ({"service": dimensions["service"]}, dimensions):
        boto3.client("cloudwatch").put_metric_data(
            Namespace=namespace,
            MetricData=[
                {
                    "MetricName": metric,
                    "Value": value,
                    "Unit": "Count",
                    "Timestamp": NOW - timedelta(minutes=2),
                    "Dimensions": [{"Name": k, "Value": v} for k, v in given.items()],
                }
            ],
        )
        if len(dimensions) == 1:
            break


class _AtNow:
    """The console, each call made at ``NOW``. The clock stands still, but for a call
    that walks a dead-letter queue: moto's SQS waits for time to pass, the way SQS does."""

    def __init__(self, console: Any, clock: Any) -> None:
        self.console, self.clock = console, clock

    def as_user(self, username: str, groups: str) -> _AtNow:
        return _AtNow(self.console.as_user(username, groups), self.clock)

    def get(self, path: str, query: str = "", *, ticking: bool = False) -> Any:
        self.clock.move_to(NOW, tick=ticking)
        try:
            return self.console.get(path, query)
        finally:
            self.clock.move_to(NOW, tick=False)

    def post(
        self, path: str, body: Any = None, *, ticking: bool = False, at: datetime = NOW
    ) -> Any:
        self.clock.move_to(at, tick=ticking)
        try:
            return self.console.post(path, body)
        finally:
            self.clock.move_to(NOW, tick=False)


def _scenario(console: _AtNow, jobs: Any, stack: Any) -> dict[str, Any]:
    """Every example: name -> the answer's body (or the request's, for ``*-request``)."""
    later = NOW + timedelta(hours=2)
    newsletter = actions.schedule_single_action(
        later,
        "send_newsletter",
        {"to": "a@example.com", "body": "Hello, this is a long text. " * 8},
        group="newsletter",
    )
    hourly = actions.schedule_recurring_action(
        NOW, 3600, "send_newsletter", {"report": "hourly"}, group="reports"
    )
    actions.schedule_cron_action(
        NOW + timedelta(hours=1), "0 9 * * 1", "purge_sessions", {}, timezone="Europe/Paris"
    )
    large = actions.enqueue_async_action(
        "send_newsletter",
        {"to": "b@example.com", "body": "Quarterly report. " * 40},
        group="reports",
    )
    failed = actions.enqueue_async_action("sync_crm", {"customer": 42}, group="crm")
    actions.enqueue_async_action("sync_crm", {"customer": 43}, group="crm")
    for queue in ("default", "low", "high"):
        jobs.work(queue)
    due = actions.schedule_single_action(
        NOW - timedelta(minutes=10), "send_newsletter", {"to": "c@x.org"}
    )
    machine = stack.resources.console_environment["ORDER_SAGA_ARN"]
    sfn = boto3.client("stepfunctions")
    for name in ("order-41", "order-42"):
        sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps({"input": {}}))
    sfn.stop_execution(
        executionArn=f"{machine.replace(':stateMachine:', ':execution:')}:order-41",
        error="Saga.CompensationFailed",
        cause="the refund failed",
    )
    _put_metric("WebhooksAccepted", 10, service="webhook", source="github")
    _put_metric("WebhooksDuplicated", 1, service="webhook")
    _put_metric("WebhooksRejected", 2, service="webhook", reason="invalid_signature")
    _put_metric("ActionsCompleted", 4, service="worker", hook="send_newsletter", priority="default")

    found: dict[str, Any] = {
        "me": console.get("/me").body,
        "counts": console.get("/counts").body,
        "actions": console.get("/actions", "per_page=2").body,
        "actions-search": console.get("/actions", "search=example.com&per_page=2").body,
        "action": console.get(f"/actions/{failed}").body,
        "action-recurring": console.get(f"/actions/{hourly}").body,
        "action-args": console.get(f"/actions/{large}/args").body,
        "dead-letters": console.get("/dead-letters").body,
    }
    queue = next(q["queue"] for q in found["dead-letters"]["queues"] if q["count"])
    found["dead-letter-messages"] = console.get(f"/dead-letters/{queue}", ticking=True).body
    found["schedules"] = console.get("/schedules").body
    found["webhooks"] = console.get("/webhooks").body
    found["sagas"] = console.get("/sagas").body
    found["health"] = console.get("/health").body
    found["charts"] = console.get("/charts", "hours=1").body

    viewer = console.as_user("victor", "viewers")
    found["forbidden"] = viewer.post(f"/actions/{newsletter}/cancel").body
    found["action-run"] = console.post(f"/actions/{due}/run").body
    found["action-cancel"] = console.post(f"/actions/{newsletter}/cancel").body
    found["not-cancelable"] = console.post(f"/actions/{large}/cancel").body
    found["cancel-many-request"] = {"action_ids": [newsletter, large]}
    found["cancel-many"] = console.post("/actions/cancel", found["cancel-many-request"]).body
    letter = found["dead-letter-messages"]["messages"][0]
    found["redrive-one-request"] = {"message_id": letter["message_id"]}
    found["redrive-filtered-request"] = {"hook": "sync_crm", "reason": letter["reason"]}
    found["redrive-all-request"] = {"all": True}
    found["redrive"] = console.post(
        f"/dead-letters/{queue}/redrive",
        found["redrive-filtered-request"],
        ticking=True,
        at=NOW + timedelta(seconds=20),  # the listing let go of the letters seconds after NOW
    ).body
    return found


def _readable(found: dict[str, Any]) -> dict[str, Any]:
    """Ids (action, message) numbered in order of first appearance, times to the minute,
    cursors cut, long strings abridged: the same scenario then writes the same files."""
    text = json.dumps(found, ensure_ascii=False)
    ids: dict[str, str] = {}
    for uuid in UUID.findall(text):
        ids.setdefault(uuid, f"00000000-0000-4000-8000-{len(ids) + 1:012d}")
    text = UUID.sub(lambda match: ids[match.group(0)], text)
    text = TIMESTAMP.sub(lambda match: f"{match.group(1)}:00{match.group(2)}", text)

    def tidy(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: tidy(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [tidy(item, key) for item in value]
        if key in CURSORS and isinstance(value, str):
            return value[:12] + "..."
        if isinstance(value, str) and len(value) > LONGEST_STRING:
            return f"{value[:60]}... ({len(value)} characters)"
        return value

    return tidy(json.loads(text))


def test_the_console_api_reference_shows_what_the_api_answers(
    console, jobs, stack, register, monkeypatch
):
    register("send_newsletter", send_newsletter, base_delay=0, max_delay=0)
    register("purge_sessions", send_newsletter)
    register("sync_crm", sync_crm, max_attempts=1)
    monkeypatch.setenv("PAYLOAD_INLINE_BYTES", str(INLINE_BYTES))
    reset_process_state()
    with time_machine.travel(NOW, tick=False) as clock:
        examples = _readable(_scenario(_AtNow(console, clock), jobs, stack))
    written = {path.stem: path for path in EXAMPLES.glob("*.json")}
    if os.environ.get(UPDATE):
        EXAMPLES.mkdir(parents=True, exist_ok=True)
        for stale in set(written) - set(examples):
            written[stale].unlink()
        for name, body in examples.items():
            (EXAMPLES / f"{name}.json").write_text(
                json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
        return
    assert set(written) == set(examples), "examples added or gone: " + UPDATE
    stale = [
        name
        for name, body in examples.items()
        if json.loads(written[name].read_text(encoding="utf-8")) != body
    ]
    assert stale == [], (
        f"docs/examples/reference/console-api/ is stale ({stale}): "
        f"{UPDATE}=1 make test-integration PYTEST_ARGS='-k console_api_examples'"
    )
