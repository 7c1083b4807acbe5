"""The local cloud's check of AWS Signature Version 4, for routes that require AWS_IAM.

API Gateway authenticates a request to an IAM-authorized method before its function
runs: a missing ``Authorization`` header is ``403 Missing Authentication Token``, and
a signature that does not verify, a key it does not know, a scope for another region
or service, or a time more than 5 minutes off is ``403`` too. This module does the
same for the local cloud's known credentials (access key id -> secret): it recomputes
the signature with botocore's SigV4 signer over the request as it arrived (method,
path, query, the signed headers, the body's SHA-256) and compares.

It does not evaluate IAM policies (any known key may call any IAM route), validate
session tokens, or accept query-string (presigned) signatures.
Why: docs/decisions/0052-the-local-cloud-checks-sigv4-signatures.md
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import normalize_url_path

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "execute-api"
ACCOUNT = "123456789012"
# API Gateway refuses a signature dated more than this far from its clock.
MAX_SKEW = timedelta(minutes=5)
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*Signature=(?P<signature>[0-9a-f]{64})\s*$"
)
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service "
    "documentation for details."
)


class Refusal(Exception):
    """Why a request is not authenticated: API Gateway's response type, message and
    ``x-amzn-ErrorType``; every one is a 403."""

    def __init__(self, response_type: str, message: str, error_type: str) -> None:
        super().__init__(message)
        self.response_type = response_type
        self.message = message
        self.error_type = error_type


def _missing() -> Refusal:
    return Refusal(
        "MISSING_AUTHENTICATION_TOKEN",
        "Missing Authentication Token",
        "MissingAuthenticationTokenException",
    )


def _invalid(message: str, error_type: str = "InvalidSignatureException") -> Refusal:
    return Refusal("INVALID_SIGNATURE", message, error_type)


def verify(  # noqa: PLR0913 - keyword-only: the request's parts, then the check's settings
    *,
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]],
    body: bytes | None,
    credentials: Mapping[str, str],
    region: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The caller's identity, as API Gateway puts it in ``requestContext.identity``, if
    ``method target`` (the request line's target: path and query, as sent), ``headers``
    and ``body`` carry a valid signature by one of ``credentials``; else ``Refusal``."""
    authorization = _header(headers, "authorization")
    if authorization is None:
        raise _missing()
    parsed = _AUTHORIZATION.match(authorization)
    if parsed is None:
        raise _invalid(
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
            f"parameters, with the {ALGORITHM} algorithm.",
            "IncompleteSignatureException",
        )
    access_key, _, scope = parsed["credential"].partition("/")
    secret = credentials.get(access_key)
    if secret is None:
        raise _invalid(
            "The security token included in the request is invalid.",
            "UnrecognizedClientException",
        )
    stamp = _header(headers, "x-amz-date") or ""
    signed = parsed["signed"].split(";")
    _check_scope(scope, stamp, region)
    _check_time(stamp, now or datetime.now(UTC))
    if "host" not in signed:
        raise _invalid("'Host' must be a signed header.", "IncompleteSignatureException")
    expected = _signature(
        method=method,
        target=target,
        headers=headers,
        body=body,
        signed=signed,
        stamp=stamp,
        access_key=access_key,
        secret=secret,
        region=region,
    )
    if not hmac.compare_digest(expected, parsed["signature"]):
        raise _invalid(_MISMATCH)
    return {
        "accessKey": access_key,
        "accountId": ACCOUNT,
        "caller": access_key,
        "user": access_key,
        "userArn": f"arn:aws:iam::{ACCOUNT}:user/{access_key}",
    }


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    """A header's value (the last, as API Gateway keeps), by its name in any case."""
    values = [value for key, value in headers if key.lower() == name]
    return values[-1] if values else None


def _check_scope(scope: str, stamp: str, region: str) -> None:
    parts = scope.split("/")
    if len(parts) != 4 or parts[3] != "aws4_request":
        raise _invalid(
            "Credential should be scoped to a valid region, service and aws4_request.",
            "IncompleteSignatureException",
        )
    day, scoped_region, service, _ = parts
    if scoped_region != region:
        raise _invalid(f"Credential should be scoped to a valid region, not '{scoped_region}'.")
    if service != SERVICE:
        raise _invalid(f"Credential should be scoped to correct service: '{SERVICE}'.")
    if day != stamp[:8]:
        raise _invalid(
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
            f"date from HTTP: '{day}' != '{stamp[:8]}', from '{stamp}'."
        )


def _check_time(stamp: str, now: datetime) -> None:
    try:
        signed_at = datetime.strptime(stamp, SIGV4_TIMESTAMP).replace(tzinfo=UTC)
    except ValueError:
        raise _invalid(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
            "IncompleteSignatureException",
        ) from None
    if signed_at < now - MAX_SKEW:
        raise _invalid(f"Signature expired: {stamp} is now earlier than 5 min. ago.")
    if signed_at > now + MAX_SKEW:
        raise _invalid(f"Signature not yet current: {stamp} is still later than 5 min. ahead.")


def _signature(  # noqa: PLR0913 - the parts of one signature, as SigV4 defines them
    *,
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]],
    body: bytes | None,
    signed: list[str],
    stamp: str,
    access_key: str,
    secret: str,
    region: str,
) -> str:
    """The signature of the request over its ``signed`` headers, by botocore's signer.

    The canonical request is SigV4's: the path as sent, encoded again; the query
    normalized and sorted; each signed header with its values trimmed and joined; and
    the SHA-256 of the body itself, whatever an ``X-Amz-Content-SHA256`` header claims.
    """
    path, _, query = target.partition("?")
    request = AWSRequest(method=method.upper(), url=f"http://local/?{_normalized(query)}")
    request.context["timestamp"] = stamp
    signer = SigV4Auth(Credentials(access_key, secret), SERVICE, region)
    canonical_headers = "".join(
        f"{name}:{','.join(' '.join(v.split()) for k, v in headers if k.lower() == name)}\n"
        for name in signed
    )
    canonical = "\n".join(
        [
            method.upper(),
            quote(normalize_url_path(path or "/"), safe="/~"),
            signer.canonical_query_string(request) if query else "",
            canonical_headers,
            ";".join(signed),
            hashlib.sha256(body or b"").hexdigest(),
        ]
    )
    return signer.signature(signer.string_to_sign(request, canonical), request)


def _normalized(query: str) -> str:
    """The query with each name and value encoded as SigV4 wants (RFC 3986, ``%20``),
    whatever encoding the client sent; botocore's signer then sorts it."""
    pairs = []
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        pairs.append(f"{quote(unquote(name), safe='-_.~')}={quote(unquote(value), safe='-_.~')}")
    return "&".join(pairs)
