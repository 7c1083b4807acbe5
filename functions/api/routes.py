"""The actions API's routes, as a Powertools router any REST handler can include.

``POST /actions``, ``GET /actions``, ``GET /actions/{action_id}``,
``DELETE /actions/{action_id}``, ``POST /actions/{action_id}/run`` and ``GET /hooks``
(what processes outside the stack validate hook names with): each parses what it
needs from the request, calls one operation of ``functions.api.actions`` and shapes its
answer. No route knows how the caller was authenticated: that is its handler's, and API
Gateway's, business. Every error body is ``{"error", "message"}`` (plus the error's
fields), as the webhook receiver's.
"""

from __future__ import annotations

import binascii
import json
from typing import Any
from urllib.parse import quote, unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from functions.api import actions, hooks
from functions.api.errors import ApiError, InvalidRequest
from functions.api.inputs import NewAction, idempotency_key
from functions.observability import logger

router = Router()

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


def _json(status_code: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status_code,
        content_type="application/json",
        body=json.dumps(body),
        headers=headers or {},
    )


def _body() -> bytes:
    """The request's bytes: API Gateway base64-encodes them (binary media type ``*/*``)."""
    event = router.current_event
    if event.body is None:
        return b""
    if not event.is_base64_encoded:
        return event.body.encode("utf-8", "surrogatepass")
    try:
        return binascii.a2b_base64(event.body.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError):
        raise InvalidRequest("the body is not valid base64, as API Gateway says it is") from None


def _action_id(raw: str) -> str:
    """The ``{action_id}`` path parameter, decoded as API Gateway gives it."""
    parameters = router.current_event.raw_event.get("pathParameters") or {}
    return str(parameters.get("action_id") or unquote(raw))


def _header(name: str) -> str | None:
    lowered = name.lower()
    headers = router.current_event.headers or {}
    return next((value for key, value in headers.items() if key.lower() == lowered), None)


# --- what the routes answer, for the OpenAPI document (infra/openapi.py) ---------------------


def _described(description: str, schema: dict[str, Any]) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_STRING_OR_NULL = {"type": ["string", "null"]}
_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
STATUSES = ["pending", "in-progress", "complete", "failed", "canceled"]
# The typed record's JSON (functions/actions/store/record.py: Action.to_document).
ACTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "action_id",
        "hook",
        "args",
        "group",
        "priority",
        "status",
        "attempts",
        "max_attempts",
        "scheduled_for",
        "created_at",
        "updated_at",
    ],
    "properties": {
        "action_id": {"type": "string"},
        "hook": {"type": "string"},
        "args": {"description": "The args as given; null when args_ref holds them."},
        "group": {"type": "string"},
        "priority": {"enum": ["high", "default", "low"]},
        "status": {"enum": STATUSES},
        "attempts": {"type": "integer"},
        "max_attempts": {"type": "integer"},
        "scheduled_for": {"type": "string", "format": "date-time"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "correlation_id": {"type": "string"},
        "kind": {"enum": ["async", "single", "rate", "cron", None]},
        "recurrence": {"type": ["object", "null"]},
        "schedule_name": _STRING_OR_NULL,
        "unique_key": _STRING_OR_NULL,
        "last_error": _STRING_OR_NULL,
        "claim_expires_at": _TIME_OR_NULL,
        "expires_at": _TIME_OR_NULL,
        "log": {"type": "array", "items": {"type": "object"}},
        "args_ref": {"type": ["object", "null"]},
        "waiting_for": _STRING_OR_NULL,
        "saga": {"type": ["object", "null"]},
    },
}
PAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["actions", "cursor"],
    "properties": {
        "actions": {"type": "array", "items": {"$ref": "#/components/schemas/Action"}},
        "cursor": {
            "type": ["string", "null"],
            "description": "Pass it back as ?cursor= for the next page; null on the last.",
        },
    },
}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}
# A hook's policy (functions/actions/manifest.py: policy): what an enqueuer needs of it.
HOOKS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["hooks"],
    "properties": {
        "hooks": {
            "type": "object",
            "description": "Hook name -> its policy, as the manifest written at synth holds it.",
            "additionalProperties": {
                "type": "object",
                "required": ["priority", "max_attempts", "timeout"],
                "properties": {
                    "priority": {"enum": ["high", "default", "low"]},
                    "max_attempts": {"type": "integer"},
                    "base_delay": {"type": "number"},
                    "max_delay": {"type": "number"},
                    "circuit": _STRING_OR_NULL,
                    "ordered": {"type": "boolean"},
                    "timeout": {"type": "number"},
                    "unique_by": {"enum": ["group", "args", None]},
                    "max_failed_runs": {"type": ["integer", "null"]},
                    "listed_while_queued": {"type": "boolean"},
                },
            },
        }
    },
}
# The document's components (infra/openapi.py adds them); the routes refer to them.
SCHEMAS = {
    "Action": ACTION_SCHEMA,
    "ActionPage": PAGE_SCHEMA,
    "Error": ERROR_SCHEMA,
    "Hooks": HOOKS_SCHEMA,
}
_ACTION = {"$ref": "#/components/schemas/Action"}
_PAGE = {"$ref": "#/components/schemas/ActionPage"}
_ERROR = {"$ref": "#/components/schemas/Error"}
_INVALID = _described(
    "Invalid input: not JSON, an unknown field, a wrong type, or what the Python API "
    "refuses (error `invalid_request`).",
    _ERROR,
)
_UNKNOWN_ACTION = _described("No action has this id (error `unknown_action`).", _ERROR)
_UNAVAILABLE = _described("A dependency failed (error `service_unavailable`); retry.", _ERROR)
_INTERNAL = _described("An unexpected error (error `internal_error`).", _ERROR)


