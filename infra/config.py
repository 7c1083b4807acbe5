"""Deployment settings, read from CDK context (cdk.json, or ``-c key=value``).

Every key is optional; the defaults below are what cdk.json documents. The
webhook sources are validated with the same model the function uses, so a typo
fails ``cdk synth`` instead of the first webhook.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.webhooks.config import parse_sources

DEFAULT_SOURCES: dict[str, dict[str, Any]] = {
    "github": {"scheme": "github"},
    "stripe": {"scheme": "stripe"},
    "shopify": {"scheme": "shopify"},
    "standard": {"scheme": "standard"},
    "hmac": {"scheme": "hmac", "header": "X-Signature", "encoding": "hex"},
}

_RETENTION_DAYS = {
    "ONE_DAY": 1, "THREE_DAYS": 3, "FIVE_DAYS": 5, "ONE_WEEK": 7, "TWO_WEEKS": 14,
    "ONE_MONTH": 30, "TWO_MONTHS": 60, "THREE_MONTHS": 90, "SIX_MONTHS": 180,
    "ONE_YEAR": 365, "THIRTEEN_MONTHS": 400, "EIGHTEEN_MONTHS": 545, "TWO_YEARS": 731,
    "FIVE_YEARS": 1827, "TEN_YEARS": 3653,
}  # fmt: skip


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

    @property
    def log_retention(self) -> logs.RetentionDays:
        for retention in logs.RetentionDays:
            if _RETENTION_DAYS.get(retention.value) == self.log_retention_days:
                return retention
        raise ValueError(f"logRetentionDays must be one of {sorted(_RETENTION_DAYS.values())}")

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
        )
        config.log_retention  # noqa: B018 - validates logRetentionDays at synth
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
