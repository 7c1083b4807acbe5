"""The soak run's webhook handler, loaded into the local cloud through ACTION_HOOK_MODULES.

Every soak delivery is an ``hmac`` webhook of event type ``soak.delivery`` whose payload
says, by seeded chance, how its runs behave (``tests/local/soak.py`` decides)::

    {"n": 17, "fate": "ok" | "transient" | "permanent" | "crash",
     "failures": 3,          # transient: the first 3 runs fail
     "crash": "before" | "after"}   # crash: die on the first run, before or after the effect

``process_webhook`` dispatches it here. Each run first counts itself in the effects
table (an unconditional ``ADD runs 1``), so the reconciliation sees every run that
happened, repeats included. The *effect* is then applied idempotently, as a hook
that must not repeat a side effect would: a conditional write keyed by the action id.
A repeat that finds the effect already applied is counted as ``repeats`` rather than
applied again, so "crash after the effect" deliveries prove the idempotent path ran.

A crash is ``sys.exit``: ``SystemExit`` is no ``Exception``, so neither the worker's
error handling nor Powertools' batch processor catches it. It escapes the handler,
the local runtime turns it into an invocation error, and the poller leaves the
whole batch on the queue, as Lambda does when its runtime process dies.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from typing import Any

import boto3
from botocore.exceptions import ClientError

from functions.actions.exceptions import PermanentError, TransientError
from functions.actions.hooks import ActionContext
from functions.hooks.webhooks import on

EVENT_TYPE = "soak.delivery"
EFFECTS_TABLE_VARIABLE = "SOAK_EFFECTS_TABLE"


@functools.cache
def _dynamodb() -> Any:
    """One client per function namespace, created on first use (as the house rules ask)."""
    return boto3.client("dynamodb")


def _table() -> str:
    return os.environ[EFFECTS_TABLE_VARIABLE]


def _count_run(action_id: str, n: int, fate: str) -> int:
    """Record this run; return how many runs of the action there have been, this one included."""
    response = _dynamodb().update_item(
        TableName=_table(),
        Key={"action_id": {"S": action_id}},
        UpdateExpression="ADD runs :one SET n = :n, fate = :fate",
        ExpressionAttributeValues={
            ":one": {"N": "1"},
            ":n": {"N": str(n)},
            ":fate": {"S": fate},
        },
        ReturnValues="UPDATED_NEW",
    )
    return int(response["Attributes"]["runs"]["N"])


def _apply_effect(action_id: str, run: int) -> bool:
    """The side effect, once per action: False (and a counted repeat) if it already happened."""
    try:
        _dynamodb().update_item(
            TableName=_table(),
            Key={"action_id": {"S": action_id}},
            UpdateExpression="SET effect_at = :now, effect_run = :run ADD effects :one",
            ConditionExpression="attribute_not_exists(effect_at)",
            ExpressionAttributeValues={
                ":now": {"N": repr(time.time())},
                ":run": {"N": str(run)},
                ":one": {"N": "1"},
            },
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        _dynamodb().update_item(
            TableName=_table(),
            Key={"action_id": {"S": action_id}},
            UpdateExpression="ADD repeats :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
        return False
    return True


@on("hmac", EVENT_TYPE)
def soak_delivery(payload: dict[str, Any], action: ActionContext) -> None:
    """Behave as the payload's fate says; record every run and the one effect."""
    fate = str(payload.get("fate", "ok"))
    run = _count_run(action.action_id, int(payload["n"]), fate)
    if fate == "permanent":
        raise PermanentError(f"soak delivery {payload['n']}: refused for good")
    if fate == "transient" and run <= int(payload.get("failures", 0)):
        raise TransientError(f"soak delivery {payload['n']}: run {run} fails, as drawn")
    crash = fate == "crash" and run == 1
    if crash and payload.get("crash") == "before":
        sys.exit(f"soak delivery {payload['n']}: the worker dies before the effect")
    _apply_effect(action.action_id, run)
    if crash:
        sys.exit(f"soak delivery {payload['n']}: the worker dies after the effect")
