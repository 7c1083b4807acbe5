"""Dead letters on moto: inspect them, redrive them with fresh attempts, and the CLI for both."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from functions.actions import InvalidAction, enqueue_async_action, redrive
from functions.actions.envelope import Envelope
from functions.actions.exceptions import PermanentError, TransientError
from infra.cli.main import main


class Switch:
    """A hook that fails with ``error`` while it is set, and records every call."""

    def __init__(self, error: BaseException) -> None:
        self.error: BaseException | None = error
        self.calls: list[tuple[object, int]] = []

    def __call__(self, args, action) -> None:
        self.calls.append((args, action.attempt))
        if self.error is not None:
            raise self.error


@pytest.fixture(autouse=True)
def _short_polls(monkeypatch):
    # moto waits out a long poll on an empty queue; its answers are complete anyway.
    monkeypatch.setattr(redrive, "RECEIVE_WAIT_SECONDS", 0)


@pytest.fixture
def failed(jobs, register):
    """Three actions on the default queue's dead letters: two mails, one SMS."""
    mail = register("test_mail", Switch(PermanentError("mailbox full")), max_attempts=1)
    sms = register(
        "test_sms", Switch(TransientError("gateway timeout")), max_attempts=2, base_delay=0
    )
    ids = {
        "mail_eu": enqueue_async_action("test_mail", {"to": "a"}, group="eu"),
        "mail_us": enqueue_async_action("test_mail", {"to": "b"}, group="us"),
        "sms_eu": enqueue_async_action("test_sms", {"to": "c"}, group="eu"),
    }
    jobs.work()
    assert all(jobs.action(i).status == "failed" for i in ids.values())
    return mail, sms, ids


def _on_queue(jobs, queue: str = "default") -> list[dict]:
    """The job queue's messages, left visible for the worker.

    One receive only: each receive counts towards the queue's maxReceiveCount.
    """
    return jobs.sqs.receive_message(
        QueueUrl=jobs.queue(queue).url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,
        MessageSystemAttributeNames=["All"],
    ).get("Messages", [])


def _events(item: dict) -> list[str]:
    return [entry.event for entry in item.log]


def _still_dead(jobs, queue: str = "default") -> list[str]:
    return sorted(letter.action_id or letter.body for letter in redrive.inspect(queue))


# --- inspect -----------------------------------------------------------------------------


def test_inspect_lists_the_dead_letters_and_leaves_them_there(jobs, failed):
    _, _, ids = failed

    letters = {letter.action_id: letter for letter in redrive.inspect("default")}

    assert set(letters) == set(ids.values())
    mail = letters[ids["mail_eu"]]
    assert (mail.hook, mail.group, mail.args) == ("test_mail", "eu", {"to": "a"})
    assert (mail.error, mail.reason, mail.attempts) == (
        "PermanentError: mailbox full",
        "permanent",
        1,
    )
    assert mail.source_queue == "default"
    assert not mail.malformed
    assert abs(mail.sent_at - datetime.now(UTC)) < timedelta(minutes=1)
    sms = letters[ids["sms_eu"]]
    assert (sms.error, sms.reason, sms.attempts) == (
        "TransientError: gateway timeout",
        "exhausted",
        2,
    )
    # Looking does not take: a second look sees the same, and so does the worker's view.
    assert {letter.action_id for letter in redrive.inspect("default")} == set(ids.values())
    assert len(jobs.dead_letters()) == 3


def test_inspect_filters_by_hook_group_and_error_and_stops_at_the_limit(jobs, failed):
    _, _, ids = failed

    def found(**filters) -> set[str]:
        return {letter.action_id for letter in redrive.inspect("default", **filters)}

    assert found(hook="test_mail") == {ids["mail_eu"], ids["mail_us"]}
    assert found(group="eu") == {ids["mail_eu"], ids["sms_eu"]}
    assert found(error="TIMEOUT") == {ids["sms_eu"]}
    assert found(hook="test_mail", group="us") == {ids["mail_us"]}
    assert found(hook="nobody") == set()
    assert len(redrive.inspect("default", limit=2)) == 2
    assert len(redrive.inspect("default")) == 3


