"""``actionsctl action``: look at one action in the actions table."""

from __future__ import annotations

import argparse
import json
from typing import Any

from infra.cli.errors import CliError
from infra.cli.output import timestamp
from infra.cli.settings import configure


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    action = commands.add_parser("action", help="actions: look one up")
    sub = action.add_subparsers(dest="action_command", required=True)
    get = sub.add_parser(
        "get", parents=[common], help="status, attempts, last error and log of an action"
    )
    get.add_argument("action_id")
    get.add_argument("--json", action="store_true", help="the item as JSON")
    get.set_defaults(handler=get_command)


def get_command(args: argparse.Namespace) -> int:
    configure(args.stack)
    from functions.actions import store

    item = store.get(args.action_id)
    if item is None:
        raise CliError(f"no action {args.action_id!r} in the actions table")
    if args.json:
        print(json.dumps(item, default=str, ensure_ascii=False, sort_keys=True))
        return 0
    fields = [
        ("action", item.get("action_id", "")),
        ("hook", item.get("hook", "")),
        ("group", item.get("group") or "-"),
        ("status", item.get("status", "")),
        ("attempts", f"{item.get('attempts', 0)} of {item.get('max_attempts', '?')}"),
        ("scheduled", timestamp(item.get("scheduled_at"))),
        ("priority", item.get("priority", "")),
        ("args", item.get("args", "")),
        ("last error", item.get("last_error") or "-"),
    ]
    for name, value in fields:
        print(f"{name + ':':<12}{_indented(str(value), 12)}")
    print("log:")
    for entry in item.get("log", []):
        attempt = f" (attempt {entry['attempt']})" if entry.get("attempt") else ""
        message = f": {entry['message']}" if entry.get("message") else ""
        line = f"{entry.get('at', '')}  {entry.get('event', '')}{attempt}{message}"
        print("  " + _indented(line, 4))
    return 0


def _indented(text: str, width: int) -> str:
    """A multi-line value with its continuation lines under its first."""
    return text.replace("\n", "\n" + " " * width)
