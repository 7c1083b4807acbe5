"""Why a webhook request was not accepted, as types that carry their HTTP answer.

The handler maps every ``WebhookRejected`` to ``{"error": code, "message": text}``
with the status code and headers below, in one place. Messages are written for
the sender's operator and never contain a secret, a signature or the payload.
"""

from __future__ import annotations


class WebhookRejected(Exception):
    """A request we answer with an error; nothing was stored or enqueued for it."""

    status_code: int = 400
    error: str = "bad_request"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class UnknownSource(WebhookRejected):
    status_code = 404
    error = "unknown_source"


class PayloadTooLarge(WebhookRejected):
    status_code = 413
    error = "payload_too_large"


class InvalidSignature(WebhookRejected):
    """Missing or wrong signature headers, or a signature no configured secret made."""

    status_code = 401
    error = "invalid_signature"


class TimestampOutOfTolerance(WebhookRejected):
    """A stale or future timestamp: a replay, or a sender whose clock is off."""

    status_code = 401
    error = "timestamp_out_of_tolerance"


class MalformedPayload(WebhookRejected):
    """Signed correctly, but not what this source sends (not JSON, no delivery id...)."""

    status_code = 400
    error = "malformed_payload"


class DeliveryConflict(WebhookRejected):
    """The delivery id was already accepted with a different body."""

    status_code = 422
    error = "delivery_conflict"


class DeliveryInProgress(WebhookRejected):
    """The same delivery is being accepted by a concurrent request right now."""

    status_code = 409
    error = "delivery_in_progress"


class SourceMisconfigured(WebhookRejected):
    """The source has no usable signing secret. Fails closed; senders retry on 5xx."""

    status_code = 500
    error = "source_misconfigured"


class ServiceUnavailable(WebhookRejected):
    """A dependency (Secrets Manager, DynamoDB, SQS) failed; the sender should retry."""

    status_code = 503
    error = "service_unavailable"
