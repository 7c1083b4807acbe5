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

from botocore.exceptions import ClientError

from functions.actions.config import CircuitSettings, circuits_table
from functions.actions.config import settings as action_settings
from functions.clients import lazy_client
from functions.observability import add_metric, logger

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"

_dynamodb = lazy_client("dynamodb")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    state: str
    retry_in: float = 0.0
    trial: bool = False


def _n(value: float) -> dict[str, str]:
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _conditional(**update) -> bool:
    try:
        _dynamodb().update_item(TableName=circuits_table(), **update)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def state(name: str) -> dict[str, float | str]:
    item = (
        _dynamodb()
        .get_item(TableName=circuits_table(), Key={"name": _s(name)}, ConsistentRead=True)
        .get("Item", {})
    )
    return {key: (float(v["N"]) if "N" in v else v.get("S", "")) for key, v in item.items()}


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
        wait = opened_at + settings.cooldown - now
        if wait > 0:
            return Decision(False, OPEN, retry_in=wait)
        taken = _conditional(
            Key={"name": _s(name)},
            UpdateExpression="SET #s = :half, trial_expires_at = :expires",
            ConditionExpression="#s = :open AND opened_at = :opened",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={
                ":half": _s(HALF_OPEN),
                ":open": _s(OPEN),
                ":opened": _n(current["opened_at"]),
                ":expires": _n(now + settings.trial),
            },
        )
        if taken:
            _transition(name, HALF_OPEN)
            return Decision(True, HALF_OPEN, trial=True)
        return Decision(False, HALF_OPEN, retry_in=max(1.0, settings.cooldown / 2))
    # Half-open: one trial at a time; a trial that vanished (its worker died) expires.
    expires = float(current.get("trial_expires_at", 0))
    if expires > now:
        return Decision(False, HALF_OPEN, retry_in=max(1.0, expires - now))
    taken = _conditional(
        Key={"name": _s(name)},
        UpdateExpression="SET trial_expires_at = :new",
        ConditionExpression="#s = :half AND trial_expires_at = :old",
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={
            ":half": _s(HALF_OPEN),
            ":old": _n(current.get("trial_expires_at", 0)),
            ":new": _n(now + settings.trial),
        },
    )
    if taken:
        return Decision(True, HALF_OPEN, trial=True)
    return Decision(False, HALF_OPEN, retry_in=max(1.0, settings.trial))


def record_success(name: str, decision: Decision) -> None:
    """A run that needed ``name`` succeeded: a trial closes the circuit."""
    if decision.state == CLOSED:
        return
    closed = _conditional(
        Key={"name": _s(name)},
        UpdateExpression="SET #s = :closed, failures = :zero, window_start = :now "
        "REMOVE opened_at, trial_expires_at",
        ConditionExpression="#s = :half",
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={
            ":closed": _s(CLOSED),
            ":half": _s(HALF_OPEN),
            ":zero": _n(0),
            ":now": _n(time.time()),
        },
    )
    if closed:
        _transition(name, CLOSED)


def release_trial(name: str) -> None:
    """Give the half-open trial back unused (its action was skipped): another may take it."""
    _conditional(
        Key={"name": _s(name)},
        UpdateExpression="SET trial_expires_at = :zero",
        ConditionExpression="#s = :half",
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={":half": _s(HALF_OPEN), ":zero": _n(0)},
    )


def record_failure(name: str, decision: Decision, settings: CircuitSettings | None = None) -> None:
    """A run that needed ``name`` failed transiently: count it; open on the threshold."""
    settings = settings or action_settings().circuit
    now = time.time()
    if decision.trial:
        _open(name, now, condition="#s = :half", values={":half": _s(HALF_OPEN)})
        return
    counted = _conditional(
        Key={"name": _s(name)},
        UpdateExpression="ADD failures :one",
        ConditionExpression="window_start > :since AND (#s = :closed)",
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={
            ":one": _n(1),
            ":since": _n(now - settings.window),
            ":closed": _s(CLOSED),
        },
    )
    if not counted:
        # No circuit yet, or its window has passed: start a new window at one failure.
        _conditional(
            Key={"name": _s(name)},
            UpdateExpression="SET #s = :closed, failures = :one, window_start = :now",
            ConditionExpression="attribute_not_exists(#s) OR #s = :closed",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={
                ":one": _n(1),
                ":now": _n(now),
                ":closed": _s(CLOSED),
            },
        )
    failures = float(state(name).get("failures", 0))
    if failures >= settings.threshold:
        _open(name, now, condition="#s = :closed", values={":closed": _s(CLOSED)})


def _open(name: str, now: float, *, condition: str, values: dict) -> None:
    opened = _conditional(
        Key={"name": _s(name)},
        UpdateExpression="SET #s = :open, opened_at = :now REMOVE trial_expires_at",
        ConditionExpression=condition,
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={":open": _s(OPEN), ":now": _n(now), **values},
    )
    if opened:
        _transition(name, OPEN)


def _transition(name: str, new_state: str) -> None:
    logger.warning("circuit state changed", extra={"circuit": name, "state": new_state})
    metric = {OPEN: "CircuitOpened", CLOSED: "CircuitClosed", HALF_OPEN: "CircuitHalfOpened"}
    # Circuits are named in hook registrations: a small, closed set of dimension values.
    add_metric(metric[new_state], circuit=name)


def not_closed(limit: int = 100) -> tuple[list[dict[str, float | str]], bool]:
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
        ExpressionAttributeValues={":closed": _s(CLOSED)},
        Limit=limit,
    )
    circuits = [
        {key: (float(v["N"]) if "N" in v else v.get("S", "")) for key, v in item.items()}
        for item in response.get("Items", [])
    ]
    return circuits, "LastEvaluatedKey" in response
