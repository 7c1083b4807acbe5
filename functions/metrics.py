"""The metric vocabulary: every custom metric the stack publishes, defined once.

The functions emit only ``Metric`` members (``functions.observability.add_metric``
takes the unit from here), the dashboard and alarms in ``infra/constructs/monitoring.py``
read their names from here, and the docs' metrics reference is ``markdown_table()``
(rendered when the site is built, docs/generate.py).
``tests/unit/test_metric_vocabulary.py`` fails when code emits a name this module does
not declare, and ``tests/infra/test_monitoring.py`` when the dashboard leaves one out.

Words: a run or task that *raised* may still be retried; an action or compensation
that *failed* has failed for good (an action's status ``failed``: dead-lettered).

Standard library only: the CDK app imports it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Unit(StrEnum):
    """CloudWatch units, spelled as EMF and Powertools' ``MetricUnit`` spell them."""

    COUNT = "Count"
    MILLISECONDS = "Milliseconds"


class Family(StrEnum):
    """What a metric is about: one dashboard graph per family (and unit)."""

    WEBHOOKS = "Webhooks"
    ACTIONS = "Actions"
    CIRCUITS = "Circuit transitions"
    SAGAS = "Saga tasks"
    HEALTH = "Health check"


class Metric(StrEnum):
    """A metric's name, as CloudWatch shows it."""

    WEBHOOKS_RECEIVED = "WebhooksReceived"
    WEBHOOKS_ACCEPTED = "WebhooksAccepted"
    WEBHOOKS_DUPLICATED = "WebhooksDuplicated"
    WEBHOOKS_REJECTED = "WebhooksRejected"
    ACTIONS_ENQUEUED = "ActionsEnqueued"
    ACTIONS_SCHEDULED = "ActionsScheduled"
    ACTIONS_STARTED = "ActionsStarted"
    ACTIONS_COMPLETED = "ActionsCompleted"
    ACTIONS_RAISED = "ActionsRaised"
    ACTIONS_RETRIED = "ActionsRetried"
    ACTIONS_DEAD_LETTERED = "ActionsDeadLettered"
    ACTIONS_DEFERRED = "ActionsDeferred"
    ACTIONS_SKIPPED = "ActionsSkipped"
    RECURRING_ACTIONS_STOPPED = "RecurringActionsStopped"
    HOOKS_UNAVAILABLE = "HooksUnavailable"
    ACTION_START_LATENCY = "ActionStartLatency"
    ACTION_DURATION = "ActionDuration"
    CIRCUIT_OPENED = "CircuitOpened"
    CIRCUIT_HALF_OPENED = "CircuitHalfOpened"
    CIRCUIT_CLOSED = "CircuitClosed"
    SAGA_STEPS_COMPLETED = "SagaStepsCompleted"
    SAGA_STEPS_RAISED = "SagaStepsRaised"
    SAGA_COMPENSATIONS_COMPLETED = "SagaCompensationsCompleted"
    SAGA_COMPENSATIONS_RAISED = "SagaCompensationsRaised"
    SAGA_COMPENSATIONS_FAILED = "SagaCompensationsFailed"
    HEALTH_CHECK_UNHEALTHY = "HealthCheckUnhealthy"


@dataclass(frozen=True)
class Definition:
    """What a metric measures and how it is published and read.

    ``services`` are the ``service`` dimension values it is published under (the
    functions' ``POWERTOOLS_SERVICE_NAME``); empty for a metric a log metric filter
    publishes, which has no dimension. ``dimensions`` is its breakdown: a subset of
    them is passed at each emit site. ``statistics`` are how the dashboard reads it;
    ``split_by``, when set, makes the dashboard draw one line per value of that
    dimension instead of the total.
    """

    family: Family
    meaning: str
    services: tuple[str, ...]
    dimensions: tuple[str, ...] = ()
    unit: Unit = Unit.COUNT
    statistics: tuple[str, ...] = ("Sum",)
    split_by: str | None = None


_BY_ACTION = ("hook", "priority")
_PERCENTILES = ("p50", "p99")


def _worker_timing(meaning: str) -> Definition:
    """A time the worker measures per action, in milliseconds, read as percentiles."""
    return Definition(
        Family.ACTIONS,
        meaning,
        ("worker",),
        _BY_ACTION,
        unit=Unit.MILLISECONDS,
        statistics=_PERCENTILES,
    )


