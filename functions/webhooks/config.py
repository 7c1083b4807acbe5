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

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Literal, Self, TypeAlias

from functions.settings import (
    FALSE_WORDS,
    TRUE_WORDS,
    EnvSettings,
    cached,
    environment,
    setting,
)
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


class InvalidSources(ValueError):
    """A sources document the receiver cannot use (``WEBHOOK_SOURCES``; ``webhookSources``
    at synth). The message names each source and option at fault, one problem after
    another: ``github.tolerance_seconds: not an option of the github scheme (...)``."""


# --- the options' checks ------------------------------------------------------------------
# Plain dataclasses checked by hand, not pydantic: the receiver reads its sources on its
# first request, and pydantic's import was the largest cost of a cold start above the
# floor (docs/decisions/0073-the-functions-hot-path-is-pydantic-free.md). Each option has
# a ``check`` (its type and bounds, at every construction) and may have a ``coerce`` for
# what a JSON document may spell otherwise (300.0 or "300" for 300; "yes" for true).

HEADER_NAME = re.compile(r"[A-Za-z0-9-]{1,64}")
MIN_TOLERANCE_SECONDS, MAX_TOLERANCE_SECONDS = 1, 3600
MAX_PREFIX_LENGTH = 32
ENCODINGS = ("hex", "base64")
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.0*)?")


def _shown(value: object) -> str:
    """A value as the document spells it (JSON), cut short, for a message."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _secret(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(
            f"must be a secret's name or ARN (a non-empty string), not {_shown(value)}"
        )
    return value


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, not {_shown(value)}")
    return value


def _boolean_words(value: object) -> object:
    """1 and 0, and the words "yes", "no", "on", "off", "t", "f"... (any case), as booleans."""
    if isinstance(value, str) and value.lower() in TRUE_WORDS | FALSE_WORDS:
        return value.lower() in TRUE_WORDS
    if isinstance(value, int | float) and not isinstance(value, bool) and value in (0, 1):
        return bool(value)
    return value


def _whole_number(value: object) -> object:
    """300.0 and "300" (or " 300.0 ") as 300; a boolean is not a number."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        return int(value.strip().split(".")[0])
    return value


def _tolerance(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"must be a whole number of seconds, not {_shown(value)}")
    if value < MIN_TOLERANCE_SECONDS:
        raise ValueError(f"must be at least {MIN_TOLERANCE_SECONDS}, not {value}")
    if value > MAX_TOLERANCE_SECONDS:
        raise ValueError(f"must be at most {MAX_TOLERANCE_SECONDS}, not {value}")
    return value


def _header(value: object) -> str:
    if not isinstance(value, str) or not HEADER_NAME.fullmatch(value):
        raise ValueError(
            f"must be a header name of 1 to 64 letters, digits and '-', not {_shown(value)}"
        )
    return value


def _encoding(value: object) -> str:
    if not isinstance(value, str) or value not in ENCODINGS:
        raise ValueError(f'must be "hex" or "base64", not {_shown(value)}')
    return value


