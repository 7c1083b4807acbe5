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
from typing import Any

from pydantic import Field, field_validator

from functions.settings import EnvSettings, cached


class ConsoleSettings(EnvSettings):
    log_groups: list[str] = Field(default_factory=list, alias="CONSOLE_LOG_GROUPS")
    order_saga_arn: str = Field(default="", alias="ORDER_SAGA_ARN")
    namespace: str = Field(default="ActionScheduler", alias="POWERTOOLS_METRICS_NAMESPACE")
    tally_seconds: int = Field(default=60, ge=5, alias="CONSOLE_TALLY_SECONDS")
    region: str = Field(default="", alias="AWS_REGION")
    webhook_schemes: dict[str, str] = Field(default_factory=dict, alias="CONSOLE_WEBHOOK_SOURCES")

    @field_validator("webhook_schemes", "log_groups", mode="before")
    @classmethod
    def _json(cls, raw: Any) -> Any:
        return json.loads(raw) if isinstance(raw, str) else raw

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
