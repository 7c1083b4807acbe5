"""Receipts: formats an order's total with this package's own dependency (humanize)."""

from __future__ import annotations

from typing import Any

import humanize

from functions.actions import PermanentError
from functions.actions.hooks import ActionContext, hook


@hook("shop_send_receipt", max_attempts=3, priority="high")
def send_receipt(args: Any, action: ActionContext) -> dict[str, str]:
    """What a receipt would say; the action's result keeps it."""
    if not isinstance(args, dict) or not isinstance(args.get("cents"), int):
        raise PermanentError("shop_send_receipt needs {'order': ..., 'cents': <int>}")
    dollars, cents = divmod(args["cents"], 100)
    return {
        "order": str(args.get("order", "")),
        "total": f"${humanize.intcomma(dollars)}.{cents:02d}",
    }
