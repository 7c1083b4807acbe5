"""``actionsctl saga``: the order saga's executions, and how one went and ended."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from infra.cli.errors import CliError
from infra.cli.output import table, timestamp
from infra.cli.settings import configure

STATUSES = ("running", "succeeded", "failed", "timed-out", "aborted")


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    saga = commands.add_parser("saga", help="saga executions: list them, show one")
    sub = saga.add_subparsers(dest="saga_command", required=True)
    listing = sub.add_parser(
        "list", parents=[common], help="the order saga's executions, newest first"
    )
    listing.add_argument("--status", choices=STATUSES, help="only executions in this status")
    listing.add_argument(
        "--limit", metavar="N", type=_positive_int, default=50, help="at most N (50)"
    )
    listing.add_argument("--json", action="store_true", help="one JSON object a line")
    listing.set_defaults(handler=list_command)
    get = sub.add_parser(
        "get",
        parents=[common],
        help="how one execution went: status, error, the states it entered, its action",
    )
    get.add_argument("execution", help="the execution's name (order-<order_id>) or ARN")
    get.add_argument("--json", action="store_true", help="as one JSON object")
    get.set_defaults(handler=get_command)


def list_command(args: argparse.Namespace) -> int:
    machine = _state_machine(args.stack)
    from functions.sagas import executions

    status = args.status.upper().replace("-", "_") if args.status else None
    found = executions.listed(machine, status=status, limit=args.limit)
    if args.json:
        for execution in found:
            print(json.dumps(execution.to_document(), ensure_ascii=False))
        return 0
    if not found:
        print(f"no {args.status + ' ' if args.status else ''}executions of the order saga")
        return 0
    rows = [
        [e.name, e.status, timestamp(e.started), timestamp(e.stopped) if e.stopped else "-"]
        for e in found
    ]
    print(table(["EXECUTION", "STATUS", "STARTED", "STOPPED"], rows))
    more = " (the limit; there may be more)" if len(found) >= args.limit else ""
    print(f"\n{len(found)} execution(s){more}")
    return 0


def get_command(args: argparse.Namespace) -> int:
    machine = _state_machine(args.stack)
    from functions.actions import store
    from functions.sagas import executions

    execution = executions.described(machine, args.execution)
    if execution is None:
        raise CliError(f"no execution {args.execution!r} of the order saga")
    if args.json:
        print(json.dumps(execution.to_document(), ensure_ascii=False, sort_keys=True))
        return 0
    action = "-"
    if execution.origin.action_id:
        found = store.get(execution.origin.action_id)
        status = found.status if found else "gone"
        action = f"{execution.origin.action_id} ({status})"
    fields = [
        ("execution", execution.name),
        ("arn", execution.arn),
        ("status", execution.status),
        ("started", timestamp(execution.started)),
        ("stopped", timestamp(execution.stopped) if execution.stopped else "-"),
        ("action", action),
        ("input", json.dumps(execution.input, separators=(",", ":"), ensure_ascii=False)),
        ("error", execution.error or "-"),
    ]
    for name, value in fields:
        print(f"{name + ':':<11}{value}")
    print("states:")
    print(f"  {' -> '.join(execution.states) or '-'}")
    return 0


def _state_machine(stack: str | None) -> str:
    """The order saga's ARN, from the stack's ``OrderSagaArn`` or ``ORDER_SAGA_ARN``."""
    source = configure(stack)
    machine = os.environ.get("ORDER_SAGA_ARN", "")
    if machine:
        return machine
    if source.startswith("stack "):
        raise CliError(
            f"stack {source.removeprefix('stack ')!r} has no output OrderSagaArn, the order "
            "saga's state machine (deploy the stack again)"
        )
    raise CliError(
        "the environment has no ORDER_SAGA_ARN, the order saga's state machine (set it, "
        "or pass --stack NAME)"
    )


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
