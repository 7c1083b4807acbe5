"""actionsctl health on moto: the verdict as exit code, the report as text or JSON."""

from __future__ import annotations

import json

import boto3
import pytest

from functions.actions import api
from functions.health import checks
from functions.settings import reset as reset_settings
from infra.cli.main import main
from infra.cli.settings import configure

HEALTH_VARIABLES = (
    "HEALTH_MAX_QUEUE_DEPTH",
    "HEALTH_MAX_QUEUE_AGE_SECONDS",
    "HEALTH_MAX_DEAD_LETTERS",
    "HEALTH_STUCK_SECONDS",
    "HEALTH_PAST_DUE_SECONDS",
    "HEALTH_CACHE_SECONDS",
    "HEALTH_DEAD_LETTER_QUEUES",
)


@pytest.fixture
def cli(stack, capsys, monkeypatch):
    # --stack writes the stack's HEALTH_* into os.environ: have each restored afterwards.
    for name in HEALTH_VARIABLES:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    checks.forget()

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_healthy_exits_0_with_a_table(cli):
    code, out, err = cli("health")
    assert (code, err) == (0, "")
    assert out.startswith("HEALTHY (checked ")
    assert "QUEUE" in out and "DEAD LETTERS" in out
    assert "circuits: 0 open, 0 half-open" in out
    assert "actions pending past due: 0" in out


def test_unhealthy_exits_1_with_the_reasons_and_ids_for_the_operator(cli, stack, register):
    register("test_cli_health_hook", lambda args, action: None)
    boto3.client("sqs").send_message(
        QueueUrl=stack.resources.queues["high"].dead_letter_url, MessageBody="{}"
    )
    code, out, _ = cli("health")
    assert code == 1
    assert out.startswith("UNHEALTHY")
    assert "  - dead-letter queue high: 1 message" in out


def test_json_is_the_endpoints_report_with_samples(cli, register, monkeypatch):
    register("test_cli_health_late", lambda args, action: None)
    action_id = api.enqueue_async_action("test_cli_health_late", {"secret": "s3cr3t"})
    monkeypatch.setenv("HEALTH_PAST_DUE_SECONDS", "0")
    reset_settings()

    code, out, _ = cli("health", "--json")

    assert code == 1
    body = json.loads(out)
    assert body["status"] == "unhealthy"
    [sample] = body["actions"]["past_due_pending"]["sample"]
    assert (sample["action_id"], sample["hook"]) == (action_id, "test_cli_health_late")
    assert "s3cr3t" not in out


def _outputs_stack(name: str, outputs: dict[str, str]) -> None:
    boto3.client("cloudformation").create_stack(
        StackName=name,
        TemplateBody=json.dumps(
            {
                "Resources": {"Marker": {"Type": "AWS::SQS::Queue"}},
                "Outputs": {key: {"Value": value} for key, value in outputs.items()},
            }
        ),
    )


def test_the_stacks_health_settings_replace_the_environments(stack):
    env = stack.resources.environment
    required = {"JobQueues": env["JOB_QUEUES"], "ActionsTableName": env["ACTIONS_TABLE_NAME"]}
    health = {"HEALTH_STUCK_SECONDS": "300", "HEALTH_DEAD_LETTER_QUEUES": {"scheduler": "u"}}
    _outputs_stack("Healthy", {**required, "HealthSettings": json.dumps(health)})
    _outputs_stack("Older", required)  # deployed before the health check had settings
    environ = {"HEALTH_STUCK_SECONDS": "999", "HEALTH_PAST_DUE_SECONDS": "5", "OTHER": "x"}

    configure("Healthy", environ)

    assert {k: v for k, v in environ.items() if k.startswith("HEALTH_") or k == "OTHER"} == {
        "HEALTH_STUCK_SECONDS": "300",
        "HEALTH_DEAD_LETTER_QUEUES": '{"scheduler": "u"}',
        "OTHER": "x",
    }
    configure("Older", environ)
    assert not [name for name in environ if name.startswith("HEALTH_")]
    assert environ["OTHER"] == "x"


def test_with_stack_it_judges_by_the_stacks_thresholds(cli, stack, monkeypatch):
    resources = stack.resources
    env = resources.environment
    settings = {
        "HEALTH_MAX_DEAD_LETTERS": "1",
        "HEALTH_DEAD_LETTER_QUEUES": {"scheduler": resources.scheduler_dead_letter_url},
    }
    template = {
        "Resources": {"Marker": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {
            "JobQueues": {"Value": env["JOB_QUEUES"]},
            "ActionsTableName": {"Value": env["ACTIONS_TABLE_NAME"]},
            "CircuitsTableName": {"Value": env["CIRCUITS_TABLE_NAME"]},
            "HealthSettings": {"Value": json.dumps(settings)},
        },
    }
    boto3.client("cloudformation").create_stack(
        StackName="HealthTest", TemplateBody=json.dumps(template)
    )
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=resources.scheduler_dead_letter_url, MessageBody="{}")

    # One dead letter is within the stack's threshold of one...
    assert cli("health", "--stack", "HealthTest")[0] == 0
    # ...two are not; the scheduler's queue came from the stack too.
    sqs.send_message(QueueUrl=resources.scheduler_dead_letter_url, MessageBody="{}")
    code, out, _ = cli("health", "--stack", "HealthTest")
    assert code == 1
    assert "dead-letter queue scheduler: 2 messages" in out