def _prefix(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_PREFIX_LENGTH:
        raise ValueError(
            f"must be a string of at most {MAX_PREFIX_LENGTH} characters, not {_shown(value)}"
        )
    return value


def option(
    default: Any = MISSING,
    *,
    check: Callable[[object], Any],
    coerce: Callable[[object], object] | None = None,
) -> Any:
    """A source's option: its default, its ``check`` (raising ``ValueError`` with what it
    must be) and the ``coerce`` of a document's other spellings of it."""
    return field(default=default, metadata={"check": check, "coerce": coerce})


# --- the sources --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Source:
    scheme: ClassVar[str]

    secret: str = option(check=_secret)  # Secrets Manager name or ARN of the secret list
    # False: each delivery's action is unrecorded (no item in the actions table).
    # Why: docs/decisions/0071-unrecorded-actions-are-an-opt-in.md
    record: bool = option(True, check=_boolean)

    def __post_init__(self) -> None:
        for item in fields(self):
            try:
                item.metadata["check"](getattr(self, item.name))
            except ValueError as exc:
                raise InvalidSources(f"{item.name}: {exc}") from None

    @property
    def dedupes_body(self) -> bool:
        """Accept each signed body once, whatever delivery id comes with it? Only for
        schemes whose signature covers neither an id nor a timestamp."""
        return False

    def options(self) -> dict[str, Any]:
        """The scheme and its options: everything but the secret's name."""
        kept = {item.name: getattr(self, item.name) for item in fields(self)}
        del kept["secret"]
        return {"scheme": self.scheme, **kept}


@dataclass(frozen=True, kw_only=True)
class _BodySignedSource(_Source):
    """A scheme that signs the body alone: its delivery id and event type are unsigned
    headers, so by default a body is accepted once per idempotency window
    (``dedupe_signed_body``). Why: docs/decisions/0034-dedupe-bodies-signed-alone.md
    """

    dedupe_signed_body: bool = option(True, check=_boolean, coerce=_boolean_words)

    @property
    def dedupes_body(self) -> bool:
        return self.dedupe_signed_body


@dataclass(frozen=True, kw_only=True)
class StandardSource(_Source):
    scheme: ClassVar[Literal["standard"]] = "standard"
    tolerance_seconds: int = option(300, check=_tolerance, coerce=_whole_number)

    def build(self) -> Scheme:
        return StandardWebhooks(tolerance_seconds=self.tolerance_seconds)


@dataclass(frozen=True, kw_only=True)
class StripeSource(_Source):
    scheme: ClassVar[Literal["stripe"]] = "stripe"
    tolerance_seconds: int = option(300, check=_tolerance, coerce=_whole_number)

    def build(self) -> Scheme:
        return Stripe(tolerance_seconds=self.tolerance_seconds)


@dataclass(frozen=True, kw_only=True)
class GitHubSource(_BodySignedSource):
    scheme: ClassVar[Literal["github"]] = "github"

    def build(self) -> Scheme:
        return GitHub()


@dataclass(frozen=True, kw_only=True)
class ShopifySource(_BodySignedSource):
    scheme: ClassVar[Literal["shopify"]] = "shopify"

    def build(self) -> Scheme:
        return Shopify()


@dataclass(frozen=True, kw_only=True)
class HmacSource(_BodySignedSource):
    scheme: ClassVar[Literal["hmac"]] = "hmac"
    header: str = option("X-Signature", check=_header)
    encoding: Literal["hex", "base64"] = option("hex", check=_encoding)
    prefix: str = option("", check=_prefix)

    def build(self) -> Scheme:
        return GenericHmac(header=self.header.lower(), encoding=self.encoding, prefix=self.prefix)


SourceConfig: TypeAlias = StandardSource | StripeSource | GitHubSource | ShopifySource | HmacSource
"""A source's configuration, one class per scheme (its ``scheme`` tells them apart)."""

SCHEMES: dict[str, type[SourceConfig]] = {
    kind.scheme: kind
    for kind in (StandardSource, StripeSource, GitHubSource, ShopifySource, HmacSource)
}


def parse_sources(raw: str) -> dict[str, SourceConfig]:
    """Validate a ``WEBHOOK_SOURCES`` document; the stack calls this at synth time too.

    Raises ``InvalidSources`` naming every source and option at fault.
    """
    try:
        document = json.loads(raw or "{}")
    except ValueError as exc:
        raise InvalidSources(f"the sources are not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidSources(
            "the sources must be a JSON object from source name to its scheme and options, "
            f"not {_shown(document)}"
        )
    problems: list[str] = []
    sources: dict[str, SourceConfig] = {}
    for name, spec in document.items():
        source = _source(name, spec, problems)
        if source is not None:
            sources[name] = source
    if problems:
        raise InvalidSources("; ".join(problems))
    bad = [name for name in sources if not SOURCE_NAME.fullmatch(name)]
    if bad:
        raise InvalidSources(f"source names must match {SOURCE_NAME.pattern}: {bad}")
    return sources


def _source(name: str, spec: object, problems: list[str]) -> SourceConfig | None:
    """One source of the document, or None with what is wrong with it added to ``problems``."""
    if not isinstance(spec, dict):
        problems.append(
            f"{name}: must be an object of a scheme and its options, not {_shown(spec)}"
        )
        return None
    scheme = spec.get("scheme")
    kind = SCHEMES.get(scheme) if isinstance(scheme, str) else None
    if kind is None:
        given = f"not {_shown(scheme)}" if "scheme" in spec else "none given"
        problems.append(f"{name}.scheme: must be one of {', '.join(SCHEMES)}, {given}")
        return None
    found = len(problems)
    options = {item.name: item for item in fields(kind)}
    values: dict[str, Any] = {}
    for item in options.values():
        if item.name not in spec:
            if item.default is MISSING:
                problems.append(f"{name}.{item.name}: required")
            continue
        coerce = item.metadata["coerce"]
        try:
            value = spec[item.name] if coerce is None else coerce(spec[item.name])
            values[item.name] = item.metadata["check"](value)
        except ValueError as exc:
            problems.append(f"{name}.{item.name}: {exc}")
    problems.extend(
        f"{name}.{key}: not an option of the {scheme} scheme (its options: {', '.join(options)})"
        for key in spec
        if key != "scheme" and key not in options
    )
    return kind(**values) if len(problems) == found else None


@dataclass(frozen=True, kw_only=True)
class WebhookSettings(EnvSettings):
    sources: dict[str, SourceConfig] = setting(
        "WEBHOOK_SOURCES", default_factory=dict, parse=parse_sources
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


settings = cached(WebhookSettings)
