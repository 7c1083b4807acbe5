"""Saga outcomes in the template: the rule on each saga's ended executions, the queue
between it and the function, and the function that may only record outcomes."""

from __future__ import annotations

from functions.sagas.ended import DETAIL_TYPE, STATUSES


def _of_type(resources: dict, kind: str) -> dict:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def _one(resources: dict, kind: str, prefix: str) -> tuple[str, dict]:
    [found] = [(n, r) for n, r in _of_type(resources, kind).items() if n.startswith(prefix)]
    return found


def _actions(statement: dict) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


def test_a_rule_sends_the_order_sagas_ended_executions_to_the_outcomes_queue(resources):
    machine, _ = _one(resources, "AWS::StepFunctions::StateMachine", "OrderSaga")
    _, rule = _one(resources, "AWS::Events::Rule", "SagaOutcomesOrderSagaEnded")
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.states"]
    assert pattern["detail-type"] == [DETAIL_TYPE]
    assert pattern["detail"] == {"stateMachineArn": [{"Ref": machine}], "status": list(STATUSES)}
    assert set(STATUSES) == {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
    [target] = rule["Properties"]["Targets"]
    queue, _ = _one(resources, "AWS::SQS::Queue", "SagaOutcomesQueue")
    dead_letters, _ = _one(resources, "AWS::SQS::Queue", "SagaOutcomesDeadLetterQueue")
    assert target["Arn"] == {"Fn::GetAtt": [queue, "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dead_letters, "Arn"]}}


def test_saga_outcomes_reach_their_function_with_partial_batch_responses(resources):
    queue, props = _one(resources, "AWS::SQS::Queue", "SagaOutcomesQueue")
    dead_letters, _ = _one(resources, "AWS::SQS::Queue", "SagaOutcomesDeadLetterQueue")
    redrive = props["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": [dead_letters, "Arn"]}
    function, _ = _one(resources, "AWS::Lambda::Function", "SagaOutcomesFunction")
    [mapping] = [
        m["Properties"]
        for m in _of_type(resources, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue, "Arn"]}
    ]
    assert mapping["FunctionName"] == {"Ref": function}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_outcomes_function_may_only_read_and_update_actions(resources):
    _, function = _one(resources, "AWS::Lambda::Function", "SagaOutcomesFunction")
    props = function["Properties"]
    assert props["Handler"] == "functions.handlers.saga_outcome.lambda_handler"
    assert set(props["Environment"]["Variables"]) >= {"ACTIONS_TABLE_NAME"}
    assert "JOB_QUEUES" not in props["Environment"]["Variables"]
    role = props["Role"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in _of_type(resources, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    table, _ = _one(resources, "AWS::DynamoDB::Table", "ActionsActionsTable")
    granted = {action for statement in statements for action in _actions(statement)}
    dynamodb = {action for action in granted if action.startswith("dynamodb:")}
    assert dynamodb == {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    for statement in statements:
        if any(action.startswith("dynamodb:") for action in _actions(statement)):
            assert statement["Resource"] == {"Fn::GetAtt": [table, "Arn"]}
    assert not [action for action in granted if action.startswith(("states:", "sqs:Send"))]
