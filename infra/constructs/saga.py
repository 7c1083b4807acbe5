"""A saga: a Step Functions Standard state machine built from an ordered list of steps.

    Saga(self, "OrderSaga", function=fn, steps=[
        SagaStep("reserve_inventory", compensation="release_inventory"),
        SagaStep("charge_payment", compensation="refund_payment"),
    ])

Every step and compensation is a task of one Lambda function (``{"task": name}``). A step
that fails for good runs the compensations of every step that ran, the failed one included,
last to first, then fails with the original error; a compensation that still fails after
its retries ends the execution with ``Saga.CompensationFailed``, which an alarm watches.
Why: docs/decisions/0022-sagas-compensate-the-failed-step-too.md
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from aws_cdk import CfnElement, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from functions.metrics import Metric
from infra.constructs.function import UNTRACED
from infra.constructs.nag import acknowledge

COMPENSATION_FAILED = "Saga.CompensationFailed"
TRANSIENT_ERRORS = [
    "TransientError",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]


@dataclass(frozen=True)
class SagaStep:
    name: str
    compensation: str
    max_attempts: int = 3
    interval_seconds: int = 2


class Saga(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: lambda_.IFunction,
        steps: Sequence[SagaStep],
        log_retention: logs.RetentionDays,
        metrics_namespace: str,
        log_execution_data: bool = False,
        tracing: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        if not steps:
            raise ValueError("a saga needs at least one step")
        self._function = function

        summary = sfn.Pass(
            self,
            "Summarize",
            parameters={
                "summary": {
                    "error": sfn.JsonPath.string_at("$.error.Error"),
                    "cause": sfn.JsonPath.string_at("$.error.Cause"),
                    "compensated": sfn.JsonPath.list_at("$.comp.compensated"),
                }
            },
        )
        as_text = sfn.Pass(
            self,
            "SummaryAsText",
            parameters={
                "error": sfn.JsonPath.string_at("$.summary.error"),
                "cause": sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.summary")),
            },
        )
        failed = sfn.Fail(self, "SagaFailed", error_path="$.error", cause_path="$.cause")
        summary.next(as_text).next(failed)
        compensation_failed = sfn.Fail(
            self,
            "CompensationFailed",
            error=COMPENSATION_FAILED,
            cause_path="$.compensation_error.Cause",
        )

        compensations: list[tasks.LambdaInvoke] = []
        for step in steps:
            compensation = self._task(
                f"Undo {step.name}",
                {
                    "task": step.compensation,
                    "compensation": True,
                    "compensated": sfn.JsonPath.list_at("$.comp.compensated"),
                },
                result_path="$.comp",
            )
            compensation.add_retry(
                errors=["States.ALL"],
                interval=Duration.seconds(2),
                backoff_rate=2,
                max_attempts=4,
            )
            compensation.add_catch(
                compensation_failed, errors=["States.ALL"], result_path="$.compensation_error"
            )
            compensation.next(compensations[-1] if compensations else summary)
            compensations.append(compensation)

        start = sfn.Pass(
            self, "Start", result=sfn.Result.from_object({"compensated": []}), result_path="$.comp"
        )
        chain = sfn.Chain.start(start)
        for index, step in enumerate(steps):
            work = self._task(step.name, {"task": step.name}, result_path=f"$.results.{step.name}")
            work.add_retry(
                errors=TRANSIENT_ERRORS,
                interval=Duration.seconds(step.interval_seconds),
                backoff_rate=2,
                max_attempts=step.max_attempts,
            )
            work.add_catch(compensations[index], errors=["States.ALL"], result_path="$.error")
            chain = chain.next(work)
        chain = chain.next(sfn.Succeed(self, "Done"))

        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(chain),
            state_machine_type=sfn.StateMachineType.STANDARD,
            tracing_enabled=tracing,
            logs=sfn.LogOptions(
                destination=self.log_group,
                level=sfn.LogLevel.ALL,
                include_execution_data=log_execution_data,
            ),
        )
        if not tracing:
            for rule in ("AwsSolutions-SF2", "Serverless-StepFunctionStateMachineXray"):
                acknowledge(self.state_machine, rule, UNTRACED)
        # The Fail state by name: the log keeps state names without execution data, while
        # an error or a cause counts as data and is left out.
        # Why: docs/decisions/0038-saga-logs-keep-no-execution-data.md
        failed_compensations = logs.MetricFilter(
            self,
            "CompensationsFailed",
            log_group=self.log_group,
            metric_namespace=metrics_namespace,
            metric_name=Metric.SAGA_COMPENSATIONS_FAILED.value,
            filter_pattern=logs.FilterPattern.all(
                logs.FilterPattern.string_value("$.type", "=", "FailStateEntered"),
                logs.FilterPattern.string_value(
                    "$.details.name", "=", compensation_failed.state_id
                ),
            ),
            metric_value="1",
        )
        self.compensation_failures = failed_compensations.metric(
            statistic="Sum", period=Duration.minutes(1)
        )
        self.compensation_failed_alarm = cloudwatch.Alarm(
            self,
            "CompensationFailedAlarm",
            alarm_description="A saga could not undo its steps: an order needs an operator "
            "(docs/guides/sagas.md: 'When a compensation fails').",
            metric=self.compensation_failures,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        acknowledge(
            self.state_machine.role,
            "AwsSolutions-IAM5[Resource::<" + self._logical_arn() + ">:*]",
            "Step Functions invokes the function by a qualified ARN (version or alias); "
            "the grant covers this one function's qualifiers only.",
        )
        acknowledge(
            self.state_machine.role,
            "AwsSolutions-IAM5[Resource::*]",
            "CloudWatch Logs delivery and X-Ray actions for Step Functions support no "
            "resource-level permissions; AWS documents '*' for them.",
        )

    def _logical_arn(self) -> str:
        """``<LogicalId>.Arn``, as cdk-nag names the function's ARN in its findings."""
        stack = Stack.of(self)
        function = cast(CfnElement, self._function.node.default_child)  # the CfnFunction
        return f"{stack.resolve(stack.get_logical_id(function))}.Arn"

    def _task(self, label: str, payload: dict, *, result_path: str) -> tasks.LambdaInvoke:
        return tasks.LambdaInvoke(
            self,
            label,
            lambda_function=self._function,
            payload=sfn.TaskInput.from_object(
                {
                    **payload,
                    "input": sfn.JsonPath.object_at("$.input"),
                    "execution": sfn.JsonPath.string_at("$$.Execution.Name"),
                }
            ),
            payload_response_only=True,
            retry_on_service_exceptions=False,
            result_path=result_path,
        )