DEFINITIONS: dict[Metric, Definition] = {
    Metric.WEBHOOKS_RECEIVED: Definition(
        Family.WEBHOOKS, "a `POST /webhooks/{source}` reached the function", ("webhook",)
    ),
    Metric.WEBHOOKS_ACCEPTED: Definition(
        Family.WEBHOOKS,
        "a new delivery was verified, stored and queued (`202`)",
        ("webhook",),
        ("source",),
    ),
    Metric.WEBHOOKS_DUPLICATED: Definition(
        Family.WEBHOOKS,
        "a repeat of an accepted delivery, or a replay of its signed body under another "
        "delivery id (GitHub, Shopify, HMAC), answered with the first result (`200`)",
        ("webhook",),
        ("source",),
    ),
    Metric.WEBHOOKS_REJECTED: Definition(
        Family.WEBHOOKS,
        "answered with an error. The `reason` is the answer's `error` code: "
        "`unknown_source`, `payload_too_large`, `invalid_signature`, "
        "`timestamp_out_of_tolerance`, `malformed_payload`, `delivery_conflict`, "
        "`delivery_in_progress`, `source_misconfigured`, `service_unavailable` or "
        "`internal_error`. Received = accepted + duplicated + rejected",
        ("webhook",),
        ("reason",),
        split_by="reason",
    ),
    Metric.ACTIONS_ENQUEUED: Definition(
        Family.ACTIONS,
        "a new action to run now (`enqueue_async_action`), counted by the function that "
        "made it. The receiver counts `process_webhook`; the worker counts actions that "
        "hooks enqueue. The operator CLI publishes no metrics",
        ("webhook", "worker"),
        _BY_ACTION,
    ),
    Metric.ACTIONS_SCHEDULED: Definition(
        Family.ACTIONS,
        "a new single, recurring or cron action",
        ("webhook", "worker"),
        _BY_ACTION,
    ),
    Metric.ACTIONS_STARTED: Definition(
        Family.ACTIONS,
        "an action was claimed and its hook started a run",
        ("worker",),
        _BY_ACTION,
    ),
    Metric.ACTIONS_COMPLETED: Definition(
        Family.ACTIONS,
        "a run returned; the action is `complete`, or waits for the saga its hook started "
        "(see Sagas)",
        ("worker",),
        _BY_ACTION,
    ),
    Metric.ACTIONS_RAISED: Definition(
        Family.ACTIONS,
        "a run raised. Every such run counts, whatever follows (a retry or a dead letter): "
        "started = completed + raised",
        ("worker",),
        _BY_ACTION,
    ),
    Metric.ACTIONS_RETRIED: Definition(
        Family.ACTIONS,
        "a run raised and will be tried again after its delay",
        ("worker",),
        _BY_ACTION,
    ),
    Metric.ACTIONS_DEAD_LETTERED: Definition(
        Family.ACTIONS,
        "the action failed: it went to its dead-letter queue with status `failed` "
        "(permanent error, or attempts exhausted). Malformed messages and unknown hooks "
        "count in the total only",
        ("worker",),
        _BY_ACTION,
    ),
    Metric.HOOKS_UNAVAILABLE: Definition(
        Family.ACTIONS,
        "an action's hook is in a module that failed to import in the worker: the action "
        "was dead-lettered with the reason `hook_unavailable` (counted in "
        "`ActionsDeadLettered` too). The `HookUnavailable` alarm fires",
        ("worker",),
        ("hook",),
    ),
    Metric.ACTIONS_DEFERRED: Definition(
        Family.ACTIONS,
        "a circuit the hook needs is open; the action was put back without using an attempt",
        ("worker",),
        _BY_ACTION,
    ),
    Metric.ACTIONS_SKIPPED: Definition(
        Family.ACTIONS,
        "the claim was refused: the action was already complete, failed, canceled or "
        "running elsewhere",
        ("worker",),
        _BY_ACTION,
    ),
    Metric.RECURRING_ACTIONS_STOPPED: Definition(
        Family.ACTIONS,
        "a recurring action's runs failed its hook's `max_failed_runs` times in a row (5 "
        "by default): it ended `failed` and its schedule was deleted. The "
        "`RecurringActionStopped` alarm fires",
        ("worker",),
        _BY_ACTION,
    ),
    Metric.ACTION_START_LATENCY: _worker_timing(
        "time from when the action was due to its start. For an async action that is its "
        "enqueue time; for a scheduled action or a retry, the time it was asked for. This "
        "is queueing lag, not the chosen delay"
    ),
    Metric.ACTION_DURATION: _worker_timing("the hook's run time, whether it returned or raised"),
    Metric.CIRCUIT_OPENED: Definition(
        Family.CIRCUITS,
        "a circuit breaker opened (see Circuit breaker)",
        ("worker",),
        ("circuit",),
    ),
    Metric.CIRCUIT_HALF_OPENED: Definition(
        Family.CIRCUITS,
        "an open circuit let one trial run through",
        ("worker",),
        ("circuit",),
    ),
    Metric.CIRCUIT_CLOSED: Definition(
        Family.CIRCUITS, "a trial succeeded: the circuit closed", ("worker",), ("circuit",)
    ),
    Metric.SAGA_STEPS_COMPLETED: Definition(
        Family.SAGAS, "a saga step returned (every attempt)", ("saga",), ("task",)
    ),
    Metric.SAGA_STEPS_RAISED: Definition(
        Family.SAGAS,
        "a saga step raised. Every attempt counts; the state machine retries transient errors",
        ("saga",),
        ("task",),
    ),
    Metric.SAGA_COMPENSATIONS_COMPLETED: Definition(
        Family.SAGAS, "a compensation returned (every attempt)", ("saga",), ("task",)
    ),
    Metric.SAGA_COMPENSATIONS_RAISED: Definition(
        Family.SAGAS,
        "a compensation raised (every attempt; the state machine retries it)",
        ("saga",),
        ("task",),
    ),
    Metric.SAGA_COMPENSATIONS_FAILED: Definition(
        Family.SAGAS,
        "a compensation failed for good: the execution ended with "
        "`Saga.CompensationFailed`. A metric filter on the state machine's log publishes "
        "it, not a function, so it has no `service`",
        (),
    ),
    Metric.HEALTH_CHECK_UNHEALTHY: Definition(
        Family.HEALTH,
        "1 for each `503` of the health check and 0 for each `200`: its average is the "
        "share of unhealthy answers",
        ("health",),
        statistics=("Average",),
    ),
}


def markdown_table() -> str:
    """The docs' metrics table (docs/reference/metrics.md), one row per metric."""
    rows = [
        "| metric | unit | breakdown | service | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for metric, spec in DEFINITIONS.items():
        breakdown = ", ".join(f"`{d}`" for d in spec.dimensions) or "none"
        services = ", ".join(spec.services) or "none"
        rows.append(f"| `{metric}` | {spec.unit} | {breakdown} | {services} | {spec.meaning} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
