"""The actions table (one item per action, three indexes) and the circuit breakers' table."""

from __future__ import annotations

from typing import TypedDict

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from functions.actions.store import INDEX_ATTRIBUTES

_S = dynamodb.AttributeType.STRING
_N = dynamodb.AttributeType.NUMBER
INDEXES = ("by_hook", "by_match", "by_status")


class ActionStore(Construct):
    """State that outlives a run: actions (status, attempts, log) and circuits.

    Both tables hold state an operator relies on, so they are retained on stack
    deletion and have point-in-time recovery. The indexes answer, without scans and
    soonest first: "actions of this hook in this status" (``by_hook``: hook,
    ``<status>#<scheduled_for>``), "the same, with these args and group" (``by_match``: a
    hash of the three) and "actions in this status" (``by_status``).

    Each index projects its keys and the few attributes its queries filter on or read
    (``INDEX_ATTRIBUTES``, next to the code that queries them), not the whole item; whole
    items are read from the table.
    Why: docs/decisions/0009-a-third-index-by-match.md,
    docs/decisions/0010-indexes-project-only-small-attributes.md
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.actions = self._table("ActionsTable", "action_id", ttl="expires_at")
        self.actions.add_global_secondary_index(
            index_name="by_hook",
            partition_key=dynamodb.Attribute(name="hook", type=_S),
            sort_key=dynamodb.Attribute(name="status_scheduled", type=_S),
            **_projection("by_hook"),
        )
        self.actions.add_global_secondary_index(
            index_name="by_match",
            partition_key=dynamodb.Attribute(name="match_key", type=_S),
            sort_key=dynamodb.Attribute(name="status_scheduled", type=_S),
            **_projection("by_match"),
        )
        self.actions.add_global_secondary_index(
            index_name="by_status",
            partition_key=dynamodb.Attribute(name="status", type=_S),
            sort_key=dynamodb.Attribute(name="scheduled_for", type=_N),
            **_projection("by_status"),
        )
        self.circuits = self._table("CircuitsTable", "name")

    def grant_write_actions(self, grantee: iam.IGrantable) -> None:
        """Create, read, update and delete action items (transactions use the same rights)."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:ConditionCheckItem",
            ],
            # The table only: Table.grant() would add "index/*", which item calls never use.
            resource_arns=[self.actions.table_arn],
        )

    def grant_record_saga_outcomes(self, grantee: iam.IGrantable) -> None:
        """Read an action and write its saga's outcome; finishing a unique action deletes
        its lock item in the same transaction."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
            resource_arns=[self.actions.table_arn],
        )

    def grant_query_actions(self, grantee: iam.IGrantable) -> None:
        """Query the indexes, then read the items they name from the table in batches."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["dynamodb:Query"],
            resource_arns=[f"{self.actions.table_arn}/index/{name}" for name in INDEXES],
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["dynamodb:BatchGetItem"],
            resource_arns=[self.actions.table_arn],
        )

    def grant_circuits(self, grantee: iam.IGrantable) -> None:
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
            resource_arns=[self.circuits.table_arn],
        )

    def _table(self, construct_id: str, key: str, ttl: str | None = None) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            construct_id,
            partition_key=dynamodb.Attribute(name=key, type=_S),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=ttl,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )


class _Projection(TypedDict):
    projection_type: dynamodb.ProjectionType
    non_key_attributes: list[str]


def _projection(index: str) -> _Projection:
    """An index's projection: its keys and ``INDEX_ATTRIBUTES[index]``."""
    return {
        "projection_type": dynamodb.ProjectionType.INCLUDE,
        "non_key_attributes": list(INDEX_ATTRIBUTES[index]),
    }
