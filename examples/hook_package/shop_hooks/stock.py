"""Stock: a low-priority hook, run one at a time per product (its group)."""

from __future__ import annotations

from typing import Any

from functions.actions.hooks import ActionContext, hook


@hook("shop_reorder_stock", priority="low", unique_by="group")
def reorder_stock(args: Any, action: ActionContext) -> str:
    return f"reorder placed for {action.group or 'every product'}"
