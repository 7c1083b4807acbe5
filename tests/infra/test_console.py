"""The console in the template: the user pool (no self sign-up, two groups, a PKCE client
for the console URL, the managed login domain), the page's public routes, the API's
routes behind the Cognito authorizer, the API function's reads and writes, the outputs."""

from __future__ import annotations

import json

from infra.constructs.console import API_METHODS

API_HANDLER = "functions.handlers.console.lambda_handler"
PAGE_HANDLER = "functions.handlers.console_page.lambda_handler"


def _of_type(resources: dict, kind: str) -> dict:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def _path_of(resources: dict, resource_id: dict) -> str:
    parts = []
    while "Ref" in resource_id:
        resource = resources[resource_id["Ref"]]["Properties"]
        parts.append(resource["PathPart"])
        resource_id = resource["ParentId"]
    return "/" + "/".join(reversed(parts))


def _function(resources: dict, handler: str) -> tuple[str, dict]:
    [(name, found)] = [
        (n, r)
        for n, r in _of_type(resources, "AWS::Lambda::Function").items()
        if r["Properties"]["Handler"] == handler
    ]
    return name, found["Properties"]


def test_the_user_pool_has_no_self_sign_up_and_a_strong_password_policy(resources):
    [pool] = _of_type(resources, "AWS::Cognito::UserPool").values()
    props = pool["Properties"]
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    policy = props["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(
        policy[k]
        for k in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols")
    )
    groups = {
        g["Properties"]["GroupName"]
        for g in _of_type(resources, "AWS::Cognito::UserPoolGroup").values()
    }
    assert groups == {"viewers", "operators"}


def test_the_client_is_a_public_pkce_client_whose_callback_is_the_console_url(resources):
    [client] = _of_type(resources, "AWS::Cognito::UserPoolClient").values()
    props = client["Properties"]
    assert props.get("GenerateSecret") in (False, None)
    assert props["AllowedOAuthFlows"] == ["code"]
    assert props["AllowedOAuthFlowsUserPoolClient"] is True
    assert set(props["AllowedOAuthScopes"]) == {"openid", "email", "profile"}
    [callback] = props["CallbackURLs"]
    assert json.dumps(callback).endswith('"/v1/console/"]]}')
    assert props["PreventUserExistenceErrors"] == "ENABLED"
    [domain] = _of_type(resources, "AWS::Cognito::UserPoolDomain").values()
    assert "Domain" in domain["Properties"]


def test_the_console_url_and_pool_are_stack_outputs(synthesized):
    template, _ = synthesized
    outputs = template["Outputs"]
    assert {"ConsoleUrl", "ConsoleUserPoolId", "ConsoleClientId"} <= set(outputs)
    [client] = _of_type(template["Resources"], "AWS::Cognito::UserPoolClient").values()
    assert outputs["ConsoleUrl"]["Value"] == client["Properties"]["CallbackURLs"][0]


def test_the_api_routes_require_a_cognito_token_and_the_page_routes_do_not(resources):
    [authorizer_id] = _of_type(resources, "AWS::ApiGateway::Authorizer")
    authorizer = resources[authorizer_id]["Properties"]
    assert authorizer["Type"] == "COGNITO_USER_POOLS"
    [pool] = _of_type(resources, "AWS::Cognito::UserPool")
    assert authorizer["ProviderARNs"] == [{"Fn::GetAtt": [pool, "Arn"]}]
    api_function, _ = _function(resources, API_HANDLER)
    page_function, _ = _function(resources, PAGE_HANDLER)
    methods = {
        (m["Properties"]["HttpMethod"], _path_of(resources, m["Properties"]["ResourceId"])): m[
            "Properties"
        ]
        for m in _of_type(resources, "AWS::ApiGateway::Method").values()
        if _path_of(resources, m["Properties"]["ResourceId"]).startswith("/console")
    }
    api = {(method, "/console/api/{proxy+}") for method in API_METHODS}
    page = {("GET", "/console"), ("GET", "/console/{file+}")}
    assert set(methods) == api | page
    for key in api:
        assert methods[key]["AuthorizationType"] == "COGNITO_USER_POOLS", key
        assert methods[key]["AuthorizerId"] == {"Ref": authorizer_id}, key
        assert api_function in json.dumps(methods[key]["Integration"]), key
    for key in page:
        assert methods[key]["AuthorizationType"] == "NONE", key
        assert page_function in json.dumps(methods[key]["Integration"]), key


def test_the_page_function_has_no_aws_permissions_beyond_its_logs_and_traces(resources):
    _, props = _function(resources, PAGE_HANDLER)
    role = props["Role"]["Fn::GetAtt"][0]
    granted = {
        action
        for policy in _of_type(resources, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
    }
    assert granted <= {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
    config = json.dumps(props["Environment"]["Variables"]["CONSOLE_CONFIG"])
    assert "user_pool_id" in config and "client_id" in config and "login_base_url" in config
    assert props["Layers"], "the page's files are a layer"


def test_the_api_function_may_read_and_redrive_dead_letters_but_not_send_to_them(resources):
    _, props = _function(resources, API_HANDLER)
    role = props["Role"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in _of_type(resources, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = {
        action
        for statement in statements
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
    }
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} <= actions
    assert {"dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:UpdateItem"} <= actions
    assert {
        "states:ListExecutions",
        "states:DescribeExecution",
        "cloudwatch:GetMetricData",
    } <= actions
    assert "s3:PutObject" not in actions and "dynamodb:Scan" in actions
    # The health report's reads: every queue the health check counts, the extra ones too.
    [health] = [
        r["Properties"]
        for r in _of_type(resources, "AWS::Lambda::Function").values()
        if r["Properties"]["Handler"] == "functions.handlers.health.lambda_handler"
    ]
    health_role = health["Role"]["Fn::GetAtt"][0]
    counted = [
        statement["Resource"]
        for policy in _of_type(resources, "AWS::IAM::Policy").values()
        if {"Ref": health_role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "sqs:GetQueueAttributes"
    ]
    ours = [s["Resource"] for s in statements if s["Action"] == "sqs:GetQueueAttributes"]
    assert sorted(map(json.dumps, counted[0])) == sorted(map(json.dumps, ours[0]))
    receive = [s for s in statements if "sqs:ReceiveMessage" in json.dumps(s["Action"])]
    assert all(
        "DeadLetter" in json.dumps(s["Resource"]) or "Dlq" in json.dumps(s["Resource"])
        for s in receive
    )
    variables = props["Environment"]["Variables"]
    assert {
        "JOB_QUEUES",
        "ACTIONS_TABLE_NAME",
        "ORDER_SAGA_ARN",
        "CONSOLE_LOG_GROUPS",
    } <= set(variables)
    # The sources grow with use: the screen reads their schemes from the functions' asset.
    assert "CONSOLE_WEBHOOK_SOURCES" not in variables


def test_the_console_routes_have_their_own_throttle(resources):
    [stage] = _of_type(resources, "AWS::ApiGateway::Stage").values()
    paths = {
        s["ResourcePath"]: s
        for s in stage["Properties"]["MethodSettings"]
        if "console" in s["ResourcePath"]
    }
    assert "/~1console~1api~1{proxy+}" in paths
    assert all(s["ThrottlingRateLimit"] <= 20 for s in paths.values())
