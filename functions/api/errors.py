"""Why the actions API did not do what it was asked, as types that carry their HTTP answer.

``routes`` maps every ``ApiError`` to ``{"error": code, "message": text}`` (plus the
error's ``extra`` fields) with its status and headers, in one place; the codes are
listed in the OpenAPI document (events/openapi.json) and the decision record.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A request answered with an error. Nothing was written for it, unless a subclass
    says otherwise."""

    status_code: int = 400
    error: str = "invalid_request"

    def __init__(
        self,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "message": self.message, **self.extra}


class InvalidRequest(ApiError):
    """Not JSON, an unknown field, a wrong type, or what ``functions.actions`` refuses."""


class PayloadTooLarge(ApiError):
    """The args are over what an action takes (``ActionTooLarge``)."""

    status_code = 413
    error = "payload_too_large"


class UnknownHook(ApiError):
    """No hook of this name is registered with the stack's functions."""

    status_code = 404
    error = "unknown_hook"


class UnknownAction(ApiError):
    """No action has this id (or it has expired: its retention is over)."""

    status_code = 404
    error = "unknown_action"


class DuplicateAction(ApiError):
    """``unique``: a matching action is pending or running (``extra``: its ``action_id``)."""

    status_code = 409
    error = "duplicate_action"


class NotCancelable(ApiError):
    """Only a pending action can be canceled (``extra``: its ``status``)."""

    status_code = 409
    error = "not_cancelable"


class NotRunnable(ApiError):
    """Only a pending one-off action can be run now (``extra``: its ``status``)."""

    status_code = 409
    error = "not_runnable"


class RequestInProgress(ApiError):
    """A request with the same ``Idempotency-Key`` is being answered right now."""

    status_code = 409
    error = "request_in_progress"


class IdempotencyKeyConflict(ApiError):
    """The ``Idempotency-Key`` was used before with another body."""

    status_code = 422
    error = "idempotency_key_conflict"


class Unauthenticated(ApiError):
    """The request reached the function without the caller API Gateway vouches for: the
    route is misconfigured (no authorizer). Fails closed."""

    status_code = 403
    error = "unauthenticated"


class ServiceUnavailable(ApiError):
    """DynamoDB, SQS, S3 or EventBridge Scheduler failed; the caller should retry (with
    the same ``Idempotency-Key``, which then answers the first result or creates one)."""

    status_code = 503
    error = "service_unavailable"
