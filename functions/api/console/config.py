"""The console API's settings, from the environment the stack sets.

``CONSOLE_LOG_GROUPS`` (a JSON list of the functions' log group names, for the
Logs Insights link; empty locally), ``ORDER_SAGA_ARN`` (the sagas listed),
``POWERTOOLS_METRICS_NAMESPACE`` (where the metrics the charts read are),
``CONSOLE_TALLY_SECONDS`` (how old the tab counts may be before a view counts again),
``CONSOLE_WEBHOOK_SOURCES`` (a JSON object, source name -> scheme: what the webhooks
screen lists), or without it each source's scheme from the webhook sources document the
receiver reads (the functions' asset: it grows with the sources, so it is not in the
environment); never a secret, which this function has no business reading.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from functions.settings import EnvSettings, cached, setting


def _names(text: str) -> list[str]:
    raw = json.loads(text)
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        raise ValueError("a JSON list of log group names")
    return raw


def _schemes(text: str) -> dict[str, str]:
    raw = json.loads(text)
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ValueError("a JSON object, source name -> scheme")
    return raw


@dataclass(frozen=True, kw_only=True)
class ConsoleSettings(EnvSettings):
    log_groups: list[str] = setting("CONSOLE_LOG_GROUPS", default_factory=list, parse=_names)
    order_saga_arn: str = setting("ORDER_SAGA_ARN", "")
    namespace: str = setting("POWERTOOLS_METRICS_NAMESPACE", "ActionScheduler")
    tally_seconds: int = setting("CONSOLE_TALLY_SECONDS", 60, ge=5)
    region: str = setting("AWS_REGION", "")
    webhook_schemes: dict[str, str] = setting(
        "CONSOLE_WEBHOOK_SOURCES", default_factory=dict, parse=_schemes
    )

    @property
    def schemes(self) -> dict[str, str]:
        """Source name -> scheme, for the webhooks screen."""
        if self.webhook_schemes:
            return self.webhook_schemes
        from functions.webhooks.config import settings as webhook_settings

        return {name: source.scheme for name, source in webhook_settings().sources.items()}

    @property
    def aws_region(self) -> str:
        return self.region or os.environ.get("AWS_DEFAULT_REGION", "")

    @property
    def log_group_names(self) -> list[str]:
        return [name for name in self.log_groups if name]


settings = cached(ConsoleSettings)
