"""The CDK context as the docs document it, read into DeploymentConfig; the settings
each construct receives instead of reading context itself."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from infra.config import DeploymentConfig
from tests.docs_site import page, section

ROOT = Path(__file__).resolve().parents[2]
# Read by infra/app.py before the stack exists, not a stack setting.
APP_KEYS = {"stackName"}


def _config(**context: object) -> DeploymentConfig:
    node = SimpleNamespace(try_get_context=context.get)
    return DeploymentConfig.from_context(SimpleNamespace(node=node))


def _documented_keys() -> set[str]:
    """The context keys in the first column of the docs' two tables of them: the
    configuration reference (generated from DeploymentConfig when the site is built), and
    the health check's thresholds (written by hand)."""
    configuration = section(page("reference/configuration.md"), "CDK context")
    health = page("operations/health.md").split("Thresholds (CDK context", 1)[1]
    keys: set[str] = set()
    for text in (configuration, health):
        table = text[text.index("\n| key |") :].split("\n\n", 1)[0]
        for row in table.strip().splitlines()[2:]:
            keys.update(re.findall(r"`([a-z][A-Za-z0-9]*)`", row.split("|")[1]))
    return keys


def test_every_setting_is_documented_by_its_context_key():
    keys = set(DeploymentConfig.context_keys().values())
    assert _documented_keys() == keys | APP_KEYS


def test_cdk_json_sets_documented_keys_to_their_defaults():
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    settings = {key: value for key, value in context.items() if not key.startswith("@")}
    assert set(settings) - APP_KEYS <= set(DeploymentConfig.context_keys().values())
    given = {key: value for key, value in settings.items() if key not in APP_KEYS}
    assert _config(**given) == DeploymentConfig()


def test_each_key_reaches_its_setting():
    config = _config(
        webhookMaxBodyBytes="1024",
        alarmApi5xxRatePercent="2.5",  # the one key to_camel would spell otherwise
        healthCacheSeconds=30,
        workerConcurrency='{"low": 4}',
        logSampleRate="0.5",
        alarmEmail="",
        sagaLogExecutionData="true",
    )
    assert config.webhook_max_body_bytes == 1024
    assert config.alarm_api_5xx_rate_percent == 2.5
    assert config.health_cache_seconds == 30
    assert config.worker_concurrency == {"high": 20, "default": 10, "low": 4, "fifo": 5}
    assert config.functions.log_sample_rate == 0.5
    assert config.alarm_email is None
    assert config.saga_log_execution_data is True
    assert _config().saga_log_execution_data is False


def test_a_snake_case_key_is_not_a_context_key():
    assert _config(webhook_max_body_bytes=1024).webhook_max_body_bytes == 4_669_440


@pytest.mark.parametrize(
    "context",
    [
        {"workerConcurrency": '{"low": 1}'},
        {"workerConcurrency": {"urgent": 5}},
        {"logRetentionDays": 2},
        {"logSampleRate": 1.5},
        {"webhookMaxBodyBytes": "big"},
        {"webhookSources": {"GitHub": {"scheme": "github"}}},
        {"webhookSources": {"stripe": {"scheme": "stripe", "dedupe_signed_body": True}}},
        {"webhookSources": {"github": {"scheme": "github", "dedupe_signed_body": "maybe"}}},
        {"healthPastDueSeconds": 30},
    ],
)
def test_invalid_values_fail_synth(context):
    with pytest.raises(ValueError):
        _config(**context)


@pytest.mark.parametrize(
    ("sources", "message"),
    [
        ({"GitHub": {"scheme": "github"}}, "source names must match"),
        (
            {"pay": {"scheme": "stripe", "tolerance_seconds": 7200}},
            "pay.tolerance_seconds: must be at most 3600",
        ),
        (
            {"pay": {"scheme": "stripe", "dedupe_signed_body": True}},
            "pay.dedupe_signed_body: not an option of the stripe scheme",
        ),
        (
            {"gh": {"scheme": "github", "dedupe_signed_body": "maybe"}},
            'gh.dedupe_signed_body: must be true or false, not "maybe"',
        ),
        ({"gh": {"scheme": "github", "secret": ""}}, "gh.secret: must be a secret's name or ARN"),
        (
            {"hook": {"scheme": "svix"}},
            'hook.scheme: must be one of standard, stripe, github, shopify, hmac, not "svix"',
        ),
    ],
)
def test_a_bad_webhook_source_fails_synth_naming_the_source_and_option(sources, message):
    with pytest.raises(ValueError, match=f"webhookSources: {re.escape(message)}"):
        _config(webhookSources=sources)


def test_the_guides_example_of_a_bad_source_is_what_synth_says():
    example = "webhookSources: stripe.tolerance_seconds: must be at most 3600, not 7200"
    assert f"`{example}`" in page("guides/webhooks.md")
    with pytest.raises(ValueError, match=re.escape(example)):
        _config(webhookSources={"stripe": {"scheme": "stripe", "tolerance_seconds": 7200}})


# --- constructs receive their settings --------------------------------------------------


def _worker_alone(config: DeploymentConfig) -> dict:
    """A stack of the worker and what it needs, and nothing of the example saga."""
    from aws_cdk import App, Duration, Stack
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk.assertions import Template

    from infra.constructs.action_store import ActionStore
    from infra.constructs.job_queues import JobQueues
    from infra.constructs.payloads import Payloads
    from infra.constructs.scheduling import Scheduling
    from infra.constructs.worker import Worker

    stack = Stack(App(), "WorkerAlone")
    timeout = Duration.seconds(60)
    queues = JobQueues(stack, "JobQueues", worker_timeout=timeout)
    Worker(
        stack,
        "Worker",
        code=lambda_.Code.from_inline("def lambda_handler(event, context): pass"),
        queues=queues,
        store=ActionStore(stack, "Actions"),
        scheduling=Scheduling(stack, "Scheduling", queues=queues),
        payloads=Payloads(stack, "Payloads"),
        config=config,
        timeout=timeout,
    )
    return Template.from_stack(stack).to_json()["Resources"]


def test_the_worker_stands_without_the_example_saga_and_takes_the_settings_it_is_given():
    config = DeploymentConfig(log_sample_rate=0.25, metrics_namespace="Elsewhere")
    resources = _worker_alone(config)
    [worker] = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Function"]
    env = worker["Properties"]["Environment"]["Variables"]
    assert env["POWERTOOLS_LOGGER_SAMPLE_RATE"] == "0.25"  # no context: given, not read
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Elsewhere"
    assert "ORDER_SAGA_ARN" not in env
    assert not [r for r in resources.values() if r["Type"] == "AWS::StepFunctions::StateMachine"]


def test_the_stack_lets_the_worker_start_the_order_saga(resources):
    [worker] = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Function"
        and r["Properties"]["Handler"] == "functions.handlers.worker.lambda_handler"
    ]
    [(saga, _)] = [
        (name, r)
        for name, r in resources.items()
        if r["Type"] == "AWS::StepFunctions::StateMachine"
    ]
    assert worker["Environment"]["Variables"]["ORDER_SAGA_ARN"] == {"Ref": saga}
    role = worker["Role"]["Fn::GetAtt"][0]
    starts = [
        statement
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"]["Roles"]
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "states:StartExecution"
    ]
    assert starts == [
        {"Action": "states:StartExecution", "Effect": "Allow", "Resource": {"Ref": saga}}
    ]
