"""The payload bucket: put args in, load them back. This module owns the S3 client.

An object is written once and never changed: its key ends with the SHA-256 of its bytes,
so a repeated put (a sender's retry, a crash before the action was written) writes the
same bytes under the same key. Nothing here deletes: every object expires by the
bucket's lifecycle, after a lifetime chosen when it is written (``lifetime_days``).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from botocore.exceptions import ClientError

from functions.clients import lazy_client
from functions.payloads.config import settings
from functions.payloads.ref import PayloadRef

_s3 = lazy_client("s3")

# How long an object outlives its action's first run: the longest retention of a finished
# action's item (93 days, failed: functions/actions/store/record.py, a test checks) and
# two days for the run's retries and deferrals.
RETAINED_DAYS = 93
RUN_MARGIN_DAYS = 2
# The bucket's lifecycle rules: objects under ``d<N>/`` expire N days after they are
# written. Each object gets the smallest that covers its action's wait and the above (an
# action due within 5 days: 100); a recurring action, the longest.
LIFETIME_DAYS = (100, 400, 1600, 6400)
CONTENT_TYPE = "application/json"


class PayloadUnavailable(Exception):
    """The payload cannot be stored or loaded: no bucket configured, or the object is
    gone (expired, deleted) or not what its reference says. Never worth a retry."""


def lifetime_days(due_in_seconds: float | None) -> int:
    """The lifecycle class of args whose action first runs in ``due_in_seconds``
    (None: a recurring action, which runs until it is canceled)."""
    if due_in_seconds is None:
        return LIFETIME_DAYS[-1]
    wait_days = max(0.0, due_in_seconds) / 86_400
    for days in LIFETIME_DAYS:
        if wait_days + RETAINED_DAYS + RUN_MARGIN_DAYS <= days:
            return days
    raise PayloadUnavailable(
        f"an action due in {wait_days:.0f} days cannot keep large args: payloads are kept at "
        f"most {LIFETIME_DAYS[-1]} days"
    )


def bucket() -> str:
    name = settings().bucket
    if not name:
        raise PayloadUnavailable(
            "args above the inline threshold are kept in the payload bucket, and "
            "PAYLOAD_BUCKET_NAME is not set"
        )
    return name


def inline_bytes() -> int:
    """The largest serialized args that stay inline (``PAYLOAD_INLINE_BYTES``)."""
    return settings().inline_bytes


def put(data: bytes, *, name: str, args_hash: str, lifetime: int) -> PayloadRef:
    """Write ``data`` (serialized args) for the action ``name``; return its reference.

    One PutObject. The bucket encrypts it with its default key (SSE-KMS, bucket key).
    """
    if lifetime not in LIFETIME_DAYS:
        raise ValueError(f"lifetime is one of {LIFETIME_DAYS}")
    digest = hashlib.sha256(data).hexdigest()
    folder = re.sub(r"[^A-Za-z0-9._@-]", "_", name)[:128] or "_"
    ref = PayloadRef(key=f"d{lifetime}/{folder}/{digest}.json", size=len(data), args_hash=args_hash)
    _s3().put_object(Bucket=bucket(), Key=ref.key, Body=data, ContentType=CONTENT_TYPE)
    return ref


def load(ref: PayloadRef) -> Any:
    """The args a reference names (one GetObject), checked against its digest.

    ``PayloadUnavailable`` when the object is gone or altered; other AWS errors are
    raised as they are (a throttle or an outage: worth a retry).
    """
    try:
        data = _s3().get_object(Bucket=bucket(), Key=ref.key)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "AccessDenied"}:
            raise PayloadUnavailable(
                f"the payload {ref.key} is gone (expired after its lifetime, or deleted) "
                "or not readable by this function"
            ) from None
        raise
    if hashlib.sha256(data).hexdigest() != ref.sha256:
        raise PayloadUnavailable(f"the payload {ref.key} does not match its digest")
    return json.loads(data)


def exists(ref: PayloadRef) -> bool:
    """Is the object still there (one HeadObject, which GetObject's permission allows)?"""
    try:
        _s3().head_object(Bucket=bucket(), Key=ref.key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "403"}:
            return False
        raise
    return True
