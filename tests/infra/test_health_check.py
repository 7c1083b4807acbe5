"""The synthesized template's health check: the public route, its function and its reads."""

from __future__ import annotations

import json

import pytest

from infra.config import DeploymentConfig


def _of_type(resources: dict, kind: str) -> dict:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def _health_function(resources: dict) -> tuple[str, dict]:
    [(name, function)] = [
        (name, r)
        for name, r in _of_type(resources, "AWS::Lambda::Function").items()
        if r["Properties"]["Handler"] == "functions.handlers.health.lambda_handler"
    ]
    return name, function["Properties"]


def _statements(resources: dict, role_name: str) -> list[dict]:
    return [
        statement
        for policy in _of_type(resources, "AWS::IAM::Policy").values()
        if {"Ref": role_name} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


def test_get_health_is_a_public_proxy_route_to_the_health_function(resources):
    [health] = [
        name
        for name, r in _of_type(resources, "AWS::ApiGateway::Resource").items()
        if r["Properties"]["PathPart"] == "health"
    ]
    [method] = [
        r["Properties"]
        for r in _of_type(resources, "AWS::ApiGateway::Method").values()
        if r["Properties"]["ResourceId"] == {"Ref": health}
    ]
    function_name, _ = _health_function(resources)
    assert method["HttpMethod"] == "GET"
    assert method["AuthorizationType"] == "NONE"
    assert method["Integration"]["Type"] == "AWS_PROXY"
    assert {"Fn::GetAtt": [function_name, "Arn"]} in method["Integration"]["Uri"]["Fn::Join"][1]


def test_the_health_function_has_its_configuration(resources):
    _, function = _health_function(resources)
    variables = function["Environment"]["Variables"]
    defaults = DeploymentConfig()
    assert variables["HEALTH_STUCK_SECONDS"] == str(defaults.health_stuck_seconds)
    assert variables["HEALTH_PAST_DUE_SECONDS"] == str(defaults.health_past_due_seconds)
    assert variables["HEALTH_MAX_QUEUE_DEPTH"] == str(defaults.health_max_queue_depth)
    assert variables["HEALTH_MAX_DEAD_LETTERS"] == "0"
    assert variables["HEALTH_CACHE_SECONDS"] == str(defaults.health_cache_seconds)
    # The oldest message is judged per queue, as the alarms judge it.
    assert json.loads(variables["HEALTH_MAX_QUEUE_AGE_SECONDS"]) == (
        defaults.alarm_queue_age_seconds
    )
    for name in ("JOB_QUEUES", "ACTIONS_TABLE_NAME", "CIRCUITS_TABLE_NAME"):
        assert name in variables
    assert "HEALTH_DEAD_LETTER_QUEUES" in variables
    assert function["Architectures"] == ["arm64"]
    assert function["TracingConfig"] == {"Mode": "Active"}


def test_the_health_function_may_only_read_and_names_what_it_reads(resources):
    _, function = _health_function(resources)
    role_name = function["Role"]["Fn::GetAtt"][0]
    statements = _statements(resources, role_name)
    granted = {action for statement in statements for action in _actions(statement)}

    assert granted == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "sqs:GetQueueAttributes",
        "dynamodb:Query",
        "dynamodb:Scan",
        "cloudwatch:GetMetricData",
    }
    for statement in statements:
        for action in _actions(statement):
            assert "*" not in action, statement
        if statement["Resource"] == "*":
            # Only the actions AWS offers no resource-level permission for.
            assert set(_actions(statement)) <= {
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "cloudwatch:GetMetricData",
            }, statement
    [query] = [s for s in statements if "dynamodb:Query" in _actions(s)]
    assert query["Resource"]["Fn::Join"][1][-1] == "/index/by_status"
    [scan] = [s for s in statements if "dynamodb:Scan" in _actions(s)]
    assert scan["Resource"]["Fn::GetAtt"][0].startswith("ActionsCircuitsTable")
    [queues] = [s for s in statements if "sqs:GetQueueAttributes" in _actions(s)]
    # Four job queues, their four dead-letter queues, the scheduler's and the saga
    # outcomes' dead-letter queues.
    assert len(queues["Resource"]) == 10


def test_the_stack_outputs_the_health_url_and_settings(synthesized):
    outputs = synthesized[0]["Outputs"]
    assert outputs["HealthUrl"]["Value"]["Fn::Join"][1][-1] == "/health"
    joined = "".join(
        part for part in outputs["HealthSettings"]["Value"]["Fn::Join"][1] if isinstance(part, str)
    )
    assert '"HEALTH_STUCK_SECONDS":"300"' in joined
    assert '"HEALTH_DEAD_LETTER_QUEUES":{"scheduler":' in joined


def test_a_stuck_threshold_a_live_run_could_reach_fails_synth(tmp_path):
    from infra.app import build_app

    with pytest.raises(ValueError, match="healthStuckSeconds must exceed"):
        build_app(outdir=str(tmp_path), context={"healthStuckSeconds": 90})
