"""The API flavour (context ``apiFlavour``): the REST API by default, an HTTP API on
request, with the same routes, guards, throttles, outputs and alarms, cdk-nag clean.

The HTTP template is synthesized once per session (``http_synthesized``).
Why: docs/decisions/0069-the-api-flavour-is-a-setting.md
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from infra.app import build_app
from infra.config import DeploymentConfig
from infra.constructs.actions_api import ROUTES

# Every route of the stack and who may call it, by flavour's name for it.
ROUTE_AUTH = {
    "POST /webhooks/{source}": "NONE",
    "GET /health": "NONE",
    "GET /console": "NONE",
    "GET /console/{file+}": "NONE",
    "GET /console/api/{proxy+}": "JWT",
    "POST /console/api/{proxy+}": "JWT",
    **{f"{route.method} {route.path}": "AWS_IAM" for route in ROUTES},
}
HANDLERS = {
    "POST /webhooks/{source}": "functions.handlers.webhook.lambda_handler",
    "GET /health": "functions.handlers.health.lambda_handler",
    "GET /console": "functions.handlers.console_page.lambda_handler",
    "GET /console/{file+}": "functions.handlers.console_page.lambda_handler",
    "GET /console/api/{proxy+}": "functions.handlers.console.lambda_handler",
    "POST /console/api/{proxy+}": "functions.handlers.console.lambda_handler",
    **{f"{r.method} {r.path}": "functions.handlers.actions_api.lambda_handler" for r in ROUTES},
}
THROTTLES = {
    "POST /webhooks/{source}": (50, 100),
    "GET /health": (5, 10),
    "GET /console": (20, 40),
    "GET /console/{file+}": (20, 40),
    "GET /console/api/{proxy+}": (20, 40),
    "POST /console/api/{proxy+}": (20, 40),
    **{f"{route.method} {route.path}": (50, 100) for route in ROUTES},
}


def _config(**context: object) -> DeploymentConfig:
    node = SimpleNamespace(try_get_context=context.get)
    return DeploymentConfig.from_context(SimpleNamespace(node=node))


def _of_type(resources: dict, kind: str) -> dict:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def _one(resources: dict, kind: str) -> tuple[str, dict]:
    [(name, resource)] = _of_type(resources, kind).items()
    return name, resource["Properties"]


# --- the setting ---------------------------------------------------------------------


def test_the_default_is_the_rest_api_and_http_is_the_option():
    assert _config().api_flavour == "rest"
    assert _config(apiFlavour="http").api_flavour == "http"


def test_another_flavour_is_refused_naming_the_two():
    with pytest.raises(ValueError, match=r"apiFlavour must be one of \('rest', 'http'\)"):
        _config(apiFlavour="websocket")


@pytest.mark.parametrize("waf", [{"wafRateLimit": "3000"}, {"wafExemptRanges": '["192.0.2.0/24"]'}])
def test_a_waf_setting_with_the_http_flavour_fails_synth_saying_waf_needs_rest(tmp_path, waf):
    with pytest.raises(ValueError, match="apiFlavour=rest"):
        build_app(outdir=str(tmp_path), context={"apiFlavour": "http", **waf})


def test_prod_on_the_http_flavour_has_no_waf_by_default():
    assert _config(stage="prod", apiFlavour="http").waf_rate_limit == 0
    assert _config(stage="prod").waf_rate_limit > 0


def test_the_rest_template_has_no_http_api(resources):
    assert not [r for r in resources.values() if r["Type"].startswith("AWS::ApiGatewayV2::")]
    assert _of_type(resources, "AWS::ApiGateway::RestApi")


# --- the HTTP API's template ---------------------------------------------------------


def _routes(resources: dict) -> dict[str, dict]:
    return {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in _of_type(resources, "AWS::ApiGatewayV2::Route").values()
    }


def test_the_http_flavour_has_an_http_api_and_nothing_of_the_rest_apis(http_resources):
    assert not [r for r in http_resources.values() if r["Type"].startswith("AWS::ApiGateway::")]
    _, api = _one(http_resources, "AWS::ApiGatewayV2::Api")
    assert api["ProtocolType"] == "HTTP"
    assert not _of_type(http_resources, "AWS::WAFv2::WebACL")


def test_every_route_is_there_with_its_guard(http_resources):
    routes = _routes(http_resources)

    assert {key: route["AuthorizationType"] for key, route in routes.items()} == ROUTE_AUTH
    [authorizer] = _of_type(http_resources, "AWS::ApiGatewayV2::Authorizer")
    for key, route in routes.items():
        assert ("AuthorizerId" in route) == (ROUTE_AUTH[key] == "JWT"), key
        if "AuthorizerId" in route:
            assert route["AuthorizerId"] == {"Ref": authorizer}


def test_each_route_proxies_to_its_function_with_the_rest_shaped_payload(http_resources):
    functions = {
        name: r["Properties"]["Handler"]
        for name, r in _of_type(http_resources, "AWS::Lambda::Function").items()
    }
    integrations = _of_type(http_resources, "AWS::ApiGatewayV2::Integration")
    for key, route in _routes(http_resources).items():
        [reference] = [p["Ref"] for p in route["Target"]["Fn::Join"][1] if isinstance(p, dict)]
        integration = integrations[reference]["Properties"]
        assert integration["IntegrationType"] == "AWS_PROXY", key
        # 1.0: path, resource, multiValueHeaders, requestContext.identity and
        # authorizer.claims, as the handlers parse them on the REST API.
        assert integration["PayloadFormatVersion"] == "1.0", key
        [function] = [integration["IntegrationUri"]["Fn::GetAtt"][0]]
        assert functions[function] == HANDLERS[key], key


def test_the_console_api_takes_the_user_pools_tokens_for_the_pages_client(http_resources):
    _, authorizer = _one(http_resources, "AWS::ApiGatewayV2::Authorizer")
    pool, _ = _one(http_resources, "AWS::Cognito::UserPool")
    client, _ = _one(http_resources, "AWS::Cognito::UserPoolClient")

    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    assert authorizer["JwtConfiguration"]["Audience"] == [{"Ref": client}]
    issuer = json.dumps(authorizer["JwtConfiguration"]["Issuer"])
    assert "https://cognito-idp." in issuer and json.dumps({"Ref": pool}) in issuer


def test_the_default_stage_is_throttled_per_route_logged_and_measured(http_resources):
    name, stage = _one(http_resources, "AWS::ApiGatewayV2::Stage")

    assert (stage["StageName"], stage["AutoDeploy"]) == ("$default", True)
    assert stage["DefaultRouteSettings"] == {
        "DetailedMetricsEnabled": True,  # the webhook route's alarm reads its own metrics
        "ThrottlingBurstLimit": 200,
        "ThrottlingRateLimit": 100,
    }
    settings = {
        key: (value["ThrottlingRateLimit"], value["ThrottlingBurstLimit"])
        for key, value in stage["RouteSettings"].items()
    }
    assert settings == THROTTLES
    # Route settings must name routes that exist when the stage is made.
    routes = {n for n, r in _of_type(http_resources, "AWS::ApiGatewayV2::Route").items()}
    assert routes <= set(http_resources[name]["DependsOn"])
    access_log = json.loads(stage["AccessLogSettings"]["Format"])
    assert access_log["requestId"] == "$context.requestId"
    assert access_log["routeKey"] == "$context.routeKey"
    assert access_log["status"] == "$context.status"


def test_the_outputs_are_the_same_urls_without_the_stage(http_synthesized):
    outputs = http_synthesized[0]["Outputs"]
    [api] = _of_type(http_synthesized[0]["Resources"], "AWS::ApiGatewayV2::Api")
    endpoint = {"Fn::GetAtt": [api, "ApiEndpoint"]}
    for output, path in (
        ("WebhookUrl", "/webhooks/"),
        ("ActionsApiUrl", "/actions"),
        ("HooksUrl", "/hooks"),
        ("HealthUrl", "/health"),
    ):
        assert outputs[output]["Value"] == {"Fn::Join": ["", [endpoint, path]]}, output
    console = json.dumps(outputs["ConsoleUrl"]["Value"])
    assert json.dumps({"Ref": api}) in console
    assert console.endswith('"/console/"]]}') and "/v1" not in console
    assert "ActionsApiPolicyArn" in outputs


def test_the_console_page_calls_its_api_without_the_stage(http_resources):
    [page] = [
        r["Properties"]
        for r in _of_type(http_resources, "AWS::Lambda::Function").values()
        if r["Properties"]["Handler"] == HANDLERS["GET /console"]
    ]
    config = json.dumps(page["Environment"]["Variables"]["CONSOLE_CONFIG"])
    assert '\\"api_base\\":\\"/console/api\\"' in config


def test_the_invoke_policy_allows_exactly_the_actions_apis_routes_of_the_stage(http_resources):
    [api] = _of_type(http_resources, "AWS::ApiGatewayV2::Api")
    _, policy = _one(http_resources, "AWS::IAM::ManagedPolicy")
    [statement] = policy["PolicyDocument"]["Statement"]

    assert statement["Action"] == "execute-api:Invoke"
    granted = set()
    for arn in statement["Resource"]:
        parts = arn["Fn::Join"][1]
        assert {"Ref": api} in parts
        granted.add(parts[-1])
    assert granted == {f"/$default/{route.method}{route.grant_path}" for route in ROUTES}


def test_each_function_may_be_invoked_by_the_api_on_its_own_routes_only(http_resources):
    [api] = _of_type(http_resources, "AWS::ApiGatewayV2::Api")
    permissions = _of_type(http_resources, "AWS::Lambda::Permission")
    by_api = [
        p["Properties"]
        for p in permissions.values()
        if p["Properties"]["Principal"] == "apigateway.amazonaws.com"
    ]
    assert len(by_api) == len(ROUTE_AUTH)
    for permission in by_api:
        parts = permission["SourceArn"]["Fn::Join"][1]
        assert {"Ref": api} in parts
        assert parts[-1].startswith("/*/*/"), parts[-1]  # one route's path, any stage
        assert permission["Action"] == "lambda:InvokeFunction"


def test_the_webhook_5xx_alarm_reads_the_http_apis_own_route_metrics(http_resources):
    [api] = _of_type(http_resources, "AWS::ApiGatewayV2::Api")
    [alarm] = [
        r["Properties"]
        for name, r in _of_type(http_resources, "AWS::CloudWatch::Alarm").items()
        if "Api5xxRate" in json.dumps(r["Properties"].get("AlarmName", name))
    ]
    metrics = {m["Id"]: m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert {m["MetricName"] for m in metrics.values()} == {"5xx", "Count"}
    for metric in metrics.values():
        assert metric["Namespace"] == "AWS/ApiGateway"
        assert {d["Name"]: d["Value"] for d in metric["Dimensions"]} == {
            "ApiId": {"Ref": api},
            "Stage": "$default",
            "Resource": "/webhooks/{source}",
            "Method": "POST",
        }


def test_the_dashboard_charts_the_http_api(http_resources):
    [api] = _of_type(http_resources, "AWS::ApiGatewayV2::Api")
    [dashboard] = _of_type(http_resources, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])

    assert "ApiId" in body and api in body
    assert '\\"5xx\\"' in body and '\\"4xx\\"' in body


def test_cdk_nag_left_nothing_open(http_synthesized):
    _, path = http_synthesized
    report = json.loads((path.parent / "validation-report.json").read_text())
    assert report["pluginReports"] == []


def test_cfn_lint_passes(http_synthesized):
    _, path = http_synthesized
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(  # noqa: S603 - this venv's cfn-lint, the template's path
        [str(cfn_lint), str(path)], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
