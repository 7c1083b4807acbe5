"""The actions API's settings, from the environment the stack sets
(docs/reference/configuration.md lists them)."""

from __future__ import annotations

from dataclasses import dataclass

from functions.settings import EnvSettings, cached, setting

# How long an Idempotency-Key is remembered: a day, as Stripe keeps its keys; a client
# retries within minutes.
DEFAULT_IDEMPOTENCY_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True, kw_only=True)
class ApiSettings(EnvSettings):
    idempotency_table: str = setting("IDEMPOTENCY_TABLE_NAME", "")
    idempotency_ttl_seconds: int = setting(
        "ACTIONS_API_IDEMPOTENCY_TTL_SECONDS", DEFAULT_IDEMPOTENCY_TTL_SECONDS, ge=60
    )


settings = cached(ApiSettings)
