"""The example saga: order fulfilment.

    reserve_inventory -> charge_payment -> create_shipment
    release_inventory <- refund_payment <- cancel_shipment   (compensations, in reverse)

Each function takes the saga's input, ``{"order_id": ..., "amount": ..., "fail": {...}}``.
``fail`` makes any task fail, for tests and demos: ``{"charge_payment": "permanent"}``
fails it for good, ``{"charge_payment": "transient:2"}`` fails its first two calls
and then lets it succeed, ``{"refund_payment": "permanent"}`` makes a compensation fail.
"""

from __future__ import annotations

from typing import Any

from functions.actions.exceptions import PermanentError, TransientError
from functions.observability import logger
from functions.sagas import order_state
from functions.sagas.tasks import task

STEPS = ("reserve_inventory", "charge_payment", "create_shipment")
# How long the action that starts an order waits in progress for the saga's outcome
# before another delivery may claim it. The retries' waits add up to about two minutes
# at worst; an action still waiting after healthStuckSeconds (300 by default) counts as
# stuck in the health check.
WAIT_SECONDS = 240
COMPENSATIONS = {
    "reserve_inventory": "release_inventory",
    "charge_payment": "refund_payment",
    "create_shipment": "cancel_shipment",
}


def _order_id(order: dict[str, Any]) -> str:
    order_id = order.get("order_id")
    if not isinstance(order_id, str) or not order_id:
        raise PermanentError("the saga's input needs an order_id")
    return order_id


def _maybe_fail(order: dict[str, Any], name: str) -> None:
    """Fail as the input's ``fail`` asks, counting calls in the order's state."""
    plan = str((order.get("fail") or {}).get(name, ""))
    if not plan:
        return
    calls = order_state.count_call(_order_id(order), name)
    if plan == "permanent":
        raise PermanentError(f"{name} failed (as asked)")
    kind, _, times = plan.partition(":")
    if kind == "transient" and calls <= int(times or 1):
        raise TransientError(f"{name} failed for now (call {calls}, as asked)")


@task("reserve_inventory")
def reserve_inventory(order: dict[str, Any]) -> dict[str, Any]:
    _maybe_fail(order, "reserve_inventory")
    order_id = _order_id(order)
    reservation = order_state.apply_once(order_id, "reservation", f"res-{order_id}")
    logger.info("inventory reserved", extra={"order_id": order_id})
    return {"reservation": reservation}


@task("release_inventory")
def release_inventory(order: dict[str, Any]) -> None:
    _maybe_fail(order, "release_inventory")
    order_state.apply_once(_order_id(order), "released", "yes", requires="reservation")


# --8<-- [start:task]
@task("charge_payment")
def charge_payment(order: dict[str, Any]) -> dict[str, Any]:
    _maybe_fail(order, "charge_payment")
    order_id = _order_id(order)
    charge = order_state.apply_once(order_id, "charge", f"ch-{order_id}")
    logger.info("payment charged", extra={"order_id": order_id})
    return {"charge": charge}


# --8<-- [end:task]


@task("refund_payment")
def refund_payment(order: dict[str, Any]) -> None:
    _maybe_fail(order, "refund_payment")
    order_state.apply_once(_order_id(order), "refund", "yes", requires="charge")


@task("create_shipment")
def create_shipment(order: dict[str, Any]) -> dict[str, Any]:
    _maybe_fail(order, "create_shipment")
    order_id = _order_id(order)
    shipment = order_state.apply_once(order_id, "shipment", f"sh-{order_id}")
    return {"shipment": shipment}


@task("cancel_shipment")
def cancel_shipment(order: dict[str, Any]) -> None:
    _maybe_fail(order, "cancel_shipment")
    order_state.apply_once(_order_id(order), "shipment_canceled", "yes", requires="shipment")
