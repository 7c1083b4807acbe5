"""EventBridge Scheduler: the stack's schedule group, the role schedules send with, their
dead letters, and the stack's own recurring action (the daily report)."""

from __future__ import annotations

from typing import cast

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from infra.constructs.job_queues import RETENTION, JobQueues
from infra.constructs.nag import acknowledge

# What functions/actions/timers.py gives every schedule it creates.
RETRY_ATTEMPTS = 185
MAX_EVENT_AGE = Duration.days(1)


class Scheduling(Construct):
    """Schedules target the job queues directly: no Lambda between a schedule and its action."""

    def __init__(self, scope: Construct, construct_id: str, *, queues: JobQueues) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.group = scheduler.ScheduleGroup(
            self, "Group", schedule_group_name=f"{stack.stack_name}-actions"
        )
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=RETENTION,
        )
        for rule in ("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"):
            acknowledge(
                self.dead_letter_queue,
                rule,
                "This is EventBridge Scheduler's dead-letter queue: what a schedule could not "
                "deliver in a day of retries waits here for an operator. An alarm fires on "
                "its first message.",
            )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
            description="EventBridge Scheduler: send actions to the job queues, nothing else",
        )
        queues.grant_send(self.role, dead_letters=False)
        self.dead_letter_queue.grant_send_messages(self.role)

        report = {
            "v": 1,
            "action_id": f"daily-report@{scheduler.ContextAttribute.scheduled_time}",
            "hook": "daily_report",
            "args": None,
            "group": "",
            "priority": "low",
            "attempt": 1,
            "max_attempts": 3,
            "scheduled_for": scheduler.ContextAttribute.scheduled_time,
            "enqueued_at": scheduler.ContextAttribute.scheduled_time,
            "correlation_id": f"daily-report@{scheduler.ContextAttribute.scheduled_time}",
        }
        self.daily_report = scheduler.Schedule(
            self,
            "DailyReport",
            schedule_group=self.group,
            description="The stack's own recurring action: a daily report of what needs a look",
            schedule=scheduler.ScheduleExpression.cron(minute="0", hour="6"),
            target=targets.SqsSendMessage(
                queues.pairs["low"].queue,
                input=scheduler.ScheduleTargetInput.from_object(report),
                role=self.role,
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=RETRY_ATTEMPTS,
                max_event_age=MAX_EVENT_AGE,
            ),
        )

    def environment(self) -> dict[str, str]:
        return {
            "SCHEDULE_GROUP": self.group.schedule_group_name,
            "SCHEDULER_ROLE_ARN": self.role.role_arn,
            "SCHEDULER_DEAD_LETTER_ARN": self.dead_letter_queue.queue_arn,
        }

    def grant_schedule(self, grantee: iam.IGrantable) -> None:
        """Create, read and delete the group's schedules, handing them the scheduler's role."""
        stack = Stack.of(self)
        schedules = stack.format_arn(
            service="scheduler",
            resource="schedule",
            resource_name=f"{self.group.schedule_group_name}/*",
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "scheduler:CreateSchedule",
                "scheduler:GetSchedule",
                "scheduler:DeleteSchedule",
            ],
            resource_arns=[schedules],
        )
        iam.Grant.add_to_principal(
            grantee=grantee, actions=["iam:PassRole"], resource_arns=[self.role.role_arn]
        )
        group = self.group.schedule_group_name
        # cdk-nag names the resource as synthesized: tokens for an environment-agnostic
        # stack, literals once `cdk deploy` (or CDK_DEFAULT_*) gives an account and region.
        partition, region, account = (
            f"<AWS::{name}>" if Token.is_unresolved(value) else value
            for name, value in (
                ("Partition", stack.partition),
                ("Region", stack.region),
                ("AccountId", stack.account),
            )
        )
        acknowledge(
            cast(IConstruct, grantee.grant_principal),  # a function's principal: its role
            f"AwsSolutions-IAM5[Resource::arn:{partition}:scheduler:{region}:"
            f"{account}:schedule/{group}/*]",
            "Schedule names are made per action at run time (action-<id>); the grant is "
            "limited to the stack's own schedule group.",
        )
