"""Logger, Tracer and Metrics shared by every module of a function.

The stack sets POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE per function; the
defaults keep the CLI, the local cloud and tests working. ``tracer`` is X-Ray's on Lambda
only, ``Untraced`` elsewhere. ``add_metric`` takes only a metric of the vocabulary
(``functions/metrics.py``: name, unit, dimensions), buffers per invocation and publishes
each value under ``[service]`` and ``[service, <its dimensions>]`` when the handler returns;
outside a handler it records nothing.
Why: docs/decisions/0014-x-ray-only-on-lambda.md,
docs/decisions/0015-metrics-buffered-per-invocation-and-published-twice.md
"""

from __future__ import annotations

import datetime
import functools
import json
import numbers
import os
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.metrics.exceptions import MetricValueError, SchemaValidationError
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from functions.coldstart import resume_collection
from functions.log_lines import JsonLines
from functions.metrics import DEFINITIONS, Metric

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "action-scheduler")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ActionScheduler")
# What the X-Ray SDK instruments when tracing: every function's AWS calls; and, in the
# functions that run user code (hooks, saga steps: ``trace_user_http_calls``), their HTTP
# calls. Patching httplib costs a function about 25 ms of cold start.
TRACED_MODULES = ("botocore",)
USER_CODE_TRACED_MODULES = ("httplib",)
_TRUE = {"1", "true", "yes", "on", "y", "t"}

Handler = TypeVar("Handler", bound=Callable[..., Any])


