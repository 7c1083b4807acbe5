"""A hook with its retry policy, and how it tells transient from permanent errors.

Docs: Guides, Writing hooks. tests/unit/test_docs_examples.py runs it.
"""

# --8<-- [start:hook]
# functions/hooks/billing.py, or a module of your own hook package
from __future__ import annotations

from typing import Any

from functions.actions import ActionContext, PermanentError, TransientError, hook


@hook(
    "charge_subscription",
    max_attempts=5,
    base_delay=10,
    max_delay=600,
    priority="high",
    unique_by="args",
)
def charge_subscription(args: dict[str, Any], action: ActionContext) -> None:
    if "customer" not in args:
        raise PermanentError("no customer")  # retrying cannot help: dead letters now
    response = call_the_provider(args)  # any exception here is retried
    if response.status == 503:
        raise TransientError("provider busy", delay=30)  # waits 30 s instead of the backoff, once


# --8<-- [end:hook]


class Response:
    def __init__(self, status: int) -> None:
        self.status = status


def call_the_provider(args: dict[str, Any]) -> Response:
    """Stands in for a payment provider's client: busy when asked to be."""
    return Response(status=503 if args.get("busy") else 200)
