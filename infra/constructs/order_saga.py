"""The example saga, order fulfilment: its state table, its task function, its state machine."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.config import DeploymentConfig
from infra.constructs.function import PythonFunction, log_retention
from infra.constructs.saga import Saga, SagaStep

ORDER_STEPS = (
    SagaStep("reserve_inventory", compensation="release_inventory"),
    SagaStep("charge_payment", compensation="refund_payment"),
    SagaStep("create_shipment", compensation="cancel_shipment"),
)


class OrderSaga(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, code: lambda_.Code, config: DeploymentConfig
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "StateTable",
            partition_key=dynamodb.Attribute(name="order_id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
        retention = log_retention(config.log_retention_days)
        self.tasks = PythonFunction(
            self,
            "Tasks",
            code=code,
            handler="functions.handlers.saga.lambda_handler",
            description="Order saga: runs its steps and compensations",
            timeout=Duration.seconds(30),
            memory_size=256,
            log_retention=retention,
            environment={
                "POWERTOOLS_SERVICE_NAME": "saga",
                "POWERTOOLS_METRICS_NAMESPACE": config.metrics_namespace,
                "SAGA_TABLE_NAME": self.table.table_name,
            },
        )
        iam.Grant.add_to_principal(
            grantee=self.tasks.function,
            actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
            resource_arns=[self.table.table_arn],
        )
        self.saga = Saga(
            self,
            "Saga",
            function=self.tasks.function,
            steps=ORDER_STEPS,
            log_retention=retention,
            metrics_namespace=config.metrics_namespace,
        )

    def grant_start(self, grantee: iam.IGrantable) -> None:
        self.saga.state_machine.grant_start_execution(grantee)
