"""``process_webhook``: what the receiver queues for every accepted delivery.

Dispatches by source and event type to a small handler; unknown events complete
without work (senders send many event types; subscribe to fewer to save runs). What a
handler returns is the action's result (its log keeps it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from functions.actions.exceptions import PermanentError
from functions.actions.hooks import ActionContext, hook
from functions.observability import logger

EventHandler = Callable[[dict[str, Any], ActionContext], object]
_HANDLERS: dict[tuple[str, str], EventHandler] = {}


def on(source: str, event_type: str) -> Callable[[EventHandler], EventHandler]:
    """Register the decorated function for deliveries of ``source`` with ``event_type``.

    The handler receives the payload, which every scheme signs. The event type is
    signed only for Standard Webhooks and Stripe (the payload's ``type``); for GitHub,
    Shopify and HMAC sources it is an unsigned header, a routing hint: a handler checks
    the payload is the kind it expects before acting on it (docs/guides/webhooks.md, "What a handler
    may trust").
    """

    def register(handler: EventHandler) -> EventHandler:
        _HANDLERS[(source, event_type)] = handler
        return handler

    return register


@on("github", "push")
def github_push(payload: dict[str, Any], action: ActionContext) -> None:
    # X-GitHub-Event is not signed: act only on what a push payload has.
    if "ref" not in payload or not isinstance(payload.get("commits"), list):
        logger.warning("not a push payload; ignored")
        return
    commits = payload["commits"]
    logger.info(
        "github push",
        extra={"ref": payload.get("ref"), "commits": len(commits)},
    )


@on("stripe", "payment_intent.succeeded")
def stripe_payment(payload: dict[str, Any], action: ActionContext) -> None:
    intent = (payload.get("data") or {}).get("object") or {}
    logger.info("stripe payment", extra={"payment_intent": intent.get("id")})


# A webhook's action is listed once its run ends or waits: its index entries are written
# once, not moved at the claim and again at completion.
# Why: docs/decisions/0056-actions-to-run-now-are-listed-when-their-run-ends.md
@hook("process_webhook", max_attempts=5, base_delay=5, max_delay=900, listed_while_queued=False)
def process_webhook(args: Any, action: ActionContext) -> object:
    if not isinstance(args, dict) or "source" not in args:
        raise PermanentError("process_webhook needs the receiver's args")
    handler = _HANDLERS.get((args["source"], args.get("event_type", "")))
    if handler is None:
        logger.info("no handler for this event; done", extra={"event_type": args.get("event_type")})
        return None
    return handler(args.get("payload") or {}, action)
