"""A process outside the stack, with only ACTION_SCHEDULER_STACK set, on moto: the stack's
outputs give it everything, read once; a stack it cannot read names the setting to fix."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from functions import stack as stack_settings
from functions.actions import enqueue_async_action, schedule_single_action, store, timers
from infra.local.demo_secrets import demo_secret_value
from infra.local.deploy import deploy
from tests.conftest import record_aws_calls, reset_process_state

VARIABLES = [
    *stack_settings.REQUIRED.values(),
    *stack_settings.OPTIONAL.values(),
    "HEALTH_MAX_DEAD_LETTERS",
]


@pytest.fixture
def named(aws, synthesized, monkeypatch):
    """The stack deployed into moto, its outputs published as stack "Jobs", and an
    environment that names it and sets nothing else of it."""
    template, _ = synthesized
    deployment = deploy(template, stack_name="Jobs", secret_values=demo_secret_value)
    boto3.client("cloudformation").create_stack(
        StackName="Jobs",
        TemplateBody=json.dumps(
            {
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {k: {"Value": v} for k, v in deployment.outputs.items() if v},
            }
        ),
    )
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ACTION_SCHEDULER_STACK", "Jobs")
    reset_process_state()
    yield deployment.outputs
    reset_process_state()


def test_an_app_with_only_the_stacks_name_enqueues_and_schedules(named):
    made = record_aws_calls()

    now_id = enqueue_async_action("send_email", {"to": "a@example.com"})
    later_id = schedule_single_action(
        datetime.now(UTC) + timedelta(hours=2), "send_email", {"to": "b@example.com"}
    )

    queues = json.loads(named["JobQueues"])
    [message] = boto3.client("sqs").receive_message(QueueUrl=queues["default"]["url"])["Messages"]
    assert json.loads(message["Body"])["action_id"] == now_id
    assert (store.get(now_id).status, store.get(later_id).status) == ("pending", "pending")
    schedule = timers.get(store.get(later_id).schedule_name)
    assert schedule["GroupName"] == named["ScheduleGroupName"]
    assert schedule["Target"]["RoleArn"] == named["SchedulerRoleArn"]
    # The outputs were read once for the process, not per call.
    assert made.count(("cloudformation", "DescribeStacks")) == 1


def test_the_environments_own_configuration_is_not_mixed_with_the_stacks(named, monkeypatch):
    monkeypatch.setenv("SCHEDULE_GROUP", "another-stacks-group")
    monkeypatch.setenv("PAYLOAD_INLINE_BYTES", "1024")  # not an output: the environment's

    found = stack_settings.environment()

    assert found["SCHEDULE_GROUP"] == named["ScheduleGroupName"]
    assert found["PAYLOAD_INLINE_BYTES"] == "1024"
    # An environment that sets the queues and the table itself asks no stack.
    monkeypatch.setenv("JOB_QUEUES", named["JobQueues"])
    monkeypatch.setenv("ACTIONS_TABLE_NAME", named["ActionsTableName"])
    assert stack_settings.environment()["SCHEDULE_GROUP"] == "another-stacks-group"


def test_a_stack_that_does_not_exist_is_named_with_the_setting_to_fix(named, monkeypatch):
    monkeypatch.setenv("ACTION_SCHEDULER_STACK", "Nope")
    reset_process_state()

    with pytest.raises(stack_settings.StackUnavailable) as refused:
        enqueue_async_action("send_email", {"to": "a@example.com"})

    assert str(refused.value).startswith(
        "cannot read stack 'Nope': Stack with id Nope does not exist in us-east-1: set "
        "ACTION_SCHEDULER_STACK to the name it was deployed under"
    )
    assert "for the local cloud: export AWS_ENDPOINT_URL=http://127.0.0.1:4566" in str(
        refused.value
    )


def test_a_stack_without_the_outputs_is_refused(named, monkeypatch):
    boto3.client("cloudformation").create_stack(
        StackName="Other",
        TemplateBody=json.dumps(
            {
                "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {"Something": {"Value": "else"}},
            }
        ),
    )
    monkeypatch.setenv("ACTION_SCHEDULER_STACK", "Other")
    reset_process_state()

    with pytest.raises(stack_settings.StackUnavailable, match="has no output JobQueues"):
        enqueue_async_action("send_email", {"to": "a@example.com"})
