"""``actionsctl health``: the same check as ``GET /health``, with detail for operators.

Runs ``functions.health.checks.check_health`` here, with the stack's configuration and
the thresholds the stack gave its health function (the ``HealthSettings`` output), so
the verdict matches the endpoint's. Unlike the endpoint it also shows a few action ids
and hooks per question and the open circuits' names: the operator has AWS credentials
to read them anyway. Never args, errors or dead letters' bodies (``actionsctl dlq list``
shows those). Exit code: 0 healthy, 1 unhealthy (or the check could not start).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from infra.cli.output import table
from infra.cli.settings import configure


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    health = commands.add_parser(
        "health",
        parents=[common],
        help="is the system keeping up? (exit 0 healthy, 1 unhealthy)",
        description=(
            "Queue depths and ages, dead letters, open circuits, actions stuck in progress "
            "and pending actions past due, judged by the stack's health thresholds. Exit "
            "code 0 when healthy, 1 when not (the reasons are listed)."
        ),
    )
    health.add_argument("--json", action="store_true", help="the report as one JSON object")
    health.set_defaults(handler=health_command)


def health_command(args: argparse.Namespace) -> int:
    configure(args.stack)  # a stack's HealthSettings output included (functions/stack.py)
    from functions.health.checks import check_health

    report = check_health(detail=True)
    body = report.to_dict()
    if args.json:
        print(json.dumps(body, ensure_ascii=False))
    else:
        print(render(body))
    return 0 if report.healthy else 1


def render(body: dict[str, Any]) -> str:
    """The report as an operator reads it: the verdict and reasons first, then the figures."""
    lines = [f"{body['status'].upper()} (checked {body['checked_at']})"]
    lines += [f"  - {reason}" for reason in body["reasons"]]
    queues = body.get("queues") or {}
    dead_letters = body.get("dead_letters") or {}
    rows = [
        [
            name,
            _figure(queues.get(name, {}).get("waiting")),
            _figure(queues.get(name, {}).get("in_flight")),
            _figure(queues.get(name, {}).get("delayed")),
            _age(queues.get(name, {}).get("oldest_age_seconds")),
            _figure(dead_letters.get(name)),
        ]
        for name in [*queues, *(name for name in dead_letters if name not in queues)]
    ]
    lines += [
        "",
        table(["QUEUE", "WAITING", "IN FLIGHT", "DELAYED", "OLDEST", "DEAD LETTERS"], rows),
    ]
    circuits = body.get("circuits")
    if circuits is not None:
        named = ", ".join(
            f"{c['name']} ({c['state']}{', since ' + c['opened_at'] if c['opened_at'] else ''})"
            for c in circuits.get("circuits", [])
        )
        lines += [
            "",
            f"circuits: {circuits['open']} open, {circuits['half_open']} half-open"
            + (f": {named}" if named else ""),
        ]
    for key, label in (
        ("stuck_in_progress", "in progress too long"),
        ("past_due_pending", "pending past due"),
    ):
        tally = body["actions"].get(key)
        if tally is None:
            continue
        count = f"{tally['count']}{'+' if tally['more'] else ''}"
        lines.append(f"actions {label}: {count}")
        lines += [
            f"  {item['action_id']}  {item['hook']}  scheduled {item['scheduled_for']}"
            f"  last written {item['updated_at']}"
            for item in tally.get("sample", [])
        ]
    return "\n".join(lines)


def _figure(value: int | None) -> str:
    return "-" if value is None else str(value)


def _age(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.0f} s"
