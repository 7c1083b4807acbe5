"""Webhook settings, read once per process from the environment the stack sets.

``WEBHOOK_SOURCES`` is a JSON object from source name (the ``{source}`` in
``POST /webhooks/{source}``) to its configuration::

    {"github": {"scheme": "github", "secret": "action-scheduler/webhooks/github"},
     "billing": {"scheme": "hmac", "secret": "...", "header": "X-Billing-Signature",
                 "encoding": "base64", "prefix": "", "dedupe_signed_body": true}}

The stack writes it from the ``webhookSources`` context in cdk.json into the functions'
asset (``functions/webhook_sources.json``), not into the environment: each source adds
about 75 bytes, and Lambda's environment stops at 4 KB. The variable, when set (tests, the
local cloud, a checkout), wins over the file; ``WEBHOOK_SOURCES_FILE`` names another file.
Why: docs/decisions/0066-settings-that-grow-leave-the-environment.md.
docs/reference/configuration.md lists every variable. A configuration error fails the
function's first request loudly rather than accepting requests it cannot verify.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from functions.settings import EnvSettings, cached, environment, setting
from functions.webhooks.schemes import (
    GenericHmac,
    GitHub,
    Scheme,
    Shopify,
    StandardWebhooks,
    Stripe,
)

SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

# The largest raw body the Lambda proxy integration can carry. A synchronous invocation
# takes at most 6 MiB of event (Lambda answers larger ones with RequestEntityTooLarge);
# the event carries the body base64-encoded (4 characters per 3 bytes) with the request's
# other fields: the headers twice (``headers`` and ``multiValueHeaders``; API Gateway caps
# the request line and headers at 10,240 bytes, and JSON escaping at most doubles them)
# and the request context, all well inside the 64 KiB left for them.
LAMBDA_EVENT_LIMIT_BYTES = 6_291_456
EVENT_OVERHEAD_BYTES = 65_536
MAX_BODY_BYTES = (LAMBDA_EVENT_LIMIT_BYTES - EVENT_OVERHEAD_BYTES) // 4 * 3  # 4,669,440


class _Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    secret: str = Field(min_length=1, description="Secrets Manager name or ARN of the secret list")
    # False: each delivery's action is unrecorded (no item in the actions table).
    # Why: docs/decisions/0071-unrecorded-actions-are-an-opt-in.md
    record: bool = Field(default=True, strict=True)

    @property
    def dedupes_body(self) -> bool:
        """Accept each signed body once, whatever delivery id comes with it? Only for
        schemes whose signature covers neither an id nor a timestamp."""
        return False


class _BodySignedSource(_Source):
    """A scheme that signs the body alone: its delivery id and event type are unsigned
    headers, so by default a body is accepted once per idempotency window
    (``dedupe_signed_body``). Why: docs/decisions/0034-dedupe-bodies-signed-alone.md
    """

    dedupe_signed_body: bool = True

    @property
    def dedupes_body(self) -> bool:
        return self.dedupe_signed_body


class StandardSource(_Source):
    scheme: Literal["standard"]
    tolerance_seconds: int = Field(default=300, ge=1, le=3600)

    def build(self) -> Scheme:
        return StandardWebhooks(tolerance_seconds=self.tolerance_seconds)


class StripeSource(_Source):
    scheme: Literal["stripe"]
    tolerance_seconds: int = Field(default=300, ge=1, le=3600)

    def build(self) -> Scheme:
        return Stripe(tolerance_seconds=self.tolerance_seconds)


class GitHubSource(_BodySignedSource):
    scheme: Literal["github"]

    def build(self) -> Scheme:
        return GitHub()


class ShopifySource(_BodySignedSource):
    scheme: Literal["shopify"]

    def build(self) -> Scheme:
        return Shopify()


class HmacSource(_BodySignedSource):
    scheme: Literal["hmac"]
    header: str = Field(default="X-Signature", pattern=r"^[A-Za-z0-9-]{1,64}$")
    encoding: Literal["hex", "base64"] = "hex"
    prefix: str = Field(default="", max_length=32)

    def build(self) -> Scheme:
        return GenericHmac(header=self.header.lower(), encoding=self.encoding, prefix=self.prefix)


SourceConfig = Annotated[
    StandardSource | StripeSource | GitHubSource | ShopifySource | HmacSource,
    Field(discriminator="scheme"),
]


@functools.cache
def _sources_adapter() -> TypeAdapter[dict[str, SourceConfig]]:
    """The validator of a sources document, built on first use rather than at import."""
    return TypeAdapter(dict[str, SourceConfig])


@dataclass(frozen=True, kw_only=True)
class WebhookSettings(EnvSettings):
    sources: dict[str, SourceConfig] = setting(
        "WEBHOOK_SOURCES",
        default_factory=dict,
        parse=lambda text: parse_sources(text),  # noqa: PLW0108 - defined further down
    )
    max_body_bytes: int = setting("WEBHOOK_MAX_BODY_BYTES", MAX_BODY_BYTES, ge=1, le=MAX_BODY_BYTES)
    secret_cache_seconds: int = setting("WEBHOOK_SECRET_CACHE_SECONDS", 300, ge=0)
    idempotency_table: str = setting("IDEMPOTENCY_TABLE_NAME", "")
    idempotency_ttl_seconds: int = setting("WEBHOOK_IDEMPOTENCY_TTL_SECONDS", 7 * 24 * 3600, ge=60)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """The environment's settings, the sources from the asset's file unless
        ``WEBHOOK_SOURCES`` is set."""
        variables = dict(environment() if environ is None else environ)
        if not variables.get("WEBHOOK_SOURCES"):
            where = sources_file(variables)
            if where.is_file():
                variables["WEBHOOK_SOURCES"] = where.read_text(encoding="utf-8")
        return super().from_env(variables)


SOURCES_FILE_NAME = "webhook_sources.json"


def sources_file(environ: Mapping[str, str]) -> Path:
    """Where the sources are when the environment does not hold them: the asset's file."""
    named = environ.get("WEBHOOK_SOURCES_FILE", "")
    return Path(named) if named else Path(__file__).resolve().parents[1] / SOURCES_FILE_NAME


def parse_sources(raw: str) -> dict[str, SourceConfig]:
    """Validate a ``WEBHOOK_SOURCES`` document; the stack calls this at synth time too."""
    sources = _sources_adapter().validate_json(raw or "{}")
    bad = [name for name in sources if not SOURCE_NAME.fullmatch(name)]
    if bad:
        raise ValueError(f"source names must match {SOURCE_NAME.pattern}: {bad}")
    return sources


settings = cached(WebhookSettings)
