"""The actions API's settings, from the environment the stack sets
(docs/reference/configuration.md lists them)."""

from __future__ import annotations

from pydantic import Field

from functions.settings import EnvSettings, cached

# How long an Idempotency-Key is remembered: a day, as Stripe keeps its keys; a client
# retries within minutes.
DEFAULT_IDEMPOTENCY_TTL_SECONDS = 24 * 3600


class ApiSettings(EnvSettings):
    idempotency_table: str = Field(default="", alias="IDEMPOTENCY_TABLE_NAME")
    idempotency_ttl_seconds: int = Field(
        default=DEFAULT_IDEMPOTENCY_TTL_SECONDS, ge=60, alias="ACTIONS_API_IDEMPOTENCY_TTL_SECONDS"
    )


settings = cached(ApiSettings)
