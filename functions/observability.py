"""Logger, Tracer and Metrics singletons shared by every module of a function.

The stack sets POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE per
function; the defaults keep the CLI, the local cloud and tests working without them.

Metrics go through ``add_metric`` below rather than the ``metrics`` singleton,
because Powertools' singleton publishes one EMF blob with one set of dimension
values per invocation, while one worker batch holds actions of several hooks. Each
metric is published twice from the same value: under ``[service]`` (the total an
alarm watches) and under ``[service, <its dimensions>]`` (the breakdown a dashboard
shows). Metrics are buffered per invocation and printed when the handler returns
(``publish_metrics``); outside a handler (the operator CLI, feature code called
directly) nothing is buffered or printed, so emitting can never get in the way of
a command's output or leak memory in a long-running process.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "action-scheduler")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ActionScheduler")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)

__all__ = [
    "NAMESPACE",
    "SERVICE",
    "MetricUnit",
    "add_metric",
    "logger",
    "metrics",
    "publish_metrics",
    "tracer",
]

_Key = tuple[tuple[str, str], ...]
# The metrics of the invocation running in this thread (None: not inside a handler).
# A context variable, not a module global: the local cloud runs handlers in threads.
_pending: ContextVar[dict[_Key, EphemeralMetrics] | None] = ContextVar(
    "pending_metrics", default=None
)

Handler = TypeVar("Handler", bound=Callable[..., Any])


def add_metric(
    name: str, unit: MetricUnit = MetricUnit.Count, value: float = 1, **dimensions: str
) -> None:
    """Record one value of ``name`` for this invocation, with ``dimensions`` as its breakdown.

    Dimension values must come from a small, closed set (hook names, priorities,
    configured sources, rejection reasons): every distinct combination is a custom
    metric CloudWatch bills for, so never pass anything a caller controls. A metric
    must never fail the work it measures: errors are logged and swallowed.
    """
    pending = _pending.get()
    if pending is None:
        return
    try:
        key = tuple(dimensions.items())
        blob = pending.get(key)
        if blob is None:
            blob = EphemeralMetrics(service=SERVICE, namespace=NAMESPACE)
            if dimensions:
                blob.add_dimensions(service=SERVICE, **dimensions)
            pending[key] = blob
        blob.add_metric(name=name, unit=unit, value=value)
    except Exception:
        logger.warning("metric not recorded", extra={"metric": name}, exc_info=True)


def publish_metrics(handler: Handler) -> Handler:
    """Decorate a Lambda handler: buffer its metrics, print them as EMF when it returns.

    One blob per set of dimension values, whatever the handler's outcome. Also
    publishes anything left on the Powertools ``metrics`` singleton, so code that
    uses it directly is not lost, without its warning when there is nothing.
    """

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        token = _pending.set({})
        try:
            return handler(event, context)
        finally:
            pending = _pending.get() or {}
            _pending.reset(token)
            _flush([*pending.values(), metrics])

    return wrapper  # type: ignore[return-value]


def _flush(blobs: list[Any]) -> None:
    for blob in blobs:
        if not blob.metric_set:
            continue
        try:
            blob.flush_metrics()
        except Exception:
            logger.warning("metrics not published", exc_info=True)
            blob.clear_metrics()
