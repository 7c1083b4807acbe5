"""The alarm topic, every alarm, and the dashboard (infra/constructs/monitoring.py)."""

from __future__ import annotations

import json
import re

import pytest

from functions.metrics import DEFINITIONS, Metric

QUEUES = ("high", "default", "low", "fifo")


def _of_type(resources: dict, kind: str) -> dict:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def _topic(resources: dict) -> str:
    [topic] = _of_type(resources, "AWS::SNS::Topic")
    return topic


def _alarms(resources: dict) -> dict[str, dict]:
    """Alarm properties by AlarmName (the saga's own alarm by its logical id)."""
    return {
        r["Properties"].get("AlarmName", name): r["Properties"]
        for name, r in _of_type(resources, "AWS::CloudWatch::Alarm").items()
    }


def _alarm(resources: dict, name: str) -> dict:
    return _alarms(resources)[f"ActionScheduler-{name}"]


def _metric_names(alarm: dict) -> set[str]:
    if "MetricName" in alarm:
        return {alarm["MetricName"]}
    return {m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"] if "MetricStat" in m}


def _expression(alarm: dict) -> str:
    [expression] = [m["Expression"] for m in alarm["Metrics"] if "Expression" in m]
    return expression


# --- the topic --------------------------------------------------------------------------


def test_topic_is_encrypted_with_a_rotated_customer_key(resources):
    topic = resources[_topic(resources)]["Properties"]
    [key_id] = _of_type(resources, "AWS::KMS::Key")
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    key = resources[key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    # CloudWatch must be able to encrypt for the topic, or alarms cannot publish.
    statements = key["KeyPolicy"]["Statement"]
    [statement] = [s for s in statements if s.get("Sid") == "CloudWatchAlarmsPublish"]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]


def test_topic_refuses_publishing_without_tls_and_admits_this_accounts_alarms(resources):
    topic = _topic(resources)
    [policy] = _of_type(resources, "AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    [deny] = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == {"Ref": topic}
    [allow] = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def test_email_subscription_only_when_alarm_email_is_given(resources, variant):
    assert not _of_type(resources, "AWS::SNS::Subscription")
    [subscription] = _of_type(variant, "AWS::SNS::Subscription").values()
    assert subscription["Properties"] == {
        "Endpoint": "ops@example.com",
        "Protocol": "email",
        "TopicArn": {"Ref": _topic(variant)},
    }


# --- alarms -----------------------------------------------------------------------------


def test_every_alarm_notifies_the_topic_when_it_fires_and_when_it_recovers(resources):
    topic = {"Ref": _topic(resources)}
    alarms = _alarms(resources)
    assert len(alarms) == 19
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [topic], name
        assert alarm["OKActions"] == [topic], name
        assert alarm["TreatMissingData"] == "notBreaching", name
        assert alarm["AlarmDescription"], name


@pytest.mark.parametrize("queue", (*QUEUES, "scheduler", "saga-outcomes"))
def test_any_dead_letter_alarms(resources, queue):
    alarm = _alarm(resources, f"DeadLetters-{queue}")
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["Statistic"] == "Maximum"
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    [dimension] = alarm["Dimensions"]
    [queue_id, _] = dimension["Value"]["Fn::GetAtt"]
    expected = {
        "scheduler": "SchedulingDeadLetterQueue",
        "saga-outcomes": "SagaOutcomesDeadLetterQueue",
    }.get(queue, f"JobQueues{queue.title()}DeadLetterQueue")
    assert queue_id.startswith(expected)


def test_queue_age_alarms_per_queue_with_their_thresholds(resources, variant):
    defaults = {"high": 300, "default": 900, "low": 3600, "fifo": 900}
    for queue, threshold in defaults.items():
        alarm = _alarm(resources, f"QueueAge-{queue}")
        assert alarm["MetricName"] == "ApproximateAgeOfOldestMessage"
        assert alarm["Threshold"] == threshold
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        assert (alarm["Period"], alarm["EvaluationPeriods"]) == (60, 5)
        [dimension] = alarm["Dimensions"]
        assert dimension["Value"]["Fn::GetAtt"][0].startswith(f"JobQueues{queue.title()}Queue")
    # alarmQueueAgeSeconds={"low": 7200} changes low and keeps the others.
    assert _alarm(variant, "QueueAge-low")["Threshold"] == 7200
    assert _alarm(variant, "QueueAge-high")["Threshold"] == 300


def test_worker_error_rate_is_errors_over_invocations(resources):
    alarm = _alarm(resources, "WorkerErrorRate")
    assert _expression(alarm) == "IF(invocations > 0, 100 * errors / invocations, 0)"
    assert _metric_names(alarm) == {"Errors", "Invocations"}
    [function] = {
        m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"]
        for m in alarm["Metrics"]
        if "MetricStat" in m
    }
    assert function.startswith("WorkerFunction")
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (5, "GreaterThanThreshold")
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (3, 2)


def test_api_5xx_rate_is_the_webhook_methods_errors_over_its_requests(resources):
    # Not the stage's: GET /health answers 503 whenever the system is unhealthy.
    alarm = _alarm(resources, "Api5xxRate")
    assert _expression(alarm) == "IF(requests > 0, 100 * errors / requests, 0)"
    assert _metric_names(alarm) == {"5XXError", "Count"}
    for metric in alarm["Metrics"]:
        if "MetricStat" in metric:
            dimensions = {
                d["Name"]: d["Value"] for d in metric["MetricStat"]["Metric"]["Dimensions"]
            }
            assert set(dimensions) == {"ApiName", "Stage", "Resource", "Method"}
            assert (dimensions["Resource"], dimensions["Method"]) == ("/webhooks/{source}", "POST")
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanThreshold")


def test_scheduler_alarms_watch_the_stacks_schedule_group(resources):
    errors = _alarm(resources, "ScheduleTargetErrors")
    dropped = _alarm(resources, "ScheduleInvocationsDropped")
    assert _metric_names(errors) == {"TargetErrorCount", "TargetErrorThrottledCount"}
    assert _metric_names(dropped) == {
        "InvocationDroppedCount",
        "InvocationsFailedToBeSentToDeadLetterCount",
    }
    assert errors["Threshold"] == 5
    assert dropped["Threshold"] == 1
    for alarm in (errors, dropped):
        for metric in alarm["Metrics"]:
            if "MetricStat" in metric:
                assert metric["MetricStat"]["Metric"]["Namespace"] == "AWS/Scheduler"
                assert metric["MetricStat"]["Metric"]["Dimensions"] == [
                    {"Name": "ScheduleGroup", "Value": "ActionScheduler-actions"}
                ]


def test_failed_sagas_and_failed_compensations_alarm(resources):
    failed = _alarm(resources, "SagaFailed-OrderSaga")
    assert _metric_names(failed) == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
    assert (failed["Threshold"], failed["ComparisonOperator"]) == (
        1,
        "GreaterThanOrEqualToThreshold",
    )
    # The saga's own alarm is routed to the topic, not duplicated.
    compensation = [
        a for a in _alarms(resources).values() if a.get("MetricName") == "SagaCompensationsFailed"
    ]
    assert len(compensation) == 1
    assert compensation[0]["Namespace"] == "ActionScheduler"
    assert compensation[0]["AlarmActions"] == [{"Ref": _topic(resources)}]


def test_circuit_open_alarm_counts_periods_with_no_closing(resources, variant):
    alarm = _alarm(resources, "CircuitOpen")
    expression = _expression(alarm)
    assert "FILL(closed, 0) == 0" in expression
    assert _metric_names(alarm) == {
        Metric.CIRCUIT_OPENED,
        Metric.CIRCUIT_HALF_OPENED,
        Metric.CIRCUIT_CLOSED,
    }
    for metric in alarm["Metrics"]:
        if "MetricStat" in metric:
            assert metric["MetricStat"]["Metric"]["Dimensions"] == [
                {"Name": "service", "Value": "worker"}
            ]
            assert metric["MetricStat"]["Period"] == 60
    # 300 s by default: five one-minute periods in a row; alarmCircuitOpenSeconds=600: ten.
    assert (alarm["Threshold"], alarm["EvaluationPeriods"]) == (1, 5)
    assert "DatapointsToAlarm" not in alarm
    assert _alarm(variant, "CircuitOpen")["EvaluationPeriods"] == 10


def test_a_stopped_recurring_action_alarms(resources):
    alarm = _alarm(resources, "RecurringActionStopped")
    assert _metric_names(alarm) == {Metric.RECURRING_ACTIONS_STOPPED}
    [stat] = [m["MetricStat"] for m in alarm["Metrics"]]
    assert stat["Metric"]["Dimensions"] == [{"Name": "service", "Value": "worker"}]
    assert (stat["Stat"], stat["Period"], alarm["Threshold"]) == ("Sum", 300, 1)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"


def test_a_hook_module_that_fails_to_import_alarms(resources):
    alarm = _alarm(resources, "HookUnavailable")
    assert _metric_names(alarm) == {Metric.HOOKS_UNAVAILABLE}
    [stat] = [m["MetricStat"] for m in alarm["Metrics"]]
    assert stat["Metric"]["Dimensions"] == [{"Name": "service", "Value": "worker"}]
    assert (stat["Stat"], stat["Period"], alarm["Threshold"]) == ("Sum", 300, 1)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


# --- the dashboard ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def dashboard(resources) -> str:
    """The dashboard body with its intrinsics flattened: metrics and names are searchable."""
    [dashboard] = _of_type(resources, "AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    parts = body["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else json.dumps(p) for p in parts)


def _widget_metrics(dashboard: str) -> set[str]:
    return set(re.findall(r'\["(?:AWS/[A-Za-z]+|ActionScheduler)","([A-Za-z0-9]+)"', dashboard))


def test_dashboard_shows_the_api(dashboard):
    assert {"Count", "4XXError", "5XXError", "Latency"} <= _widget_metrics(dashboard)


def test_dashboard_shows_every_queue_and_its_dead_letters(dashboard, resources):
    metrics = _widget_metrics(dashboard)
    assert {
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "NumberOfMessagesSent",
        "NumberOfMessagesDeleted",
    } <= metrics
    queues = [q for q in _of_type(resources, "AWS::SQS::Queue") if not q.startswith("Monitoring")]
    assert len(queues) == 11  # the job queues, the scheduler's, the saga outcomes' two
    for queue in queues:
        assert queue in dashboard, queue


def test_dashboard_shows_the_functions(dashboard, resources):
    assert {"Errors", "Throttles", "Duration", "Invocations", "ConcurrentExecutions"} <= (
        _widget_metrics(dashboard)
    )
    for function in _of_type(resources, "AWS::Lambda::Function"):
        if not function.startswith(("LogRetention", "AWS")):
            assert function in dashboard, function


def test_dashboard_shows_schedules_and_sagas(dashboard):
    metrics = _widget_metrics(dashboard)
    assert {"InvocationAttemptCount", "TargetErrorCount", "InvocationDroppedCount"} <= metrics
    assert {"ExecutionsSucceeded", "ExecutionsFailed", "SagaCompensationsFailed"} <= metrics
    assert '"ScheduleGroup","ActionScheduler-actions"' in dashboard


def test_dashboard_shows_every_metric_of_the_vocabulary(dashboard):
    """functions/metrics.py declares them; a metric the dashboard does not draw fails here."""
    metrics = _widget_metrics(dashboard)
    searched = set(re.findall(r'MetricName=\\"([A-Za-z0-9]+)\\"', dashboard))
    missing = [m.value for m in Metric if m.value not in metrics | searched]
    assert not missing, f"declared in functions/metrics.py, not on the dashboard: {missing}"
    # Drawn as declared: each of its services, each statistic; a split metric by search.
    for metric, spec in DEFINITIONS.items():
        for service in spec.services:
            if spec.split_by:
                assert f'MetricName=\\"{metric}\\"' in dashboard
                assert f"Dim.{spec.split_by}" in dashboard
                continue
            line = f'"ActionScheduler","{metric}","service","{service}",'
            # A graph's default statistic, Average, is left out of the line.
            drawn = {
                json.loads(options).get("stat", "Average")
                for options in re.findall(re.escape(line) + r"(\{[^{}]*\})\]", dashboard)
            }
            assert set(spec.statistics) <= drawn, (metric, service, drawn)


def test_dashboard_lists_every_alarm(dashboard, resources):
    for alarm in _of_type(resources, "AWS::CloudWatch::Alarm"):
        assert alarm in dashboard, alarm
