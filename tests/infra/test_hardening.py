"""Hardening: both cdk-nag packs, stages, WAF, per-route limits, least privilege."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from infra.app import build_app
from infra.config import PROD_WAF_RATE_LIMIT, DeploymentConfig, exempt_networks


def _of_type(resources: dict, kind: str) -> dict:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


STATEFUL = ("AWS::DynamoDB::Table", "AWS::SQS::Queue")


def test_dev_removes_tables_and_queues_with_the_stack(resources):
    for kind in STATEFUL:
        found = _of_type(resources, kind)
        assert found
        for name, resource in found.items():
            assert resource["DeletionPolicy"] == "Delete", name
            assert resource["UpdateReplacePolicy"] == "Delete", name


def test_prod_retains_tables_queues_and_the_alarm_key(variant):
    for kind in (*STATEFUL, "AWS::KMS::Key"):
        found = _of_type(variant, kind)
        assert found
        for name, resource in found.items():
            assert resource["DeletionPolicy"] == "Retain", name


def test_prod_tables_cannot_be_deleted_and_dev_tables_can(resources, variant):
    prod = _of_type(variant, "AWS::DynamoDB::Table")
    assert prod
    for name, table in prod.items():
        assert table["Properties"]["DeletionProtectionEnabled"] is True, name
    for name, table in _of_type(resources, "AWS::DynamoDB::Table").items():
        assert "DeletionProtectionEnabled" not in table["Properties"], name


def test_api_gateways_account_role_outlives_the_stack(resources):
    """The role is the region's setting for every API: deleting the stack keeps it."""
    (account,) = _of_type(resources, "AWS::ApiGateway::Account").values()
    role_name = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    assert resources[role_name]["DeletionPolicy"] == "Retain"
    assert account["DeletionPolicy"] == "Retain"


def test_the_account_role_can_be_left_to_the_account(variant):
    """apiGatewayCloudWatchRole=false: the stack neither sets nor creates it."""
    assert _of_type(variant, "AWS::ApiGateway::Account") == {}
    for role in _of_type(variant, "AWS::IAM::Role").values():
        assert "AmazonAPIGatewayPushToCloudWatchLogs" not in json.dumps(role)


def test_every_table_has_point_in_time_recovery(resources):
    for name, table in _of_type(resources, "AWS::DynamoDB::Table").items():
        recovery = table["Properties"]["PointInTimeRecoverySpecification"]
        assert recovery["PointInTimeRecoveryEnabled"] is True, name


def test_no_waf_by_default_outside_prod(resources):
    assert not _of_type(resources, "AWS::WAFv2::WebACL")
    assert not _of_type(resources, "AWS::WAFv2::WebACLAssociation")
    assert not _of_type(resources, "AWS::WAFv2::IPSet")


def test_prod_rate_limits_each_ip_on_the_api_stage_by_default(variant):
    [acl_id] = _of_type(variant, "AWS::WAFv2::WebACL")
    acl = variant[acl_id]["Properties"]
    assert acl["Scope"] == "REGIONAL"
    assert acl["DefaultAction"] == {"Allow": {}}
    [rule] = acl["Rules"]
    rate = rule["Statement"]["RateBasedStatement"]
    assert {key: rate[key] for key in ("AggregateKeyType", "Limit", "EvaluationWindowSec")} == {
        "AggregateKeyType": "IP",
        "Limit": PROD_WAF_RATE_LIMIT,
        "EvaluationWindowSec": 300,
    }
    [association] = _of_type(variant, "AWS::WAFv2::WebACLAssociation").values()
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    [stage_id] = _of_type(variant, "AWS::ApiGateway::Stage")
    arn = json.dumps(association["Properties"]["ResourceArn"])
    assert stage_id in arn and "/stages/" in arn


