"""What the console reads from CloudWatch: webhook answer counts and the charts' series.

The functions publish their metrics as EMF (``functions.metrics`` declares them): each
value under the ``service`` dimension alone and, where the emit names more (a hook and
priority, a source, a reason), under those too (``functions.observability``). A total
is the sum of the ``service``-alone metrics of the services the vocabulary names; a
rejection's breakdown reads each reason of the receiver's closed set. No ListMetrics:
every metric read is named, all in one ``GetMetricData`` (500 queries a call). This
module owns the console's CloudWatch client.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.actions.config import queues as job_queues
from functions.api.console.config import settings
from functions.clients import lazy_client
from functions.metrics import DEFINITIONS, Metric

_cloudwatch = lazy_client("cloudwatch")
PERIOD = 60
_QUERIES_PER_CALL = 500
# The receiver's answers' error codes: the values of WebhooksRejected's ``reason``.
REJECTION_REASONS = (
    "unknown_source",
    "payload_too_large",
    "invalid_signature",
    "timestamp_out_of_tolerance",
    "malformed_payload",
    "delivery_conflict",
    "delivery_in_progress",
    "source_misconfigured",
    "service_unavailable",
    "bad_request",
    "internal_error",
)

_Dimensions = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Series:
    """One line of a chart: the sum of ``metric`` under each of ``dimension_sets``."""

    id: str
    label: str
    unit: str
    chart: str
    namespace: str
    metric: str
    dimension_sets: tuple[_Dimensions, ...]
    stat: str = "Sum"


def _ours(series_id: str, label: str, chart: str, metric: Metric) -> Series:
    """A metric of ours, summed over the services that publish it."""
    services = DEFINITIONS[metric].services
    return Series(
        series_id,
        label,
        str(DEFINITIONS[metric].unit),
        chart,
        settings().namespace,
        str(metric),
        tuple((("service", service),) for service in services),
    )


def _read(series: list[Series], start: datetime, end: datetime) -> dict[str, dict[datetime, float]]:
    """Each series' values by minute, its dimension sets summed."""
    queries: list[dict[str, Any]] = []
    owners: list[str] = []
    for one in series:
        for dimensions in one.dimension_sets:
            owners.append(one.id)
            queries.append(
                {
                    "Id": f"q{len(queries)}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": one.namespace,
                            "MetricName": one.metric,
                            "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions],
                        },
                        "Period": PERIOD,
                        "Stat": one.stat,
                    },
                    "ReturnData": True,
                }
            )
    totals: dict[str, dict[datetime, float]] = {one.id: defaultdict(float) for one in series}
    for first in range(0, len(queries), _QUERIES_PER_CALL):
        batch = queries[first : first + _QUERIES_PER_CALL]
        token: str | None = None
        while True:
            params: dict[str, Any] = {
                "MetricDataQueries": batch,
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampAscending",
            }
            if token:
                params["NextToken"] = token
            response = _cloudwatch().get_metric_data(**params)
            for result in response.get("MetricDataResults", []):
                owner = owners[int(result["Id"][1:])]
                for when, value in zip(
                    result.get("Timestamps", []), result.get("Values", []), strict=False
                ):
                    totals[owner][_minute(when)] += float(value)
            token = response.get("NextToken")
            if not token:
                break
    return totals


def _minute(when: datetime) -> datetime:
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when.astimezone(UTC).replace(second=0, microsecond=0)


def _webhook_series() -> list[Series]:
    return [
        _ours("webhooks_accepted", "202 accepted", "webhooks", Metric.WEBHOOKS_ACCEPTED),
        _ours("webhooks_duplicated", "200 duplicate", "webhooks", Metric.WEBHOOKS_DUPLICATED),
        _ours("webhooks_rejected", "4xx/5xx rejected", "webhooks", Metric.WEBHOOKS_REJECTED),
    ]


def _queue_series() -> list[Series]:
    found: list[Series] = []
    for name, queue in job_queues().items():
        queue_name = ((("QueueName", queue.url.rsplit("/", 1)[-1]),),)
        found.append(
            Series(
                f"depth_{name}",
                f"{name} queue depth",
                "Count",
                "queues",
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                queue_name,
                "Maximum",
            )
        )
        found.append(
            Series(
                f"oldest_{name}",
                f"{name} oldest message age",
                "Seconds",
                "queue_age",
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                queue_name,
                "Maximum",
            )
        )
    return found


def charts(hours: int, now: datetime | None = None) -> dict[str, Any]:
    """Per-minute series over the last ``hours``: actions completed and failed, queue
    depth and oldest message age, webhook answers."""
    end = _minute(now or datetime.now(UTC)) + timedelta(minutes=1)
    start = end - timedelta(hours=hours)
    series = [
        _ours("completed", "Actions completed", "actions", Metric.ACTIONS_COMPLETED),
        _ours("failed", "Actions failed", "actions", Metric.ACTIONS_DEAD_LETTERED),
        *_queue_series(),
        *_webhook_series(),
    ]
    totals = _read(series, start, end)
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "period_seconds": PERIOD,
        "series": [
            {
                "id": one.id,
                "label": one.label,
                "unit": one.unit,
                "chart": one.chart,
                "points": [
                    [when.isoformat(), value] for when, value in sorted(totals[one.id].items())
                ],
            }
            for one in series
        ],
    }


def webhooks(now: datetime | None = None) -> dict[str, Any]:
    """The configured sources and their answers in the last hour and day, by kind and,
    for rejections, by reason: one GetMetricData."""
    now = now or datetime.now(UTC)
    end = _minute(now) + timedelta(minutes=1)
    day, hour = end - timedelta(days=1), end - timedelta(hours=1)
    rejected = DEFINITIONS[Metric.WEBHOOKS_REJECTED]
    by_reason = [
        Series(
            f"reason_{reason}",
            reason,
            "Count",
            "",
            settings().namespace,
            str(Metric.WEBHOOKS_REJECTED),
            tuple((("service", s), ("reason", reason)) for s in rejected.services),
        )
        for reason in REJECTION_REASONS
    ]
    totals = _read([*_webhook_series(), *by_reason], day, end)
    windows: dict[str, dict[str, Any]] = {}
    for window, since in (("hour", hour), ("day", day)):
        windows[window] = {
            "accepted": _sum(totals["webhooks_accepted"], since),
            "duplicate": _sum(totals["webhooks_duplicated"], since),
            "rejected": _sum(totals["webhooks_rejected"], since),
            "rejected_by_reason": {
                one.label: count for one in by_reason if (count := _sum(totals[one.id], since))
            },
        }
    return {
        "sources": [
            {"source": name, "scheme": scheme}
            for name, scheme in sorted(settings().schemes.items())
        ],
        "windows": windows,
        "as_of": now.isoformat(),
    }


def _sum(values: dict[datetime, float], since: datetime) -> int:
    return int(sum(value for when, value in values.items() if when >= since))
