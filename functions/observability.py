"""Logger, Tracer and Metrics singletons shared by every module of a function.

The stack sets POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE per
function; the defaults keep the CLI, the local cloud and tests working without them.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "action-scheduler")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ActionScheduler")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)
