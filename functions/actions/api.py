"""The Action Scheduler API: what users and our own features call to run hooks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from functions.actions import hooks, queues, store
from functions.actions.envelope import Envelope, Priority
from functions.actions.exceptions import InvalidAction
from functions.observability import logger


def enqueue_async_action(
    hook: str,
    args: Any = None,
    group: str = "",
    unique: bool = False,
    priority: Priority | None = None,
    *,
    action_id: str | None = None,
    correlation_id: str | None = None,
) -> str:
    """Run ``hook(args)`` as soon as a worker is free; return the action id.

    ``priority`` overrides the hook's own. ``unique=True`` refuses (``DuplicateAction``)
    a second pending or running action with the same hook, args and group, atomically.
    ``action_id`` lets a caller that may repeat itself (the webhook receiver after a
    crash) derive the id from its own idempotency key: a repeat then sends the same
    action again, which the worker runs once. Invalid input raises ``InvalidAction``
    before anything is written.
    """
    spec = hooks.get(hook)
    now = datetime.now(UTC)
    action_id = action_id or str(uuid.uuid4())
    try:
        envelope = Envelope(
            action_id=action_id,
            hook=hook,
            args=args,
            group=group,
            priority=priority or spec.priority,
            max_attempts=spec.max_attempts,
            scheduled_for=now,
            enqueued_at=now,
            correlation_id=correlation_id or action_id,
        )
    except ValidationError as exc:
        raise InvalidAction(_first_error(exc)) from None
    queue = "fifo" if spec.ordered else envelope.priority
    envelope.to_message()  # refuses an oversized envelope before anything is written
    created = store.create(envelope, unique=unique)
    try:
        message_id = queues.send(envelope, queue)
    except (ClientError, BotoCoreError, InvalidAction):
        if created:
            store.discard(action_id)
        raise
    logger.info(
        "action enqueued",
        extra={
            "action_id": action_id,
            "hook": hook,
            "group": group,
            "queue": queue,
            "message_id": message_id,
            "repeat": not created,
        },
    )
    return action_id


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}"