def test_a_blocked_client_gets_429_in_the_receivers_shape(variant):
    [acl] = [r["Properties"] for r in _of_type(variant, "AWS::WAFv2::WebACL").values()]
    [rule] = acl["Rules"]
    response = rule["Action"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 429
    body = acl["CustomResponseBodies"][response["CustomResponseBodyKey"]]
    assert body["ContentType"] == "APPLICATION_JSON"
    assert json.loads(body["Content"])["error"] == "throttled"
    assert set(json.loads(body["Content"])) == {"error", "message"}


def test_the_senders_ranges_are_not_counted_by_the_rate_rule(variant):
    ip_sets = {
        r["Properties"]["IPAddressVersion"]: (name, r["Properties"])
        for name, r in _of_type(variant, "AWS::WAFv2::IPSet").items()
    }
    assert ip_sets["IPV4"][1]["Addresses"] == ["192.30.252.0/22", "140.82.112.0/20"]
    assert ip_sets["IPV6"][1]["Addresses"] == ["2a0a:a440::/29"]
    assert {props["Scope"] for _, props in ip_sets.values()} == {"REGIONAL"}
    [acl] = [r["Properties"] for r in _of_type(variant, "AWS::WAFv2::WebACL").values()]
    [rule] = acl["Rules"]
    scope_down = rule["Statement"]["RateBasedStatement"]["ScopeDownStatement"]
    exempted = scope_down["NotStatement"]["Statement"]["OrStatement"]["Statements"]
    assert sorted(s["IPSetReferenceStatement"]["Arn"]["Fn::GetAtt"][0] for s in exempted) == sorted(
        name for name, _ in ip_sets.values()
    )


def test_the_webhook_route_has_its_own_throttle_within_the_stages(resources):
    [stage] = _of_type(resources, "AWS::ApiGateway::Stage").values()
    settings = stage["Properties"]["MethodSettings"]
    [route] = [s for s in settings if s["ResourcePath"] == "/~1webhooks~1{source}"]
    assert route["HttpMethod"] == "POST"
    assert (route["ThrottlingRateLimit"], route["ThrottlingBurstLimit"]) == (50, 100)
    [everything] = [s for s in settings if s["ResourcePath"] == "/*"]
    assert (everything["ThrottlingRateLimit"], everything["ThrottlingBurstLimit"]) == (100, 200)


def test_the_public_health_route_is_throttled_hard(resources):
    [stage] = _of_type(resources, "AWS::ApiGateway::Stage").values()
    settings = stage["Properties"]["MethodSettings"]
    [health] = [s for s in settings if s["ResourcePath"] == "/~1health"]
    assert health["HttpMethod"] == "GET"
    assert (health["ThrottlingRateLimit"], health["ThrottlingBurstLimit"]) == (5, 10)


def test_the_receiver_is_told_its_request_body_limit(resources):
    # API Gateway has no body limit below 10 MB of its own: the receiver refuses larger
    # bodies with 413 before any work (functions/webhooks/receiver.py).
    [receiver] = [
        r["Properties"]
        for r in _of_type(resources, "AWS::Lambda::Function").values()
        if r["Properties"]["Handler"] == "functions.handlers.webhook.lambda_handler"
    ]
    assert receiver["Environment"]["Variables"]["WEBHOOK_MAX_BODY_BYTES"] == "4669440"


def _actions(statement: dict) -> list[str]:
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else actions


def _iam_statements(resources: dict) -> list[tuple[str, dict]]:
    """Every statement of every identity policy: policies, managed policies, role inlines."""
    statements = []
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for name, policy in _of_type(resources, kind).items():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                statements.append((name, statement))
    for name, role in _of_type(resources, "AWS::IAM::Role").items():
        for inline in role["Properties"].get("Policies", []):
            for statement in inline["PolicyDocument"]["Statement"]:
                statements.append((name, statement))
    return statements


@pytest.mark.parametrize("which", ["resources", "variant", "http_resources"])
def test_no_iam_statement_anywhere_grants_a_wildcard_action(which, request):
    """The default template, the variant's, and the HTTP flavour's (apiFlavour=http)."""
    template = request.getfixturevalue(which)
    statements = _iam_statements(template)
    assert len(statements) > 10
    for name, statement in statements:
        assert "NotAction" not in statement, name
        for action in _actions(statement):
            assert "*" not in action, (name, statement)


def _state_machine_logging(template: dict) -> dict:
    [machine] = _of_type(template, "AWS::StepFunctions::StateMachine").values()
    return machine["Properties"]["LoggingConfiguration"]


def test_sagas_log_without_execution_data_unless_asked(resources, variant):
    """Orders and payments stay out of CloudWatch Logs: only sagaLogExecutionData=true
    (for debugging) logs the states' input and output."""
    default = _state_machine_logging(resources)
    assert default["Level"] == "ALL"
    assert default["IncludeExecutionData"] is False
    assert _state_machine_logging(variant)["IncludeExecutionData"] is True


def test_the_compensation_metric_filter_reads_no_execution_data(resources):
    """The filter matches the Fail state by name, which the log keeps without execution
    data; an error or a cause is execution data, and would leave it blind."""
    [metric_filter] = _of_type(resources, "AWS::Logs::MetricFilter").values()
    pattern = metric_filter["Properties"]["FilterPattern"]
    assert '$.type = "FailStateEntered"' in pattern
    assert '$.details.name = "CompensationFailed"' in pattern
    assert "error" not in pattern and "cause" not in pattern


def test_both_nag_packs_ran_and_left_nothing_open(synthesized):
    _, path = synthesized
    report = json.loads((path.parent / "validation-report.json").read_text())
    assert report["pluginReports"] == []


def test_the_app_fails_synthesis_on_an_unacknowledged_finding_of_either_pack(tmp_path):
    """The real app, with one queue that breaks a rule of each pack: both packs report."""
    from aws_cdk import aws_sqs as sqs

    app, stack = build_app(outdir=str(tmp_path))
    sqs.Queue(stack, "PlainQueue", enforce_ssl=False)

    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        app.synth()
    for rule in ("AwsSolutions-SQS3", "AwsSolutions-SQS4", "Serverless-SQSRedrivePolicy"):
        assert rule in str(failure.value)


# --- configuration ----------------------------------------------------------------------


def _config(**context: object) -> DeploymentConfig:
    node = SimpleNamespace(try_get_context=context.get)
    return DeploymentConfig.from_context(SimpleNamespace(node=node))


def test_defaults():
    config = _config()
    assert config.stage == "dev"
    assert config.alarm_email is None
    assert config.waf_rate_limit == 0
    assert config.waf_exempt_ranges == []
    assert config.alarm_queue_age_seconds == {"high": 300, "default": 900, "low": 3600, "fifo": 900}


def test_context_values_from_the_command_line_are_strings():
    config = _config(
        stage="prod",
        alarmQueueAgeSeconds="600",
        alarmWorkerErrorRatePercent="2.5",
        wafRateLimit="500",
        alarmCircuitOpenSeconds="120",
    )
    assert config.stage == "prod"
    assert set(config.alarm_queue_age_seconds.values()) == {600}
    assert config.alarm_worker_error_rate_percent == 2.5
    assert config.waf_rate_limit == 500
    assert config.alarm_circuit_open_seconds == 120


@pytest.mark.parametrize(
    ("context", "limit"),
    [
        ({"stage": "prod"}, PROD_WAF_RATE_LIMIT),
        ({"stage": "prod", "wafRateLimit": "0"}, 0),
        ({"stage": "prod", "wafRateLimit": "20000"}, 20000),
        ({"stage": "dev"}, 0),
        ({"stage": "dev", "wafRateLimit": "500"}, 500),
    ],
)
def test_the_waf_is_on_by_default_for_prod_only_and_a_given_limit_wins(context, limit):
    assert _config(**context).waf_rate_limit == limit


def test_exempt_ranges_are_split_by_version_in_canonical_form():
    config = _config(wafExemptRanges='["192.30.252.0/22", "2A0A:A440::/29", "203.0.113.9"]')
    assert exempt_networks(config.waf_exempt_ranges) == {
        4: ["192.30.252.0/22", "203.0.113.9/32"],
        6: ["2a0a:a440::/29"],
    }


@pytest.mark.parametrize(
    "context",
    [
        {"stage": "staging"},
        {"alarmEmail": "not-an-address"},
        {"alarmQueueAgeSeconds": '{"urgent": 60}'},
        {"alarmQueueAgeSeconds": "10"},
        {"alarmWorkerErrorRatePercent": "0"},
        {"alarmApi5xxRatePercent": "150"},
        {"alarmCircuitOpenSeconds": "90"},
        {"alarmCircuitOpenSeconds": "60", "circuitCooldownSeconds": "120"},
        {"apiWebhookRateLimit": "500"},
        {"wafRateLimit": "5"},
        {"wafExemptRanges": '["github"]'},
        {"wafExemptRanges": '["192.30.252.1/22"]'},
        {"wafExemptRanges": '["0.0.0.0/0"]'},
        {"wafExemptRanges": '["::/0"]'},
    ],
)
def test_invalid_values_fail_synth(context):
    with pytest.raises(ValueError):
        _config(**context)


# Every action granted on `Resource: *`, each because it supports no resource-level
# permission. The docs' Security page (docs/deploy/security.md) names each one: a new one
# fails here until it is added to both.
RESOURCE_STAR_ACTIONS = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "cloudwatch:GetMetricData",
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


def _resource_star_actions(resources: dict) -> set[str]:
    found = set()
    for _, statement in _iam_statements(resources):
        granted = statement.get("Resource")
        if "*" in (granted if isinstance(granted, list) else [granted]):
            found.update(_actions(statement))
    return found


@pytest.mark.parametrize("which", ["default", "variant"])
def test_resource_star_is_granted_only_for_actions_without_resource_permissions(
    which, resources, variant
):
    assert _resource_star_actions(resources if which == "default" else variant) <= (
        RESOURCE_STAR_ACTIONS
    )
    assert _resource_star_actions(resources) == RESOURCE_STAR_ACTIONS


def test_the_docs_name_every_resource_star_grant():
    from pathlib import Path

    security = (Path(__file__).parents[2] / "docs" / "deploy" / "security.md").read_text()
    missing = {action for action in RESOURCE_STAR_ACTIONS if f"`{action}`" not in security}
    assert not missing
