"""One action as the console shows it, and what an operator does to actions.

Reads and changes go through ``functions.api.actions`` (the actions API's operations)
and ``functions.actions``: the console adds who asked to the action's log, a recurring
action's parent and runs, its saga, and the Logs Insights link.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from functions.actions import limits, store
from functions.actions.queries import next_run
from functions.api import actions as api
from functions.api.console import listing
from functions.api.console.config import settings
from functions.api.errors import ApiError, InvalidRequest, UnknownAction
from functions.payloads import store as payloads

RUNS_SHOWN = 20
RUNS_READ = 200  # index entries read to find a recurring action's runs
BULK_LIMIT = 100
RUN_SEPARATOR = "@"  # a run's id: its recurring action's id, "@", its time (timers.run_of)
VIA = "(console)"


class PayloadExpired(ApiError):
    status_code = 410
    error = "payload_expired"


def _action(action_id: str) -> store.Action:
    with api.translated():
        limits.check_action_id(action_id)
        found = store.get(action_id)
    if found is None:
        raise UnknownAction(f"no action has the id {action_id!r}")
    return found


def detail(action_id: str) -> dict[str, Any]:
    """The action, its parent or runs, its saga and the Logs Insights link."""
    action = _action(action_id)
    parent = action_id.split(RUN_SEPARATOR, 1)[0] if RUN_SEPARATOR in action_id else None
    runs = _runs(action) if action.recurrence is not None else []
    return {
        "action": action.to_document(),
        "past_due": listing.is_past_due(action),
        "args_in_payload_bucket": action.args_ref is not None,
        "parent": parent,
        "runs": runs,
        "runs_cursor": None,
        "saga": _saga(action),
        "logs_insights_url": logs_insights_url(action.correlation_id or action.action_id),
    }


def _runs(action: store.Action) -> list[dict[str, Any]]:
    """A recurring action's recent runs, latest first: its exact match's partition, where
    its runs are (same hook, args and group), read as index entries, then whole."""
    prefix = action.action_id + RUN_SEPARATOR
    criteria = store.Criteria(action.hook, None, action.args, action.group)
    with api.translated():
        page = store.entries(criteria, per_page=RUNS_READ, descending=True)
        ids = [entry.action_id for entry in page.items if entry.action_id.startswith(prefix)]
        found = store.fetch(ids)
    runs = sorted(found.values(), key=lambda run: run.scheduled_for, reverse=True)[:RUNS_SHOWN]
    return [
        {
            "action_id": run.action_id,
            "status": str(run.status),
            "scheduled_for": run.scheduled_for.isoformat(),
            "attempts": run.attempts,
            "last_log": listing.last_log(run),
        }
        for run in runs
    ]


def _saga(action: store.Action) -> dict[str, Any] | None:
    if action.saga is not None:
        return {
            "execution_arn": action.saga.execution_arn,
            "status": action.saga.status,
            "error": action.saga.error,
            "compensation_failed": "CompensationFailed" in action.saga.error,
        }
    if action.waiting_for:
        return {
            "execution_arn": action.waiting_for,
            "status": "RUNNING",
            "error": "",
            "compensation_failed": False,
        }
    return None


def logs_insights_url(correlation_id: str) -> str | None:
    """A link that opens CloudWatch Logs Insights on the functions' log groups, querying
    the correlation id (None without log groups: the local cloud)."""
    config = settings()
    region = config.aws_region
    if not config.log_group_names or not region:
        return None
    query = (
        "fields @timestamp, @log, level, message, action_id, hook\n"
        f"| filter correlation_id = {json.dumps(correlation_id)}\n"
        "| sort @timestamp asc\n| limit 200"
    )
    groups = "(" + "".join(f"~'{_escaped(name)}" for name in config.log_group_names) + ")"
    detail = (
        "~(end~0~start~-86400~timeType~'RELATIVE~unit~'seconds"
        f"~editorString~'{_escaped(query)}~source~{groups})"
    )
    fragment = "logsV2:logs-insights" + quote("?queryDetail=" + detail, safe="~()'*").replace(
        "%", "$"
    )
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#{fragment}"


def _escaped(text: str) -> str:
    """Text in the console's URL state (JSURL-like): quote what it reserves."""
    return quote(text, safe="").replace("%", "*").replace("~", "*7e").replace("'", "*27")


