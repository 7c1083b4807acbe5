"""The payload bucket's settings, from the environment the stack sets
(docs/reference/configuration.md lists them).

``PAYLOAD_BUCKET_NAME`` names the bucket; ``PAYLOAD_INLINE_BYTES`` is the largest
serialized args kept inline in the envelope and the action item (above it they go to
the bucket).
"""

from __future__ import annotations

from dataclasses import dataclass

from functions.settings import EnvSettings, cached, setting

# Args up to this size (serialized, UTF-8) stay inline: every envelope then fits one
# 64 KiB SQS billing chunk, and a typical webhook body needs no S3 request.
DEFAULT_INLINE_BYTES = 32_768
# Inline args must leave room in the envelope (SQS: 256 KiB) and the item (DynamoDB:
# 400 KB, with its log of up to 50 entries): the threshold can be lowered, not raised
# past this.
MAX_INLINE_BYTES = 131_072


@dataclass(frozen=True, kw_only=True)
class PayloadSettings(EnvSettings):
    bucket: str = setting("PAYLOAD_BUCKET_NAME", "")
    inline_bytes: int = setting(
        "PAYLOAD_INLINE_BYTES", DEFAULT_INLINE_BYTES, ge=0, le=MAX_INLINE_BYTES
    )


settings = cached(PayloadSettings)
