"""Signing secrets from Secrets Manager, through Powertools Parameters with caching.

Each source's secret holds a JSON list of strings, newest first; any listed secret
verifies, which is how a rotation works without dropping deliveries. A value that is not a
JSON list is one secret as it stands (the stack's generated value is such a string).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError

from functions.clients import lazy_client
from functions.observability import logger
from functions.webhooks.exceptions import ServiceUnavailable, SourceMisconfigured
from functions.webhooks.schemes import Scheme

_secretsmanager = lazy_client("secretsmanager")
_MISSING = {"ResourceNotFoundException", "AccessDeniedException", "DecryptionFailure"}


@functools.cache
def _provider() -> SecretsProvider:
    return SecretsProvider(boto3_client=_secretsmanager())


def reset_cache() -> None:
    """Drop cached secrets and the provider (tests, and after a rotation in the local cloud)."""
    _provider.cache_clear()


def signing_keys(source: str, secret_name: str, scheme: Scheme, max_age: int) -> Sequence[bytes]:
    """The HMAC keys of a source, decoded for its scheme. Never empty: fails closed."""
    try:
        value = _provider().get(secret_name, max_age=max_age)
    except GetParameterError as exc:
        cause = exc.__context__
        code = cause.response["Error"]["Code"] if isinstance(cause, ClientError) else ""
        logger.error("signing secret unavailable", extra={"source": source, "error_code": code})
        if code in _MISSING:
            raise SourceMisconfigured(
                f"the signing secret of source {source!r} cannot be read"
            ) from None
        raise ServiceUnavailable("the signing secrets cannot be read right now; retry") from None

    keys: list[bytes] = []
    for index, secret in enumerate(_secret_list(value)):
        try:
            if not isinstance(secret, str) or not secret.strip():
                raise ValueError("not a non-blank string")
            keys.append(scheme.decode_secret(secret))
        except ValueError:
            # The position only: the value itself must never reach a log line.
            logger.error("unusable signing secret", extra={"source": source, "position": index})
    if not keys:
        raise SourceMisconfigured(f"source {source!r} has no usable signing secret")
    return keys


def _secret_list(value: str | bytes | dict[Any, Any] | None) -> list[object]:
    """A JSON list as it is; a JSON string as one secret; a JSON object (a key/value
    secret from the console) as nothing usable; any other text as one secret."""
    if isinstance(value, dict):  # the provider's type allows it; only a transform makes one
        return []
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value or ""
    try:
        parsed = json.loads(text)
    except ValueError:
        return [text]
    if isinstance(parsed, list):
        return parsed
    if isinstance(parsed, str):
        return [parsed]
    return [] if isinstance(parsed, dict) else [text]
