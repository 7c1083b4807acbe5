"""Monitoring: the alarm topic, every alarm of the stack, and its CloudWatch dashboard.

The dashboard is built with cdk-monitoring-constructs; the alarms are built here with
aws_cloudwatch, each with its own name, description, missing-data treatment and threshold
key from cdk.json (matched one for one by the runbook, docs/operations/runbook.md). Every
alarm notifies the topic when it fires and when it recovers.
Why: docs/decisions/0018-dashboard-from-cdk-monitoring-constructs-alarms-by-hand.md
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import cdk_monitoring_constructs as cmc
from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.metrics import DEFINITIONS, Definition, Family, Metric, Unit
from infra.config import DeploymentConfig
from infra.constructs.api import Api, ApiMetric
from infra.constructs.job_queues import JobQueues, QueuePair
from infra.constructs.nag import acknowledge
from infra.constructs.saga import Saga
from infra.constructs.scheduling import Scheduling

_GTE = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
_GT = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
_NOT_BREACHING = cloudwatch.TreatMissingData.NOT_BREACHING
FIVE_MINUTES = Duration.minutes(5)
ONE_MINUTE = Duration.minutes(1)

# The custom metrics the functions publish are the vocabulary's (functions/metrics.py).
# The circuit alarm's metric math names its three transitions.
CIRCUIT_TRANSITIONS = {
    "opened": Metric.CIRCUIT_OPENED,
    "halfopened": Metric.CIRCUIT_HALF_OPENED,
    "closed": Metric.CIRCUIT_CLOSED,
}
# EventBridge Scheduler's metrics by schedule group.
SCHEDULER_METRICS = (
    "InvocationAttemptCount",
    "TargetErrorCount",
    "TargetErrorThrottledCount",
    "InvocationDroppedCount",
    "InvocationsSentToDeadLetterCount",
    "InvocationsFailedToBeSentToDeadLetterCount",
)


@dataclass(frozen=True)
class MonitoredQueue:
    """A queue the alarms watch: its name on the dashboard and in alarm names."""

    name: str
    queue: sqs.IQueue


class Monitoring(Construct):
    """The alarm topic (``topic``), the alarms (``alarms``, by name) and the dashboard.

    Takes the parts it watches as arguments and reaches into none of their children;
    the one exception it is given explicitly is each saga's compensation alarm, which
    the saga owns (it needs the saga's log group) and which this construct only routes.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        api: Api,
        queues: JobQueues,
        scheduling: Scheduling,
        worker: lambda_.IFunction,
        functions: Mapping[str, lambda_.IFunction],
        sagas: Mapping[str, Saga],
        other_queues: Sequence[QueuePair] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._prefix = Stack.of(self).stack_name
        self.topic = self._topic(config)
        self._action = cw_actions.SnsAction(self.topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        # Queues beyond the job queues, each with its dead letters (the saga outcomes').
        self._other_queues = tuple(other_queues)
        self._queue_alarms(queues, scheduling)
        self._worker_alarm(worker)
        self._api_alarm(api)
        self._scheduler_alarms(scheduling)
        for name, saga in sagas.items():
            self._saga_alarms(name, saga)
        self._circuit_alarm()
        self._recurring_alarm()
        self._hook_unavailable_alarm()
        self.dashboard = self._dashboard(api, queues, scheduling, functions, sagas)

    # --- the topic -----------------------------------------------------------------------

    def _topic(self, config: DeploymentConfig) -> sns.Topic:
        """An SNS topic encrypted with a customer key CloudWatch may use, TLS-only.

        An AWS-managed SNS key would not do: its policy cannot let CloudWatch encrypt,
        so alarms could not publish. The key is rotated yearly.
        """
        stack = Stack.of(self)
        key = kms.Key(
            self,
            "AlarmTopicKey",
            description=f"Encrypts {self._prefix}'s alarm notifications",
            enable_key_rotation=True,
            removal_policy=config.removal_policy,
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],  # in a key policy, "*" is this key
            )
        )
        topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"{self._prefix} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsOfThisAccount",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                    "StringEquals": {"aws:SourceAccount": stack.account},
                },
            )
        )
        if config.alarm_email:
            subscription = topic.add_subscription(
                subscriptions.EmailSubscription(config.alarm_email)
            )
            acknowledge(
                subscription,
                "Serverless-SNSRedrivePolicy",
                "The alarm e-mail subscription: a notification e-mail SNS could not deliver "
                "(an unconfirmed or bouncing address) is not fixed by a redrive, and the "
                "alarm's state it reported stays in CloudWatch; failed deliveries show on "
                "the dashboard (the topic's NumberOfNotificationsFailed).",
            )
        return topic

    # --- alarms ----------------------------------------------------------------------------

    def _alarm(
        self,
        name: str,
        description: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        comparison: cloudwatch.ComparisonOperator = _GTE,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
        missing: cloudwatch.TreatMissingData = _NOT_BREACHING,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            name,
            alarm_name=f"{self._prefix}-{name}",
            alarm_description=f"{description} (runbook: docs/operations/runbook.md, {name})",
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            treat_missing_data=missing,
        )
        self._route(alarm)
        self.alarms[name] = alarm
        return alarm

    def _route(self, alarm: cloudwatch.Alarm) -> None:
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)

    def _queue_alarms(self, queues: JobQueues, scheduling: Scheduling) -> None:
        """Any dead letter; and work waiting longer than its queue's threshold.

        Dead letters: the maximum of the visible count over five minutes, so a message
        read and redriven in between still shows. SQS stops reporting an idle empty
        queue: missing data is an empty queue.
        """
        dead_letters = [
            MonitoredQueue(name, pair.dead_letter_queue) for name, pair in queues.pairs.items()
        ]
        dead_letters.append(MonitoredQueue("scheduler", scheduling.dead_letter_queue))
        dead_letters += [MonitoredQueue(q.name, q.dead_letter_queue) for q in self._other_queues]
        for dlq in dead_letters:
            self._alarm(
                f"DeadLetters-{dlq.name}",
                f"Messages wait in the {dlq.name} dead-letter queue",
                dlq.queue.metric_approximate_number_of_messages_visible(
                    statistic="Maximum", period=FIVE_MINUTES
                ),
                threshold=1,
            )
        for name, pair in queues.pairs.items():
            age = self._config.alarm_queue_age_seconds[name]
            # Five minutes in a row: one slow batch is not an incident.
            self._alarm(
                f"QueueAge-{name}",
                f"The oldest message of the {name} queue is older than {age} s",
                pair.queue.metric_approximate_age_of_oldest_message(
                    statistic="Maximum", period=ONE_MINUTE
                ),
                threshold=age,
                comparison=_GT,
                evaluation_periods=5,
            )

    def _worker_alarm(self, worker: lambda_.IFunction) -> None:
        """Errors per invocation of the worker: crashes and timeouts, not failed actions.

        The worker reports a failed action as a partial batch failure, which Lambda
        counts as a success; its Errors are batches that crashed or timed out, whose
        messages come back until the redrive policy dead-letters them.
        """
        rate = cloudwatch.MathExpression(
            expression="IF(invocations > 0, 100 * errors / invocations, 0)",
            using_metrics={
                "errors": worker.metric_errors(statistic="Sum", period=FIVE_MINUTES),
                "invocations": worker.metric_invocations(statistic="Sum", period=FIVE_MINUTES),
            },
            label="Worker error rate (%)",
            period=FIVE_MINUTES,
        )
        self._alarm(
            "WorkerErrorRate",
            f"Over {self._config.alarm_worker_error_rate_percent}% of worker invocations failed",
            rate,
            threshold=self._config.alarm_worker_error_rate_percent,
            comparison=_GT,
            evaluation_periods=3,
            datapoints_to_alarm=2,
        )

    def _api_alarm(self, api: Api) -> None:
        """5xx per webhook request: the receiver failing, or API Gateway itself.

        The webhook method's own metrics (the stage has detailed metrics on), not the
        stage's: ``GET /health`` answers 503 whenever the system is unhealthy, and a
        monitor polling it would otherwise turn every dead letter into a "webhooks
        failing" alarm.
        """

        def webhook_metric(metric: ApiMetric, statistic: str) -> cloudwatch.Metric:
            return api.route_metric(
                metric, "POST", "/webhooks/{source}", statistic=statistic, period=FIVE_MINUTES
            )

        rate = cloudwatch.MathExpression(
            expression="IF(requests > 0, 100 * errors / requests, 0)",
            using_metrics={
                "errors": webhook_metric(ApiMetric.SERVER_ERRORS, "Sum"),
                "requests": webhook_metric(ApiMetric.COUNT, "SampleCount"),
            },
            label="API 5xx rate (%)",
            period=FIVE_MINUTES,
        )
        self._alarm(
            "Api5xxRate",
            f"Over {self._config.alarm_api_5xx_rate_percent}% of webhook requests answered 5xx",
            rate,
            threshold=self._config.alarm_api_5xx_rate_percent,
            comparison=_GT,
            evaluation_periods=3,
            datapoints_to_alarm=2,
        )

    def _scheduler_alarms(self, scheduling: Scheduling) -> None:
        """Target errors are retried for a day, so a few are noise; a dropped one is lost."""
        errors = cloudwatch.MathExpression(
            expression="FILL(errors, 0) + FILL(throttled, 0)",
            using_metrics={
                "errors": _scheduler_metric(scheduling, "TargetErrorCount"),
                "throttled": _scheduler_metric(scheduling, "TargetErrorThrottledCount"),
            },
            label="Schedule target errors",
            period=FIVE_MINUTES,
        )
        self._alarm(
            "ScheduleTargetErrors",
            f"Schedules failed to send to the job queues "
            f"{self._config.alarm_schedule_target_errors} times or more in 5 minutes",
            errors,
            threshold=self._config.alarm_schedule_target_errors,
        )
        dropped = cloudwatch.MathExpression(
            expression="FILL(dropped, 0) + FILL(undeliverable, 0)",
            using_metrics={
                "dropped": _scheduler_metric(scheduling, "InvocationDroppedCount"),
                "undeliverable": _scheduler_metric(
                    scheduling, "InvocationsFailedToBeSentToDeadLetterCount"
                ),
            },
            label="Schedule invocations lost",
            period=FIVE_MINUTES,
        )
        self._alarm(
            "ScheduleInvocationsDropped",
            "A schedule's invocation was dropped or could not reach its dead-letter queue: "
            "an action did not run",
            dropped,
            threshold=1,
        )

    def _saga_alarms(self, name: str, saga: Saga) -> None:
        """Failed executions (compensated or not); the saga's own alarm for the stuck ones."""
        machine = saga.state_machine
        failed = cloudwatch.MathExpression(
            expression="FILL(failed, 0) + FILL(timedout, 0) + FILL(aborted, 0)",
            using_metrics={
                "failed": machine.metric_failed(statistic="Sum", period=FIVE_MINUTES),
                "timedout": machine.metric_timed_out(statistic="Sum", period=FIVE_MINUTES),
                "aborted": machine.metric_aborted(statistic="Sum", period=FIVE_MINUTES),
            },
            label=f"{name} executions failed",
            period=FIVE_MINUTES,
        )
        self._alarm(
            f"SagaFailed-{name}",
            f"{name} executions failed, timed out or were aborted",
            failed,
            threshold=self._config.alarm_saga_failures,
        )
        # Built by the saga beside its metric filter; routed here, not duplicated.
        self._route(saga.compensation_failed_alarm)
        self.alarms[f"SagaCompensationsFailed-{name}"] = saga.compensation_failed_alarm

    def _circuit_alarm(self) -> None:
        """A circuit held open for ``alarmCircuitOpenSeconds``, from its transition counts.

        While a circuit is open, the actions it deferred come back after the cool-down
        and one takes the half-open trial: each failed trial counts CircuitHalfOpened
        and CircuitOpened again, and only a successful one counts CircuitClosed. So a
        period of at least the cool-down with an opening or a trial and no closing is a
        period the circuit spent open; the alarm fires after enough of them in a row.
        A circuit open with nothing waiting on it makes no trials and does not alarm:
        nothing is being held up. The counts carry no circuit name, so a circuit
        closing in a period hides another's opening in that period (docs/operations/alarms.md).
        """
        cooldown = self._config.circuit_cooldown_seconds
        period = Duration.minutes(max(1, math.ceil(cooldown / 60)))
        metrics = {
            key: self._custom_metric("worker", metric, "Sum", period)
            for key, metric in CIRCUIT_TRANSITIONS.items()
        }
        held_open = cloudwatch.MathExpression(
            expression="IF(FILL(opened, 0) + FILL(halfopened, 0) > 0 AND FILL(closed, 0) == 0,"
            " 1, 0)",
            using_metrics=metrics,
            label="Circuit held open (1 = a period with no closing)",
            period=period,
        )
        periods = max(1, self._config.alarm_circuit_open_seconds // int(period.to_seconds()))
        self._alarm(
            "CircuitOpen",
            f"A circuit has stayed open for {self._config.alarm_circuit_open_seconds} s: "
            "actions that need its dependency are deferred",
            held_open,
            threshold=1,
            evaluation_periods=periods,
        )

    def _hook_unavailable_alarm(self) -> None:
        """A hook module failed to import in the worker: its actions dead-letter with the
        reason ``hook_unavailable`` (functions/actions/hooks.py) until a fixed package is
        deployed; the other hooks run on."""
        self._alarm(
            "HookUnavailable",
            "A hook's module failed to import in the worker: its actions are dead-lettered "
            "(reason hook_unavailable) until it is fixed and deployed",
            self._custom_metric("worker", Metric.HOOKS_UNAVAILABLE, "Sum"),
            threshold=1,
        )

    def _recurring_alarm(self) -> None:
        """A recurring action stopped: its runs failed ``max_failed_runs`` times in a row
        (functions/actions/recurrence.py), so it runs no more until an operator acts."""
        self._alarm(
            "RecurringActionStopped",
            "A recurring action stopped after its runs failed too many times in a row: "
            "it runs no more until it is scheduled again",
            self._custom_metric("worker", Metric.RECURRING_ACTIONS_STOPPED, "Sum"),
            threshold=1,
        )

    # --- the dashboard ---------------------------------------------------------------------

    def _custom_metric(
        self, service: str, metric: Metric, statistic: str, period: Duration = FIVE_MINUTES
    ) -> cloudwatch.Metric:
        """A function's metric in total (under its ``service`` alone), as alarms watch it."""
        return cloudwatch.Metric(
            namespace=self._config.metrics_namespace,
            metric_name=metric.value,
            dimensions_map={"service": service},
            statistic=statistic,
            period=period,
            label=metric.value,
        )

    def _vocabulary_groups(self) -> list[cmc.CustomMetricGroup]:
        """One graph per family and unit of the metric vocabulary, with every metric a
        function publishes; the saga's metric filter is drawn with its saga."""
        groups = []
        for family in Family:
            for unit in Unit:
                lines = [
                    line
                    for metric, spec in DEFINITIONS.items()
                    if spec.family is family and spec.unit is unit
                    for line in self._lines(metric, spec)
                ]
                if lines:
                    title = family.value if unit is Unit.COUNT else f"{family}: timings (ms)"
                    groups.append(cmc.CustomMetricGroup(title=title, metrics=lines))
        return groups

    def _lines(
        self, metric: Metric, spec: Definition
    ) -> list[cmc.CustomMetricSearch | cloudwatch.Metric]:
        """A metric's lines: each service's total by each statistic, or one per value of
        the dimension it is split by."""
        # Circuit transitions are rare and brief: drawn by the minute.
        period = ONE_MINUTE if spec.family is Family.CIRCUITS else FIVE_MINUTES
        lines: list[cmc.CustomMetricSearch | cloudwatch.Metric] = []
        for service in spec.services:
            suffix = f" ({service})" if len(spec.services) > 1 else ""
            if spec.split_by:
                [statistic] = spec.statistics
                lines.append(
                    cmc.CustomMetricSearch(
                        namespace=self._config.metrics_namespace,
                        search_query=f'MetricName="{metric}"',
                        dimensions_map={"service": service, spec.split_by: ""},
                        statistic=cmc.MetricStatistic[statistic.upper()],
                        period=period,
                        label=f"{metric}{suffix}: ${{PROP('Dim.{spec.split_by}')}}",
                    )
                )
                continue
            for statistic in spec.statistics:
                label = metric.value + suffix
                if len(spec.statistics) > 1:
                    label += f" {statistic}"
                lines.append(
                    self._custom_metric(service, metric, statistic, period).with_(label=label)
                )
        return lines

    def _dashboard(
        self,
        api: Api,
        queues: JobQueues,
        scheduling: Scheduling,
        functions: Mapping[str, lambda_.IFunction],
        sagas: Mapping[str, Saga],
    ) -> cloudwatch.Dashboard:
        factory = cmc.DefaultDashboardFactory(
            self,
            "Dashboards",
            dashboard_name_prefix=self._prefix,
            create_dashboard=True,
            create_summary_dashboard=False,
            create_alarm_dashboard=False,
        )
        facade = cmc.MonitoringFacade(
            self,
            "Facade",
            dashboard_factory=factory,
            alarm_factory_defaults=cmc.AlarmFactoryDefaults(
                alarm_name_prefix=self._prefix, actions_enabled=True
            ),
            metric_factory_defaults=cmc.MetricFactoryDefaults(namespace=self._prefix),
        )
        facade.add_large_header(f"{self._prefix}: alarms")
        facade.add_widget(
            cloudwatch.AlarmStatusWidget(
                title="Alarms (docs/operations/alarms.md)",
                alarms=list(self.alarms.values()),
                width=18,
                height=4,
            )
        )
        facade.add_widget(
            cloudwatch.GraphWidget(
                title="Alarm notifications",
                left=[
                    self.topic.metric_number_of_messages_published(period=FIVE_MINUTES),
                    self.topic.metric_number_of_notifications_failed(period=FIVE_MINUTES),
                ],
                width=6,
                height=4,
            )
        )
        facade.add_large_header("Webhook API")
        api.monitor(facade, "Webhook API (requests, 4xx, 5xx, latency)", "WebhookApi")
        facade.add_large_header("Job queues and dead letters")
        for name, pair in queues.pairs.items():
            facade.monitor_sqs_queue_with_dlq(
                queue=pair.queue,
                dead_letter_queue=pair.dead_letter_queue,
                human_readable_name=f"{name} queue",
                alarm_friendly_name=f"Queue-{name}",
            )
        facade.monitor_sqs_queue(
            queue=scheduling.dead_letter_queue,
            human_readable_name="Scheduler dead letters",
            alarm_friendly_name="SchedulerDeadLetters",
        )
        for pair in self._other_queues:
            facade.monitor_sqs_queue_with_dlq(
                queue=pair.queue,
                dead_letter_queue=pair.dead_letter_queue,
                human_readable_name=f"{pair.name} queue",
                alarm_friendly_name=f"Queue-{pair.name}",
            )
        facade.add_large_header("Functions")
        for name, function in functions.items():
            facade.monitor_lambda_function(
                lambda_function=function,
                human_readable_name=name,
                alarm_friendly_name=f"Function-{name}",
            )
        facade.monitor_custom(
            human_readable_name="Concurrency",
            alarm_friendly_name="Concurrency",
            metric_groups=[
                cmc.CustomMetricGroup(
                    title="Concurrent executions (max)",
                    metrics=[
                        function.metric(
                            "ConcurrentExecutions",
                            statistic="Maximum",
                            period=ONE_MINUTE,
                            label=name,
                        )
                        for name, function in functions.items()
                    ],
                )
            ],
        )
        facade.add_large_header("Schedules and sagas")
        facade.monitor_custom(
            human_readable_name=f"EventBridge Scheduler: {scheduling.group.schedule_group_name}",
            alarm_friendly_name="Scheduler",
            metric_groups=[
                cmc.CustomMetricGroup(
                    title="Invocations and failures",
                    metrics=[_scheduler_metric(scheduling, name) for name in SCHEDULER_METRICS],
                )
            ],
        )
        for name, saga in sagas.items():
            facade.monitor_step_function(
                state_machine=saga.state_machine,
                human_readable_name=f"{name} executions",
                alarm_friendly_name=f"Saga-{name}",
            )
            facade.monitor_custom(
                human_readable_name=f"{name}: stuck in compensation",
                alarm_friendly_name=f"SagaCompensation-{name}",
                metric_groups=[
                    cmc.CustomMetricGroup(
                        title="Failed compensations",
                        metrics=[saga.compensation_failures],
                    )
                ],
            )
        facade.add_large_header("The functions' own metrics")
        facade.monitor_custom(
            human_readable_name=f"Custom metrics ({self._config.metrics_namespace})",
            alarm_friendly_name="CustomMetrics",
            metric_groups=self._vocabulary_groups(),
        )
        dashboard = factory.dashboard
        if dashboard is None:  # only if create_dashboard were False
            raise RuntimeError("cdk-monitoring-constructs created no dashboard")
        return dashboard


def _scheduler_metric(scheduling: Scheduling, name: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/Scheduler",
        metric_name=name,
        dimensions_map={"ScheduleGroup": scheduling.group.schedule_group_name},
        statistic="Sum",
        period=FIVE_MINUTES,
        label=name,
    )
