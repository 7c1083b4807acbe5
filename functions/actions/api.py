"""The Action Scheduler API: what users and our own features call to run hooks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from functions.actions import queues
from functions.actions.envelope import Envelope, Priority
from functions.actions.exceptions import InvalidAction
from functions.observability import logger


def enqueue_async_action(
    hook: str,
    args: Any = None,
    group: str = "",
    priority: Priority = "default",
    *,
    action_id: str | None = None,
    correlation_id: str | None = None,
) -> str:
    """Run ``hook(args)`` as soon as a worker is free; return the action id.

    ``action_id`` lets a caller that may repeat itself (the webhook receiver after
    a crash) derive the id from its own idempotency key, so a repeat enqueues the
    same action rather than a new one. Invalid input raises ``InvalidAction``
    before anything is sent.
    """
    now = datetime.now(UTC)
    action_id = action_id or str(uuid.uuid4())
    try:
        envelope = Envelope(
            action_id=action_id,
            hook=hook,
            args=args,
            group=group,
            priority=priority,
            scheduled_for=now,
            enqueued_at=now,
            correlation_id=correlation_id or action_id,
        )
    except ValidationError as exc:
        raise InvalidAction(_first_error(exc)) from None
    message_id = queues.send(envelope)
    logger.info(
        "action enqueued",
        extra={"action_id": action_id, "hook": hook, "group": group, "message_id": message_id},
    )
    return action_id


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}"