def test_inspect_shows_malformed_and_policy_moved_letters(jobs):
    jobs.sqs.send_message(QueueUrl=jobs.queue().url, MessageBody="not json at all")
    jobs.work()  # the worker dead-letters it with its reason
    now = datetime.now(UTC)
    crashed = Envelope(action_id="c-1", hook="test_x", scheduled_for=now, enqueued_at=now)
    # SQS's redrive policy moves a message as it was: no attributes, no error.
    jobs.sqs.send_message(QueueUrl=jobs.queue().dead_letter_url, MessageBody=crashed.to_message())

    letters = {letter.reason: letter for letter in redrive.inspect("default")}

    assert letters["malformed"].malformed
    assert letters["malformed"].body == "not json at all"
    assert letters["max_receive_count"].action_id == "c-1"
    assert letters["max_receive_count"].hook == "test_x"
    assert not letters["max_receive_count"].malformed


def test_inspect_shows_a_body_too_deep_to_parse_as_malformed(jobs):
    body = "[" * 5000 + "]" * 5000
    jobs.sqs.send_message(QueueUrl=jobs.queue().dead_letter_url, MessageBody=body)

    [letter] = redrive.inspect("default")

    assert letter.malformed
    assert letter.body == body


# --- redrive -----------------------------------------------------------------------------


def test_redrive_by_hook_moves_only_those_with_fresh_attempts(jobs, failed):
    mail, sms, ids = failed

    result = redrive.redrive("default", hook="test_mail")

    assert (result.moved, result.skipped, result.failed) == (2, 0, 0)
    bodies = {json.loads(m["Body"])["action_id"]: json.loads(m["Body"]) for m in _on_queue(jobs)}
    assert set(bodies) == {ids["mail_eu"], ids["mail_us"]}
    for body in bodies.values():
        assert body["attempt"] == 1
        assert "error" not in body
        assert abs(datetime.fromisoformat(body["scheduled_for"]) - datetime.now(UTC)) < timedelta(
            seconds=30
        )
    assert bodies[ids["mail_eu"]]["group"] == "eu"
    item = jobs.action(ids["mail_eu"])
    assert (item.status, item.attempts) == ("pending", 0)
    assert _events(item)[-1] == "redriven"
    assert "default dead-letter queue" in item.log[-1].message
    assert "mailbox full" in item.log[-1].message
    assert _still_dead(jobs) == [ids["sms_eu"]]

    mail.error = None
    jobs.work()

    assert sorted(mail.calls[-2:], key=str) == [({"to": "a"}, 1), ({"to": "b"}, 1)]
    for action_id in (ids["mail_eu"], ids["mail_us"]):
        item = jobs.action(action_id)
        assert item.status == "complete"
        assert _events(item)[-3:] == ["redriven", "started", "completed"]
    assert jobs.action(ids["sms_eu"]).status == "failed"
    assert len(sms.calls) == 2


def test_an_exhausted_action_starts_again_at_attempt_one(jobs, failed):
    _, sms, ids = failed
    assert [attempt for _, attempt in sms.calls] == [1, 2]

    assert redrive.redrive("default", hook="test_sms").moved == 1
    sms.error = None
    jobs.work()

    assert [attempt for _, attempt in sms.calls] == [1, 2, 1]
    item = jobs.action(ids["sms_eu"])
    assert (item.status, item.attempts) == ("complete", 1)


def test_redrive_by_group(jobs, failed):
    _, _, ids = failed

    result = redrive.redrive("default", group="eu")

    assert result.moved == 2
    moved = {json.loads(m["Body"])["action_id"] for m in _on_queue(jobs)}
    assert moved == {ids["mail_eu"], ids["sms_eu"]}
    assert _still_dead(jobs) == [ids["mail_us"]]
    assert jobs.action(ids["mail_us"]).status == "failed"


def test_redrive_by_error_substring(jobs, failed):
    _, sms, ids = failed

    result = redrive.redrive("default", error="Gateway")

    assert result.moved == 1
    assert [json.loads(m["Body"])["action_id"] for m in _on_queue(jobs)] == [ids["sms_eu"]]
    assert _still_dead(jobs) == sorted([ids["mail_eu"], ids["mail_us"]])
    sms.error = None
    jobs.work()
    assert jobs.action(ids["sms_eu"]).status == "complete"


def test_a_malformed_dead_letter_is_skipped_and_stays(jobs, failed):
    _, _, ids = failed
    jobs.sqs.send_message(QueueUrl=jobs.queue().dead_letter_url, MessageBody='{"v": 1}')

    result = redrive.redrive("default")

    assert (result.moved, result.skipped, result.failed) == (3, 1, 0)
    assert "not an envelope" in result.problems[0]
    [left] = redrive.inspect("default")
    assert left.malformed
    assert left.body == '{"v": 1}'
    assert {json.loads(m["Body"])["action_id"] for m in _on_queue(jobs)} == set(ids.values())


