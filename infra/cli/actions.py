"""``actionsctl actions``: list actions and count them by status, from the table's indexes.

``list`` goes through ``get_scheduled_actions``, which queries the ``by_hook``,
``by_match`` or ``by_status`` index and reads the page's items from the table;
``counts`` shows the console's status tally (kept in one item, counted again once it is
older than its age: one GetItem whatever the table holds), or with ``--exact`` or
``--hook`` counts now through ``count_scheduled_actions``, COUNT queries of an index that
read no item but whose read units grow with the entries counted. Nothing scans the table.
Why: docs/decisions/0058-the-status-tally-is-counted-on-view-and-kept.md
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from functions.text import counted
from infra.cli.arguments import json_value, moment, positive_int
from infra.cli.output import iso, shorten, table
from infra.cli.settings import configure

if TYPE_CHECKING:
    from functions.actions.store import Action

# What the operator types -> the status the API knows.
STATUS_CHOICES = {
    "pending": "pending",
    "past-due": "past-due",
    "running": "in-progress",
    "in-progress": "in-progress",
    "complete": "complete",
    "failed": "failed",
    "canceled": "canceled",
}
COUNTED = ("pending", "past-due", "in-progress", "complete", "failed", "canceled")
PAGE = 1000  # get_scheduled_actions' largest page


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    actions = commands.add_parser("actions", help="actions: list and count them")
    sub = actions.add_subparsers(dest="actions_command", required=True)

    listing = sub.add_parser(
        "list",
        parents=[common],
        help="actions by status, hook, group, args and time",
        description=(
            "List actions by scheduled time, soonest first (a recurring action's is its "
            "first run's). Without --hook and --status: the pending ones. past-due is "
            "pending and due; running is in-progress. --from and --to bound the scheduled "
            "time (ISO 8601 with an offset, or epoch seconds)."
        ),
    )
    listing.add_argument("--status", choices=list(STATUS_CHOICES), help="only this status")
    listing.add_argument("--hook", metavar="HOOK", help="only this hook's actions")
    listing.add_argument("--group", metavar="GROUP", help="only this group's actions")
    listing.add_argument(
        "--args", metavar="JSON", type=json_value, help="only actions with exactly these args"
    )
    listing.add_argument(
        "--from", dest="date_from", metavar="TIME", type=moment, help="scheduled at or after"
    )
    listing.add_argument(
        "--to", dest="date_to", metavar="TIME", type=moment, help="scheduled at or before"
    )
    listing.add_argument("--limit", metavar="N", type=positive_int, default=100, help="at most N")
    listing.add_argument(
        "--order", choices=("asc", "desc"), default="asc", help="by scheduled time (asc)"
    )
    listing.add_argument("--json", action="store_true", help="one JSON object a line")
    listing.set_defaults(handler=list_command)

    counts = sub.add_parser(
        "counts",
        parents=[common],
        help="how many actions are in each status",
        description=(
            "Actions per status, as the console's tabs show them: a tally kept for a minute "
            "(CONSOLE_TALLY_SECONDS), counted again when older, capped at 10,000 a status "
            "(then 10,000+); one read whatever the table holds. --exact (or --hook) counts "
            "now, page by page through the status index (or the hook's): exact, but its "
            "read units grow with the actions counted. past-due ones are counted in pending "
            "too."
        ),
    )
    counts.add_argument("--hook", metavar="HOOK", help="only this hook's actions (exact)")
    counts.add_argument(
        "--exact", action="store_true", help="count every entry now instead of the tally"
    )
    counts.add_argument(
        "--refresh", action="store_true", help="count the tally again (if over 5 s old)"
    )
    counts.add_argument("--json", action="store_true", help="one JSON object")
    counts.set_defaults(handler=counts_command)


def list_command(args: argparse.Namespace) -> int:
    configure(args.stack)
    from functions.actions import get_scheduled_actions

    status = STATUS_CHOICES[args.status] if args.status else None
    items: list[Action] = []
    cursor = None
    while True:
        page = get_scheduled_actions(
            hook=args.hook,
            args=args.args,
            group=args.group,
            status=status,
            date_from=args.date_from,
            date_to=args.date_to,
            per_page=min(args.limit - len(items), PAGE),
            cursor=cursor,
            order=args.order,
        )
        items.extend(page.items)
        cursor = page.cursor
        if not cursor or len(items) >= args.limit:
            break
    if args.json:
        for item in items:
            print(json.dumps(item.to_document(), ensure_ascii=False, sort_keys=True))
        return 0
    if not items:
        print(_described(args, status, 0))
        return 0
    rows = [
        [
            item.action_id,
            item.hook or "-",
            item.group or "-",
            str(item.status),
            iso(item.scheduled_for),
            _kind(item),
            f"{item.attempts}/{item.max_attempts}",
            shorten(current_error(item) or "-", 50),
        ]
        for item in items
    ]
    headers = ["ID", "HOOK", "GROUP", "STATUS", "SCHEDULED", "KIND", "ATTEMPTS", "LAST ERROR"]
    print(table(headers, rows))
    more = " (the limit; there may be more)" if cursor else ""
    print(f"\n{_described(args, status, len(items))}{more}")
    return 0


def counts_command(args: argparse.Namespace) -> int:
    configure(args.stack)
    if not (args.exact or args.hook):
        return _tally_command(args)
    from functions.actions import count_scheduled_actions

    counts = {status: count_scheduled_actions(status, hook=args.hook) for status in COUNTED}
    if args.json:
        print(json.dumps(counts))
        return 0
    print(table(["STATUS", "COUNT"], [[status, str(n)] for status, n in counts.items()]))
    whose = f"hook {args.hook!r}'s actions" if args.hook else "actions"
    print(f"\n{whose} by status, counted now; past-due ones are counted in pending too")
    return 0


def _tally_command(args: argparse.Namespace) -> int:
    from functions.api.console.tally import counts

    tally = counts(refresh=args.refresh)
    if args.json:
        print(json.dumps(tally, sort_keys=True))
        return 0
    rows = [
        [status, f"{found['count']:,}{'+' if found['more'] else ''}"]
        for status, found in tally["counts"].items()
    ]
    print(table(["STATUS", "COUNT"], rows))
    print(
        f"\nactions by status, counted {tally['age_seconds']:g} s ago ({tally['counted_at']});"
        f" kept {tally['max_age_seconds']} s, capped at {tally['cap']:,} a status. past-due"
        " ones are counted in pending too; --exact counts every entry now"
    )
    return 0


def current_error(action: Action) -> str | None:
    """The action's error, if it still stands: a completed action's last error is from an
    attempt before the one that succeeded, history rather than its state."""
    from functions.actions.store import ActionStatus

    if action.status is ActionStatus.COMPLETE:
        return None
    return action.last_error


def _kind(action: Action) -> str:
    recurrence = action.recurrence
    if recurrence is not None and recurrence.interval_seconds:
        return f"every {recurrence.interval_seconds}s"
    if recurrence is not None:
        return shorten(f"cron {recurrence.cron} {recurrence.timezone}", 40)
    if "@" in action.action_id and action.kind is None:
        return "run"  # one run of a recurring action
    return str(action.kind) if action.kind else "-"


def _described(args: argparse.Namespace, status: str | None, count: int) -> str:
    """``count`` actions as listed: "no pending actions", "1 failed action matching ..."."""
    if status is None and args.hook is None:
        status = "pending"
    noun = counted(count or "no", f"{status} action" if status else "action")
    parts = [
        f"{name} {value}"
        for name, value in (
            ("hook", repr(args.hook) if args.hook is not None else None),
            ("group", repr(args.group) if args.group is not None else None),
            ("args", json.dumps(args.args) if args.args is not None else None),
            ("from", iso(args.date_from) if args.date_from else None),
            ("to", iso(args.date_to) if args.date_to else None),
        )
        if value is not None
    ]
    return f"{noun} matching {', '.join(parts)}" if parts else noun
