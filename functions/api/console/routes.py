"""The console API's routes (``/console/api/...``), as a Powertools router.

Each route parses what it needs, checks the caller's group (``access``: viewers read,
operators also change), calls one operation and shapes its JSON. Every error body is
``{"error", "message"}``, as the actions API's. Contract: docs/reference/console-api.md.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from functions.api.console import access, actions, dead_letters, listing, metrics, overview, tally
from functions.api.errors import ApiError, InvalidRequest
from functions.api.inputs import strict_json
from functions.observability import logger

router = Router()
PREFIX = "/console/api"
MAX_CHART_HOURS = 24


def _json(status_code: int, body: Any) -> Response:
    return Response(
        status_code=status_code,
        content_type="application/json",
        body=json.dumps(body, ensure_ascii=False),
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


def _caller() -> access.Caller:
    context = router.current_event.raw_event.get("requestContext") or {}
    caller = access.caller(context)
    caller.require_viewer()
    logger.append_keys(caller=caller.username)
    return caller


def _operator() -> access.Caller:
    caller = _caller()
    caller.require_operator()
    return caller


def _query() -> dict[str, Sequence[str]]:
    return dict(router.current_event.multi_value_query_string_parameters or {})


def _one(name: str, allowed: Sequence[str]) -> str | None:
    query = _query()
    unknown = set(query) - set(allowed)
    if unknown:
        raise InvalidRequest(
            f"unknown query parameter {sorted(unknown)[0][:64]!r}: one of {list(allowed)}"
        )
    values = query.get(name)
    if not values:
        return None
    if len(values) != 1:
        raise InvalidRequest(f"the query parameter {name} is given more than once")
    return values[0]


def _number(name: str, allowed: Sequence[str], default: int) -> int:
    value = _one(name, allowed)
    if value is None or value == "":
        return default
    if not value.isdigit() or len(value) > 6:
        raise InvalidRequest(f"{name} is a whole number")
    return int(value)


def _path(name: str, raw: str) -> str:
    parameters = router.current_event.raw_event.get("pathParameters") or {}
    return str(parameters.get(name) or unquote(raw))


def _body() -> Any:
    event = router.current_event
    raw = event.decoded_body if event.is_base64_encoded else event.body
    if not raw:
        return None
    return strict_json(raw, "the body")


@router.get(f"{PREFIX}/me")
def me() -> Response:
    return _json(200, _caller().to_document())


@router.get(f"{PREFIX}/counts")
def counts() -> Response:
    _caller()
    refresh = _one("refresh", ("refresh",)) in {"1", "true"}
    return _json(200, tally.counts(refresh=refresh))


@router.get(f"{PREFIX}/actions")
def list_actions() -> Response:
    _caller()
    return _json(200, listing.list_page(_query()))


@router.post(f"{PREFIX}/actions/cancel")
def cancel_many() -> Response:
    caller = _operator()
    return _json(200, actions.cancel_many(_body(), caller.username))


@router.get(f"{PREFIX}/actions/<action_id>")
def get_action(action_id: str) -> Response:
    _caller()
    return _json(200, actions.detail(_path("action_id", action_id)))


@router.get(f"{PREFIX}/actions/<action_id>/args")
def get_args(action_id: str) -> Response:
    _caller()
    return _json(200, actions.args(_path("action_id", action_id)))


@router.post(f"{PREFIX}/actions/<action_id>/run")
def run_action(action_id: str) -> Response:
    caller = _operator()
    return _json(202, actions.run(_path("action_id", action_id), caller.username))


@router.post(f"{PREFIX}/actions/<action_id>/cancel")
def cancel_action(action_id: str) -> Response:
    caller = _operator()
    return _json(200, actions.cancel(_path("action_id", action_id), caller.username))


@router.get(f"{PREFIX}/dead-letters")
def dead_letter_counts() -> Response:
    _caller()
    return _json(200, dead_letters.counts())


_LETTERS = ("hook", "reason", "limit")


@router.get(f"{PREFIX}/dead-letters/<queue>")
def dead_letter_messages(queue: str) -> Response:
    _caller()
    return _json(
        200,
        dead_letters.messages(
            _path("queue", queue),
            hook=_one("hook", _LETTERS) or None,
            reason=_one("reason", _LETTERS) or None,
            limit=_number("limit", _LETTERS, dead_letters.DEFAULT_LIMIT),
        ),
    )


@router.post(f"{PREFIX}/dead-letters/<queue>/redrive")
def redrive(queue: str) -> Response:
    caller = _operator()
    return _json(200, dead_letters.move(_path("queue", queue), _body(), caller.username))


_SCHEDULES = ("cursor", "per_page")


@router.get(f"{PREFIX}/schedules")
def schedules() -> Response:
    _caller()
    per_page = _number("per_page", _SCHEDULES, listing.DEFAULT_PER_PAGE)
    if not 1 <= per_page <= listing.MAX_PER_PAGE:
        raise InvalidRequest(f"per_page is 1..{listing.MAX_PER_PAGE}")
    return _json(200, actions.schedules(_one("cursor", _SCHEDULES) or None, per_page))


@router.get(f"{PREFIX}/webhooks")
def webhooks() -> Response:
    _caller()
    _one("", ())
    return _json(200, metrics.webhooks())


_SAGAS = ("status", "limit")


@router.get(f"{PREFIX}/sagas")
def sagas() -> Response:
    _caller()
    status = _one("status", _SAGAS) or None
    limit = _number("limit", _SAGAS, overview.DEFAULT_SAGAS)
    return _json(200, overview.sagas(status=status, limit=limit))


@router.get(f"{PREFIX}/health")
def health() -> Response:
    _caller()
    return _json(200, overview.health())


@router.get(f"{PREFIX}/charts")
def charts() -> Response:
    _caller()
    hours = _number("hours", ("hours",), 3)
    if not 1 <= hours <= MAX_CHART_HOURS:
        raise InvalidRequest(f"hours is 1..{MAX_CHART_HOURS}")
    return _json(200, metrics.charts(hours))


def refused(exc: ApiError) -> Response:
    logger.info("console API refused", extra={"reason": exc.error, "status_code": exc.status_code})
    return Response(
        status_code=exc.status_code,
        content_type="application/json",
        body=json.dumps(exc.body(), ensure_ascii=False),
        headers={**exc.headers, "Cache-Control": "no-store"},
    )


router.exception_handler(ApiError)(refused)
