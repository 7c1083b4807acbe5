"""``actionsctl dlq``: list the dead letters of a job queue, and redrive them."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from functions.text import counted
from infra.cli.output import shorten, table, timestamp
from infra.cli.settings import configure

QUEUE_CHOICES = ("default", "high", "low", "fifo")


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    dlq = commands.add_parser("dlq", help="dead-letter queues: list and redrive")
    sub = dlq.add_subparsers(dest="dlq_command", required=True)

    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument(
        "--queue",
        choices=QUEUE_CHOICES,
        default="default",
        help="whose dead-letter queue (default: default)",
    )
    filters.add_argument("--hook", metavar="HOOK", help="only dead letters of this hook")
    filters.add_argument("--group", metavar="GROUP", help="only dead letters of this group")
    filters.add_argument(
        "--error", metavar="TEXT", help="only dead letters whose error contains TEXT (any case)"
    )

    listing = sub.add_parser(
        "list", parents=[common, filters], help="show dead letters without removing them"
    )
    listing.add_argument(
        "--limit", metavar="N", type=_positive_int, default=100, help="at most N (100)"
    )
    listing.add_argument("--json", action="store_true", help="one JSON object a line")
    listing.set_defaults(handler=list_command)

    redrive = sub.add_parser(
        "redrive",
        parents=[common, filters],
        help="send dead letters back to their queue with fresh attempts",
        description=(
            "Move the matching dead letters back to the job queue, one by one: each "
            "action starts again at attempt 1 and its log says it was redriven. With no "
            "filter every dead letter moves; that asks for confirmation (or --yes)."
        ),
    )
    redrive.add_argument(
        "--rate", metavar="N", type=_positive_float, help="at most N messages a second"
    )
    redrive.add_argument("--limit", metavar="N", type=_positive_int, help="move at most N")
    redrive.add_argument(
        "--native",
        action="store_true",
        help="use SQS's message move task (whole queue only): attempts are NOT reset",
    )
    redrive.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    redrive.set_defaults(handler=redrive_command)


def list_command(args: argparse.Namespace) -> int:
    configure(args.stack)
    from functions.actions import redrive

    letters = redrive.inspect(
        args.queue, limit=args.limit, hook=args.hook, group=args.group, error=args.error
    )
    if args.json:
        for letter in letters:
            print(json.dumps(letter.to_dict(), default=str, ensure_ascii=False))
        return 0
    if not letters:
        print(f"no dead letters on the {args.queue} queue{_filtered(args)}")
        return 0
    rows = [
        [
            timestamp(letter.sent_at),
            letter.action_id or "-",
            letter.hook or "-",
            letter.group or "-",
            str(letter.attempts),
            letter.reason,
            shorten(letter.error or "-", 60),
            shorten(
                "(malformed) " + letter.body
                if letter.malformed
                else f"(payload bucket, {letter.args_ref.size} bytes)"
                if letter.args_ref
                else json.dumps(letter.args, ensure_ascii=False),
                40,
            ),
        ]
        for letter in letters
    ]
    print(table(["SENT", "ACTION", "HOOK", "GROUP", "ATTEMPTS", "REASON", "ERROR", "ARGS"], rows))
    more = " (the limit; there may be more)" if len(letters) >= args.limit else ""
    print(
        f"\n{counted(len(letters), 'dead letter')} on the {args.queue} queue{_filtered(args)}{more}"
    )
    return 0


def redrive_command(args: argparse.Namespace) -> int:
    full = args.hook is None and args.group is None and args.error is None
    if full and not args.yes:
        if not sys.stdin.isatty():
            print(
                f"actionsctl: refusing to redrive every dead letter of the {args.queue} queue "
                "without --yes (no terminal to confirm on); add --yes, or filter with "
                "--hook, --group or --error",
                file=sys.stderr,
            )
            return 2
        answer = input(f"Move every dead letter of the {args.queue} queue back to it? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing moved")
            return 1
    configure(args.stack)
    from functions.actions import redrive

    result = redrive.redrive(
        args.queue,
        hook=args.hook,
        group=args.group,
        error=args.error,
        rate_per_second=args.rate,
        limit=args.limit,
        native=args.native,
    )
    if result.task_handle:
        print(
            f"started SQS message move task {result.task_handle} for the {args.queue} queue; "
            "attempts are not reset"
        )
        return 0
    if args.native:
        print("SQS message move tasks are not available here; moved one by one instead")
    print(
        f"moved {result.moved}, skipped {result.skipped}, failed {result.failed} "
        f"({args.queue} queue{_filtered(args)})"
    )
    for problem in result.problems:
        print(f"  {problem}")
    return 1 if result.failed else 0


def _filtered(args: argparse.Namespace) -> str:
    parts = [
        f"{name} {value!r}"
        for name, value in (("hook", args.hook), ("group", args.group), ("error", args.error))
        if value is not None
    ]
    return f" matching {', '.join(parts)}" if parts else ""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value
