"""The local cloud deploys the synthesized template itself: every resource that matters."""

from __future__ import annotations

import json

import boto3
import pytest

from functions.actions.config import expand_compact
from infra.local.deploy import deploy


@pytest.fixture
def deployed(aws, synthesized):
    template, _ = synthesized
    return deploy(template, stack_name="ActionScheduler")


def test_functions_keep_their_handlers_and_fully_resolved_environments(deployed):
    handlers = {f.handler for f in deployed.functions.values()}
    assert handlers == {
        "functions.handlers.webhook.lambda_handler",
        "functions.handlers.worker.lambda_handler",
        "functions.handlers.saga.lambda_handler",
        "functions.handlers.saga_outcome.lambda_handler",
        "functions.handlers.health.lambda_handler",
        "functions.handlers.actions_api.lambda_handler",
        "functions.handlers.console.lambda_handler",
        "functions.handlers.console_page.lambda_handler",
    }
    for function in deployed.functions.values():
        for value in function.environment.values():
            assert "Fn::" not in value and "Ref" not in value[:5]
    worker = next(f for f in deployed.functions.values() if "worker" in f.handler)
    # The compact form functions get (prefixes and names): each URL and ARN derived
    # from it addresses the deployed queue.
    queues = expand_compact(json.loads(worker.environment["JOB_QUEUES"]))
    assert set(queues) == {"high", "default", "low", "fifo"}
    sqs = boto3.client("sqs")
    for queue in queues.values():
        attributes = sqs.get_queue_attributes(QueueUrl=queue["url"], AttributeNames=["All"])
        assert attributes["Attributes"]["QueueArn"] == queue["arn"]
        redrive = json.loads(attributes["Attributes"]["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"] == queue["dead_letter_arn"]
    assert attributes["Attributes"]["VisibilityTimeout"] == "360"


def test_tables_have_their_keys_and_indexes(deployed):
    dynamodb = boto3.client("dynamodb")
    names = dynamodb.list_tables()["TableNames"]
    assert len(names) == 4
    actions = next(
        dynamodb.describe_table(TableName=n)["Table"] for n in names if "ActionsTable" in n
    )
    assert {i["IndexName"] for i in actions["GlobalSecondaryIndexes"]} == {
        "by_hook",
        "by_match",
        "by_status",
    }


def test_routes_event_sources_schedules_and_state_machine(deployed):
    routes = {(route.method, route.resource): route.function for route in deployed.routes}
    actions_api = {
        ("POST", "/actions"),
        ("GET", "/actions"),
        ("GET", "/actions/{action_id}"),
        ("DELETE", "/actions/{action_id}"),
        ("POST", "/actions/{action_id}/run"),
        ("GET", "/hooks"),
    }
    console = {
        ("GET", "/console"),
        ("GET", "/console/{file+}"),
        ("GET", "/console/api/{proxy+}"),
        ("POST", "/console/api/{proxy+}"),
    }
    assert set(routes) == {
        ("POST", "/webhooks/{source}"),
        ("GET", "/health"),
        *actions_api,
        *console,
    }
    assert deployed.stage == "v1"
    handlers = {f.name: f.handler for f in deployed.functions.values()}
    assert handlers[routes["POST", "/webhooks/{source}"]].endswith("webhook.lambda_handler")
    assert handlers[routes["GET", "/health"]].endswith("health.lambda_handler")
    for route in actions_api:
        assert handlers[routes[route]].endswith("actions_api.lambda_handler")
    # What the local front checks before a route's function runs: its authorization.
    authorization = {(r.method, r.resource): r.authorization for r in deployed.routes}
    assert {route for route, kind in authorization.items() if kind == "AWS_IAM"} == actions_api
    # The job queues' four (low, fifo, default, high), and the saga outcomes queue's.
    assert sorted(s.max_concurrency for s in deployed.event_sources) == [2, 2, 5, 10, 20]
    assert all(s.report_batch_item_failures for s in deployed.event_sources)
    assert all(s.queue_arn in deployed.queue_urls for s in deployed.event_sources)
    [schedule] = boto3.client("scheduler").list_schedules()["Schedules"]
    assert "DailyReport" in schedule["Name"]
    [machine] = boto3.client("stepfunctions").list_state_machines()["stateMachines"]
    definition = json.loads(
        boto3.client("stepfunctions").describe_state_machine(
            stateMachineArn=machine["stateMachineArn"]
        )["definition"]
    )
    assert definition["StartAt"] == "Start"


def test_event_rules_are_created_with_their_sqs_targets(deployed):
    """moto's EventBridge matches events to them and sends them on: the saga outcomes."""
    events = boto3.client("events")
    [rule] = events.list_rules()["Rules"]
    pattern = json.loads(rule["EventPattern"])
    assert pattern["source"] == ["aws.states"]
    [machine] = boto3.client("stepfunctions").list_state_machines()["stateMachines"]
    assert pattern["detail"]["stateMachineArn"] == [machine["stateMachineArn"]]
    [target] = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    outcomes = next(f for f in deployed.functions.values() if "saga_outcome" in f.handler)
    [source] = [s for s in deployed.event_sources if s.function == outcomes.name]
    assert target["Arn"] == source.queue_arn


def test_the_apis_gateway_responses_are_recorded_for_the_front(deployed):
    from infra.gateway import GATEWAY_ANSWERS
    from infra.local.http_front import GatewayResponse

    assert set(deployed.gateway_responses) == set(GATEWAY_ANSWERS)
    missing = GatewayResponse.from_properties(
        deployed.gateway_responses["MISSING_AUTHENTICATION_TOKEN"]
    )
    assert missing.status_code == 403
    assert json.loads(missing.render("application/json", {}))["error"] == (
        "missing_authentication_token"
    )
    throttled = GatewayResponse.from_properties(deployed.gateway_responses["THROTTLED"])
    assert throttled.headers == {"Retry-After": "1"}


def test_outputs_are_resolved_for_the_cli(deployed):
    assert set(deployed.outputs) >= {"JobQueues", "ActionsTableName", "ScheduleGroupName"}
    assert json.loads(deployed.outputs["JobQueues"])["default"]["url"].startswith("http")


def test_a_reference_that_cannot_resolve_is_a_clear_error(aws):
    template = {
        "Resources": {
            "Queue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"VisibilityTimeout": {"Fn::GetAtt": ["Missing", "Arn"]}},
            }
        }
    }
    with pytest.raises(ValueError, match="Queue"):
        deploy(template, stack_name="Broken")


