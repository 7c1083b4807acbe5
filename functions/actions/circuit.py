"""Circuit breakers, one per named dependency, shared by every concurrent Lambda.

State lives in DynamoDB (this module owns the circuits table), so a dependency
that fails for one worker is rested by all of them:

    closed --N failures within the window--> open --cool-down--> half-open
    half-open --the one trial succeeds--> closed;  --it fails--> open again

While a circuit is open, actions that need it are deferred until it may close;
they do not use up attempts. Every transition is conditional, so two workers
never both take the half-open trial.

Settings: ``CircuitSettings`` in functions/actions/config.py (``CIRCUIT_*`` variables).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from functions.actions.config import CircuitSettings, circuits_table
from functions.actions.config import settings as action_settings
from functions.clients import lazy_client
from functions.dynamodb import condition_failed, from_item, to_item, to_values
from functions.metrics import Metric
from functions.observability import add_metric, logger


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


CLOSED, OPEN, HALF_OPEN = CircuitState.CLOSED, CircuitState.OPEN, CircuitState.HALF_OPEN
# The metric each transition counts (into the state named).
_TRANSITIONS = {
    OPEN: Metric.CIRCUIT_OPENED,
    HALF_OPEN: Metric.CIRCUIT_HALF_OPENED,
    CLOSED: Metric.CIRCUIT_CLOSED,
}

_dynamodb = lazy_client("dynamodb")


@dataclass(frozen=True)
class Decision:
    """Whether a run may go ahead; if not, ``delay``: seconds to wait before asking again."""

    allowed: bool
    state: str
    delay: float = 0.0
    trial: bool = False


def _conditional(name: str, update: str, condition: str, values: dict[str, Any]) -> bool:
    """Apply ``update`` to the circuit if ``condition`` holds (``#s`` is its state)."""
    params: dict[str, Any] = {
        "TableName": circuits_table(),
        "Key": to_item({"name": name}),
        "UpdateExpression": update,
        "ConditionExpression": condition,
        "ExpressionAttributeValues": to_values(values),
    }
    if "#s" in update or "#s" in condition:
        params["ExpressionAttributeNames"] = {"#s": "state"}
    try:
        _dynamodb().update_item(**params)
    except ClientError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def state(name: str) -> dict[str, Any]:
    """The circuit's item as plain values (``state``, ``failures``, times); {} if none."""
    item = (
        _dynamodb()
        .get_item(TableName=circuits_table(), Key=to_item({"name": name}), ConsistentRead=True)
        .get("Item", {})
    )
    return from_item(item)


def allow(name: str, settings: CircuitSettings | None = None) -> Decision:
    """May an action that needs ``name`` run now? Takes the half-open trial when due."""
    settings = settings or action_settings().circuit
    now = time.time()
    current = state(name)
    status = str(current.get("state", CLOSED))
    if status == CLOSED:
        return Decision(True, CLOSED)
    if status == OPEN:
        opened_at = float(current.get("opened_at", 0))
        delay = opened_at + settings.cooldown - now
        if delay > 0:
            return Decision(False, OPEN, delay=delay)
        taken = _conditional(
            name,
            "SET #s = :half, trial_expires_at = :expires",
            "#s = :open AND opened_at = :opened",
            {
                "half": str(HALF_OPEN),
                "open": str(OPEN),
                "opened": current["opened_at"],
                "expires": now + settings.trial,
            },
        )
        if taken:
            _transition(name, HALF_OPEN)
            return Decision(True, HALF_OPEN, trial=True)
        return Decision(False, HALF_OPEN, delay=max(1.0, settings.cooldown / 2))
    # Half-open: one trial at a time; a trial that vanished (its worker died) expires.
    expires = float(current.get("trial_expires_at", 0))
    if expires > now:
        return Decision(False, HALF_OPEN, delay=max(1.0, expires - now))
    taken = _conditional(
        name,
        "SET trial_expires_at = :new",
        "#s = :half AND trial_expires_at = :old",
        {
            "half": str(HALF_OPEN),
            "old": current.get("trial_expires_at", 0),
            "new": now + settings.trial,
        },
    )
    if taken:
        return Decision(True, HALF_OPEN, trial=True)
    return Decision(False, HALF_OPEN, delay=max(1.0, settings.trial))


def record_success(name: str, decision: Decision) -> None:
    """A run that needed ``name`` succeeded: a trial closes the circuit."""
    if decision.state == CLOSED:
        return
    closed = _conditional(
        name,
        "SET #s = :closed, failures = :zero, window_start = :now "
        "REMOVE opened_at, trial_expires_at",
        "#s = :half",
        {
            "closed": str(CLOSED),
            "half": str(HALF_OPEN),
            "zero": 0,
            "now": time.time(),
        },
    )
    if closed:
        _transition(name, CLOSED)


def release_trial(name: str) -> None:
    """Give the half-open trial back unused (its action was skipped): another may take it."""
    _conditional(
        name,
        "SET trial_expires_at = :zero",
        "#s = :half",
        {"half": str(HALF_OPEN), "zero": 0},
    )


def record_failure(name: str, decision: Decision, settings: CircuitSettings | None = None) -> None:
    """A run that needed ``name`` failed transiently: count it; open on the threshold."""
    settings = settings or action_settings().circuit
    now = time.time()
    if decision.trial:
        _open(name, now, condition="#s = :half", values={"half": str(HALF_OPEN)})
        return
    counted = _conditional(
        name,
        "ADD failures :one",
        "window_start > :since AND (#s = :closed)",
        {
            "one": 1,
            "since": now - settings.window,
            "closed": str(CLOSED),
        },
    )
    if not counted:
        # No circuit yet, or its window has passed: start a new window at one failure.
        _conditional(
            name,
            "SET #s = :closed, failures = :one, window_start = :now",
            "attribute_not_exists(#s) OR #s = :closed",
            {
                "one": 1,
                "now": now,
                "closed": str(CLOSED),
            },
        )
    failures = float(state(name).get("failures", 0))
    if failures >= settings.threshold:
        _open(name, now, condition="#s = :closed", values={"closed": str(CLOSED)})


def _open(name: str, now: float, *, condition: str, values: dict) -> None:
    opened = _conditional(
        name,
        "SET #s = :open, opened_at = :now REMOVE trial_expires_at",
        condition,
        {"open": str(OPEN), "now": now, **values},
    )
    if opened:
        _transition(name, OPEN)


def _transition(name: str, new_state: CircuitState) -> None:
    logger.warning("circuit state changed", extra={"circuit": name, "state": new_state})
    # Circuits are named in hook registrations: a small, closed set of dimension values.
    add_metric(_TRANSITIONS[new_state], circuit=name)


def not_closed(limit: int = 100) -> tuple[list[dict[str, Any]], bool]:
    """Circuits that are open or half-open (name, state, opened_at), and whether more
    circuits were left unread: ONE bounded Scan.

    A scan, because the table holds one small item per dependency (a handful), every
    one of which a health check must see, and no key names them in advance: the
    worker may guard hooks this process never imported. ``limit`` bounds the read.
    """
    response = _dynamodb().scan(
        TableName=circuits_table(),
        ProjectionExpression="#n, #s, opened_at",
        FilterExpression="#s <> :closed",
        ExpressionAttributeNames={"#n": "name", "#s": "state"},
        ExpressionAttributeValues=to_values({"closed": str(CLOSED)}),
        Limit=limit,
    )
    circuits = [from_item(item) for item in response.get("Items", [])]
    return circuits, "LastEvaluatedKey" in response
