"""CloudWatch reads for the health check. This module owns the CloudWatch client.

The age of each job queue's oldest message, from SQS's ``ApproximateAgeOfOldestMessage``
metric (published once a minute), so that no message is received to look at it.
Why: docs/decisions/0017-the-health-check-is-a-lambda-of-its-own.md
"""

from __future__ import annotations

from datetime import datetime, timedelta

from functions.clients import lazy_client

_cloudwatch = lazy_client("cloudwatch")
# SQS publishes a queue's metrics every minute, but they can lag by a few: look back far
# enough to find the latest one, not so far that an old backlog is reported as now.
WINDOW = timedelta(minutes=10)


def oldest_message_ages(queue_names: dict[str, str], now: datetime) -> dict[str, float | None]:
    """The latest age in seconds of each queue's oldest message, by key: ONE GetMetricData.

    ``queue_names`` maps a report's key (``default``) to the SQS queue name. A queue with
    no datapoint in the window (a new or idle queue, or moto) is ``None``.
    """
    if not queue_names:
        return {}
    keys = list(queue_names)
    response = _cloudwatch().get_metric_data(
        MetricDataQueries=[
            {
                "Id": f"q{index}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/SQS",
                        "MetricName": "ApproximateAgeOfOldestMessage",
                        "Dimensions": [{"Name": "QueueName", "Value": queue_names[key]}],
                    },
                    "Period": 60,
                    "Stat": "Maximum",
                },
                "ReturnData": True,
            }
            for index, key in enumerate(keys)
        ],
        StartTime=now - WINDOW,
        EndTime=now,
        ScanBy="TimestampDescending",
    )
    ages: dict[str, float | None] = dict.fromkeys(keys)
    for result in response.get("MetricDataResults", []):
        values = result.get("Values") or []
        if values:
            ages[keys[int(result["Id"][1:])]] = float(values[0])
    return ages
