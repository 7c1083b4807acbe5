"""actionsctl without AWS: arguments, refusals and where the configuration comes from.

Commands that reach SQS and DynamoDB are tested on moto in
tests/integration/test_redrive.py.
"""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, datetime

import boto3
import pytest

from infra.cli import arguments, settings
from infra.cli.errors import CliError
from infra.cli.main import main

QUEUES = {
    name: {
        "url": f"https://sqs.us-east-1.amazonaws.com/1/{name}",
        "arn": f"arn:aws:sqs:us-east-1:1:{name}",
        "dead_letter_url": f"https://sqs.us-east-1.amazonaws.com/1/{name}-dlq",
        "dead_letter_arn": f"arn:aws:sqs:us-east-1:1:{name}-dlq",
    }
    for name in ("high", "default", "low")
}


@pytest.fixture
def unconfigured(monkeypatch):
    """No configuration in the environment (restored afterwards, as configure writes it)."""
    for name in ("JOB_QUEUES", "ACTIONS_TABLE_NAME", "ACTION_SCHEDULER_STACK", "AWS_ENDPOINT_URL"):
        monkeypatch.setenv(name, "")


@pytest.fixture
def cloudformation(aws):
    """Moto's CloudFormation, holding the stacks a test creates with ``_stack``."""
    return boto3.client("cloudformation")


@pytest.fixture
def no_cloudformation(aws):
    """The test must not read a stack: every DescribeStacks the CLI makes is recorded."""
    from tests.conftest import record_aws_calls

    made = record_aws_calls()
    yield
    assert ("cloudformation", "DescribeStacks") not in made


def _stack(name: str, outputs: dict[str, str]) -> None:
    """A stack on moto with these outputs (and one resource, as CloudFormation wants)."""
    boto3.client("cloudformation").create_stack(
        StackName=name,
        TemplateBody=json.dumps(
            {
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {key: {"Value": value} for key, value in outputs.items()},
            }
        ),
    )


def test_a_full_redrive_without_yes_and_without_a_terminal_is_refused(
    unconfigured, no_cloudformation, monkeypatch, capsys
):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    assert main(["dlq", "redrive", "--queue", "high"]) == 2

    captured = capsys.readouterr()
    assert "refusing to redrive every dead letter of the high queue" in captured.err
    assert "--yes" in captured.err
    assert captured.out == ""


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_full_redrive_on_a_terminal_asks_and_no_means_nothing_moves(
    unconfigured, no_cloudformation, monkeypatch, capsys
):
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))

    assert main(["dlq", "redrive"]) == 1

    assert "nothing moved" in capsys.readouterr().out


def test_missing_configuration_is_a_clear_one_line_error(unconfigured, cloudformation, capsys):
    assert main(["dlq", "list"]) == 1

    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert line.startswith("actionsctl: error: cannot read stack 'ActionScheduler'")
    assert "does not exist in us-east-1" in line
    # It names the settings that fix it: the stack's name, or the local cloud's endpoint.
    assert "pass --stack NAME, or set ACTION_SCHEDULER_STACK" in line
    assert "AWS_ENDPOINT_URL=http://127.0.0.1:4566" in line
    assert captured.out == ""