def test_the_limit_bounds_how_many_move(jobs, failed):
    result = redrive.redrive("default", limit=2)

    assert result.moved == 2
    assert len(_on_queue(jobs)) == 2
    assert len(redrive.inspect("default")) == 1


def test_a_dead_letter_of_a_completed_action_is_not_run_again(jobs, failed):
    _, _, ids = failed
    boto3.client("dynamodb").update_item(
        TableName=jobs.resources.actions_table,
        Key={"action_id": {"S": ids["mail_us"]}},
        UpdateExpression="SET #s = :c",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":c": {"S": "complete"}},
    )

    result = redrive.redrive("default", hook="test_mail")

    assert (result.moved, result.skipped) == (1, 1)
    assert "already complete" in result.problems[0]
    assert jobs.action(ids["mail_us"]).status == "complete"
    assert ids["mail_us"] in _still_dead(jobs)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_rate_spaces_the_sends(jobs, failed):
    clock = FakeClock()

    result = redrive.redrive("default", rate_per_second=2, clock=clock, sleep=clock.sleep)

    assert result.moved == 3
    assert clock.sleeps == [pytest.approx(0.5), pytest.approx(0.5)]


def test_sends_that_are_already_slow_enough_do_not_wait(jobs, failed, monkeypatch):
    clock = FakeClock()
    real_send = redrive.queues.send

    def slow_send(*args, **kwargs):
        clock.now += 1.0  # each send takes longer than the interval
        return real_send(*args, **kwargs)

    monkeypatch.setattr(redrive.queues, "send", slow_send)
    result = redrive.redrive("default", rate_per_second=2, clock=clock, sleep=clock.sleep)

    assert result.moved == 3
    assert clock.sleeps == []


def test_without_a_rate_nothing_sleeps(jobs, failed):
    def no_sleep(seconds: float) -> None:
        raise AssertionError(f"slept {seconds}")

    assert redrive.redrive("default", sleep=no_sleep).moved == 3


def test_a_failed_send_leaves_the_dead_letter_in_place(jobs, failed):
    _, _, ids = failed
    jobs.sqs.delete_queue(QueueUrl=jobs.queue().url)

    result = redrive.redrive("default")

    assert (result.moved, result.failed) == (0, 3)
    assert all("left in place" in problem for problem in result.problems)
    assert _still_dead(jobs) == sorted(ids.values())


def test_a_native_redrive_falls_back_to_one_by_one_where_sqs_cannot_move(jobs, failed):
    _, _, ids = failed

    result = redrive.redrive("default", native=True)

    assert result.task_handle is None
    assert result.moved == 3
    assert all(json.loads(m["Body"])["attempt"] == 1 for m in _on_queue(jobs))
    assert all(jobs.action(i).status == "pending" for i in ids.values())


def test_a_native_redrive_starts_the_sqs_move_task(jobs, monkeypatch):
    calls = []

    class Sqs:
        def start_message_move_task(self, **params):
            calls.append(params)
            return {"TaskHandle": "task-1"}

    monkeypatch.setattr(redrive, "_sqs", Sqs)

    result = redrive.redrive("default", native=True, rate_per_second=5)

    assert result.task_handle == "task-1"
    assert result.moved == 0
    assert calls == [
        {
            "SourceArn": jobs.queue().dead_letter_arn,
            "DestinationArn": jobs.queue().arn,
            "MaxNumberOfMessagesPerSecond": 5,
        }
    ]


@pytest.mark.parametrize("filters", [{"hook": "test_mail"}, {"group": "eu"}, {"limit": 1}])
def test_a_native_redrive_takes_no_filter(jobs, filters):
    with pytest.raises(InvalidAction, match="native"):
        redrive.redrive("default", native=True, **filters)


def test_redrive_refuses_nonsense(jobs):
    with pytest.raises(InvalidAction, match="no job queue"):
        redrive.redrive("nowhere")
    with pytest.raises(InvalidAction, match="rate"):
        redrive.redrive("default", rate_per_second=0)


