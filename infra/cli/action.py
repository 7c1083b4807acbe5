"""``actionsctl action``: look at one action in the actions table, cancel it, run it now."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from infra.cli.actions import current_error
from infra.cli.errors import CliError
from infra.cli.output import timestamp
from infra.cli.settings import configure, require_scheduler

if TYPE_CHECKING:
    from functions.actions.store import Action


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    action = commands.add_parser("action", help="actions: look one up, cancel it, run it now")
    sub = action.add_subparsers(dest="action_command", required=True)
    get = sub.add_parser(
        "get", parents=[common], help="status, attempts, last error and log of an action"
    )
    get.add_argument("action_id")
    get.add_argument("--json", action="store_true", help="the item as JSON")
    get.set_defaults(handler=get_command)
    cancel = sub.add_parser(
        "cancel",
        parents=[common],
        help="cancel a pending action (a recurring one: all its future runs)",
    )
    cancel.add_argument("action_id")
    cancel.set_defaults(handler=cancel_command)
    run = sub.add_parser(
        "run",
        parents=[common],
        help="send a pending one-off action to its queue now",
        description=(
            "Send a pending one-off action to its queue now; its schedule, if it has "
            "one, is deleted. Recurring actions are not run this way."
        ),
    )
    run.add_argument("action_id")
    run.set_defaults(handler=run_command)


def get_command(args: argparse.Namespace) -> int:
    configure(args.stack)
    from functions.actions import store

    action = store.get(args.action_id)
    if action is None:
        raise CliError(f"no action {args.action_id!r} in the actions table")
    if args.json:
        print(json.dumps(action.to_document(), ensure_ascii=False, sort_keys=True))
        return 0
    fields = [
        ("action", action.action_id),
        ("hook", action.hook),
        ("group", action.group or "-"),
        ("status", action.status),
        ("attempts", f"{action.attempts} of {action.max_attempts}"),
        ("scheduled", timestamp(action.scheduled_for)),
        ("priority", action.priority),
        (
            "args",
            f"in the payload bucket: {action.args_ref.key} ({action.args_ref.size} bytes)"
            if action.args_ref
            else json.dumps(action.args, separators=(",", ":"), ensure_ascii=False),
        ),
        ("last error", current_error(action) or "-"),
    ]
    if action.last_error and current_error(action) is None:
        fields.append(("earlier", f"{action.last_error} (an attempt before it succeeded)"))
    for name, value in fields:
        print(f"{name + ':':<12}{_indented(str(value), 12)}")
    print("log:")
    for entry in action.log:
        attempt = f" (attempt {entry.attempt})" if entry.attempt else ""
        message = f": {entry.message}" if entry.message else ""
        line = f"{entry.to_plain()['at']}  {entry.event}{attempt}{message}"
        print("  " + _indented(line, 4))
    return 0


def cancel_command(args: argparse.Namespace) -> int:
    source = configure(args.stack)
    _pending(args.action_id, "canceled", source)
    from functions.actions import cancel_action

    if not cancel_action(args.action_id, "canceled with actionsctl"):
        _pending(args.action_id, "canceled", source)  # it changed meanwhile: say how
        raise CliError(f"action {args.action_id!r} was not canceled")
    print(f"canceled {args.action_id}")
    return 0


def run_command(args: argparse.Namespace) -> int:
    source = configure(args.stack)
    action = _pending(args.action_id, "run now", source)
    if action.recurrence is not None:
        raise CliError(
            f"action {args.action_id!r} is recurring ({action.recurrence.kind}); only one-off "
            "actions "
            "can be run now"
        )
    from functions.actions import run_action_now

    if not run_action_now(args.action_id):
        _pending(args.action_id, "run now", source)  # it changed meanwhile: say how
        raise CliError(f"action {args.action_id!r} was not sent")
    print(f"sent {args.action_id} to its queue to run now")
    return 0


def _pending(action_id: str, doing: str, source: str) -> Action:
    """The action, if it is pending; else a CliError saying what it is.

    An action with a schedule to delete needs the scheduler's configuration.
    """
    from functions.actions import store

    action = store.get(action_id)  # None for a uniqueness lock's id too
    if action is None:
        raise CliError(f"no action {action_id!r} in the actions table")
    if action.status is not store.ActionStatus.PENDING:
        raise CliError(
            f"action {action_id!r} is {action.status}, not pending; only pending actions can "
            f"be {doing}"
        )
    if action.schedule_name:
        require_scheduler(source)
    return action


def _indented(text: str, width: int) -> str:
    """A multi-line value with its continuation lines under its first."""
    return text.replace("\n", "\n" + " " * width)