@pytest.fixture
def nothing_listening():
    """A loopback port with nothing behind it: connections are refused at once."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_local_cloud_that_is_not_running_is_named_with_its_setting(
    unconfigured, nothing_listening, monkeypatch, capsys
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", nothing_listening)
    from functions.clients import reset_clients

    reset_clients()

    assert main(["action", "get", "a-1", "--stack", "Ops"]) == 1

    err = capsys.readouterr().err
    assert err == (
        f"actionsctl: error: cannot read stack 'Ops': nothing answers at {nothing_listening} "
        "(AWS_ENDPOINT_URL): start the local cloud (make run), or unset AWS_ENDPOINT_URL to "
        "use AWS\n"
    )
    reset_clients()


def test_no_region_names_the_setting(unconfigured, monkeypatch, tmp_path, capsys):
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))  # no region there either
    from functions.clients import reset_clients

    reset_clients()  # the client is made without a region: nothing is sent

    assert main(["actions", "list"]) == 1

    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(
        "actionsctl: error: cannot read stack 'ActionScheduler': no AWS region: set "
        "AWS_DEFAULT_REGION (for the local cloud: export AWS_ENDPOINT_URL=http://127.0.0.1:4566"
    )
    reset_clients()


def test_no_credentials_names_the_settings():
    from botocore.exceptions import NoCredentialsError

    from functions.stack import unreachable

    assert unreachable(NoCredentialsError()) == (
        "no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
        "(for the local cloud: export AWS_ENDPOINT_URL=http://127.0.0.1:4566 "
        "AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local)"
    )


def test_a_stack_without_the_outputs_names_what_is_missing(unconfigured, cloudformation, capsys):
    _stack("Old", {"ActionsTableName": "t"})

    assert main(["--stack", "Old", "dlq", "list"]) == 1

    assert "stack 'Old' has no output JobQueues" in capsys.readouterr().err


def test_the_stack_outputs_become_the_environment(cloudformation):
    _stack("Staging", {"JobQueues": json.dumps(QUEUES), "ActionsTableName": "staging-actions"})
    environ: dict[str, str] = {"ACTION_SCHEDULER_STACK": "Staging"}

    assert settings.configure(None, environ) == "stack Staging"

    assert environ["ACTIONS_TABLE_NAME"] == "staging-actions"
    assert json.loads(environ["JOB_QUEUES"]) == QUEUES


def test_the_environment_wins_over_the_default_stack(no_cloudformation):
    environ = {"JOB_QUEUES": json.dumps(QUEUES), "ACTIONS_TABLE_NAME": "t"}

    assert settings.configure(None, environ) == "environment"


def test_an_explicit_stack_wins_over_the_environment(cloudformation):
    _stack("Prod", {"JobQueues": json.dumps(QUEUES), "ActionsTableName": "prod-actions"})
    environ = {"JOB_QUEUES": json.dumps({}), "ACTIONS_TABLE_NAME": "local-actions"}

    settings.configure("Prod", environ)

    assert environ["ACTIONS_TABLE_NAME"] == "prod-actions"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "is not JSON"),
        (json.dumps({"default": {"url": "u"}}), "must map queue names"),
        (json.dumps(["default"]), "must map queue names"),
    ],
)
def test_a_malformed_job_queues_is_refused_clearly(no_cloudformation, raw, message):
    with pytest.raises(CliError, match=message):
        settings.configure(None, {"JOB_QUEUES": raw, "ACTIONS_TABLE_NAME": "t"})


@pytest.mark.parametrize(
    "argv",
    [
        ["dlq", "list", "--queue", "urgent"],
        ["dlq", "list", "--limit", "0"],
        ["dlq", "redrive", "--rate", "0", "--yes"],
        ["dlq"],
        ["action", "get"],
        ["action", "cancel"],
        ["action", "run"],
        ["actions"],
        ["actions", "list", "--status", "stuck"],
        ["actions", "list", "--from", "2030-01-01T00:00:00"],
        ["actions", "list", "--args", "{"],
        ["actions", "counts", "--status", "pending"],
        ["schedule", "now"],
        ["schedule", "now", "h", "--args", "nope"],
        ["schedule", "now", "h", "--priority", "urgent"],
        ["schedule", "at", "2030-01-01T09:00:00", "h"],
        ["schedule", "at", "tomorrow", "h"],
        ["schedule", "at", "2030-01-01T09:00:00Z"],
        ["schedule", "every", "an-hour", "h"],
        ["schedule", "every", "3600", "h", "--start", "2030-01-01"],
        ["schedule", "cron", "0 3 * * *"],
        ["saga", "list", "--status", "sleeping"],
        ["saga", "list", "--limit", "0"],
        ["saga", "get"],
        [],
    ],
)
def test_bad_arguments_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)

    assert exited.value.code == 2
    assert "usage: actionsctl" in capsys.readouterr().err


def test_stack_is_accepted_before_and_after_the_subcommand():
    from infra.cli.main import build_parser

    parser = build_parser()
    assert parser.parse_args(["--stack", "A", "dlq", "list"]).stack == "A"
    assert parser.parse_args(["dlq", "list", "--stack", "B"]).stack == "B"
    assert parser.parse_args(["--stack", "A", "action", "get", "x"]).stack == "A"
    assert parser.parse_args(["dlq", "list"]).stack is None
    assert parser.parse_args(["actions", "counts", "--stack", "C"]).stack == "C"
    assert parser.parse_args(["schedule", "now", "h", "--stack", "D"]).stack == "D"
    assert parser.parse_args(["action", "cancel", "x", "--stack", "E"]).stack == "E"
    assert parser.parse_args(["saga", "list", "--stack", "F"]).stack == "F"
    assert parser.parse_args(["--stack", "G", "saga", "get", "order-1"]).stack == "G"


def test_schedule_takes_the_time_before_the_hook():
    from infra.cli.main import build_parser

    args = build_parser().parse_args(
        ["schedule", "at", "2030-01-31T10:00:00+01:00", "send_mail", "--args", '{"to": 1}']
    )

    assert (args.time, args.hook, args.args) == (
        datetime(2030, 1, 31, 9, tzinfo=UTC),
        "send_mail",
        {"to": 1},
    )
    assert (args.group, args.priority, args.unique) == ("", None, False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2030-01-31T09:00:00Z", datetime(2030, 1, 31, 9, tzinfo=UTC)),
        ("2030-01-31T09:00:00+00:00", datetime(2030, 1, 31, 9, tzinfo=UTC)),
        ("2030-01-31T11:30:00+02:30", datetime(2030, 1, 31, 9, tzinfo=UTC)),
        ("2030-01-31 04:00:00-05:00", datetime(2030, 1, 31, 9, tzinfo=UTC)),
        ("1896080400", datetime(2030, 1, 31, 9, tzinfo=UTC)),
        ("1896080400.5", datetime(2030, 1, 31, 9, 0, 0, 500000, tzinfo=UTC)),
        (" 1896080400 ", datetime(2030, 1, 31, 9, tzinfo=UTC)),
    ],
)
def test_times_are_iso_with_an_offset_or_epoch_seconds(text, expected):
    value = arguments.moment(text)

    assert value == expected
    assert value.tzinfo == UTC


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2030-01-31T09:00:00", "no UTC offset"),
        ("2030-01-31", "no UTC offset"),
        ("tomorrow", "is not a time"),
        ("", "is not a time"),
        ("nan", "not a usable epoch time"),
        ("1e300", "not a usable epoch time"),
    ],
)
def test_a_time_without_an_offset_or_unreadable_is_refused(text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        arguments.moment(text)


SCHEDULER = {
    "ScheduleGroupName": "prod-schedules",
    "SchedulerRoleArn": "arn:aws:iam::1:role/prod-scheduler",
    "SchedulerDeadLetterArn": "arn:aws:sqs:us-east-1:1:prod-scheduler-dlq",
}


def test_the_scheduler_and_circuit_outputs_become_the_environment_too(cloudformation):
    _stack(
        "Prod",
        {
            "JobQueues": json.dumps(QUEUES),
            "ActionsTableName": "prod-actions",
            "CircuitsTableName": "prod-circuits",
            "OrderSagaArn": "arn:aws:states:us-east-1:1:stateMachine:Orders",
            **SCHEDULER,
        },
    )
    environ: dict[str, str] = {}

    source = settings.configure("Prod", environ)

    assert {name: environ[name] for name in sorted(environ) if name != "JOB_QUEUES"} == {
        "ACTIONS_TABLE_NAME": "prod-actions",
        "CIRCUITS_TABLE_NAME": "prod-circuits",
        "ORDER_SAGA_ARN": "arn:aws:states:us-east-1:1:stateMachine:Orders",
        "SCHEDULER_DEAD_LETTER_ARN": "arn:aws:sqs:us-east-1:1:prod-scheduler-dlq",
        "SCHEDULER_ROLE_ARN": "arn:aws:iam::1:role/prod-scheduler",
        "SCHEDULE_GROUP": "prod-schedules",
    }
    settings.require_scheduler(source, environ)  # all there: no error


def test_outputs_a_stack_lacks_are_not_taken_from_elsewhere(cloudformation):
    _stack("Old", {"JobQueues": json.dumps(QUEUES), "ActionsTableName": "old-actions"})
    environ = {
        "SCHEDULE_GROUP": "local-schedules",
        "SCHEDULER_ROLE_ARN": "arn:aws:iam::1:role/local",
        "SCHEDULER_DEAD_LETTER_ARN": "arn:aws:sqs:us-east-1:1:local-dlq",
        "CIRCUITS_TABLE_NAME": "local-circuits",
        "OTHER": "kept",
    }

    source = settings.configure("Old", environ)

    assert environ["ACTIONS_TABLE_NAME"] == "old-actions"
    for name in ("SCHEDULE_GROUP", "SCHEDULER_ROLE_ARN", "SCHEDULER_DEAD_LETTER_ARN"):
        assert name not in environ
    assert "CIRCUITS_TABLE_NAME" not in environ
    assert environ["OTHER"] == "kept"
    with pytest.raises(CliError) as refused:
        settings.require_scheduler(source, environ)
    assert str(refused.value) == (
        "stack 'Old' has no output ScheduleGroupName, SchedulerRoleArn, SchedulerDeadLetterArn, "
        "which EventBridge schedules need (deploy the stack again)"
    )


def test_the_environment_gives_the_scheduler_configuration_as_it_is(no_cloudformation):
    environ = {
        "JOB_QUEUES": json.dumps(QUEUES),
        "ACTIONS_TABLE_NAME": "t",
        "SCHEDULE_GROUP": "local-schedules",
        "SCHEDULER_ROLE_ARN": "arn:aws:iam::1:role/local",
        "SCHEDULER_DEAD_LETTER_ARN": "arn:aws:sqs:us-east-1:1:local-dlq",
    }

    source = settings.configure(None, environ)

    assert environ["SCHEDULE_GROUP"] == "local-schedules"
    settings.require_scheduler(source, environ)
    del environ["SCHEDULER_ROLE_ARN"]
    environ["SCHEDULE_GROUP"] = ""
    with pytest.raises(CliError) as refused:
        settings.require_scheduler(source, environ)
    assert str(refused.value) == (
        "the environment has no SCHEDULE_GROUP, SCHEDULER_ROLE_ARN, which EventBridge "
        "schedules need (set them, or pass --stack NAME)"
    )


def test_scheduling_later_without_the_scheduler_configuration_is_a_one_line_error(
    monkeypatch, no_cloudformation, capsys
):
    monkeypatch.setenv("JOB_QUEUES", json.dumps(QUEUES))
    monkeypatch.setenv("ACTIONS_TABLE_NAME", "t")
    for name in ("SCHEDULE_GROUP", "SCHEDULER_ROLE_ARN", "SCHEDULER_DEAD_LETTER_ARN"):
        monkeypatch.delenv(name, raising=False)

    assert main(["schedule", "cron", "0 3 * * *", "send_mail"]) == 1

    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert line.startswith("actionsctl: error: the environment has no SCHEDULE_GROUP")
    assert captured.out == ""


def test_local_up_runs_the_local_cloud_with_its_functions_logs_shown():
    from infra.cli.main import build_parser

    args = build_parser().parse_args(["local", "up", "--api-port", "8001", "--aws-port", "4567"])

    assert (args.api_port, args.aws_port) == (8001, 4567)
    assert args.quiet_functions is False
    assert args.handler.__module__ == "infra.cli.local"


def test_saga_commands_without_the_saga_configured_are_a_one_line_error(
    no_cloudformation, monkeypatch, capsys
):
    monkeypatch.setenv("JOB_QUEUES", json.dumps(QUEUES))
    monkeypatch.setenv("ACTIONS_TABLE_NAME", "actions")
    monkeypatch.setenv("ORDER_SAGA_ARN", "")

    assert main(["saga", "list"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        "actionsctl: error: the environment has no ORDER_SAGA_ARN, the order saga's state "
        "machine (set it, or pass --stack NAME)"
    )
