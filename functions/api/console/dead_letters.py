"""Dead letters as the console shows them, and their redrive: ``functions.actions.redrive``,
the code ``actionsctl dlq`` runs, with who asked written into each action's log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from functions.actions import queues, redrive
from functions.actions.config import queues as job_queues
from functions.api.actions import translated
from functions.api.console import listing
from functions.api.errors import ApiError, InvalidRequest

COUNT_LIMIT = 1000  # dead letters read to count the matches of a filter
DEFAULT_LIMIT, MAX_LIMIT = 50, 100
_REDRIVE_FIELDS = {"message_id", "hook", "reason", "all"}


class UnknownQueue(ApiError):
    status_code = 404
    error = "unknown_queue"


def _queue(name: str) -> str:
    if name not in job_queues():
        raise UnknownQueue(f"no job queue is named {name[:64]!r}: one of {sorted(job_queues())}")
    return name


def counts() -> dict[str, Any]:
    """Each job queue's dead-letter queue: how many it holds (one GetQueueAttributes each)."""
    found = []
    with translated():
        for name, queue in job_queues().items():
            depth = queues.depth(queue.dead_letter_url)
            found.append(
                {
                    "queue": name,
                    "dead_letter_queue": queue.dead_letter_url.rsplit("/", 1)[-1],
                    "count": depth["waiting"],
                    "in_flight": depth["in_flight"],
                }
            )
    return {"queues": found}


def messages(
    name: str, *, hook: str | None, reason: str | None, limit: int = DEFAULT_LIMIT
) -> dict[str, Any]:
    """The matching dead letters (left on the queue), and how many match (up to
    ``COUNT_LIMIT`` read): what a redrive of this filter would try to move."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidRequest(f"limit is 1..{MAX_LIMIT}")
    queue = _queue(name)
    with translated():
        found = redrive.inspect(queue, limit=COUNT_LIMIT, hook=hook, reason=reason)
    now = datetime.now(UTC)
    shown = [_letter(letter, now) for letter in found[:limit]]
    return {
        "queue": queue,
        "messages": shown,
        "matched": len(found),
        "more": len(found) >= COUNT_LIMIT,
    }


def _letter(letter: redrive.DeadLetter, now: datetime) -> dict[str, Any]:
    text, cut = (None, False) if letter.args_ref else listing.abridged(letter.args)
    return {
        "message_id": letter.message_id,
        "action_id": letter.action_id,
        "hook": letter.hook,
        "group": letter.group,
        "reason": letter.reason,
        "error": letter.error,
        "attempts": letter.attempts,
        "sent_at": letter.sent_at.isoformat() if letter.sent_at else None,
        "age_seconds": round((now - letter.sent_at).total_seconds()) if letter.sent_at else None,
        "args": text,
        "args_truncated": cut,
        "malformed": letter.malformed,
    }


def move(name: str, body: Any, username: str) -> dict[str, Any]:
    """Redrive one (``message_id``), a filtered set (``hook``, ``reason``) or ``all``."""
    queue = _queue(name)
    if not isinstance(body, dict) or not body or not set(body) <= _REDRIVE_FIELDS:
        raise InvalidRequest(
            'the body is {"message_id": id}, {"hook": h, "reason": r} (either or both) '
            'or {"all": true}'
        )
    if not all(isinstance(value, str) and value for k, value in body.items() if k != "all"):
        raise InvalidRequest("message_id, hook and reason are non-empty strings")
    if "all" in body and (body["all"] is not True or len(body) != 1):
        raise InvalidRequest('"all": true goes alone')
    if "message_id" in body and len(body) != 1:
        raise InvalidRequest("message_id goes alone")
    with translated():
        result = redrive.redrive(
            queue,
            hook=body.get("hook"),
            reason=body.get("reason"),
            message_id=body.get("message_id"),
            by=f"{username} (console)",
        )
    return {
        "moved": result.moved,
        "skipped": result.skipped,
        "failed": result.failed,
        "problems": result.problems,
    }