# --- routes -----------------------------------------------------------------------------------


@router.post(
    "/actions",
    summary="Make an action",
    description="Enqueue (no timestamp), schedule once (timestamp), every N seconds "
    "(interval_seconds) or on a cron expression (cron, timezone), as the Python API does. "
    "With an Idempotency-Key, a repeat answers the first result.",
    responses={
        201: _described("Made: the action, as stored. Location names it.", _ACTION),
        400: _INVALID,
        404: _described("No hook is registered under this name (error `unknown_hook`).", _ERROR),
        409: _described(
            "`duplicate_action`: unique, and a matching action is pending or running (its "
            "`action_id` comes with it); or `request_in_progress`: the same Idempotency-Key "
            "is being answered (Retry-After).",
            _ERROR,
        ),
        413: _described(
            "The args are over what an action takes (error `payload_too_large`).", _ERROR
        ),
        422: _described(
            "The Idempotency-Key was used before with other fields (error "
            "`idempotency_key_conflict`).",
            _ERROR,
        ),
        500: _INTERNAL,
        503: _UNAVAILABLE,
    },
)
def post_action() -> Response[dict]:
    key = idempotency_key(_header(IDEMPOTENCY_KEY_HEADER))
    new = NewAction.parse(_body())
    created = actions.create(new, idempotency_key=key, lambda_context=router.lambda_context)
    headers = {"Location": f"actions/{quote(created.action_id, safe='')}"}
    if created.replayed:
        headers[REPLAYED_HEADER] = "true"
    return _json(201, created.action, headers)


@router.get(
    "/actions",
    summary="List actions",
    description="get_scheduled_actions: by hook and/or status (pending by default), args, "
    "group and time, soonest first; a page at a time.",
    responses={
        200: _described("A page of actions.", _PAGE),
        400: _INVALID,
        500: _INTERNAL,
        503: _UNAVAILABLE,
    },
)
def list_actions() -> Response[dict]:
    event = router.current_event
    return _json(200, actions.list_actions(event.multi_value_query_string_parameters))


@router.get(
    "/actions/<action_id>",
    summary="Get an action",
    responses={
        200: _described("The action.", _ACTION),
        400: _INVALID,
        404: _UNKNOWN_ACTION,
        500: _INTERNAL,
        503: _UNAVAILABLE,
    },
)
def get_action(action_id: str) -> Response[dict]:
    return _json(200, actions.get(_action_id(action_id)))


@router.delete(
    "/actions/<action_id>",
    summary="Cancel an action",
    description="cancel_action: a pending action (a recurring one: all its future runs). "
    "A canceled one is answered as it is.",
    responses={
        200: _described("Canceled: the action.", _ACTION),
        400: _INVALID,
        404: _UNKNOWN_ACTION,
        409: _described("Not pending (error `not_cancelable`, with its `status`).", _ERROR),
        500: _INTERNAL,
        503: _UNAVAILABLE,
    },
)
def delete_action(action_id: str) -> Response[dict]:
    return _json(200, actions.cancel(_action_id(action_id)))


@router.post(
    "/actions/<action_id>/run",
    summary="Run an action now",
    description="run_action_now: a pending one-off action goes to its queue now.",
    responses={
        202: _described("Sent to its queue: the action, as it was.", _ACTION),
        400: _INVALID,
        404: _UNKNOWN_ACTION,
        409: _described(
            "Not pending, or recurring (error `not_runnable`, with its `status`).", _ERROR
        ),
        500: _INTERNAL,
        503: _UNAVAILABLE,
    },
)
def run_action(action_id: str) -> Response[dict]:
    return _json(202, actions.run(_action_id(action_id)))


@router.get(
    "/hooks",
    summary="List the hooks",
    description="The hooks the worker runs, each with its policy (queue, priority, attempts, "
    "backoff, circuit, timeout, unique_by), as the manifest written at synth holds them. A "
    "process outside the stack (functions.actions with ACTION_SCHEDULER_STACK, actionsctl) "
    "validates hook names with it, and never imports a hook.",
    responses={
        200: _described("Every hook.", {"$ref": "#/components/schemas/Hooks"}),
        500: _INTERNAL,
    },
)
def list_hooks() -> Response[dict]:
    return _json(200, {"hooks": hooks.described()})


def refused(exc: ApiError) -> Response:
    logger.info("actions API refused", extra={"reason": exc.error, "status_code": exc.status_code})
    return _json(exc.status_code, exc.body(), exc.headers)


# Registered by a call, not a decorator: the router's decorator is untyped.
router.exception_handler(ApiError)(refused)
