"""The local cloud's CloudWatch metrics: the functions' EMF output, put into moto.

On Lambda, CloudWatch reads the Embedded Metric Format records a function prints and
publishes their metrics. Locally nothing reads them, so a function's environment
writes through ``EmfSink``: each EMF line is turned into ``PutMetricData`` calls to
moto's CloudWatch (each of its dimension sets, each metric, its values and unit, at its
timestamp) and then passed on unchanged. The console's charts and webhook counts then
work as deployed. A metric that fails to publish is dropped with a line on stderr:
metrics never fail the work they measure.
Why: docs/decisions/0061-the-local-cloud-publishes-the-functions-emf-metrics.md
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

_MAX_DATA = 1000  # PutMetricData's metrics per call


def metric_data(record: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """``(namespace, MetricDatum)`` for every metric an EMF record declares: one per
    metric and dimension set, as CloudWatch publishes them."""
    directive = record.get("_aws")
    if not isinstance(directive, dict):
        return []
    stamp = directive.get("Timestamp")
    when = (
        datetime.fromtimestamp(stamp / 1000, UTC)
        if isinstance(stamp, int | float)
        else datetime.now(UTC)
    )
    found: list[tuple[str, dict[str, Any]]] = []
    for block in directive.get("CloudWatchMetrics") or []:
        namespace = str(block.get("Namespace", ""))
        sets = block.get("Dimensions") or [[]]
        for metric in block.get("Metrics") or []:
            name = metric.get("Name")
            raw = record.get(name)
            values = raw if isinstance(raw, list) else [raw]
            numbers = [float(v) for v in values if isinstance(v, int | float)]
            if not name or not numbers:
                continue
            for dimension_names in sets:
                dimensions = [
                    {"Name": d, "Value": str(record[d])} for d in dimension_names if d in record
                ]
                found.append(
                    (
                        namespace,
                        {
                            "MetricName": name,
                            "Dimensions": dimensions,
                            "Timestamp": when,
                            "Values": numbers,
                            "Unit": metric.get("Unit", "None"),
                        },
                    )
                )
    return found


def publish(record: dict[str, Any], client: Any) -> int:
    """Put the record's metrics; how many data were put."""
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for namespace, datum in metric_data(record):
        by_namespace.setdefault(namespace, []).append(datum)
    for namespace, data in by_namespace.items():
        for first in range(0, len(data), _MAX_DATA):
            client.put_metric_data(Namespace=namespace, MetricData=data[first : first + _MAX_DATA])
    return sum(len(data) for data in by_namespace.values())


class EmfSink:
    """A text stream in front of ``out`` that publishes each EMF line it passes on."""

    def __init__(self, out: TextIO, client: Callable[[], Any] | None = None) -> None:
        self._out = out
        self._pending = ""
        self._lock = threading.Lock()
        self._client = client or _cloudwatch

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._publish(line)
        return self._out.write(text) or len(text)

    def _publish(self, line: str) -> None:
        stripped = line.strip()
        if not stripped.startswith('{"_aws"') and '"_aws"' not in stripped[:20]:
            return
        try:
            record = json.loads(stripped)
            if isinstance(record, dict):
                publish(record, self._client())
        except Exception as exc:
            sys.stderr.write(f"local metrics: not published: {type(exc).__name__}: {exc}\n")

    def flush(self) -> None:
        self._out.flush()

    def isatty(self) -> bool:
        return self._out.isatty()

    @property
    def encoding(self) -> str:
        return getattr(self._out, "encoding", "utf-8")

    def fileno(self) -> int:
        return self._out.fileno()


_client: Any = None


def _cloudwatch() -> Any:
    global _client  # noqa: PLW0603 - one client per environment process
    if _client is None:
        import boto3

        _client = boto3.client("cloudwatch")
    return _client


# --- SQS's own metrics ---------------------------------------------------------------------

QUEUE_METRICS_SECONDS = 60.0  # SQS publishes its queue metrics once a minute


def publish_queue_depths(queue_urls: list[str], sqs: Any, cloudwatch: Any) -> int:
    """``AWS/SQS`` ``ApproximateNumberOfMessagesVisible`` of each queue, now, as SQS
    publishes it every minute (the console's queue depth chart); how many were put.
    The oldest message's age is not an attribute SQS answers: it is not published."""
    now = datetime.now(UTC)
    data = []
    for url in queue_urls:
        attributes = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        data.append(
            {
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": url.rsplit("/", 1)[-1]}],
                "Timestamp": now,
                "Value": float(attributes.get("ApproximateNumberOfMessages", 0)),
                "Unit": "Count",
            }
        )
    if data:
        cloudwatch.put_metric_data(Namespace="AWS/SQS", MetricData=data)
    return len(data)


def run_queue_depths(
    queue_urls: list[str], stop: threading.Event, interval: float = QUEUE_METRICS_SECONDS
) -> None:
    """Publish the queues' depths every ``interval`` until ``stop`` is set."""
    import boto3

    sqs, cloudwatch = boto3.client("sqs"), boto3.client("cloudwatch")
    while True:
        try:
            publish_queue_depths(queue_urls, sqs, cloudwatch)
        except Exception as exc:
            sys.stderr.write(f"local metrics: queue depths not published: {exc}\n")
        if stop.wait(interval):
            return