def test_an_ordered_action_redrives_into_its_fifo_group(jobs, register):
    hook = register(
        "test_ordered", Switch(PermanentError("out of stock")), ordered=True, max_attempts=1
    )
    action_id = enqueue_async_action("test_ordered", {"sku": 1}, group="order-9")
    jobs.work("fifo")
    [letter] = redrive.inspect("fifo")
    assert (letter.group, letter.error) == ("order-9", "PermanentError: out of stock")

    result = redrive.redrive("fifo", group="order-9")

    assert result.moved == 1
    [message] = _on_queue(jobs, "fifo")
    assert message["Attributes"]["MessageGroupId"] == "order-9"
    # Not the first attempt's deduplication id: SQS would drop it within five minutes.
    assert message["Attributes"]["MessageDeduplicationId"] != f"{action_id}:1"
    hook.error = None
    jobs.work("fifo")
    assert hook.calls[-1] == ({"sku": 1}, 1)
    assert jobs.action(action_id).status == "complete"
    assert redrive.inspect("fifo") == []


# --- the CLI -----------------------------------------------------------------------------


def test_cli_dlq_list_shows_hook_and_error(jobs, failed, capsys):
    _, _, ids = failed

    assert main(["dlq", "list"]) == 0

    out = capsys.readouterr().out
    assert "test_mail" in out
    assert "PermanentError: mailbox full" in out
    assert ids["sms_eu"] in out
    assert "3 dead letters on the default queue" in out


def test_cli_dlq_list_json_and_filters(jobs, failed, capsys):
    _, _, ids = failed

    assert main(["dlq", "list", "--hook", "test_sms", "--json"]) == 0

    [line] = capsys.readouterr().out.splitlines()
    letter = json.loads(line)
    assert (letter["action_id"], letter["error"]) == (
        ids["sms_eu"],
        "TransientError: gateway timeout",
    )
    assert letter["args"] == {"to": "c"}


def test_cli_dlq_list_says_when_there_is_nothing(jobs, capsys):
    assert main(["dlq", "list", "--queue", "high"]) == 0
    assert "no dead letters on the high queue" in capsys.readouterr().out


def test_cli_redrive_by_hook_moves_them(jobs, failed, capsys):
    _, _, ids = failed

    assert main(["dlq", "redrive", "--hook", "test_mail", "--yes"]) == 0

    assert "moved 2, skipped 0, failed 0" in capsys.readouterr().out
    assert _still_dead(jobs) == [ids["sms_eu"]]
    assert jobs.action(ids["mail_eu"]).status == "pending"


