"""The EMF documents ``add_metric`` prints are Powertools' own, key for key and in order.

``functions.observability`` builds each dimension set's document itself rather than an
``EphemeralMetrics`` per set per invocation (its constructor was a fifth of a warm
webhook's own time); these tests hold the two to the same output, so an upgrade of
Powertools that changes its documents fails here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from functions import observability
from functions.metrics import Metric
from functions.observability import NAMESPACE, SERVICE, add_metric, publish_metrics

TIMESTAMP = 1_767_225_600_000

CASES: list[list[tuple[Metric, float, dict[str, str]]]] = [
    [(Metric.WEBHOOKS_RECEIVED, 1, {})],
    [(Metric.WEBHOOKS_ACCEPTED, 1, {"source": "github"})],
    [
        (Metric.ACTIONS_ENQUEUED, 1, {"hook": "process_webhook", "priority": "default"}),
        (Metric.ACTIONS_ENQUEUED, 2, {"hook": "process_webhook", "priority": "default"}),
        (Metric.ACTIONS_SCHEDULED, 1.5, {"hook": "process_webhook", "priority": "default"}),
    ],
    [(Metric.ACTION_DURATION, 12.5, {"hook": "send_email"})],
]


def _powertools(calls: list[tuple[Metric, float, dict[str, str]]]) -> list[dict[str, Any]]:
    """What one ``EphemeralMetrics`` per dimension set prints (the code before)."""
    blobs: dict[tuple[tuple[str, str], ...], EphemeralMetrics] = {}
    for metric, value, dimensions in calls:
        key = tuple(dimensions.items())
        if key not in blobs:
            blobs[key] = EphemeralMetrics(service=SERVICE, namespace=NAMESPACE)
            if dimensions:
                blobs[key].add_dimensions(service=SERVICE, **dimensions)
        unit = observability.DEFINITIONS[metric].unit.value
        blobs[key].add_metric(name=str(metric), unit=MetricUnit(unit), value=value)
    documents = []
    for blob in blobs.values():
        document = blob.serialize_metric_set()
        document["_aws"]["Timestamp"] = TIMESTAMP
        documents.append(document)
    return documents


def _ours(calls: list[tuple[Metric, float, dict[str, str]]]) -> list[dict[str, Any]]:
    blobs = {}
    for metric, value, dimensions in calls:
        key = tuple(dimensions.items())
        blob = blobs.setdefault(key, observability._new_blob(dimensions))
        blob.add_metric(
            str(metric), MetricUnit(observability.DEFINITIONS[metric].unit.value), value
        )
    documents = []
    for blob in blobs.values():
        assert type(blob) is observability._Blob
        document = blob.serialize_metric_set()
        document["_aws"]["Timestamp"] = TIMESTAMP
        documents.append(document)
    return documents


@pytest.mark.parametrize("calls", CASES)
def test_a_documents_keys_values_and_order_are_powertools(calls):
    ours, theirs = _ours(calls), _powertools(calls)

    assert [json.dumps(doc) for doc in ours] == [json.dumps(doc) for doc in theirs]


def test_a_blank_dimension_value_goes_through_powertools_which_drops_it():
    with pytest.warns(UserWarning, match="empty name or value"):
        blob = observability._new_blob({"hook": " ", "priority": "high"})

    assert isinstance(blob, EphemeralMetrics)


def test_a_hundredth_value_is_printed_at_once_as_powertools_prints_it(capsys):
    @publish_metrics
    def handler(event: Any, context: Any) -> None:
        for _ in range(99):
            add_metric(Metric.ACTIONS_STARTED, hook="h", priority="low")
        assert '"_aws"' not in capsys.readouterr().out
        add_metric(Metric.ACTIONS_STARTED, hook="h", priority="low")  # the 100th: printed
        add_metric(Metric.ACTIONS_STARTED, hook="h", priority="low")  # kept for the end

    handler({}, None)

    lines = [line for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert ", " in lines[0]  # json.dumps' own spacing, as Powertools prints it
    assert first["ActionsStarted"] == [1.0] * 100
    assert second["ActionsStarted"] == [1.0]
    assert first["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [
        ["service"],
        ["service", "hook", "priority"],
    ]
