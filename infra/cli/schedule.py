"""``actionsctl schedule``: enqueue an action now, at a time, every N seconds, or on cron.

Each command prints the new action's id and nothing else, so a script can keep it.
The hook must be one the CLI knows (``functions.hooks``). Times are ISO 8601 with
an offset or ``Z``, or epoch seconds; a time without an offset is a usage error.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from infra.cli.arguments import PRIORITIES, json_value, moment, whole_seconds
from infra.cli.settings import configure, require_scheduler


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    schedule = commands.add_parser(
        "schedule", help="schedule an action: now, at a time, every N seconds, on cron"
    )
    sub = schedule.add_subparsers(dest="schedule_command", required=True)

    now = sub.add_parser("now", parents=[common], help="run as soon as a worker is free")
    _add_action_arguments(now)
    now.set_defaults(handler=now_command)

    at = sub.add_parser(
        "at",
        parents=[common],
        help="run once at TIME",
        description="Run once at TIME; a past time runs as soon as possible.",
    )
    at.add_argument(
        "time", metavar="TIME", type=moment, help="ISO 8601 with an offset or Z, or epoch seconds"
    )
    _add_action_arguments(at)
    at.set_defaults(handler=at_command)

    every = sub.add_parser(
        "every",
        parents=[common],
        help="run every SECONDS (whole minutes), from --start",
        description=(
            "Run every SECONDS seconds (at least 60, whole minutes) from --start (now): "
            "runs fall on start + k * SECONDS; each is an action of its own."
        ),
    )
    every.add_argument("seconds", metavar="SECONDS", type=whole_seconds, help="the interval")
    _add_action_arguments(every, start=True)
    every.set_defaults(handler=every_command)

    cron = sub.add_parser(
        "cron",
        parents=[common],
        help="run on a five-field cron expression",
        description=(
            'Run on a five-field cron expression ("minute hour day month weekday") in '
            "--timezone (UTC), from --start (now); each run is an action of its own."
        ),
    )
    cron.add_argument("expression", metavar="EXPR", help='five fields, quoted: "0 3 * * *"')
    _add_action_arguments(cron, start=True)
    cron.add_argument("--timezone", metavar="ZONE", default="UTC", help="an IANA zone (UTC)")
    cron.set_defaults(handler=cron_command)


def _add_action_arguments(parser: argparse.ArgumentParser, *, start: bool = False) -> None:
    """HOOK and the options every schedule command takes, after its own positionals."""
    parser.add_argument("hook", metavar="HOOK", help="the registered hook to run")
    parser.add_argument(
        "--args", metavar="JSON", type=json_value, default=None, help="the hook's args (null)"
    )
    parser.add_argument("--group", metavar="GROUP", default="", help="the action's group")
    parser.add_argument(
        "--priority", choices=PRIORITIES, default=None, help="instead of the hook's own"
    )
    parser.add_argument(
        "--unique",
        action="store_true",
        help=(
            "refuse if a pending or running action of the hook has the same group (the "
            "same args and group for a hook with unique_by='args'); the hook needs unique_by"
        ),
    )
    if start:
        parser.add_argument(
            "--start", metavar="TIME", type=moment, default=None, help="the first run (now)"
        )


def _options(args: argparse.Namespace) -> dict:
    """The options every schedule command passes on unchanged."""
    return {"group": args.group, "unique": args.unique, "priority": args.priority}


def now_command(args: argparse.Namespace) -> int:
    configure(args.stack)
    from functions.actions import enqueue_async_action

    action_id = enqueue_async_action(args.hook, args.args, **_options(args))
    print(action_id)
    return 0


def at_command(args: argparse.Namespace) -> int:
    require_scheduler(configure(args.stack))
    from functions.actions import schedule_single_action

    action_id = schedule_single_action(args.time, args.hook, args.args, **_options(args))
    print(action_id)
    return 0


def every_command(args: argparse.Namespace) -> int:
    require_scheduler(configure(args.stack))
    from functions.actions import schedule_recurring_action

    action_id = schedule_recurring_action(
        args.start or datetime.now(UTC), args.seconds, args.hook, args.args, **_options(args)
    )
    print(action_id)
    return 0


def cron_command(args: argparse.Namespace) -> int:
    require_scheduler(configure(args.stack))
    from functions.actions import schedule_cron_action

    action_id = schedule_cron_action(
        args.start or datetime.now(UTC),
        args.expression,
        args.hook,
        args.args,
        timezone=args.timezone,
        **_options(args),
    )
    print(action_id)
    return 0