def test_the_consoles_user_pool_groups_client_and_authorizer_are_deployed(deployed):
    idp = boto3.client("cognito-idp")
    [pool] = deployed.user_pools.values()
    groups = {g["GroupName"] for g in idp.list_groups(UserPoolId=pool)["Groups"]}
    assert groups == {"viewers", "operators"}
    [client] = deployed.user_pool_clients.values()
    described = idp.describe_user_pool_client(UserPoolId=pool, ClientId=client)["UserPoolClient"]
    assert described["CallbackURLs"][0].endswith("/v1/console/")
    [pools] = deployed.authorizers.values()
    assert pools == [pool]
    cognito_routes = [r for r in deployed.routes if r.authorization == "COGNITO_USER_POOLS"]
    assert {r.method for r in cognito_routes} == {"GET", "POST"}
    assert all(r.authorizer in deployed.authorizers for r in cognito_routes)
    page = next(
        f for f in deployed.functions.values() if f.handler.endswith("console_page.lambda_handler")
    )
    config = json.loads(page.environment["CONSOLE_CONFIG"])
    assert (config["user_pool_id"], config["client_id"]) == (pool, client)


def test_every_functions_resolved_environment_fits_lambdas_4_kb(deployed):
    for function in deployed.functions.values():
        size = sum(len(k) + len(v) for k, v in function.environment.items())
        assert size <= 4096, (function.handler, size)
