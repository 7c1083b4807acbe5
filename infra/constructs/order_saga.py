"""The example saga, order fulfilment: its state table, its task function, its state machine.

An example beside the core: the stack lets the worker start it (``let_start``), and the
worker construct knows nothing of it."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.config import DeploymentConfig
from infra.constructs.function import PythonFunction, log_retention
from infra.constructs.payloads import Payloads
from infra.constructs.saga import Saga, SagaStep

# --8<-- [start:steps]
ORDER_STEPS = (
    SagaStep("reserve_inventory", compensation="release_inventory"),
    SagaStep("charge_payment", compensation="refund_payment"),
    SagaStep("create_shipment", compensation="cancel_shipment"),
)
# --8<-- [end:steps]


class OrderSaga(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: lambda_.Code,
        config: DeploymentConfig,
        payloads: Payloads,
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
        self.tasks = PythonFunction(
            self,
            "Tasks",
            code=code,
            handler="functions.handlers.saga.lambda_handler",
            description="Order saga: runs its steps and compensations",
            timeout=Duration.seconds(30),
            memory_size=256,
            settings=config.functions,
            environment={
                "POWERTOOLS_SERVICE_NAME": "saga",
                "SAGA_TABLE_NAME": self.table.table_name,
                # A large order is in the payload bucket (functions/sagas/claim.py).
                **payloads.environment(),
            },
        )
        payloads.grant_get(self.tasks.function)
        iam.Grant.add_to_principal(
            grantee=self.tasks.function,
            actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
            resource_arns=[self.table.table_arn],
        )
        # --8<-- [start:saga]
        self.saga = Saga(
            self,
            "Saga",
            function=self.tasks.function,
            steps=ORDER_STEPS,
            log_retention=log_retention(config.log_retention_days),
            metrics_namespace=config.metrics_namespace,
            log_execution_data=config.saga_log_execution_data,
            tracing=config.tracing,
        )
        # --8<-- [end:saga]

    def let_start(self, function: lambda_.Function) -> None:
        """Let ``function`` start orders (the ``start_order_saga`` hook): it reads the
        state machine's ARN in ``ORDER_SAGA_ARN`` (functions/hooks/config.py)."""
        function.add_environment("ORDER_SAGA_ARN", self.saga.state_machine.state_machine_arn)
        self.saga.state_machine.grant_start_execution(function)