def args(action_id: str) -> dict[str, Any]:
    """The action's args in full: from its item, or from the payload bucket (one GetObject)."""
    action = _action(action_id)
    if action.args_ref is None:
        text = json.dumps(action.args, ensure_ascii=False)
        return {"args": action.args, "size_bytes": len(text.encode()), "from_payload_bucket": False}
    try:
        with api.translated():
            loaded = payloads.load(action.args_ref)
    except payloads.PayloadUnavailable as exc:
        raise PayloadExpired(str(exc)) from None
    return {"args": loaded, "size_bytes": action.args_ref.size, "from_payload_bucket": True}


def run(action_id: str, username: str) -> dict[str, Any]:
    return {"action": api.run(action_id, by=f"{username} {VIA}")}


def cancel(action_id: str, username: str) -> dict[str, Any]:
    return {"action": api.cancel(action_id, by=f"{username} {VIA}")}


def cancel_many(body: Any, username: str) -> dict[str, Any]:
    """Cancel each id on its own; say how each went."""
    ids = body.get("action_ids") if isinstance(body, dict) else None
    if (
        not isinstance(body, dict)
        or set(body) != {"action_ids"}
        or not isinstance(ids, list)
        or not 1 <= len(ids) <= BULK_LIMIT
        or not all(isinstance(one, str) for one in ids)
    ):
        raise InvalidRequest(f'the body is {{"action_ids": [1..{BULK_LIMIT} action ids]}}')
    results: list[dict[str, Any]] = []
    for action_id in dict.fromkeys(ids):
        try:
            done = api.cancel(action_id, by=f"{username} {VIA}")
            results.append({"action_id": action_id, "canceled": True, "status": done["status"]})
        except ApiError as exc:
            outcome = {"action_id": action_id, "canceled": False, "error": exc.error}
            if "status" in exc.extra:
                outcome["status"] = exc.extra["status"]
            results.append(outcome)
    return {"canceled": sum(1 for one in results if one["canceled"]), "results": results}


def schedules(cursor: str | None, per_page: int) -> dict[str, Any]:
    """Pending recurring and cron actions, soonest next run first, with their next runs.

    Read from the pending list (``by_status``) a page at a time; only recurring ones are
    kept, so a page may hold fewer than ``per_page`` (its cursor goes on).
    """
    now = datetime.now(UTC)
    with api.translated():
        from functions import actions

        page = actions.get_scheduled_actions(status="pending", per_page=per_page, cursor=cursor)
    found = [action for action in page.items if action.recurrence is not None]
    return {"schedules": [_schedule(action, now) for action in found], "cursor": page.cursor}


def _schedule(action: store.Action, now: datetime) -> dict[str, Any]:
    recurrence = action.recurrence
    assert recurrence is not None  # noqa: S101 - only recurring actions are shown
    text, cut = (None, False) if action.args_ref else listing.abridged(action.args)
    following: list[str] = []
    after = max(now, action.scheduled_for)
    first = action.scheduled_for if action.scheduled_for >= now else next_run(action, now)
    when = first
    while when is not None and len(following) < 3:
        following.append(when.isoformat())
        after = when
        when = next_run(action, after)
        if when is not None and when <= after:
            break
    is_rate = recurrence.kind is store.ActionKind.RATE
    return {
        "action_id": action.action_id,
        "hook": action.hook,
        "group": action.group,
        "args": text,
        "args_truncated": cut,
        "kind": str(recurrence.kind),
        "expression": (
            f"rate({recurrence.interval_seconds} seconds)" if is_rate else recurrence.cron
        ),
        "timezone": "UTC" if is_rate else recurrence.timezone,
        "interval_seconds": recurrence.interval_seconds,
        "text": (listing.recurrence_text(recurrence) or {}).get("text", ""),
        "next_runs": following,
        "status": str(action.status),
        "failed_runs": action.failed_runs or 0,
    }