def tracing_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether this process can send traces: Powertools' own rule, decided without X-Ray.

    On Lambda (``LAMBDA_TASK_ROOT``), not under SAM or Chalice local emulation, and
    not turned off with ``POWERTOOLS_TRACE_DISABLED``.
    """
    if environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in _TRUE:
        return False
    if environ.get("AWS_SAM_LOCAL") or environ.get("AWS_CHALICE_CLI_MODE"):
        return False
    return bool(environ.get("LAMBDA_TASK_ROOT"))


class Untraced:
    """The tracer where nothing is traced: Powertools' Tracer API, doing nothing.

    Decorators return the function itself (no wrapper, no cost per call); annotations
    and metadata are dropped. Code written against ``tracer`` runs unchanged on both.
    """

    def capture_lambda_handler(self, lambda_handler: Handler | None = None, **_: Any) -> Any:
        return lambda_handler if lambda_handler is not None else _identity

    def capture_method(self, method: Handler | None = None, **_: Any) -> Any:
        return method if method is not None else _identity

    def put_annotation(self, key: str, value: Any) -> None:
        """Dropped: there is no segment to annotate."""

    def put_metadata(self, key: str, value: Any, namespace: str | None = None) -> None:
        """Dropped: there is no segment to annotate."""


def _identity(function: Handler) -> Handler:
    return function


# Keys Powertools puts on every line that say nothing about the line: the log group names
# the function (Logs Insights' ``@log``), Lambda's REPORT line gives its memory, and the
# logger's sample rate is the function's setting. About 200 bytes a line as deployed,
# paid for at ingestion (the cost of a million webhooks). Record 0076.
DROPPED_KEYS = ("function_arn", "function_memory_size", "function_name", "sampling_rate")


logger = Logger(service=SERVICE, logger_formatter=JsonLines(dropped=DROPPED_KEYS))
tracer: Tracer | Untraced = (
    Tracer(service=SERVICE, patch_modules=TRACED_MODULES) if tracing_enabled() else Untraced()
)
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)


def trace_user_http_calls() -> None:
    """Trace the HTTP calls of user code too (the worker's hooks, the saga's steps), when
    this process traces at all: the functions that run no user code skip the patch."""
    if isinstance(tracer, Untraced):
        return
    from aws_xray_sdk.core import patch  # type: ignore[import-untyped]

    patch(USER_CODE_TRACED_MODULES)


__all__ = [
    "NAMESPACE",
    "SERVICE",
    "TRACED_MODULES",
    "USER_CODE_TRACED_MODULES",
    "Untraced",
    "add_metric",
    "logger",
    "metrics",
    "publish_metrics",
    "trace_user_http_calls",
    "tracer",
    "tracing_enabled",
]

_Key = tuple[tuple[str, str], ...]
# The metrics of the invocation running in this thread (None: not inside a handler).
# A context variable, not a module global: the local cloud runs handlers in threads.
_pending: ContextVar[dict[_Key, Any] | None] = ContextVar("pending_metrics", default=None)
# Powertools' limits (aws_lambda_powertools.metrics.provider.cloudwatch_emf.constants): a
# metric set of this many metrics, or a metric of this many values, is printed at once.
_MAX_METRICS = 100
_MAX_DIMENSIONS = 29


class _Blob:
    """One set of dimension values' metrics for an invocation: the EMF document Powertools'
    ``EphemeralMetrics`` prints for ``service`` and ``add_dimensions(service=..., **dims)``,
    key for key, in the same order, without building one per set per invocation (its
    constructor, with unit and resolution validation, was a fifth of a warm webhook's own
    time). Units come from the vocabulary; the resolution is always standard (60 s).
    tests/unit/test_emf_blob.py holds the two to the same documents.

    Used for dimension values that Powertools keeps as they are (non-blank text, under
    a non-blank service); anything else goes through ``EphemeralMetrics`` itself.
    """

    __slots__ = ("dimensions", "metric_set")

    def __init__(self, dimensions: dict[str, str]) -> None:
        # {} (published under [service] only) or {"service": ..., **dims}.
        self.dimensions = dimensions
        # name -> {"Unit": ..., "StorageResolution": 60, "Value": [floats]}, as Powertools.
        self.metric_set: dict[str, dict[str, Any]] = {}

    def add_metric(self, name: str, unit: MetricUnit, value: float) -> None:
        """As ``EphemeralMetrics.add_metric``: the last unit given wins."""
        if not isinstance(value, numbers.Number):
            raise MetricValueError(f"{value} is not a valid number")
        metric = self.metric_set.get(name)
        if metric is None:
            metric = self.metric_set[name] = {"Unit": unit.value, "StorageResolution": 60}
            metric["Value"] = []
        else:
            metric["Unit"] = unit.value
        metric["Value"].append(float(value))
        if len(self.metric_set) == _MAX_METRICS or len(metric["Value"]) == _MAX_METRICS:
            # As Powertools: print what there is now (its spacing), keep the dimensions.
            print(json.dumps(self.serialize_metric_set()))
            self.metric_set.clear()

    def serialize_metric_set(self) -> dict[str, Any]:
        if not self.metric_set:
            raise SchemaValidationError("Must contain at least one metric.")
        dimension_sets = [["service"]]
        if self.dimensions:
            dimension_sets.append(list(self.dimensions))
        return {
            "_aws": {
                "Timestamp": int(datetime.datetime.now().timestamp() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": NAMESPACE,
                        "Dimensions": dimension_sets,
                        "Metrics": [
                            {"Name": name, "Unit": m["Unit"]} for name, m in self.metric_set.items()
                        ],
                    }
                ],
            },
            "service": SERVICE,
            **self.dimensions,
            **{name: m["Value"] for name, m in self.metric_set.items()},
        }

    def clear_metrics(self) -> None:
        self.metric_set.clear()


def _new_blob(dimensions: dict[str, str]) -> Any:
    """The blob for one set of dimension values (``_Blob`` when Powertools would keep
    them as they are; else Powertools' own, which warns and drops the blank ones)."""
    if SERVICE.strip():
        if not dimensions:
            return _Blob({})
        values = {name: str(value) for name, value in dimensions.items()}
        kept = all(value.strip() for value in values.values()) and "service" not in values
        if kept and len(values) < _MAX_DIMENSIONS:
            return _Blob({"service": SERVICE, **values})
    blob = EphemeralMetrics(service=SERVICE, namespace=NAMESPACE)
    if dimensions:
        blob.add_dimensions(service=SERVICE, **dimensions)
    return blob


def add_metric(metric: Metric, value: float = 1, **dimensions: str) -> None:
    """Record one value of ``metric`` for this invocation, with ``dimensions`` as its breakdown.

    The unit, and the dimensions allowed, are the metric's in the vocabulary
    (``functions.metrics.DEFINITIONS``): a name or dimension it does not declare is
    logged and dropped, never published. Dimension values must come from a small,
    closed set (hook names, priorities, configured sources, rejection reasons): every
    distinct combination is a custom metric CloudWatch bills for, so never pass
    anything a caller controls. A metric must never fail the work it measures: errors
    are logged and swallowed.
    """
    pending = _pending.get()
    if pending is None:
        return
    try:
        spec = DEFINITIONS[Metric(metric)]
        undeclared = dimensions.keys() - spec.dimensions if dimensions else None
        if undeclared:
            raise ValueError(f"{metric} has no dimension {sorted(undeclared)}")
        key = tuple(dimensions.items())
        blob = pending.get(key)
        if blob is None:
            blob = pending[key] = _new_blob(dimensions)
        blob.add_metric(name=str(metric), unit=MetricUnit(spec.unit.value), value=value)
    except Exception:
        logger.warning("metric not recorded", extra={"metric": str(metric)}, exc_info=True)


def publish_metrics(handler: Handler) -> Handler:
    """Decorate a Lambda handler: buffer its metrics, print them as EMF when it returns.

    One blob per set of dimension values, whatever the handler's outcome; then the
    garbage collector resumes if the cold start paused it (functions/coldstart.py). Also
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
            resume_collection()

    return wrapper  # type: ignore[return-value]


def _flush(blobs: list[Any]) -> None:
    """Print the invocation's blobs as few EMF documents as CloudWatch allows.

    One document per blob repeated ``{"_aws":{"Timestamp":...,"CloudWatchMetrics":[...``
    and the service for each dimension set: about 200 bytes a blob, three blobs a webhook,
    paid for at log ingestion. EMF lets one document hold several directives, each naming
    its own dimension sets and metrics among the document's keys; blobs whose keys agree
    (the same dimension values, no metric named twice) share one. What CloudWatch
    publishes is unchanged.
    """
    documents: list[dict[str, Any]] = []
    for blob in blobs:
        if not blob.metric_set:
            continue
        try:
            document = blob.serialize_metric_set()
        except Exception:
            logger.warning("metrics not published", exc_info=True)
            document = None
        blob.clear_metrics()
        if document is not None:
            _pack(documents, document)
    if not documents or is_metrics_disabled():
        return
    for document in documents:
        print(json.dumps(document, separators=(",", ":")))


# What one EMF document may hold (CloudWatch's EMF specification).
_MAX_METRICS_PER_DOCUMENT = 100


def _pack(documents: list[dict[str, Any]], document: dict[str, Any]) -> None:
    """Add ``document``'s directives to the first of ``documents`` it agrees with."""
    directives = document["_aws"]["CloudWatchMetrics"]
    metric_names = {m["Name"] for d in directives for m in d["Metrics"]}
    for into in documents:
        into_directives = into["_aws"]["CloudWatchMetrics"]
        into_names = {m["Name"] for d in into_directives for m in d["Metrics"]}
        if metric_names & into_names:
            continue
        if len(metric_names) + len(into_names) > _MAX_METRICS_PER_DOCUMENT:
            continue
        shared = (set(document) & set(into)) - {"_aws"}
        if any(document[key] != into[key] for key in shared):
            continue
        into_directives.extend(directives)
        into.update({k: v for k, v in document.items() if k != "_aws"})
        return
    documents.append(document)
