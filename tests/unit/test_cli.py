"""actionsctl without AWS: arguments, refusals and where the configuration comes from.

Commands that reach SQS and DynamoDB are tested on moto in
tests/integration/test_redrive.py.
"""

from __future__ import annotations

import io
import json

import boto3
import pytest
from botocore.stub import Stubber

from infra.cli import settings
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
    for name in ("JOB_QUEUES", "ACTIONS_TABLE_NAME", "ACTIONS_STACK"):
        monkeypatch.setenv(name, "")


@pytest.fixture
def cloudformation(monkeypatch):
    """A CloudFormation client that answers only what the test stubs; no network."""
    client = boto3.client("cloudformation", region_name="us-east-1")
    stubber = Stubber(client)
    monkeypatch.setattr(settings, "_cloudformation", lambda: client)
    with stubber:
        yield stubber
    stubber.assert_no_pending_responses()


@pytest.fixture
def no_cloudformation(monkeypatch):
    def refuse():
        raise AssertionError("CloudFormation must not be called")

    monkeypatch.setattr(settings, "_cloudformation", refuse)


def _stack(name: str, outputs: dict[str, str]) -> dict:
    return {
        "Stacks": [
            {
                "StackName": name,
                "CreationTime": "2024-01-01T00:00:00Z",
                "StackStatus": "CREATE_COMPLETE",
                "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
            }
        ]
    }


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
    cloudformation.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message="Stack with id ActionScheduler does not exist",
        expected_params={"StackName": "ActionScheduler"},
    )

    assert main(["dlq", "list"]) == 1

    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert line.startswith("actionsctl: error: cannot read stack 'ActionScheduler'")
    assert "does not exist" in line
    assert "JOB_QUEUES and ACTIONS_TABLE_NAME" in line
    assert captured.out == ""


def test_no_credentials_or_no_endpoint_is_a_clear_error_too(unconfigured, monkeypatch, capsys):
    from botocore.exceptions import EndpointConnectionError

    def unreachable():
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

    monkeypatch.setattr(settings, "_cloudformation", unreachable)

    assert main(["action", "get", "a-1", "--stack", "Ops"]) == 1

    err = capsys.readouterr().err
    assert err.startswith("actionsctl: error: cannot read stack 'Ops'")
    assert "127.0.0.1:1" in err


def test_a_stack_without_the_outputs_names_what_is_missing(unconfigured, cloudformation, capsys):
    cloudformation.add_response(
        "describe_stacks",
        _stack("Old", {"ActionsTableName": "t"}),
        expected_params={"StackName": "Old"},
    )

    assert main(["--stack", "Old", "dlq", "list"]) == 1

    assert "stack 'Old' has no output JobQueues" in capsys.readouterr().err


def test_the_stack_outputs_become_the_environment(cloudformation):
    cloudformation.add_response(
        "describe_stacks",
        _stack("Staging", {"JobQueues": json.dumps(QUEUES), "ActionsTableName": "staging-actions"}),
        expected_params={"StackName": "Staging"},
    )
    environ: dict[str, str] = {"ACTIONS_STACK": "Staging"}

    assert settings.configure(None, environ) == "stack Staging"

    assert environ["ACTIONS_TABLE_NAME"] == "staging-actions"
    assert json.loads(environ["JOB_QUEUES"]) == QUEUES


def test_the_environment_wins_over_the_default_stack(no_cloudformation):
    environ = {"JOB_QUEUES": json.dumps(QUEUES), "ACTIONS_TABLE_NAME": "t"}

    assert settings.configure(None, environ) == "environment"


def test_an_explicit_stack_wins_over_the_environment(cloudformation):
    cloudformation.add_response(
        "describe_stacks",
        _stack("Prod", {"JobQueues": json.dumps(QUEUES), "ActionsTableName": "prod-actions"}),
        expected_params={"StackName": "Prod"},
    )
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
