"""What the console reads from CloudWatch: webhook answer counts and the charts' series.

The functions publish their metrics as EMF (``functions.metrics`` names them), one
CloudWatch metric per combination of dimension values (a hook and priority, a source,
a reason). This module finds the combinations with ``ListMetrics`` and reads them all
with one ``GetMetricData`` (500 queries a call), summing them per series. This module
owns the console's CloudWatch client.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.actions.config import queues as job_queues
from functions.api.console.config import settings
from functions.clients import lazy_client
from functions.metrics import Metric

_cloudwatch = lazy_client("cloudwatch")
PERIOD = 60
_QUERIES_PER_CALL = 500


@dataclass(frozen=True)
class Series:
    id: str
    label: str
    unit: str
    chart: str
    namespace: str
    metric: str
    stat: str = "Sum"
    dimensions: tuple[tuple[str, str], ...] | None = None  # None: every service's, summed
    breakdown: str | None = None  # read the sets with this dimension instead


def _combinations(namespace: str, names: set[str]) -> dict[str, list[list[dict[str, str]]]]:
    """Each metric's dimension sets in ``namespace`` (ListMetrics, paged).

    EMF publishes each value under ``service`` alone and under ``service`` with the
    emit's own dimensions (``functions.observability``): the totals are the sets of
    ``service`` alone (one per function); the others are kept for breakdowns (a
    rejection's ``reason``) and never added to the totals.
    """
    found: dict[str, list[list[dict[str, str]]]] = defaultdict(list)
    for page in _cloudwatch().get_paginator("list_metrics").paginate(Namespace=namespace):
        for metric in page.get("Metrics", []):
            name = metric.get("MetricName", "")
            if name in names:
                found[name].append(
                    [{"Name": d["Name"], "Value": d["Value"]} for d in metric.get("Dimensions", [])]
                )
    return found


def _read(
    series: Iterable[Series], start: datetime, end: datetime, period: int
) -> tuple[dict[str, dict[datetime, float]], dict[str, list[tuple[dict[str, str], dict[datetime, float]]]]]:
    """Each series' values by time (its combinations summed), and each combination's own."""
    series = list(series)
    namespaces: dict[str, set[str]] = defaultdict(set)
    for one in series:
        if one.dimensions is None:
            namespaces[one.namespace].add(one.metric)
    known = {ns: _combinations(ns, names) for ns, names in namespaces.items()}
    queries: list[dict[str, Any]] = []
    owners: list[tuple[str, dict[str, str]]] = []
    for one in series:
        if one.dimensions is None:
            sets = known[one.namespace].get(one.metric, [])
            if one.breakdown is None:
                sets = [s for s in sets if [d["Name"] for d in s] == ["service"]]
            else:
                sets = [s for s in sets if one.breakdown in {d["Name"] for d in s}]
        else:
            sets = [[{"Name": k, "Value": v} for k, v in one.dimensions]]
        for dimensions in sets:
            owners.append((one.id, {d["Name"]: d["Value"] for d in dimensions}))
            queries.append(
                {
                    "Id": f"q{len(queries)}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": one.namespace,
                            "MetricName": one.metric,
                            "Dimensions": dimensions,
                        },
                        "Period": period,
                        "Stat": one.stat,
                    },
                    "ReturnData": True,
                }
            )
    totals: dict[str, dict[datetime, float]] = {one.id: defaultdict(float) for one in series}
    each: dict[str, list[tuple[dict[str, str], dict[datetime, float]]]] = defaultdict(list)
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
                owner, dimensions = owners[int(result["Id"][1:])]
                values = {
                    _minute(when): float(value)
                    for when, value in zip(
                        result.get("Timestamps", []), result.get("Values", []), strict=False
                    )
                }
                each[owner].append((dimensions, values))
                for when, value in values.items():
                    totals[owner][when] += value
            token = response.get("NextToken")
            if not token:
                break
    return totals, each


def _minute(when: datetime) -> datetime:
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when.astimezone(UTC).replace(second=0, microsecond=0)


def _namespace() -> str:
    return settings().namespace


def _action_series() -> list[Series]:
    ns = _namespace()
    return [
        Series("completed", "Actions completed", "Count", "actions", ns, Metric.ACTIONS_COMPLETED),
        Series("failed", "Actions failed", "Count", "actions", ns, Metric.ACTIONS_DEAD_LETTERED),
    ]


def _webhook_series() -> list[Series]:
    ns = _namespace()
    return [
        Series("webhooks_accepted", "202 accepted", "Count", "webhooks", ns, Metric.WEBHOOKS_ACCEPTED),
        Series("webhooks_duplicated", "200 duplicate", "Count", "webhooks", ns, Metric.WEBHOOKS_DUPLICATED),
        Series("webhooks_rejected", "4xx/5xx rejected", "Count", "webhooks", ns, Metric.WEBHOOKS_REJECTED),
    ]


def _queue_series() -> list[Series]:
    found: list[Series] = []
    for name, queue in job_queues().items():
        queue_name = (("QueueName", queue.url.rsplit("/", 1)[-1]),)
        found.append(
            Series(
                f"depth_{name}", f"{name} queue depth", "Count", "queues", "AWS/SQS",
                "ApproximateNumberOfMessagesVisible", "Maximum", queue_name,
            )
        )
        found.append(
            Series(
                f"oldest_{name}", f"{name} oldest message age", "Seconds", "queue_age", "AWS/SQS",
                "ApproximateAgeOfOldestMessage", "Maximum", queue_name,
            )
        )
    return found


def charts(hours: int, now: datetime | None = None) -> dict[str, Any]:
    """Per-minute series over the last ``hours``: actions completed and failed, queue
    depth and oldest message age, webhook answers."""
    end = _minute(now or datetime.now(UTC)) + timedelta(minutes=1)
    start = end - timedelta(hours=hours)
    series = [*_action_series(), *_queue_series(), *_webhook_series()]
    totals, _ = _read(series, start, end, PERIOD)
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
                "points": [[when.isoformat(), value] for when, value in sorted(totals[one.id].items())],
            }
            for one in series
        ],
    }


def webhooks(now: datetime | None = None) -> dict[str, Any]:
    """The configured sources and their answers in the last hour and day, by kind and,
    for rejections, by reason: one ListMetrics and one GetMetricData."""
    now = now or datetime.now(UTC)
    end = _minute(now) + timedelta(minutes=1)
    day, hour = end - timedelta(days=1), end - timedelta(hours=1)
    reasons = Series(
        "rejected_by_reason", "", "Count", "", _namespace(), Metric.WEBHOOKS_REJECTED,
        breakdown="reason",
    )
    totals, each = _read([*_webhook_series(), reasons], day, end, PERIOD)
    windows: dict[str, dict[str, Any]] = {}
    for window, since in (("hour", hour), ("day", day)):
        rejected_by: dict[str, float] = defaultdict(float)
        for dimensions, values in each.get("rejected_by_reason", []):
            reason = dimensions.get("reason", "unknown")
            rejected_by[reason] += sum(v for when, v in values.items() if when >= since)
        windows[window] = {
            "accepted": _sum(totals["webhooks_accepted"], since),
            "duplicate": _sum(totals["webhooks_duplicated"], since),
            "rejected": _sum(totals["webhooks_rejected"], since),
            "rejected_by_reason": {k: int(v) for k, v in sorted(rejected_by.items()) if v},
        }
    return {
        "sources": [
            {"source": name, "scheme": scheme}
            for name, scheme in sorted(settings().webhook_schemes.items())
        ],
        "windows": windows,
        "as_of": now.isoformat(),
    }


def _sum(values: dict[datetime, float], since: datetime) -> int:
    return int(sum(value for when, value in values.items() if when >= since))