def test_cli_full_redrive_without_yes_and_without_a_terminal_refuses(
    jobs, failed, capsys, monkeypatch
):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    assert main(["dlq", "redrive"]) == 2

    assert "--yes" in capsys.readouterr().err
    assert len(redrive.inspect("default")) == 3


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_cli_full_redrive_asks_on_a_terminal(jobs, failed, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    assert main(["dlq", "redrive"]) == 1
    assert len(redrive.inspect("default")) == 3

    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    assert main(["dlq", "redrive"]) == 0
    assert "moved 3" in capsys.readouterr().out
    assert redrive.inspect("default") == []


def test_cli_redrive_reports_failures_with_a_non_zero_exit(jobs, failed, capsys):
    jobs.sqs.delete_queue(QueueUrl=jobs.queue().url)

    assert main(["dlq", "redrive", "--yes"]) == 1

    out = capsys.readouterr().out
    assert "moved 0, skipped 0, failed 3" in out
    assert "left in place" in out


def test_cli_action_get_shows_status_attempts_error_and_log(jobs, failed, capsys):
    _, _, ids = failed

    assert main(["action", "get", ids["sms_eu"]]) == 0

    out = capsys.readouterr().out
    assert "failed" in out
    assert "2 of 2" in out
    assert "TransientError: gateway timeout" in out
    assert "dead-lettered" in out

    assert main(["action", "get", ids["sms_eu"], "--json"]) == 0
    item = json.loads(capsys.readouterr().out)
    assert (item["status"], item["attempts"]) == ("failed", 2)


def test_cli_unknown_action_is_a_one_line_error(jobs, capsys):
    assert main(["action", "get", "nope"]) == 1

    captured = capsys.readouterr()
    assert captured.err.strip() == "actionsctl: error: no action 'nope' in the actions table"
    assert captured.out == ""


def test_cli_a_queue_missing_from_the_configuration_is_a_one_line_error(jobs, capsys, monkeypatch):
    queues = json.loads(jobs.resources.environment["JOB_QUEUES"])
    del queues["fifo"]
    monkeypatch.setenv("JOB_QUEUES", json.dumps(queues))

    assert main(["dlq", "list", "--queue", "fifo"]) == 1

    err = capsys.readouterr().err
    assert "no job queue named 'fifo'" in err
    assert len(err.strip().splitlines()) == 1


def test_cli_an_aws_error_is_a_one_line_error(jobs, capsys):
    jobs.sqs.delete_queue(QueueUrl=jobs.queue().dead_letter_url)

    assert main(["dlq", "list"]) == 1

    err = capsys.readouterr().err
    assert err.startswith("actionsctl: error: AWS refused ReceiveMessage")
    assert "Traceback" not in err


def test_cli_reads_the_configuration_from_the_stack_outputs(jobs, failed, capsys, monkeypatch):
    _, _, ids = failed
    env = jobs.resources.environment
    boto3.client("cloudformation").create_stack(
        StackName="Ops",
        TemplateBody=json.dumps(
            {
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {
                    "JobQueues": {"Value": env["JOB_QUEUES"]},
                    "ActionsTableName": {"Value": env["ACTIONS_TABLE_NAME"]},
                },
            }
        ),
    )
    monkeypatch.setenv("JOB_QUEUES", "")
    monkeypatch.setenv("ACTIONS_TABLE_NAME", "")
    monkeypatch.setenv("ACTION_SCHEDULER_STACK", "Ops")

    assert main(["action", "get", ids["mail_us"]]) == 0
    assert "test_mail" in capsys.readouterr().out

    monkeypatch.setenv("JOB_QUEUES", "")
    monkeypatch.delenv("ACTION_SCHEDULER_STACK")
    assert main(["dlq", "list", "--stack", "Ops"]) == 0
    assert "3 dead letters" in capsys.readouterr().out

    monkeypatch.setenv("JOB_QUEUES", "")
    assert main(["dlq", "list"]) == 1  # the default stack, ActionScheduler, does not exist
    assert "'ActionScheduler'" in capsys.readouterr().err


def test_the_default_redrive_never_asks_sqs_to_move_messages_as_they_are(jobs, failed, monkeypatch):
    real = redrive._sqs()
    asked = []

    class Spy:
        def __getattr__(self, name):
            if name == "start_message_move_task":
                asked.append(name)
            return getattr(real, name)

    monkeypatch.setattr(redrive, "_sqs", Spy)

    assert redrive.redrive("default").moved == 3
    assert asked == []


# --- redrive races: only actions that are not running are reset ---------------------------


def _set_running(jobs, action_id: str, claim_expires_in: float) -> None:
    """Put the action in progress under a claim, as a worker running it would."""
    boto3.client("dynamodb").update_item(
        TableName=jobs.resources.actions_table,
        Key={"action_id": {"S": action_id}},
        UpdateExpression="SET #s = :r, claim_expires_at = :e",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":r": {"S": "in-progress"},
            ":e": {"N": str(datetime.now(UTC).timestamp() + claim_expires_in)},
        },
    )


def test_an_action_running_under_a_live_claim_is_not_reset(jobs, failed):
    """A redrive while a run is going must not start a second, concurrent run."""
    _, _, ids = failed
    _set_running(jobs, ids["mail_us"], claim_expires_in=300)
    before = jobs.action(ids["mail_us"])

    result = redrive.redrive("default", hook="test_mail")

    assert (result.moved, result.skipped) == (1, 1)
    assert "in-progress under a live claim" in result.problems[0]
    after = jobs.action(ids["mail_us"])
    assert (after.status, after.attempts, after.log) == ("in-progress", before.attempts, before.log)
    assert ids["mail_us"] in _still_dead(jobs)
    assert [json.loads(m["Body"])["action_id"] for m in _on_queue(jobs)] == [ids["mail_eu"]]


def test_an_action_whose_claim_expired_is_reset(jobs, failed):
    """Its worker died: nothing is running it, so the redrive starts it again."""
    _, _, ids = failed
    _set_running(jobs, ids["mail_us"], claim_expires_in=-1)

    result = redrive.redrive("default", hook="test_mail")

    assert (result.moved, result.skipped) == (2, 0)
    after = jobs.action(ids["mail_us"])
    assert (after.status, after.attempts, _events(after)[-1]) == ("pending", 0, "redriven")


def test_a_dead_letter_whose_action_is_gone_is_skipped_and_nothing_is_written(jobs, failed):
    """An action past its retention has no item: a redrive must not write half of one."""
    _, _, ids = failed
    boto3.client("dynamodb").delete_item(
        TableName=jobs.resources.actions_table, Key={"action_id": {"S": ids["mail_us"]}}
    )

    result = redrive.redrive("default", hook="test_mail")

    assert (result.moved, result.skipped) == (1, 1)
    assert "no longer in the actions table" in result.problems[0]
    assert jobs.action(ids["mail_us"]) is None
    assert ids["mail_us"] in _still_dead(jobs)
