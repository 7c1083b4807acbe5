"""Deployment settings, read from CDK context (cdk.json, or ``-c key=value``).

Every key is optional; the defaults below are what cdk.json documents. The
webhook sources are validated with the same model the function uses, so a typo
fails ``cdk synth`` instead of the first webhook.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from functions.webhooks.config import parse_sources

if TYPE_CHECKING:  # importing CDK starts a node process: keep it out of the local cloud
    from constructs import Construct

DEFAULT_SOURCES: dict[str, dict[str, Any]] = {
    "github": {"scheme": "github"},
    "stripe": {"scheme": "stripe"},
    "shopify": {"scheme": "shopify"},
    "standard": {"scheme": "standard"},
    "hmac": {"scheme": "hmac", "header": "X-Signature", "encoding": "hex"},
}


# What CloudWatch Logs accepts as a retention, in days.
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 3653)


@dataclass(frozen=True)
class DeploymentConfig:
    webhook_sources: dict[str, dict[str, Any]] = field(default_factory=lambda: DEFAULT_SOURCES)
    webhook_max_body_bytes: int = 196_608
    webhook_idempotency_ttl_seconds: int = 7 * 24 * 3600
    webhook_secret_cache_seconds: int = 300
    api_throttle_rate_limit: int = 100
    api_throttle_burst_limit: int = 200
    log_retention_days: int = 30
    metrics_namespace: str = "ActionScheduler"
    worker_memory_mb: int = 512
    worker_concurrency: dict[str, int] = field(
        default_factory=lambda: {"high": 20, "default": 10, "low": 2, "fifo": 5}
    )
    circuit_failure_threshold: int = 5
    circuit_window_seconds: int = 60
    circuit_cooldown_seconds: int = 30

    @classmethod
    def from_context(cls, scope: Construct) -> DeploymentConfig:
        def get(key: str, default: Any) -> Any:
            value = scope.node.try_get_context(key)
            if value is None:
                return default
            # Values given with -c on the command line arrive as strings.
            if isinstance(default, int) and isinstance(value, str):
                return int(value)
            if isinstance(default, dict) and isinstance(value, str):
                return json.loads(value)
            return value

        defaults = cls()
        config = cls(
            webhook_sources=get("webhookSources", defaults.webhook_sources),
            webhook_max_body_bytes=get("webhookMaxBodyBytes", defaults.webhook_max_body_bytes),
            webhook_idempotency_ttl_seconds=get(
                "webhookIdempotencyTtlSeconds", defaults.webhook_idempotency_ttl_seconds
            ),
            webhook_secret_cache_seconds=get(
                "webhookSecretCacheSeconds", defaults.webhook_secret_cache_seconds
            ),
            api_throttle_rate_limit=get("apiThrottleRateLimit", defaults.api_throttle_rate_limit),
            api_throttle_burst_limit=get(
                "apiThrottleBurstLimit", defaults.api_throttle_burst_limit
            ),
            log_retention_days=get("logRetentionDays", defaults.log_retention_days),
            metrics_namespace=get("metricsNamespace", defaults.metrics_namespace),
            worker_memory_mb=get("workerMemoryMb", defaults.worker_memory_mb),
            worker_concurrency={
                **defaults.worker_concurrency,
                **get("workerConcurrency", defaults.worker_concurrency),
            },
            circuit_failure_threshold=get(
                "circuitFailureThreshold", defaults.circuit_failure_threshold
            ),
            circuit_window_seconds=get("circuitWindowSeconds", defaults.circuit_window_seconds),
            circuit_cooldown_seconds=get(
                "circuitCooldownSeconds", defaults.circuit_cooldown_seconds
            ),
        )
        bad = {q: n for q, n in config.worker_concurrency.items() if not 2 <= int(n) <= 1000}
        if bad or set(config.worker_concurrency) != {"high", "default", "low", "fifo"}:
            raise ValueError(
                "workerConcurrency needs high, default, low and fifo, each 2..1000 "
                f"(Lambda's limits for an SQS mapping): {config.worker_concurrency}"
            )
        if config.log_retention_days not in RETENTION_DAYS:
            raise ValueError(f"logRetentionDays must be one of {RETENTION_DAYS}")
        # The secret is filled in by the stack when a source does not name one.
        parse_sources(
            json.dumps(
                {
                    name: {"secret": "placeholder", **spec}
                    for name, spec in config.webhook_sources.items()
                }
            )
        )
        return config
