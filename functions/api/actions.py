"""The actions API's operations, callable without an HTTP event: create, list, get, cancel, run.

Each calls the ``functions.actions`` API a Python caller would, and answers actions as
their typed record's JSON (``Action.to_document``). What that API raises becomes an
``ApiError`` here, in one place (``translated``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from functions import actions
from functions.actions import limits, store
from functions.api import errors, hooks, idempotency
from functions.api.inputs import NewAction, list_arguments
from functions.observability import logger


@dataclass(frozen=True)
class Created:
    """A made action, and whether this answers a repeat of an ``Idempotency-Key``."""

    action: dict[str, Any]
    replayed: bool = False

    @property
    def action_id(self) -> str:
        return str(self.action["action_id"])


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """``functions.actions``' errors as the API's."""
    try:
        yield
    except actions.DuplicateAction as exc:
        raise errors.DuplicateAction(
            str(exc), extra={"action_id": exc.existing_action_id}
        ) from None
    except actions.ActionTooLarge as exc:
        raise errors.PayloadTooLarge(str(exc)) from None
    except actions.InvalidAction as exc:
        raise errors.InvalidRequest(str(exc)) from None
    except (ClientError, BotoCoreError):
        logger.exception("actions API: a dependency failed")
        raise errors.ServiceUnavailable(
            "the actions table, a queue or the scheduler failed; retry"
        ) from None


def create(
    new: NewAction,
    *,
    idempotency_key: str | None = None,
    lambda_context: LambdaContext | None = None,
) -> Created:
    """Make the action ``new`` describes; with a key, once per key (``idempotency.once``)."""
    if idempotency_key is None:
        return Created(_make(new.given()))
    outcome = idempotency.once(idempotency_key, new.given(), _make, lambda_context)
    return Created(outcome.result, outcome.replayed)


def _make(fields: dict[str, Any], action_id: str | None = None) -> dict[str, Any]:
    """Make the action; ``action_id`` is the id to give it where the Python API takes one
    (an async action)."""
    new = NewAction.model_validate(fields)
    hooks.require(new.hook)
    with translated():
        action_id = new.schedule(action_id)
        logger.info("action made through the API", extra={"action_id": action_id, "kind": new.kind})
        return _document(action_id)


def list_actions(query: Mapping[str, Sequence[str]] | None) -> dict[str, Any]:
    """A page of ``get_scheduled_actions`` for the query: ``{"actions", "cursor"}``."""
    arguments = list_arguments(query)
    with translated():
        page = actions.get_scheduled_actions(**arguments)
    return {"actions": [action.to_document() for action in page.items], "cursor": page.cursor}


def get(action_id: str) -> dict[str, Any]:
    with translated():
        return _document(action_id)


def cancel(action_id: str, *, by: str | None = None) -> dict[str, Any]:
    """Cancel a pending action (a recurring one: all its future runs); a canceled one is
    answered as it is, so a client may repeat the request. ``by`` (who asked, as the
    console names them) goes into the action's log."""
    with translated():
        actions.cancel_action(action_id, f"canceled by {by}" if by else "canceled")
        found = _found(action_id)
    if found.status is not store.ActionStatus.CANCELED:
        raise errors.NotCancelable(
            f"action {action_id!r} is {found.status}: only a pending action can be canceled",
            extra={"status": str(found.status)},
        )
    return found.to_document()


def run(action_id: str, *, by: str | None = None) -> dict[str, Any]:
    """Send a pending one-off action to its queue now (``run_action_now``); ``by`` (who
    asked) goes into the action's log."""
    with translated():
        found = _found(action_id)
        if actions.run_action_now(action_id):
            if by:
                store.note(action_id, store.LogEvent.RUN_NOW, f"run now by {by}")
            logger.info("action run now through the API", extra={"action_id": action_id})
            return found.to_document()
        found = _found(action_id)
    reason = "recurring" if found.is_recurring else str(found.status)
    raise errors.NotRunnable(
        f"action {action_id!r} is {reason}: only a pending one-off action can be run now",
        extra={"status": str(found.status)},
    )


def _found(action_id: str) -> store.Action:
    limits.check_action_id(action_id)
    action = store.get(action_id)
    if action is None:
        raise errors.UnknownAction(f"no action has the id {action_id!r}")
    return action


def _document(action_id: str) -> dict[str, Any]:
    return _found(action_id).to_document()
