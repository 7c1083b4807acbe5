"""The actions API in the template: IAM-authorized routes, their throttles, the function's
role, and the managed policy that grants exactly these routes."""

from __future__ import annotations

import pytest

from infra.constructs.actions_api import ROUTES

HANDLER = "functions.handlers.actions_api.lambda_handler"
EXPECTED_ROUTES = {
    ("POST", "/actions"),
    ("GET", "/actions"),
    ("GET", "/actions/{action_id}"),
    ("DELETE", "/actions/{action_id}"),
    ("POST", "/actions/{action_id}/run"),
    ("GET", "/hooks"),
}


def _of_type(resources: dict, kind: str) -> dict:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def _function_name(resources: dict) -> str:
    [name] = [
        n
        for n, r in _of_type(resources, "AWS::Lambda::Function").items()
        if r["Properties"]["Handler"] == HANDLER
    ]
    return name


def _path_of(resources: dict, resource_id: dict) -> str:
    """A method's resource path, from the chain of AWS::ApiGateway::Resource parents."""
    parts = []
    while "Ref" in resource_id:
        resource = resources[resource_id["Ref"]]["Properties"]
        parts.append(resource["PathPart"])
        resource_id = resource["ParentId"]
    return "/" + "/".join(reversed(parts))


def _methods(resources: dict) -> dict[tuple[str, str], dict]:
    return {
        (m["Properties"]["HttpMethod"], _path_of(resources, m["Properties"]["ResourceId"])): m[
            "Properties"
        ]
        for m in _of_type(resources, "AWS::ApiGateway::Method").values()
    }


def test_the_routes_are_on_the_stacks_api_iam_authorized_and_proxied_to_the_function(resources):
    methods = _methods(resources)
    function = _function_name(resources)
    [api] = _of_type(resources, "AWS::ApiGateway::RestApi")

    assert {(r.method, r.path) for r in ROUTES} == EXPECTED_ROUTES
    for route in EXPECTED_ROUTES:
        method = methods[route]
        assert method["AuthorizationType"] == "AWS_IAM", route
        assert method["RestApiId"] == {"Ref": api}, route
        integration = method["Integration"]
        assert integration["Type"] == "AWS_PROXY", route
        assert function in str(integration["Uri"]), route
    # Nothing else reaches the function, and every other route stays as it was.
    proxied = {key for key, m in methods.items() if function in str(m.get("Integration"))}
    assert proxied == EXPECTED_ROUTES
    others = {key: m["AuthorizationType"] for key, m in methods.items() if key not in proxied}
    assert others == {
        ("POST", "/webhooks/{source}"): "NONE",
        ("GET", "/health"): "NONE",
        # The console (tests/infra/test_console.py): its page, and its API behind Cognito.
        ("GET", "/console"): "NONE",
        ("GET", "/console/{file+}"): "NONE",
        ("GET", "/console/api/{proxy+}"): "COGNITO_USER_POOLS",
        ("POST", "/console/api/{proxy+}"): "COGNITO_USER_POOLS",
    }


def _policy(resources: dict) -> dict:
    [policy] = _of_type(resources, "AWS::IAM::ManagedPolicy").values()
    return policy["Properties"]


def _arn_path(arn: dict) -> tuple[str, str]:
    """(method, path) of an execute-api ARN as the template joins it."""
    parts = arn["Fn::Join"][1]
    assert parts[:3] == ["arn:", {"Ref": "AWS::Partition"}, ":execute-api:"]
    assert parts[3:7] == [{"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}, ":"]
    tail = parts[-1]
    assert tail.startswith("/"), tail
    method, _, path = tail[1:].partition("/")
    return method, "/" + path


def test_the_managed_policy_grants_exactly_the_routes_and_no_wildcard_action(resources):
    [statement] = _policy(resources)["PolicyDocument"]["Statement"]
    [api] = _of_type(resources, "AWS::ApiGateway::RestApi")
    [stage] = _of_type(resources, "AWS::ApiGateway::Stage")

    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "execute-api:Invoke"
    granted = set()
    for arn in statement["Resource"]:
        parts = arn["Fn::Join"][1]
        # This API, this stage: not another API of the account, not another stage.
        assert parts[7:10] == [{"Ref": api}, "/", {"Ref": stage}], parts
        granted.add(_arn_path(arn))
    # A path parameter is the only wildcard: one segment of its own route.
    assert granted == {
        (method, path.replace("{action_id}", "*")) for method, path in EXPECTED_ROUTES
    }
    assert "NotAction" not in statement and "Condition" not in statement


def test_the_stack_outputs_the_policy_and_the_url(synthesized):
    outputs = synthesized[0]["Outputs"]
    [policy] = _of_type(synthesized[0]["Resources"], "AWS::IAM::ManagedPolicy")

    assert outputs["ActionsApiPolicyArn"]["Value"] == {"Ref": policy}
    assert outputs["ActionsApiUrl"]["Value"]["Fn::Join"][1][-1] == "/actions"


def test_the_policy_is_attached_to_nothing_in_the_stack(resources):
    """It is for an application's role, outside the stack; nothing here gets it."""
    assert not {"Roles", "Users", "Groups"} & set(_policy(resources))
    for role in _of_type(resources, "AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"] or all(
            "Ref" not in arn for arn in role["Properties"]["ManagedPolicyArns"]
        )


def test_the_function_may_do_exactly_what_the_api_does(resources):
    role = resources[_function_name(resources)]["Properties"]["Role"]["Fn::GetAtt"][0]
    granted = {
        action
        for policy in _of_type(resources, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
    }
    assert granted == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        # Items of the actions table and the idempotency table; queries of its indexes.
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:Query",
        "dynamodb:BatchGetItem",
        # The job queues (not their dead letters), the schedules, large args.
        "sqs:SendMessage",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "scheduler:CreateSchedule",
        "scheduler:GetSchedule",
        "scheduler:DeleteSchedule",
        "iam:PassRole",
        "s3:PutObject",
    }


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED_ROUTES))
def test_each_route_is_throttled_within_the_stages_limits(resources, method, path):
    [stage] = _of_type(resources, "AWS::ApiGateway::Stage").values()
    settings = stage["Properties"]["MethodSettings"]
    [everything] = [s for s in settings if s["ResourcePath"] == "/*"]
    [route] = [
        s
        for s in settings
        if s["ResourcePath"] == "/" + path.replace("/", "~1") and s["HttpMethod"] == method
    ]

    assert (route["ThrottlingRateLimit"], route["ThrottlingBurstLimit"]) == (50, 100)
    assert route["ThrottlingRateLimit"] <= everything["ThrottlingRateLimit"]
    assert route["ThrottlingBurstLimit"] <= everything["ThrottlingBurstLimit"]
