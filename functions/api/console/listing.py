"""The Scheduled Actions list: its query, its rows, and the text search within it.

The query is ``get_scheduled_actions``'s, parsed as the actions API parses it
(``functions.api.inputs.list_arguments``); a row is an action abridged for a table. A
search reads the filtered list from the cursor on, a page at a time, and stops after
``SEARCH_LIMIT`` actions or ``SEARCH_READS`` pages: the answer says whether it stopped
short of the list's end, and its cursor goes on from where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from functions import actions
from functions.actions.store import Action, ActionKind, ActionStatus, Recurrence
from functions.api.actions import translated
from functions.api.errors import InvalidRequest
from functions.api.inputs import list_arguments

ARGS_ABRIDGED = 200  # characters of the args' JSON a row shows
DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 100
SEARCH_LIMIT = 1000  # actions a search reads at most per request
SEARCH_READS = 20  # pages a search reads at most per request
_SEARCH_TEXT = 200
_OWN = ("search",)


def abridged(args: Any) -> tuple[str, bool]:
    """The args' JSON, cut to ``ARGS_ABRIDGED`` characters, and whether it was cut."""
    text = json.dumps(args, ensure_ascii=False, separators=(", ", ": "))
    if len(text) <= ARGS_ABRIDGED:
        return text, False
    return text[: ARGS_ABRIDGED - 1] + "…", True


def recurrence_text(recurrence: Recurrence | None) -> dict[str, Any] | None:
    if recurrence is None:
        return None
    if recurrence.kind is ActionKind.RATE:
        text = f"every {recurrence.interval_seconds} s"
    else:
        text = f"cron {recurrence.cron} ({recurrence.timezone})"
    return {
        "kind": str(recurrence.kind),
        "interval_seconds": recurrence.interval_seconds,
        "cron": recurrence.cron,
        "timezone": recurrence.timezone,
        "text": text,
    }


def is_past_due(action: Action, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    return action.status is ActionStatus.PENDING and action.scheduled_for < now


def last_log(action: Action) -> dict[str, Any] | None:
    return action.log[-1].to_plain() if action.log else None


def row(action: Action, now: datetime) -> dict[str, Any]:
    """An action as a row of the list: nothing a table cannot show in a line."""
    in_bucket = action.args_ref is not None
    text, cut = (None, False) if in_bucket else abridged(action.args)
    return {
        "action_id": action.action_id,
        "hook": action.hook,
        "status": str(action.status),
        "past_due": is_past_due(action, now),
        "args": text,
        "args_truncated": cut,
        "args_in_payload_bucket": in_bucket,
        "group": action.group,
        "recurrence": recurrence_text(action.recurrence),
        "scheduled_for": action.scheduled_for.isoformat(),
        "attempts": action.attempts,
        "max_attempts": action.max_attempts,
        "last_log": last_log(action),
    }


def _searched_text(action: Action) -> str:
    parts = [action.action_id, action.hook, action.group, action.last_error or ""]
    if action.args_ref is None:
        parts.append(json.dumps(action.args, ensure_ascii=False))
    if action.log:
        parts.append(action.log[-1].message)
    return "\n".join(parts).casefold()


def list_page(query: Mapping[str, Sequence[str]] | None) -> dict[str, Any]:
    """A page of the list for the query (``functions.api.inputs.LIST_PARAMETERS`` and
    ``search``), as ``{"actions", "cursor", "search"}``."""
    query = dict(query or {})
    search = _one(query.pop("search", None), "search")
    arguments = list_arguments({k: v for k, v in query.items() if k not in _OWN})
    arguments.setdefault("status", "pending")
    per_page = arguments.pop("per_page", DEFAULT_PER_PAGE)
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidRequest(f"per_page is 1..{MAX_PER_PAGE}")
    now = datetime.now(UTC)
    if not search:
        with translated():
            page = actions.get_scheduled_actions(per_page=per_page, **arguments)
        return {
            "actions": [row(action, now) for action in page.items],
            "cursor": page.cursor,
            "search": None,
        }
    return _search(search, arguments, per_page, now)


def _search(text: str, arguments: dict[str, Any], per_page: int, now: datetime) -> dict[str, Any]:
    if len(text) > _SEARCH_TEXT:
        raise InvalidRequest(f"search is at most {_SEARCH_TEXT} characters")
    wanted = text.casefold()
    found: list[Action] = []
    scanned = reads = 0
    cursor = arguments.pop("cursor", None)
    while True:
        size = min(MAX_PER_PAGE, max(per_page - len(found), 1), SEARCH_LIMIT - scanned)
        with translated():
            page = actions.get_scheduled_actions(per_page=size, cursor=cursor, **arguments)
        reads += 1
        scanned += len(page.items)
        found.extend(action for action in page.items if wanted in _searched_text(action))
        cursor = page.cursor
        if not cursor or len(found) >= per_page:
            break
        if scanned >= SEARCH_LIMIT or reads >= SEARCH_READS:
            break
    stopped_short = cursor is not None and len(found) < per_page
    return {
        "actions": [row(action, now) for action in found],
        "cursor": cursor,
        "search": {
            "text": text,
            "scanned": scanned,
            "matched": len(found),
            "stopped_short": stopped_short,
        },
    }


def _one(values: Sequence[str] | None, name: str) -> str | None:
    if not values:
        return None
    if len(values) != 1:
        raise InvalidRequest(f"the query parameter {name} is given more than once")
    return values[0].strip() or None
